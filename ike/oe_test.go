package ike

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// fakeDNS answers OELookup from maps, synchronously; silent leaves every
// question unanswered (a DNS server that is down).
type fakeDNS struct {
	gw      map[netip.Addr]OEGateway
	gws     map[netip.Addr][]OEGateway
	keys    map[netip.Addr][]OEGateway
	silent  bool
	lookups int
}

var errNoGW = errors.New("fake: no OE gateway published")

func newFakeDNS() *fakeDNS {
	return &fakeDNS{gw: map[netip.Addr]OEGateway{}, gws: map[netip.Addr][]OEGateway{}, keys: map[netip.Addr][]OEGateway{}}
}

func (f *fakeDNS) GatewayFor(_ context.Context, a netip.Addr, done func(OEGateway, error)) {
	f.lookups++
	if f.silent {
		return
	}
	g, ok := f.gw[a]
	if !ok {
		done(OEGateway{}, errNoGW)
		return
	}
	done(g, nil)
}

func (f *fakeDNS) GatewaysFor(_ context.Context, a netip.Addr, done func([]OEGateway, error)) {
	f.lookups++
	if f.silent {
		return
	}
	g, ok := f.gws[a]
	if !ok {
		done(nil, errNoGW)
		return
	}
	done(g, nil)
}

func (f *fakeDNS) KeyFor(_ context.Context, gw OEGateway, done func([]OEGateway, error)) {
	f.lookups++
	if f.silent {
		return
	}
	k, ok := f.keys[gw.Addr]
	if !ok {
		done(nil, errNoGW)
		return
	}
	done(k, nil)
}

type shunt struct {
	local, remote netip.Addr
	a             ShuntAction
}

// oeNode is an engine with OE and a record of its OE output.
type oeNode struct {
	node
	addr    netip.Addr
	dns     *fakeDNS
	shunts  []shunt
	tunnels map[oePair]bool
	packets uint64 // what every Child SA reports as carried
}

func (n *oeNode) OEShunt(l, r netip.Addr, a ShuntAction) { n.shunts = append(n.shunts, shunt{l, r, a}) }
func (n *oeNode) OETunnel(l, r netip.Addr, up bool) {
	if up {
		n.tunnels[oePair{l, r}] = true
	} else {
		delete(n.tunnels, oePair{l, r})
	}
}
func (n *oeNode) OEPackets(in, out uint32) uint64 { return n.packets }

func (n *oeNode) lastShunt() shunt {
	if len(n.shunts) == 0 {
		return shunt{}
	}
	return n.shunts[len(n.shunts)-1]
}

// oeNet is a set of engines that reach each other by outer address.
type oeNet struct {
	t     testing.TB
	clock *fakeClock
	nodes map[netip.Addr]*oeNode
	drop  func(d datagram) bool
}

var (
	gwA   = netip.MustParseAddr("192.0.2.1")
	gwB   = netip.MustParseAddr("192.0.2.2")
	gwC   = netip.MustParseAddr("192.0.2.3")
	hostB = netip.MustParseAddr("203.0.113.5") // behind B
	hostC = netip.MustParseAddr("198.51.100.7")
)

func newOENet(t testing.TB) *oeNet {
	return &oeNet{t: t, clock: &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, nodes: map[netip.Addr]*oeNode{}}
}

// add makes an OE engine at addr with the given groups and key (nil: no
// key, AUTH_NULL only) and optional configured peers.
func (nw *oeNet) add(addr netip.Addr, key crypto.Signer, groups []OEGroup, peers ...Peer) *oeNode {
	n := &oeNode{node: node{installed: map[uint32]ChildSA{}}, addr: addr, dns: newFakeDNS(), tunnels: map[oePair]bool{}}
	e, err := New(Config{Peers: peers, Clock: nw.clock, Rand: newRand(byte(len(nw.nodes) + 40)), Log: testLogger(), Output: n,
		Timers: Timers{RetransmitBase: time.Second, RetransmitMax: 4 * time.Second, RetransmitTries: 2}})
	if err != nil {
		nw.t.Fatal(err)
	}
	if err := e.SetOE(OEConfig{Groups: groups, Local4: addr, PrivateKey: key, // LocalID: the outer address
		Lookup: n.dns, Output: n, ShuntTime: 5 * time.Minute, LookupTimeout: 3 * time.Second}); err != nil {
		nw.t.Fatal(err)
	}
	n.e = e
	nw.nodes[addr] = n
	return n
}

