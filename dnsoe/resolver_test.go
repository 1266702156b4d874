package dnsoe

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/netip"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestResolver(t *testing.T, clk *fakeClock, servers ...Server) *Resolver {
	t.Helper()
	if clk == nil {
		clk = &fakeClock{t: time.Unix(1700000000, 0)}
	}
	r, err := New(Config{Servers: servers, Timeout: 200 * time.Millisecond, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func addrs(t *testing.T, res Result) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, rec := range res.Records {
		a, ok := netip.AddrFromSlice(rec.Data)
		if !ok {
			t.Fatalf("bad address record %x", rec.Data)
		}
		out = append(out, a)
	}
	return out
}

func TestLookupUDPAndTrust(t *testing.T) {
	s := newFakeServer(t)
	s.add("host.example.", 300, A{netip.MustParseAddr("192.0.2.7")})
	ctx := context.Background()
	for _, tc := range []struct {
		trusted, ad, want bool
	}{
		{false, false, false},
		{false, true, false}, // AD from an untrusted server is not believed
		{true, false, false},
		{true, true, true},
	} {
		s.set(func(s *fakeServer) { s.ad = tc.ad })
		r := newTestResolver(t, nil, Server{Addr: s.addr, Trusted: tc.trusted})
		res, err := r.Lookup(ctx, MustNewName("HOST.example"), TypeA)
		if err != nil {
			t.Fatal(err)
		}
		if got := addrs(t, res); len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.7") {
			t.Errorf("answer %v", got)
		}
		if res.AD != tc.ad || res.Authenticated != tc.want {
			t.Errorf("trusted=%v ad=%v: AD %v Authenticated %v", tc.trusted, tc.ad, res.AD, res.Authenticated)
		}
		if res.TTL != 300*time.Second || res.Server != s.addr || res.Cached {
			t.Errorf("result %+v", res)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, do := range s.dos {
		if !do || s.sizes[i] != 1232 {
			t.Errorf("query %d: DO %v size %d", i, do, s.sizes[i])
		}
	}
	// RFC 5452: IDs and source ports vary between queries.
	if s.ids[0] == s.ids[1] && s.ids[1] == s.ids[2] && s.ids[2] == s.ids[3] {
		t.Errorf("query IDs do not vary: %v", s.ids)
	}
	if s.ports[0] == s.ports[1] && s.ports[1] == s.ports[2] && s.ports[2] == s.ports[3] {
		t.Errorf("source ports do not vary: %v", s.ports)
	}
}

func TestTruncatedRetriesOverTCP(t *testing.T) {
	s := newFakeServer(t)
	s.set(func(s *fakeServer) { s.truncate = true })
	s.add("big.example.", 60, TXT{Strings: []string{"one"}})
	s.add("big.example.", 60, TXT{Strings: []string{"two"}})
	r := newTestResolver(t, nil, Server{Addr: s.addr})
	res, err := r.Lookup(context.Background(), MustNewName("big.example."), TypeTXT)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 {
		t.Errorf("%d records", len(res.Records))
	}
	if u, tc := s.counts(); u != 1 || tc != 1 {
		t.Errorf("udp %d tcp %d queries", u, tc)
	}
}

func TestSpoofedAnswersIgnored(t *testing.T) {
	s := newFakeServer(t)
	s.set(func(s *fakeServer) { s.spoofing = true })
	s.add("host.example.", 300, A{netip.MustParseAddr("192.0.2.7")})
	r := newTestResolver(t, nil, Server{Addr: s.addr})
	res, err := r.Lookup(context.Background(), MustNewName("host.example."), TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(t, res); len(got) != 1 || got[0] != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("accepted a forged answer: %v", got)
	}
	if st := r.Stats(); st.Ignored != 5 {
		t.Errorf("ignored %d datagrams, want 5", st.Ignored)
	}
}

func TestTimeoutAndNextServer(t *testing.T) {
	dead := newFakeServer(t)
	dead.set(func(s *fakeServer) { s.drop = true })
	live := newFakeServer(t)
	live.add("host.example.", 300, A{netip.MustParseAddr("192.0.2.8")})
	r := newTestResolver(t, nil, Server{Addr: dead.addr}, Server{Addr: live.addr})
	res, err := r.Lookup(context.Background(), MustNewName("host.example."), TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if res.Server != live.addr {
		t.Errorf("answer from %v", res.Server)
	}
	if u, _ := dead.counts(); u != 1 {
		t.Errorf("dead server asked %d times", u)
	}

	// Nobody answers: every server is tried Attempts times, then ErrTimeout.
	r2 := newTestResolver(t, nil, Server{Addr: dead.addr})
	if _, err := r2.Lookup(context.Background(), MustNewName("other.example."), TypeA); !errors.Is(err, ErrTimeout) {
		t.Errorf("err %v, want ErrTimeout", err)
	}
	if u, _ := dead.counts(); u != 3 {
		t.Errorf("dead server asked %d times in total, want 3", u)
	}

	// The caller's context ends the wait early.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r2.Lookup(ctx, MustNewName("third.example."), TypeA); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

func TestServerFailure(t *testing.T) {
	bad := newFakeServer(t)
	bad.set(func(s *fakeServer) { s.servfail = true })
	good := newFakeServer(t)
	good.add("host.example.", 300, A{netip.MustParseAddr("192.0.2.9")})
	r := newTestResolver(t, nil, Server{Addr: bad.addr}, Server{Addr: good.addr})
	if res, err := r.Lookup(context.Background(), MustNewName("host.example."), TypeA); err != nil || res.Server != good.addr {
		t.Errorf("%+v %v", res, err)
	}
	r2 := newTestResolver(t, nil, Server{Addr: bad.addr})
	if _, err := r2.Lookup(context.Background(), MustNewName("host.example."), TypeA); !errors.Is(err, ErrServerFailure) {
		t.Errorf("err %v, want ErrServerFailure", err)
	}
	// SERVFAIL is final for that server: not asked again in the next round.
	if u, _ := bad.counts(); u != 2 {
		t.Errorf("failing server asked %d times, want 2", u)
	}
}

func TestCacheTTL(t *testing.T) {
	s := newFakeServer(t)
	s.add("host.example.", 60, A{netip.MustParseAddr("192.0.2.7")})
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	r := newTestResolver(t, clk, Server{Addr: s.addr})
	ctx := context.Background()
	n := MustNewName("host.example.")
	if _, err := r.Lookup(ctx, n, TypeA); err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Second)
	res, err := r.Lookup(ctx, MustNewName("HOST.EXAMPLE."), TypeA)
	if err != nil || !res.Cached || res.TTL != time.Second {
		t.Errorf("second lookup: cached %v ttl %v err %v", res.Cached, res.TTL, err)
	}
	if u, _ := s.counts(); u != 1 {
		t.Errorf("%d queries, want 1", u)
	}
	clk.Advance(time.Second)
	res, err = r.Lookup(ctx, n, TypeA)
	if err != nil || res.Cached {
		t.Errorf("expired entry served: %+v %v", res, err)
	}
	if u, _ := s.counts(); u != 2 {
		t.Errorf("%d queries, want 2", u)
	}
	if st := r.Stats(); st.CacheHits != 1 || st.Queries != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestNegativeCache(t *testing.T) {
	s := newFakeServer(t)
	s.set(func(s *fakeServer) { s.soaTTL, s.soaMin = 300, 30 })
	s.add("exists.example.", 60, A{netip.MustParseAddr("192.0.2.7")})
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	r := newTestResolver(t, clk, Server{Addr: s.addr})
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		typ   Type
		rcode RCode
	}{
		{"missing.example.", TypeA, RCodeNameError}, // NXDOMAIN
		{"exists.example.", TypeAAAA, RCodeSuccess}, // NODATA
	} {
		before, _ := s.counts()
		res, err := r.Lookup(ctx, MustNewName(tc.name), tc.typ)
		if err != nil || res.RCode != tc.rcode || len(res.Records) != 0 {
			t.Fatalf("%s: %+v %v", tc.name, res, err)
		}
		// RFC 2308, Section 5: min(SOA TTL, MINIMUM).
		if res.TTL != 30*time.Second {
			t.Errorf("%s: negative TTL %v", tc.name, res.TTL)
		}
		clk.Advance(29 * time.Second)
		if res, _ := r.Lookup(ctx, MustNewName(tc.name), tc.typ); !res.Cached || res.RCode != tc.rcode {
			t.Errorf("%s: negative answer not cached", tc.name)
		}
		clk.Advance(time.Second)
		r.Lookup(ctx, MustNewName(tc.name), tc.typ)
		if after, _ := s.counts(); after-before != 2 {
			t.Errorf("%s: %d queries, want 2", tc.name, after-before)
		}
	}
	// Without an SOA a negative answer is not cached (RFC 2308, Section 5).
	s.set(func(s *fakeServer) { s.noSOA = true })
	r.Lookup(ctx, MustNewName("nosoa.example."), TypeA)
	r.Lookup(ctx, MustNewName("nosoa.example."), TypeA)
	if st := r.Stats(); st.Queries != 6 {
		t.Errorf("queries %d, want 6", st.Queries)
	}
}

func TestCNAME(t *testing.T) {
	s := newFakeServer(t)
	s.add("alias.example.", 100, NameData{T: TypeCNAME, Target: MustNewName("real.example.")})
	s.add("real.example.", 50, AAAA{netip.MustParseAddr("2001:db8::7")})
	r := newTestResolver(t, nil, Server{Addr: s.addr})
	res, err := r.Lookup(context.Background(), MustNewName("alias.example."), TypeAAAA)
	if err != nil {
		t.Fatal(err)
	}
	if got := addrs(t, res); len(got) != 1 || got[0] != netip.MustParseAddr("2001:db8::7") || res.TTL != 50*time.Second {
		t.Errorf("%v ttl %v", got, res.TTL)
	}
}

func TestMergedLookups(t *testing.T) {
	s := newFakeServer(t)
	s.add("host.example.", 300, A{netip.MustParseAddr("192.0.2.7")})
	block := make(chan struct{})
	s.set(func(s *fakeServer) { s.block = block })
	r := newTestResolver(t, nil, Server{Addr: s.addr})
	r.cfg.Timeout = 10 * time.Second
	const n = 10
	results := make(chan Result, n)
	for i := 0; i < n; i++ {
		go func() {
			res, _ := r.Lookup(context.Background(), MustNewName("host.example."), TypeA)
			results <- res
		}()
	}
	for r.Stats().Merged != n-1 {
		runtime.Gosched()
	}
	// An asynchronous lookup joins too and returns at once.
	async := make(chan Result, 1)
	r.LookupAsync(context.Background(), MustNewName("host.example."), TypeA, func(res Result) { async <- res })
	for r.Stats().Merged != n {
		runtime.Gosched()
	}
	close(block)
	for i := 0; i < n; i++ {
		if res := <-results; res.Err != nil || len(res.Records) != 1 {
			t.Errorf("result %+v", res)
		}
	}
	if res := <-async; res.Err != nil || len(res.Records) != 1 {
		t.Errorf("async result %+v", res)
	}
	if u, _ := s.counts(); u != 1 {
		t.Errorf("%d queries for %d merged lookups", u, n+1)
	}
}

func TestControlAndInjectedDialers(t *testing.T) {
	s := newFakeServer(t)
	s.set(func(s *fakeServer) { s.truncate = true })
	s.add("host.example.", 300, A{netip.MustParseAddr("192.0.2.7")})
	var mu sync.Mutex
	var nets []string
	r, err := New(Config{
		Servers: []Server{{Addr: s.addr}},
		// A long timeout: on a loaded machine a retry would add a second
		// udp4/tcp4 pair and say nothing about Control.
		Timeout: time.Minute,
		Control: func(network, address string, c syscall.RawConn) error {
			mu.Lock()
			nets = append(nets, network)
			mu.Unlock()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Lookup(context.Background(), MustNewName("host.example."), TypeA); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(nets) != 2 || nets[0] != "udp4" || nets[1] != "tcp4" {
		t.Errorf("Control saw %v", nets)
	}
	if _, err := New(Config{}); !errors.Is(err, ErrNoServers) {
		t.Errorf("no servers: %v", err)
	}
}

func rsaKeyB64(t *testing.T, k *rsa.PublicKey) string {
	return base64.StdEncoding.EncodeToString(AppendRSAKey(nil, k))
}

func TestGatewayFor(t *testing.T) {
	keys := makeKeys(t)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	s := newFakeServer(t)
	s.set(func(s *fakeServer) { s.ad = true })
	rev := func(a string) string { n, _ := ReverseName(netip.MustParseAddr(a)); return n.String() }
	// .23: IPSECKEY at two precedences, the better one names a gateway by name.
	s.add(rev("192.0.2.23"), 600, IPSECKEY{Precedence: 20, GatewayType: GatewayIPv4, Algorithm: IPSECKEYAlgRSA, Gateway: netip.MustParseAddr("192.0.2.2"), PublicKey: keys.rsaRaw})
	s.add(rev("192.0.2.23"), 600, IPSECKEY{Precedence: 10, GatewayType: GatewayName, Algorithm: IPSECKEYAlgEdDSA, GatewayName: MustNewName("gw.example."), PublicKey: edPub})
	s.add("gw.example.", 120, A{netip.MustParseAddr("192.0.2.1")})
	// .24: key-less IPSECKEY naming itself (AUTH_NULL OE).
	s.add(rev("192.0.2.24"), 600, IPSECKEY{Precedence: 10, GatewayType: GatewayIPv4, Algorithm: IPSECKEYAlgNone, Gateway: netip.MustParseAddr("192.0.2.24")})
	// .25: TXT without key; the key comes from KEY at the gateway's reverse
	// name. The result lives as long as its shortest input: the negative
	// IPSECKEY answer (min(SOA TTL, MINIMUM) = 60s).
	s.add(rev("192.0.2.25"), 600, TXT{Strings: []string{"v=spf1 -all"}})
	s.add(rev("192.0.2.25"), 600, TXT{Strings: []string{"X-IPsec-Server(10)=192.0.2.3"}})
	s.add(rev("192.0.2.3"), 90, KEY{Flags: 0x4200, Protocol: KeyProtocolIPsec, Algorithm: 5, PublicKey: keys.rsaRaw})
	// .26: TXT with an AutoSEC key split over two strings.
	txt := "X-IPsec-Server(5)=192.0.2.4 ENCR_AES_CBC-256;AUTH_HMAC_SHA2_256_128;MODP2048;" + rsaKeyB64(t, keys.rsaKey)
	s.add(rev("192.0.2.26"), 600, TXT{Strings: chunks(txt, 255)})
	// 2001:db8::27: a KEY record only.
	s.add(rev("2001:db8::27"), 600, KEY{Flags: 0x4200, Protocol: KeyProtocolIPsec, Algorithm: 15, PublicKey: edPub})

	r := newTestResolver(t, nil, Server{Addr: s.addr, Trusted: true})
	ctx := context.Background()

	g, err := r.GatewayFor(ctx, netip.MustParseAddr("192.0.2.23"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Source != SourceIPSECKEY || g.Precedence != 10 || g.FQDN != "gw.example" || g.Addr != netip.MustParseAddr("192.0.2.1") ||
		!g.Key.(ed25519.PublicKey).Equal(edPub) || !g.Authenticated || g.TTL != 120*time.Second || g.Self {
		t.Errorf(".23: %+v", g)
	}
	all, err := r.GatewaysFor(ctx, netip.MustParseAddr("192.0.2.23"))
	if err != nil || len(all) != 2 || all[1].Addr != netip.MustParseAddr("192.0.2.2") || !all[1].Key.(*rsa.PublicKey).Equal(keys.rsaKey) {
		t.Errorf(".23 all: %+v %v", all, err)
	}

	g, err = r.GatewayFor(ctx, netip.MustParseAddr("192.0.2.24"))
	if err != nil || g.Key != nil || !g.Self || g.Addr != netip.MustParseAddr("192.0.2.24") {
		t.Errorf(".24: %+v %v", g, err)
	}

	g, err = r.GatewayFor(ctx, netip.MustParseAddr("192.0.2.25"))
	if err != nil || g.Source != SourceTXT || g.Addr != netip.MustParseAddr("192.0.2.3") || g.Key == nil ||
		!g.Key.(*rsa.PublicKey).Equal(keys.rsaKey) || g.TTL != 60*time.Second || !g.Authenticated {
		t.Errorf(".25: %+v %v", g, err)
	}

	g, err = r.GatewayFor(ctx, netip.MustParseAddr("192.0.2.26"))
	if err != nil || g.Source != SourceTXT || g.Addr != netip.MustParseAddr("192.0.2.4") || g.Algorithms == nil ||
		g.Algorithms.Ciphers[0] != "ENCR_AES_CBC-256" || !g.Key.(*rsa.PublicKey).Equal(keys.rsaKey) {
		t.Errorf(".26: %+v %v", g, err)
	}

	g, err = r.GatewayFor(ctx, netip.MustParseAddr("2001:db8::27"))
	if err != nil || g.Source != SourceKEY || !g.Self || g.Addr != netip.MustParseAddr("2001:db8::27") || !g.Key.(ed25519.PublicKey).Equal(edPub) {
		t.Errorf("::27: %+v %v", g, err)
	}

	// Nothing published: an authenticated denial.
	g, err = r.GatewayFor(ctx, netip.MustParseAddr("192.0.2.99"))
	if !errors.Is(err, ErrNoGateway) || !g.Authenticated || g.TTL != 60*time.Second || g.Key != nil {
		t.Errorf(".99: %+v %v", g, err)
	}

	// KeyFor: the gateway's own key, from IPSECKEY or else KEY.
	s.add(rev("192.0.2.1"), 600, IPSECKEY{Precedence: 10, GatewayType: GatewayIPv4, Algorithm: IPSECKEYAlgEdDSA, Gateway: netip.MustParseAddr("192.0.2.1"), PublicKey: edPub})
	s.add(rev("192.0.2.1"), 600, IPSECKEY{Precedence: 10, GatewayType: GatewayIPv4, Algorithm: IPSECKEYAlgRSA, Gateway: netip.MustParseAddr("192.0.2.9"), PublicKey: keys.rsaRaw})
	s.add(rev("192.0.2.1"), 600, IPSECKEY{Precedence: 10, GatewayType: GatewayNone, Algorithm: IPSECKEYAlgRSA, PublicKey: keys.rsaRaw})
	ks, err := r.KeyFor(ctx, netip.MustParseAddr("192.0.2.1"))
	if err != nil || len(ks) != 2 || !ks[0].Key.(ed25519.PublicKey).Equal(edPub) || !ks[1].Key.(*rsa.PublicKey).Equal(keys.rsaKey) || !ks[0].Authenticated {
		t.Errorf("KeyFor .1: %+v %v", ks, err)
	}
	ks, err = r.KeyFor(ctx, netip.MustParseAddr("192.0.2.3"))
	if err != nil || len(ks) != 1 || ks[0].Source != SourceKEY {
		t.Errorf("KeyFor .3: %+v %v", ks, err)
	}
	if _, err := r.KeyFor(ctx, netip.MustParseAddr("192.0.2.24")); !errors.Is(err, ErrNoKey) {
		t.Errorf("KeyFor .24: %v", err)
	}

	// Unauthenticated: the same data without AD.
	s.set(func(s *fakeServer) { s.ad = false })
	r.FlushCache()
	g, err = r.GatewayFor(ctx, netip.MustParseAddr("192.0.2.23"))
	if err != nil || g.Authenticated {
		t.Errorf("without AD: %+v %v", g, err)
	}

	// A server failure is an error, never a fall-through to weaker records.
	s.set(func(s *fakeServer) { s.servfail = true })
	r.FlushCache()
	done := make(chan error, 1)
	r.GatewayForAsync(ctx, netip.MustParseAddr("192.0.2.23"), func(_ Gateway, err error) { done <- err })
	if err := <-done; !errors.Is(err, ErrServerFailure) {
		t.Errorf("servfail: %v", err)
	}
}

// chunks splits s into character-strings of at most n octets (RFC 4322,
// Section 5.2.1).
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func TestReadResolvConf(t *testing.T) {
	in := "# comment\nsearch example\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver bogus\nnameserver 2001:db8::53 # x\noptions edns0\n"
	got, err := ReadResolvConf(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{
		{Addr: netip.MustParseAddrPort("192.0.2.53:53")},
		{Addr: netip.MustParseAddrPort("[fe80::1%eth0]:53")},
		{Addr: netip.MustParseAddrPort("[2001:db8::53]:53")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestExtendedRCode(t *testing.T) {
	b := NewBuilder(nil, Header{ID: 1, Response: true})
	q := Question{Name: MustNewName("x.example."), Type: TypeA, Class: ClassINET}
	must(t, b.Question(q))
	var opt ResourceHeader
	opt.SetEDNS0(1232, 1, 0, true) // BADVERS = 16: upper bits 1, header bits 0
	must(t, b.Additional(opt, OPT{}))
	msg, err := b.Finish()
	must(t, err)
	r := newTestResolver(t, nil, Server{Addr: netip.MustParseAddrPort("192.0.2.53:53")})
	if _, err := r.interpret(msg, q, r.cfg.Servers[0]); !errors.Is(err, ErrRefused) {
		t.Errorf("BADVERS accepted: %v", err)
	}
}

func BenchmarkLookupCached(b *testing.B) {
	r, err := New(Config{Servers: []Server{{Addr: netip.MustParseAddrPort("192.0.2.53:53")}}})
	if err != nil {
		b.Fatal(err)
	}
	n := MustNewName("23.2.0.192.in-addr.arpa.")
	r.cache[cacheKey(n, TypeIPSECKEY)] = cacheEntry{res: Result{Name: n, Type: TypeIPSECKEY}, expires: time.Now().Add(time.Hour)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Lookup(ctx, n, TypeIPSECKEY); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCacheHitAllocs(t *testing.T) {
	r := newTestResolver(t, nil, Server{Addr: netip.MustParseAddrPort("192.0.2.53:53")})
	n := MustNewName("23.2.0.192.in-addr.arpa.")
	r.cache[cacheKey(n, TypeIPSECKEY)] = cacheEntry{res: Result{Name: n, Type: TypeIPSECKEY}, expires: r.cfg.Now().Add(time.Hour)}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		if res, err := r.Lookup(ctx, n, TypeIPSECKEY); err != nil || !res.Cached {
			t.Fatal("not served from the cache")
		}
	})
	if allocs != 0 {
		t.Errorf("a cache hit allocates %v times", allocs)
	}
}
