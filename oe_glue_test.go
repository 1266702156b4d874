package main

import (
	"bytes"
	"context"
	"crypto"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"swanling/config"
	"swanling/encap"
	"swanling/esp"
	"swanling/ike"
	"swanling/tun"
)

// fakeRouter records the routes OE asks for.
type fakeRouter struct {
	mu     sync.Mutex
	routes map[tun.Route]bool
}

func (f *fakeRouter) AddRoute(r tun.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[r] = true
	return nil
}

func (f *fakeRouter) DelRoute(r tun.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.routes[r] {
		return errors.New("no such route")
	}
	delete(f.routes, r)
	return nil
}

func (f *fakeRouter) has(r tun.Route) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.routes[r]
}

// staticDNS answers ike.OELookup from maps, on another goroutine.
type staticDNS struct {
	gw  map[netip.Addr]ike.OEGateway
	gws map[netip.Addr][]ike.OEGateway
}

var errNoRecords = errors.New("test: no records")

func (s *staticDNS) GatewayFor(_ context.Context, a netip.Addr, done func(ike.OEGateway, error)) {
	g, ok := s.gw[a]
	go func() {
		if !ok {
			done(g, errNoRecords)
			return
		}
		done(g, nil)
	}()
}

func (s *staticDNS) GatewaysFor(_ context.Context, a netip.Addr, done func([]ike.OEGateway, error)) {
	g, ok := s.gws[a]
	go func() {
		if !ok {
			done(nil, errNoRecords)
			return
		}
		done(g, nil)
	}()
}

func (s *staticDNS) KeyFor(_ context.Context, gw ike.OEGateway, done func([]ike.OEGateway, error)) {
	go done(nil, errNoRecords)
}

// memWire carries IKE and ESP between gateways by outer address.
type memWire struct {
	mu    sync.Mutex
	ike   map[netip.Addr]encap.IKEHandler
	esp   map[netip.Addr]chan esp.Packet
	addrs map[*memGW]netip.Addr
}

type memGW struct {
	w    *memWire
	addr netip.Addr
}

func (g *memGW) SendIKE(msg []byte, local, remote netip.AddrPort) error {
	g.w.mu.Lock()
	h := g.w.ike[remote.Addr()]
	g.w.mu.Unlock()
	if h == nil {
		return errors.New("unreachable")
	}
	c := append([]byte(nil), msg...)
	go h(c, remote, netip.AddrPortFrom(g.addr, local.Port()))
	return nil
}

func (g *memGW) SetIKEHandler(h encap.IKEHandler) {
	g.w.mu.Lock()
	g.w.ike[g.addr] = h
	g.w.mu.Unlock()
}

func (g *memGW) SendKeepalive(netip.AddrPort) error { return nil }

func (g *memGW) Recv(pkts []esp.Packet) (int, error) {
	g.w.mu.Lock()
	ch := g.w.esp[g.addr]
	g.w.mu.Unlock()
	if ch == nil {
		return 0, errors.New("closed")
	}
	p, ok := <-ch
	if !ok {
		return 0, errors.New("closed")
	}
	n := copy(pkts[0].Buf[pkts[0].Off:], p.Buf)
	pkts[0].Len, pkts[0].Peer = n, p.Peer
	return 1, nil
}

func (g *memGW) Send(pkts []esp.Packet) (int, error) {
	for _, p := range pkts {
		g.w.mu.Lock()
		if ch := g.w.esp[p.Peer.Addr()]; ch != nil {
			select { // under the lock: Close cannot race the send
			case ch <- esp.Packet{Buf: append([]byte(nil), p.Buf[p.Off:p.Off+p.Len]...), Peer: netip.AddrPortFrom(g.addr, p.Peer.Port())}:
			default: // full: lost, as on a wire
			}
		}
		g.w.mu.Unlock()
	}
	return len(pkts), nil
}

func (g *memGW) BatchSize() int { return 1 }