// settle runs queued events and moves datagrams until all is quiet.
func (nw *oeNet) settle() {
	for i := 0; i < 200; i++ {
		moved := false
		for _, n := range nw.nodes {
			for len(n.e.events) > 0 {
				(<-n.e.events)(n.e)
				moved = true
			}
			out := n.sent
			n.sent = nil
			for _, d := range out {
				to := nw.nodes[d.remote.Addr()]
				if to == nil || (nw.drop != nil && nw.drop(d)) {
					continue
				}
				moved = true
				b := d.data
				if d.marker {
					b = append([]byte{0, 0, 0, 0}, b...)
				}
				to.e.receive(b, d.remote, d.local)
			}
		}
		if !moved {
			return
		}
	}
	nw.t.Fatal("network does not settle")
}

func (nw *oeNet) advance(d time.Duration) {
	nw.clock.t = nw.clock.t.Add(d)
	for _, n := range nw.nodes {
		n.e.tick()
	}
	nw.settle()
}

func edKey(seed byte) (crypto.Signer, crypto.PublicKey) {
	pub, priv, _ := ed25519.GenerateKey(newRand(seed))
	return priv, pub
}

func group(name, cidr string, dnssec bool) OEGroup {
	return OEGroup{Name: name, CIDRs: []netip.Prefix{netip.MustParsePrefix(cidr)}, RequireDNSSEC: dnssec, FailDrop: name == OEPrivate}
}

func (n *oeNode) conn(l, r netip.Addr) *oeConn { return n.e.oe.findPair(oePair{l, r}) }

// twoGateways: A (192.0.2.1, itself a host) sends to hostB behind B; both
// publish authenticated keys.
func twoGateways(t *testing.T, aGroups, bGroups []OEGroup) (*oeNet, *oeNode, *oeNode) {
	nw := newOENet(t)
	ka, pa := edKey(1)
	kb, pb := edKey(2)
	a := nw.add(gwA, ka, aGroups)
	b := nw.add(gwB, kb, bGroups)
	a.dns.gw[hostB] = OEGateway{Addr: gwB, Key: pb, Authenticated: true}
	b.dns.gws[gwA] = []OEGateway{{Addr: gwA, Key: pa, Authenticated: true}}
	return nw, a, b
}

func checkOEChild(t *testing.T, n *oeNode, local, remote netip.Addr) ChildSA {
	t.Helper()
	for _, c := range n.installed {
		if len(c.LocalTS) == 1 && len(c.RemoteTS) == 1 && c.LocalTS[0] == hostPrefix(local) && c.RemoteTS[0] == hostPrefix(remote) {
			return c
		}
	}
	t.Fatalf("%v: no Child SA %v <-> %v among %+v", n.addr, local, remote, n.installed)
	return ChildSA{}
}

func TestOEFirstPacket(t *testing.T) {
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	ca := checkOEChild(t, a, gwA, hostB)
	cb := checkOEChild(t, b, hostB, gwA)
	if ca.SPIOut != cb.SPIIn || ca.Peer.Addr() != gwB {
		t.Fatalf("Child SAs do not pair: %+v %+v", ca, cb)
	}
	if !a.tunnels[oePair{gwA, hostB}] || !b.tunnels[oePair{hostB, gwA}] {
		t.Fatalf("OETunnel not reported: a=%v b=%v", a.tunnels, b.tunnels)
	}
	if c := a.conn(gwA, hostB); c == nil || c.state != oeUp || !c.authenticated {
		t.Fatalf("A's conn %+v", c)
	}
	if c := b.conn(hostB, gwA); c == nil || c.state != oeUp || !c.authenticated || !c.responder {
		t.Fatalf("B's conn %+v", c)
	}
	if len(a.shunts) != 0 {
		t.Fatalf("shunts %v", a.shunts)
	}
	// A second packet to the same destination starts nothing new.
	n := a.dns.lookups
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	if a.dns.lookups != n || len(a.e.sas) != 1 {
		t.Fatalf("second acquire: lookups %d->%d, %d SAs", n, a.dns.lookups, len(a.e.sas))
	}
	st, stats := a.e.oeStatusLocked()
	if len(st) != 1 || st[0].State != "up" || stats.Up != 1 {
		t.Fatalf("status %+v %+v", st, stats)
	}
}

