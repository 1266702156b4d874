package esp

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestPolicyLookup(t *testing.T) {
	l, err := NewLoop(Config{Device: newMemDevice(1500, 1)})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := saPair(t, AES128GCM16, false, net4b, net4a)
	for _, p := range []Policy{
		/* 0 */ {Local: pfx("0.0.0.0/0"), Remote: pfx("0.0.0.0/0"), Action: Pass},
		/* 1 */ {Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.0/24"), Action: Protect, SA: out},
		/* 2 */ {Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.128/25"), Action: Trap},
		/* 3 */ {Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.200/32"), Action: Drop},
		/* 4 */ {Local: pfx("198.51.100.7/32"), Remote: pfx("203.0.113.0/24"), Action: Drop},
		/* 5 */ {Local: pfx("::/0"), Remote: pfx("2001:db8:2::/48"), Action: Protect},
		/* 6 */ {Local: pfx("2001:db8:1::/48"), Remote: pfx("2001:db8:2::5/128"), Action: Pass},
	} {
		if err := l.SetPolicy(p); err != nil {
			t.Fatal(err)
		}
	}
	for i, tc := range []struct {
		src, dst string
		want     Action
		found    bool
	}{
		/* 0 */ {"198.51.100.1", "203.0.113.1", Protect, true},
		/* 1 */ {"198.51.100.1", "203.0.113.129", Trap, true}, // longer prefix
		/* 2 */ {"198.51.100.1", "203.0.113.200", Drop, true}, // host entry
		/* 3 */ {"192.0.2.1", "203.0.113.200", Pass, true}, // host entry, source outside: falls back to 0/0
		/* 4 */ {"198.51.100.7", "203.0.113.1", Drop, true}, // longer local prefix under the same remote
		/* 5 */ {"198.51.100.1", "192.0.2.1", Pass, true},
		/* 6 */ {"2001:db8:1::1", "2001:db8:2::1", Protect, true},
		/* 7 */ {"2001:db8:1::1", "2001:db8:2::5", Pass, true},
		/* 8 */ {"2001:db8:9::1", "2001:db8:2::5", Protect, true}, // host entry's local does not match
		/* 9 */ {"2001:db8:1::1", "2001:db8:3::1", 0, false},
	} {
		p, ok := l.LookupPolicy(addr(tc.src), addr(tc.dst))
		if ok != tc.found || p.Action != tc.want {
			t.Fatalf("case %d: %+v %v", i, p, ok)
		}
	}
	// Replace by (Local, Remote), then remove.
	l.SetPolicy(Policy{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.128/25"), Action: Drop})
	if p, _ := l.LookupPolicy(addr("198.51.100.1"), addr("203.0.113.129")); p.Action != Drop || len(l.Policies()) != 7 {
		t.Fatalf("replace: %+v", p)
	}
	if !l.RemovePolicy(pfx("198.51.100.0/24"), pfx("203.0.113.128/25")) || l.RemovePolicy(pfx("198.51.100.0/24"), pfx("203.0.113.128/25")) {
		t.Fatal("remove")
	}
	if p, _ := l.LookupPolicy(addr("198.51.100.1"), addr("203.0.113.129")); p.Action != Protect {
		t.Fatalf("after remove: %+v", p)
	}
	allocs := testing.AllocsPerRun(100, func() {
		l.pol.Load().lookup(addr("198.51.100.1"), addr("203.0.113.129"))
		l.pol.Load().lookup(addr("2001:db8:9::1"), addr("2001:db8:2::5"))
	})
	if allocs != 0 {
		t.Fatalf("lookup allocates %v", allocs)
	}
}

// manyPolicies builds a table like an OE gateway's: n host entries, each
// with its own SA, plus a few subnets.
func manyPolicies(tb testing.TB, n int) *policyTable {
	out, _ := saPair(tb, AES128GCM16, false, net4b, net4a)
	var all []Policy
	for i := 0; i < n; i++ {
		a := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
		all = append(all, Policy{Local: pfx("0.0.0.0/0"), Remote: netip.PrefixFrom(a, 32), Action: Protect, SA: out})
	}
	for _, s := range []string{"10.0.0.0/8", "172.16.0.0/12", "203.0.113.0/24", "198.51.100.0/24", "0.0.0.0/0"} {
		all = append(all, Policy{Local: pfx("0.0.0.0/0"), Remote: pfx(s), Action: Trap})
	}
	return buildPolicyTable(all)
}

func BenchmarkPolicyLookup(b *testing.B) {
	for _, n := range []int{10, 10000} {
		t := manyPolicies(b, n)
		src := addr("192.0.2.1")
		host := netip.AddrFrom4([4]byte{198, 18, 0, 5})
		miss := addr("192.0.2.77") // falls through every subnet length to 0/0
		b.Run("host/"+itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if t.lookup(src, host) == nil {
					b.Fatal("miss")
				}
			}
		})
		b.Run("default/"+itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if t.lookup(src, miss) == nil {
					b.Fatal("miss")
				}
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestPolicyLookupModel compares the table with a linear scan over random
// policies: the longest Remote containing the destination, then under it
// the longest Local containing the source.
func TestPolicyLookupModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rand4 := func() netip.Addr {
		// A small address space so that prefixes overlap often.
		return netip.AddrFrom4([4]byte{198, 18, byte(rng.IntN(4)), byte(rng.IntN(8))})
	}
	rand6 := func() netip.Addr {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(rng.IntN(4)), 15: byte(rng.IntN(8))})
	}
	for round := 0; round < 200; round++ {
		v6 := round%2 == 1
		gen, max := rand4, 32
		if v6 {
			gen, max = rand6, 128
		}
		var all []Policy
		seen := map[[2]netip.Prefix]bool{}
		for i := 0; i < 1+rng.IntN(30); i++ {
			l := netip.PrefixFrom(gen(), max-rng.IntN(6)).Masked()
			r := netip.PrefixFrom(gen(), max-rng.IntN(6)).Masked()
			if rng.IntN(5) == 0 {
				l = netip.PrefixFrom(gen(), 0).Masked()
			}
			if seen[[2]netip.Prefix{l, r}] {
				continue
			}
			seen[[2]netip.Prefix{l, r}] = true
			all = append(all, Policy{Local: l, Remote: r, Action: Action(1 + rng.IntN(4))})
		}
		tab := buildPolicyTable(all)
		for q := 0; q < 50; q++ {
			src, dst := gen(), gen()
			var want *Policy
			for i := range all {
				p := &all[i]
				if !p.Remote.Contains(dst) || !p.Local.Contains(src) {
					continue
				}
				if want == nil || p.Remote.Bits() > want.Remote.Bits() ||
					p.Remote.Bits() == want.Remote.Bits() && p.Local.Bits() > want.Local.Bits() {
					want = p
				}
			}
			got := tab.lookup(src, dst)
			if (got == nil) != (want == nil) || got != nil && (got.Local != want.Local || got.Remote != want.Remote) {
				t.Fatalf("round %d: %v -> %v: got %+v, want %+v", round, src, dst, got, want)
			}
		}
	}
}