func (g *memGW) Close() error {
	g.w.mu.Lock()
	defer g.w.mu.Unlock()
	if ch := g.w.esp[g.addr]; ch != nil {
		delete(g.w.esp, g.addr)
		close(ch)
	}
	return nil
}

// oeGateway is one swanling gateway in memory: TUN double, ESP loop, IKE
// engine with OE.
type oeGateway struct {
	addr   netip.Addr
	dev    *tun.Mem
	loop   *esp.Loop
	glue   *ikeGlue
	oe     *oeGlue
	router *fakeRouter
	dns    *staticDNS
	bypass chan []byte
	pub    crypto.PublicKey
}

func newOEGateway(t *testing.T, w *memWire, addr string, groups []config.Group) *oeGateway {
	t.Helper()
	a := netip.MustParseAddr(addr)
	key, err := generateKey(keyEd25519, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, _ := encodePrivateKey(key)
	kf := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(kf, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{}
	cfg.Listen.IKEPort, cfg.Listen.NATTPort, cfg.Listen.Table = 500, 4500, 5157
	cfg.Local.KeyFile = kf
	cfg.Local.Address = []netip.Addr{a}
	cfg.OE = config.OE{Enabled: true, Groups: groups, ShuntDuration: time.Minute, IdleTimeout: time.Minute,
		RecheckTime: 20 * time.Minute, MaxPending: 16}
	gw := &oeGateway{addr: a, dev: tun.NewMem(1400, 64), router: &fakeRouter{routes: map[tun.Route]bool{}},
		dns:    &staticDNS{gw: map[netip.Addr]ike.OEGateway{}, gws: map[netip.Addr][]ike.OEGateway{}},
		bypass: make(chan []byte, 4), pub: key.Public()}
	mg := &memGW{w: w, addr: a}
	w.mu.Lock()
	w.esp[a] = make(chan esp.Packet, 64)
	w.mu.Unlock()
	ev := &forwardEvents{}
	gw.loop, err = esp.NewLoop(esp.Config{Device: gw.dev, UDP: mg, Raw: mg, Events: ev, OuterMTU: 1500, Workers: 1,
		Bypass: func(p []byte) { gw.bypass <- append([]byte(nil), p...) }})
	if err != nil {
		t.Fatal(err)
	}
	log := newTextLogger(io.Discard, nil, false)
	if os.Getenv("OE_TEST_LOG") != "" {
		debug := new(LevelVar)
		debug.Set(LevelDebug)
		log = newTextLogger(os.Stderr, debug, true)
	}
	gw.glue, err = newIKEGlue(cfg, log.With("gw", addr))
	if err != nil {
		t.Fatal(err)
	}
	gw.glue.attach(mg, gw.loop, nil)
	gw.oe = &oeGlue{cfg: cfg, log: log, g: gw.glue, plane: gw.loop, routes: gw.router, table: 5157, tunIndex: 7,
		hosts: map[netip.Addr]int{}}
	if err := gw.oe.setEngine(cfg, gw.dns); err != nil {
		t.Fatal(err)
	}
	if err := gw.oe.install(); err != nil {
		t.Fatal(err)
	}
	ev.set(gw.oe)
	ctx, cancel := context.WithCancel(context.Background())
	loopDone := make(chan struct{})
	go func() { _ = gw.loop.Run(); close(loopDone) }()
	engDone := make(chan struct{})
	go func() { _ = gw.glue.Run(ctx); close(engDone) }()
	t.Cleanup(func() {
		cancel()
		<-engDone
		gw.loop.Close()
		mg.Close()
		gw.dev.Close()
		<-loopDone
	})
	return gw
}

func newMemWire() *memWire {
	return &memWire{ike: map[netip.Addr]encap.IKEHandler{}, esp: map[netip.Addr]chan esp.Packet{}}
}

// udp4 builds an IPv4 UDP packet.
func udp4(src, dst netip.Addr, payload string) []byte {
	p := make([]byte, 28+len(payload))
	p[0], p[8], p[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	s, d := src.As4(), dst.As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(p[20:], 4000)
	binary.BigEndian.PutUint16(p[22:], 9)
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload)))
	copy(p[28:], payload)
	return p
}