// oeStatusLocked is OEStatus for tests that run events themselves.
func (e *Engine) oeStatusLocked() ([]OEStatus, OEStats) {
	var out []OEStatus
	for _, c := range e.oe.conns {
		out = append(out, OEStatus{Local: c.pair.local, Remote: c.pair.remote, State: c.state.String()})
	}
	return out, e.oe.stats
}

func TestOEKeyFromGatewayZone(t *testing.T) {
	// The record names B without a key: B's own reverse zone has it.
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	g := a.dns.gw[hostB]
	a.dns.keys[gwB] = []OEGateway{{Addr: gwB, Key: g.Key, Authenticated: true}}
	g.Key = nil
	a.dns.gw[hostB] = g
	// And B finds A's key the same way.
	gs := b.dns.gws[gwA]
	b.dns.keys[gwA] = []OEGateway{{Addr: gwA, Key: gs[0].Key, Authenticated: true}}
	gs[0].Key = nil
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	checkOEChild(t, a, gwA, hostB)
	checkOEChild(t, b, hostB, gwA)
}

func TestOEAuthNull(t *testing.T) {
	nw := newOENet(t)
	a := nw.add(gwA, nil, []OEGroup{group(OEPrivateOrClear, "203.0.113.0/24", false)})
	b := nw.add(gwB, nil, []OEGroup{group(OEPrivateOrClear, "192.0.2.0/24", false)})
	// Key-less IPSECKEY records that name the gateways.
	a.dns.gw[hostB] = OEGateway{Addr: gwB}
	b.dns.gws[gwA] = []OEGateway{{Addr: gwA}}
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	checkOEChild(t, a, gwA, hostB)
	checkOEChild(t, b, hostB, gwA)
	sa := b.e.saForPeer(b.conn(hostB, gwA).name)
	if sa == nil || sa.remoteID.Type != IDNull || sa.peer.Auth != AuthNull {
		t.Fatalf("B's SA is not AUTH_NULL: %+v", sa)
	}
	if c := a.conn(gwA, hostB); c.authenticated {
		t.Fatal("AUTH_NULL SA labelled authenticated")
	}
}

func TestOEAuthNullRefusedWhenDNSSECRequired(t *testing.T) {
	nw := newOENet(t)
	a := nw.add(gwA, nil, []OEGroup{group(OEPrivate, "203.0.113.0/24", true)})
	a.dns.gw[hostB] = OEGateway{Addr: gwB, Authenticated: true}
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	if s := a.lastShunt(); s.a != ShuntDrop || s.remote != hostB {
		t.Fatalf("shunts %v", a.shunts)
	}
	if len(a.e.sas) != 0 {
		t.Fatal("negotiation started without a usable key")
	}
}

func TestOEUnauthenticatedKeyLabelled(t *testing.T) {
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivateOrClear, "203.0.113.0/24", false)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", false)})
	g := a.dns.gw[hostB]
	g.Authenticated = false
	a.dns.gw[hostB] = g
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	checkOEChild(t, a, gwA, hostB)
	checkOEChild(t, b, hostB, gwA)
	if a.conn(gwA, hostB).authenticated {
		t.Fatal("key from an unauthenticated answer labelled authenticated")
	}
	if a.e.saForPeer(a.conn(gwA, hostB).name).peer.Auth != AuthPubkey {
		t.Fatal("unauthenticated key not used for signatures")
	}
	// The same answer under DNSSEC-required policy is refused.
	nw2, a2, _ := twoGateways(t, []OEGroup{group(OEPrivate, "203.0.113.0/24", true)}, nil)
	g2 := a2.dns.gw[hostB]
	g2.Authenticated = false
	a2.dns.gw[hostB] = g2
	a2.e.AcquireOE(gwA, hostB)
	nw2.settle()
	if s := a2.lastShunt(); s.a != ShuntDrop {
		t.Fatalf("shunts %v", a2.shunts)
	}
}

