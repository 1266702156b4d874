package esp

import (
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