// recvWithin reads one packet the loop wrote to the device, or nil.
func recvWithin(m *tun.Mem, d time.Duration) []byte {
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 2000)
		n, err := m.Recv(buf)
		if err != nil {
			got <- nil
			return
		}
		got <- buf[:n]
	}()
	select {
	case p := <-got:
		return p
	case <-time.After(d):
		return nil
	}
}

var (
	oeA     = netip.MustParseAddr("192.0.2.1")
	oeB     = netip.MustParseAddr("192.0.2.2")
	oeHostB = netip.MustParseAddr("203.0.113.5")
	oeHostC = netip.MustParseAddr("198.51.100.7")
)

func oeGroup(name, cidr string, dnssec bool) config.Group {
	return config.Group{Name: name, CIDRs: []netip.Prefix{netip.MustParsePrefix(cidr)}, RequireDNSSEC: dnssec}
}

// TestOEEndToEnd: the first packet from A to a host behind B is held,
// the lookup names B, IKE runs, and that very packet comes out of B's TUN
// device, decrypted. A host that publishes nothing is reached in the clear
// under private-or-clear (the held packet leaves through Bypass, a THROW
// route follows) and not at all under private.
func TestOEEndToEnd(t *testing.T) {
	w := newMemWire()
	a := newOEGateway(t, w, "192.0.2.1", []config.Group{
		oeGroup(config.GroupPrivate, "203.0.113.0/24", true),
		oeGroup(config.GroupPrivateOrClear, "198.51.100.0/25", false),
		oeGroup(config.GroupPrivate, "198.51.100.128/25", false),
	})
	b := newOEGateway(t, w, "192.0.2.2", []config.Group{oeGroup(config.GroupClearOrPrivate, "192.0.2.0/24", true)})
	a.dns.gw[oeHostB] = ike.OEGateway{Addr: oeB, Key: b.pub, Authenticated: true}
	b.dns.gws[oeA] = []ike.OEGateway{{Addr: oeA, Key: a.pub, Authenticated: true}}

	// Routes: the private CIDR into the TUN with a blackhole under it.
	p := netip.MustParsePrefix("203.0.113.0/24")
	if !a.router.has(tun.Route{Dst: p, Index: 7, Table: 5157}) ||
		!a.router.has(tun.Route{Dst: p, Type: tun.Blackhole, Table: 5157, Metric: oeFailClosedMetric}) {
		t.Fatalf("routes %v", a.router.routes)
	}
	if !b.router.has(tun.Route{Dst: netip.MustParsePrefix("192.0.2.0/24"), Type: tun.Throw, Table: 5157}) {
		t.Fatalf("clear-or-private not thrown: %v", b.router.routes)
	}

	first := udp4(oeA, oeHostB, "first packet")
	if err := a.dev.Send(first); err != nil {
		t.Fatal(err)
	}
	got := recvWithin(b.dev, 10*time.Second)
	if string(got) != string(first) {
		t.Fatalf("held packet not delivered through the tunnel: %x", got)
	}
	// The answer goes back through the same SA pair (B routes A's /32
	// into its TUN while the tunnel is up).
	if !b.router.has(tun.Route{Dst: netip.PrefixFrom(oeA, 32), Index: 7, Table: 5157}) {
		t.Fatalf("responder has no route back: %v", b.router.routes)
	}
	reply := udp4(oeHostB, oeA, "reply")
	if err := b.dev.Send(reply); err != nil {
		t.Fatal(err)
	}
	if got := recvWithin(a.dev, 10*time.Second); string(got) != string(reply) {
		t.Fatalf("reply not delivered: %x", got)
	}

	// Nothing published, private-or-clear: clear, through Bypass.
	clearPkt := udp4(oeA, oeHostC, "clear")
	if err := a.dev.Send(clearPkt); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-a.bypass:
		if string(got) != string(clearPkt) {
			t.Fatalf("bypassed %x", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("held packet not sent in the clear")
	}
	// The shunt is the pair's: no route sends other sources to C around
	// the TUN (RFC 4322, Section 2.3.3).
	if a.router.has(tun.Route{Dst: netip.PrefixFrom(oeHostC, 32), Type: tun.Throw, Table: 5157}) {
		t.Fatalf("clear shunt became a per-destination route: %v", a.router.routes)
	}
	// Later packets of the pair leave through Bypass too.
	if err := a.dev.Send(clearPkt); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-a.bypass:
		if string(got) != string(clearPkt) {
			t.Fatalf("bypassed %x", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second packet of the cleared pair not sent in the clear")
	}

	// Nothing published, private: dropped, never in the clear.
	priv := netip.MustParseAddr("198.51.100.200")
	if err := a.dev.Send(udp4(oeA, priv, "secret")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := a.glue.eng.OEStatus()
		shunted := false
		for _, s := range st {
			shunted = shunted || (s.Remote == priv && s.State == "shunted")
		}
		if shunted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("private destination not shunted: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case p := <-a.bypass:
		t.Fatalf("private packet left in the clear: %x", p)
	case <-time.After(100 * time.Millisecond):
	}
	if a.router.has(tun.Route{Dst: netip.PrefixFrom(priv, 32), Type: tun.Throw, Table: 5157}) {
		t.Fatal("private destination got a bypass route")
	}
}

// TestOEGlueRouting checks the group layout and the shunt bookkeeping
// without a data plane.
func TestOEGlueRouting(t *testing.T) {
	f := &fakePlane{in: map[uint32]*esp.SA{}, policies: map[[2]netip.Prefix]esp.Policy{}}
	r := &fakeRouter{routes: map[tun.Route]bool{}}
	cfg := &config.Config{}
	cfg.OE.Groups = []config.Group{
		oeGroup(config.GroupBlock, "192.0.2.66/32", false),
		oeGroup(config.GroupClear, "192.0.2.48/28", false),
		oeGroup(config.GroupPrivate, "2001:db8:b::/48", true),
	}
	o := &oeGlue{cfg: cfg, log: newTextLogger(io.Discard, nil, false), plane: f, routes: r, table: 9, tunIndex: 3,
		hosts: map[netip.Addr]int{}}
	if err := o.install(); err != nil {
		t.Fatal(err)
	}
	v6 := netip.MustParsePrefix("2001:db8:b::/48")
	for _, want := range []tun.Route{
		{Dst: netip.MustParsePrefix("192.0.2.66/32"), Type: tun.Blackhole, Table: 9},
		{Dst: netip.MustParsePrefix("192.0.2.48/28"), Type: tun.Throw, Table: 9},
		{Dst: v6, Index: 3, Table: 9},
		{Dst: v6, Type: tun.Blackhole, Table: 9, Metric: oeFailClosedMetric},
	} {
		if !r.has(want) {
			t.Errorf("missing route %+v", want)
		}
	}
	if p := f.policies[[2]netip.Prefix{netip.MustParsePrefix("::/0"), v6}]; p.Action != esp.Trap {
		t.Errorf("private policy %v", p.Action)
	}
	if p := f.policies[[2]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("192.0.2.66/32")}]; p.Action != esp.Drop {
		t.Errorf("block policy %v", p.Action)
	}
	// Shunts: a policy for the pair, no route (a route would take every
	// source to d out of the TUN).
	l, d := netip.MustParseAddr("2001:db8:a::1"), netip.MustParseAddr("2001:db8:b::9")
	pair := [2]netip.Prefix{netip.PrefixFrom(l, 128), netip.PrefixFrom(d, 128)}
	nroutes := len(r.routes)
	o.OEShunt(l, d, ike.ShuntPass)
	o.OEShunt(l, d, ike.ShuntPass)
	if f.policies[pair].Action != esp.Pass || len(r.routes) != nroutes {
		t.Fatalf("pass shunt: policy %v, routes %v", f.policies[pair].Action, r.routes)
	}
	o.OEShunt(l, d, ike.ShuntNone)
	if _, ok := f.policies[pair]; ok {
		t.Fatal("shunt policy left behind")
	}
	o.OEShunt(l, d, ike.ShuntDrop)
	if f.policies[pair].Action != esp.Drop || len(r.routes) != nroutes {
		t.Fatal("drop shunt wrong")
	}
	// A tunnel to a host whose group already routes it adds nothing; one
	// in a clear group gets a /32 into the TUN.
	o.OETunnel(l, d, true)
	if len(o.hosts) != 0 {
		t.Fatal("extra route for a routed group")
	}
	h := netip.MustParseAddr("192.0.2.50")
	o.OETunnel(netip.MustParseAddr("192.0.2.1"), h, true)
	if !r.has(tun.Route{Dst: netip.PrefixFrom(h, 32), Index: 3, Table: 9}) {
		t.Fatal("no /32 for the OE tunnel")
	}
	o.OETunnel(netip.MustParseAddr("192.0.2.1"), h, false)
	if r.has(tun.Route{Dst: netip.PrefixFrom(h, 32), Index: 3, Table: 9}) {
		t.Fatal("/32 left after the tunnel went")
	}
	o.close()
	if len(r.routes) != 0 {
		t.Fatalf("routes left after close: %v", r.routes)
	}
}

// TestOEStatusSection: the engine's pairs become the status's OE section,
// shunts with their action and the time left, and `swanling status` shows
// them.
func TestOEStatusSection(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := netip.MustParseAddr("198.51.100.1")
	pairs := []ike.OEStatus{
		{Local: l, Remote: netip.MustParseAddr("203.0.113.9"), Group: "private", State: "shunted",
			Until: now.Add(90*time.Second + time.Millisecond), Action: ike.ShuntDrop},
		{Local: l, Remote: netip.MustParseAddr("203.0.113.1"), Group: "private-or-clear", State: "up",
			Gateway: netip.MustParseAddr("192.0.2.2"), Authenticated: true},
		{Local: l, Remote: netip.MustParseAddr("203.0.113.130"), Group: "private-or-clear", State: "lookup"},
	}
	st := oeStatusFrom(pairs, ike.OEStats{Acquires: 3, Up: 1, Fallbacks: 1}, now)
	if len(st.Pairs) != 3 || st.Acquires != 3 || st.Up != 1 || st.Fallbacks != 1 {
		t.Fatalf("status %+v", st)
	}
	// Sorted by remote address.
	up, shunt, pending := st.Pairs[0], st.Pairs[1], st.Pairs[2]
	if up.State != "up" || up.Gateway != "192.0.2.2" || !up.Authenticated || up.ShuntSecondsLeft != -1 || up.Action != "" {
		t.Errorf("up pair %+v", up)
	}
	if pending.State != "lookup" || pending.Gateway != "" || pending.ShuntSecondsLeft != -1 {
		t.Errorf("pending pair %+v", pending)
	}
	if shunt.Action != "drop" || shunt.ShuntSecondsLeft != 91 {
		t.Errorf("shunted pair %+v", shunt)
	}
	var b bytes.Buffer
	writeStatus(&b, Status{OE: st})
	out := b.String()
	for _, want := range []string{"OE pairs: 3 (acquires 3, up 1, fallbacks 1", "203.0.113.9", "drop for 1m31s",
		"192.0.2.2", "lookup"} {
		if !strings.Contains(out, want) {
			t.Errorf("status text lacks %q:\n%s", want, out)
		}
	}
	if got := appendStatusJSON(nil, Status{OE: st}); !bytes.Contains(got, []byte(`"shunt_seconds_left": 91`)) {
		t.Errorf("JSON %s", got)
	}
}