func TestOEFallbackShuntExpiryRetry(t *testing.T) {
	for _, tc := range []struct {
		group string
		want  ShuntAction
	}{{OEPrivateOrClear, ShuntPass}, {OEPrivate, ShuntDrop}} {
		t.Run(tc.group, func(t *testing.T) {
			nw := newOENet(t)
			a := nw.add(gwA, nil, []OEGroup{group(tc.group, "198.51.100.0/24", false)})
			// C publishes nothing.
			a.e.AcquireOE(gwA, hostC)
			nw.settle()
			if len(a.shunts) != 1 || a.shunts[0] != (shunt{gwA, hostC, tc.want}) {
				t.Fatalf("shunts %v", a.shunts)
			}
			// While shunted, new packets start nothing.
			n := a.dns.lookups
			a.e.AcquireOE(gwA, hostC)
			nw.settle()
			if a.dns.lookups != n {
				t.Fatal("looked up again while shunted")
			}
			nw.advance(5*time.Minute - time.Second)
			if len(a.shunts) != 1 {
				t.Fatalf("shunt expired early: %v", a.shunts)
			}
			nw.advance(time.Second)
			if s := a.lastShunt(); s != (shunt{gwA, hostC, ShuntNone}) {
				t.Fatalf("shunt not removed: %v", a.shunts)
			}
			// C publishes now: the next packet negotiates.
			b := nw.add(gwC, nil, []OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", false)})
			a.dns.gw[hostC] = OEGateway{Addr: gwC}
			b.dns.gws[gwA] = selfGW(gwA)
			a.e.AcquireOE(gwA, hostC)
			nw.settle()
			checkOEChild(t, a, gwA, hostC)
		})
	}
}

// selfGW is a key-less record naming gw as its own gateway.
func selfGW(gw netip.Addr) []OEGateway { return []OEGateway{{Addr: gw}} }

func TestOEDNSTimeout(t *testing.T) {
	for _, tc := range []struct {
		group string
		want  ShuntAction
	}{{OEPrivateOrClear, ShuntPass}, {OEPrivate, ShuntDrop}} {
		nw := newOENet(t)
		a := nw.add(gwA, nil, []OEGroup{group(tc.group, "198.51.100.0/24", false)})
		a.dns.silent = true
		a.e.AcquireOE(gwA, hostC)
		nw.settle()
		nw.advance(3*time.Second - time.Millisecond)
		if len(a.shunts) != 0 {
			t.Fatalf("%s: shunted before the timeout", tc.group)
		}
		nw.advance(time.Millisecond)
		if len(a.shunts) != 1 || a.shunts[0].a != tc.want {
			t.Fatalf("%s: shunts %v", tc.group, a.shunts)
		}
	}
}

func TestOEIKEFailureShunts(t *testing.T) {
	// DNS names a gateway that never answers IKE.
	nw := newOENet(t)
	a := nw.add(gwA, nil, []OEGroup{group(OEPrivate, "198.51.100.0/24", false)})
	a.dns.gw[hostC] = OEGateway{Addr: netip.MustParseAddr("192.0.2.99")}
	a.e.AcquireOE(gwA, hostC)
	nw.settle()
	for i := 0; i < 10 && len(a.shunts) == 0; i++ {
		nw.advance(4 * time.Second)
	}
	if len(a.shunts) != 1 || a.shunts[0].a != ShuntDrop {
		t.Fatalf("shunts %v", a.shunts)
	}
	if len(a.e.peers) != 0 {
		t.Fatalf("OE peer left behind: %v", a.e.peers)
	}
}

func TestOEIdleTeardown(t *testing.T) {
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	checkOEChild(t, a, gwA, hostB)
	nw.advance(59 * time.Second)
	if len(a.installed) != 1 {
		t.Fatal("torn down before a minute")
	}
	nw.advance(time.Second)
	// Teardown with Delete: both sides are clean.
	if len(a.installed) != 0 || len(b.installed) != 0 || len(a.e.sas) != 0 || len(b.e.sas) != 0 {
		t.Fatalf("idle tunnel not deleted: a=%d/%d b=%d/%d", len(a.installed), len(a.e.sas), len(b.installed), len(b.e.sas))
	}
	if len(a.tunnels) != 0 || len(b.tunnels) != 0 || len(a.e.oe.conns) != 0 || len(b.e.oe.conns) != 0 {
		t.Fatalf("OE state left: %v %v", a.tunnels, b.tunnels)
	}
	// The next packet sets it up again.
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	checkOEChild(t, a, gwA, hostB)
}

func TestOERecheck(t *testing.T) {
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	a.packets, b.packets = 10, 10
	nw.advance(time.Minute) // in use: stays
	if len(a.installed) != 1 {
		t.Fatal("tunnel in use torn down")
	}
	a.packets, b.packets = 50, 50
	nw.advance(19 * time.Minute) // first recheck: traffic since, DNS still names B
	if len(a.installed) != 1 {
		t.Fatal("tunnel in use torn down at recheck")
	}
	nw.advance(20 * time.Minute) // no traffic since the last check
	if len(a.installed) != 0 || len(b.installed) != 0 {
		t.Fatalf("idle tunnel survived recheck: %d %d", len(a.installed), len(b.installed))
	}
}

func TestOERecheckGatewayChanged(t *testing.T) {
	nw, a, _ := twoGateways(t,
		[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	a.packets = 5
	nw.advance(time.Minute)
	a.packets = 9
	g := a.dns.gw[hostB]
	g.Addr = gwC
	a.dns.gw[hostB] = g
	nw.advance(19 * time.Minute)
	if len(a.installed) != 0 {
		t.Fatal("tunnel kept after DNS named another gateway")
	}
}

func TestOEResponderRefusesUnauthorizedGateway(t *testing.T) {
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivateOrClear, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	// 192.0.2.1's reverse records name another gateway.
	_, pc := edKey(3)
	b.dns.gws[gwA] = []OEGateway{{Addr: gwC, Key: pc, Authenticated: true}}
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	if len(b.installed) != 0 || len(a.installed) != 0 {
		t.Fatal("unauthorized gateway got a Child SA")
	}
	if s := a.lastShunt(); s.a != ShuntPass {
		t.Fatalf("initiator did not fall back: %v", a.shunts)
	}
	if b.e.oe.stats.Refused == 0 || len(b.e.oe.conns) != 0 || len(b.e.peers) != 0 {
		t.Fatalf("responder state: %+v %v", b.e.oe.stats, b.e.peers)
	}
}

func TestOEResponderRefusesWrongKey(t *testing.T) {
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	_, other := edKey(9)
	b.dns.gws[gwA][0].Key = other
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	if len(b.installed) != 0 || len(a.installed) != 0 {
		t.Fatal("AUTH with a key DNS does not publish accepted")
	}
}

func TestOEUnauthenticatedCannotTakeOver(t *testing.T) {
	nw := newOENet(t)
	groups := []OEGroup{group(OEPrivateOrClear, "0.0.0.0/0", false)}
	a := nw.add(gwA, nil, groups)
	b := nw.add(gwB, nil, groups)
	c := nw.add(gwC, nil, groups)
	a.dns.gw[hostB] = OEGateway{Addr: gwB}
	c.dns.gw[hostB] = OEGateway{Addr: gwB}
	// DNS (unauthenticated) even lists C as a gateway for A's address.
	b.dns.gws[gwA] = []OEGateway{{Addr: gwA}, {Addr: gwC}}
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	before := checkOEChild(t, b, hostB, gwA)
	// C claims A's address as its inner source.
	c.e.AcquireOE(gwA, hostB)
	nw.settle()
	if len(c.installed) != 0 {
		t.Fatal("C got an SA for A's host pair")
	}
	if got := checkOEChild(t, b, hostB, gwA); got.SPIIn != before.SPIIn || len(b.installed) != 1 {
		t.Fatalf("A's SA replaced: %+v -> %+v", before, got)
	}
	if len(a.installed) != 1 {
		t.Fatal("A's SA deleted")
	}
}

func TestOEGroupLongestPrefix(t *testing.T) {
	o := &oeState{cfg: OEConfig{Groups: []OEGroup{
		group(OEPrivateOrClear, "0.0.0.0/0", false),
		group(OEPrivate, "192.0.2.0/24", true),
		group(OEClear, "192.0.2.128/25", false),
		group(OEBlock, "192.0.2.200/32", false),
		group(OEClearOrPrivate, "2001:db8::/32", false),
	}}}
	for _, tc := range []struct{ addr, want string }{
		{"203.0.113.1", OEPrivateOrClear},
		{"192.0.2.1", OEPrivate},
		{"192.0.2.129", OEClear},
		{"192.0.2.200", OEBlock},
		{"2001:db8::1", OEClearOrPrivate},
	} {
		g := o.groupFor(netip.MustParseAddr(tc.addr))
		if g == nil || g.Name != tc.want {
			t.Errorf("%s: group %+v, want %s", tc.addr, g, tc.want)
		}
	}
	if g := o.groupFor(netip.MustParseAddr("2001:db9::1")); g != nil {
		t.Errorf("no group expected, got %+v", g)
	}
}

func TestOEGroupsThatNeverInitiate(t *testing.T) {
	for _, name := range []string{OEClear, OEClearOrPrivate, OEBlock} {
		nw := newOENet(t)
		a := nw.add(gwA, nil, []OEGroup{group(name, "203.0.113.0/24", false)})
		a.dns.gw[hostB] = OEGateway{Addr: gwB}
		a.e.AcquireOE(gwA, hostB)
		nw.settle()
		if a.dns.lookups != 0 || len(a.e.sas) != 0 {
			t.Errorf("%s: OE started", name)
		}
	}
}

func TestOEConfiguredTunnelWins(t *testing.T) {
	nw := newOENet(t)
	tun := basePeer("site", gwB, gwA, "192.0.2.1/32", "203.0.113.0/24")
	tun.Auth, tun.PSK = AuthPSK, []byte("a configured tunnel's key")
	a := nw.add(gwA, nil, []OEGroup{group(OEPrivate, "203.0.113.0/24", false)}, tun)
	a.dns.gw[hostB] = OEGateway{Addr: gwB}
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	if a.dns.lookups != 0 || len(a.e.sas) != 0 {
		t.Fatal("OE started for a configured tunnel's destination")
	}
	// As responder: an OE initiator may not claim the tunnel's selectors.
	b := nw.add(gwB, nil, []OEGroup{group(OEPrivateOrClear, "0.0.0.0/0", false)})
	b.dns.gw[gwA] = OEGateway{Addr: gwA}
	a.dns.gws[hostB] = selfGW(gwB)
	b.e.AcquireOE(hostB, gwA)
	nw.settle()
	if len(a.installed) != 0 {
		t.Fatal("OE peer got selectors of a configured tunnel")
	}
	if s := b.lastShunt(); s.a != ShuntPass {
		t.Fatalf("initiator shunts %v", b.shunts)
	}
}

func TestOEMaxPending(t *testing.T) {
	nw := newOENet(t)
	a := nw.add(gwA, nil, []OEGroup{group(OEPrivate, "198.51.100.0/24", false)})
	a.e.oe.cfg.MaxPending = 2
	a.dns.silent = true
	for i := 1; i <= 3; i++ {
		a.e.AcquireOE(gwA, netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}))
	}
	nw.settle()
	if a.e.oe.pend != 2 || a.e.oe.stats.PendingLimit != 1 || a.dns.lookups != 2 {
		t.Fatalf("pending %d, limited %d, lookups %d", a.e.oe.pend, a.e.oe.stats.PendingLimit, a.dns.lookups)
	}
	nw.advance(3 * time.Second) // timeouts free the slots
	if a.e.oe.pend != 0 {
		t.Fatalf("pending %d after timeouts", a.e.oe.pend)
	}
}

// BenchmarkOEMemoryPerSA sets up b.N OE host pairs (AUTH_NULL, one IKE SA
// and one Child SA each) between two engines and reports the heap held
// per OE SA on both sides together.
func BenchmarkOEMemoryPerSA(b *testing.B) {
	nw := newOENet(b)
	groups := []OEGroup{group(OEPrivateOrClear, "10.0.0.0/8", false), group(OEClearOrPrivate, "192.0.2.0/24", false)}
	ga := nw.add(gwA, nil, groups)
	gb := nw.add(gwB, nil, groups)
	gb.dns.gws[gwA] = selfGW(gwA)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		ga.dns.gw[dst] = OEGateway{Addr: gwB}
		ga.e.AcquireOE(gwA, dst)
		nw.settle()
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(ga.installed) != b.N || len(gb.installed) != b.N {
		b.Fatalf("installed %d/%d of %d", len(ga.installed), len(gb.installed), b.N)
	}
	// The fake DNS maps and the test's record of Child SAs are counted
	// too; they are small next to the SAs.
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "heapB/pair")
}

// TestOERestartedPeer: a gateway that restarted comes back with
// INITIAL_CONTACT; when its key is authenticated its old SA goes, an
// unauthenticated (AUTH_NULL) one never replaces anything.
func TestOERestartedPeer(t *testing.T) {
	for _, authed := range []bool{true, false} {
		nw := newOENet(t)
		ka, pa := edKey(1)
		kb, pb := edKey(2)
		if !authed {
			ka, kb = nil, nil
		}
		ga := []OEGroup{group(OEPrivateOrClear, "203.0.113.0/24", authed)}
		a := nw.add(gwA, ka, ga)
		b := nw.add(gwB, kb, []OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", authed)})
		gwRec, authRec := OEGateway{Addr: gwB}, OEGateway{Addr: gwA}
		if authed {
			gwRec.Key, gwRec.Authenticated = pb, true
			authRec.Key, authRec.Authenticated = pa, true
		}
		a.dns.gw[hostB] = gwRec
		b.dns.gws[gwA] = []OEGateway{authRec}
		a.e.AcquireOE(gwA, hostB)
		nw.settle()
		checkOEChild(t, b, hostB, gwA)
		// A restarts: a new engine with the same address and key.
		a2 := nw.add(gwA, ka, ga)
		a2.dns.gw[hostB] = gwRec
		a2.e.AcquireOE(gwA, hostB)
		nw.settle()
		checkOEChild(t, a2, gwA, hostB)
		want := 1
		if !authed {
			want = 2
		}
		if len(b.e.sas) != want || len(b.installed) != want {
			t.Errorf("authenticated=%v: B has %d IKE SAs, %d Child SAs, want %d", authed, len(b.e.sas), len(b.installed), want)
		}
	}
}

// TestOESecondPairKeepsFirst: a second host pair with the same gateway gets
// an IKE SA of its own without INITIAL_CONTACT (RFC 7296, Section 2.4: it
// would claim to be the only IKE SA), so B keeps the first pair's SA.
func TestOESecondPairKeepsFirst(t *testing.T) {
	nw, a, b := twoGateways(t,
		[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
		[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
	hostB2 := netip.MustParseAddr("203.0.113.77")
	a.dns.gw[hostB2] = a.dns.gw[hostB]
	a.e.AcquireOE(gwA, hostB)
	nw.settle()
	a.e.AcquireOE(gwA, hostB2)
	nw.settle()
	checkOEChild(t, a, gwA, hostB)
	checkOEChild(t, a, gwA, hostB2)
	if len(b.e.sas) != 2 || len(a.e.sas) != 2 {
		t.Fatalf("A has %d IKE SAs, B %d, want 2 each", len(a.e.sas), len(b.e.sas))
	}
	if c := b.conn(hostB, gwA); c == nil || c.state != oeUp {
		t.Fatalf("B's first conn %+v", c)
	}
	if c := b.conn(hostB2, gwA); c == nil || c.state != oeUp {
		t.Fatalf("B's second conn %+v", c)
	}
}

// TestOEGatewayByNameIdentity: a record that names B's gateway by DNS name
// (IPSECKEY gateway type 3) is satisfied when B identifies by that name or
// by the address the name resolved to; any other identity is refused.
func TestOEGatewayByNameIdentity(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bID   string // B's configured identity; "" is its address
		works bool
	}{
		{"address", "", true},
		{"fqdn", "gw-b.example", true},
		{"other fqdn", "other.example", false},
		{"other address", "192.0.2.99", false},
	} {
		nw, a, b := twoGateways(t,
			[]OEGroup{group(OEPrivate, "203.0.113.0/24", true)},
			[]OEGroup{group(OEClearOrPrivate, "192.0.2.0/24", true)})
		rec := a.dns.gw[hostB]
		rec.FQDN = "gw-b.example"
		a.dns.gw[hostB] = rec
		if tc.bID != "" {
			id, err := ParseIdentity(tc.bID)
			if err != nil {
				t.Fatal(err)
			}
			b.e.oe.cfg.LocalID = id
		}
		a.e.AcquireOE(gwA, hostB)
		nw.settle()
		c := a.conn(gwA, hostB)
		up := c != nil && c.state == oeUp
		if up != tc.works {
			t.Errorf("%s: tunnel up %v, want %v (conn %+v)", tc.name, up, tc.works, c)
		}
		if !tc.works && (len(a.installed) != 0 || a.lastShunt().a != ShuntDrop) {
			t.Errorf("%s: installed %d, shunt %+v", tc.name, len(a.installed), a.lastShunt())
		}
	}
}
