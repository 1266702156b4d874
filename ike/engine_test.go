package ike

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"time"
)

// fakeClock is advanced by the test.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// detRand is a deterministic random source.
type detRand struct{ r *rand.ChaCha8 }

func (d detRand) Read(p []byte) (int, error) { return d.r.Read(p) }

func newRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return detRand{rand.NewChaCha8(s)}
}

type datagram struct {
	data          []byte
	local, remote netip.AddrPort
	marker        bool
}

// node is one engine plus a record of what it asked the data plane to do.
type node struct {
	t         *testing.T
	e         *Engine
	sent      []datagram
	installed map[uint32]ChildSA
	removed   []uint32
	keepalive int
}

func (n *node) SendIKE(msg []byte, local, remote netip.AddrPort, marker bool) {
	n.sent = append(n.sent, datagram{append([]byte(nil), msg...), local, remote, marker})
}
func (n *node) SendKeepalive(local, remote netip.AddrPort) { n.keepalive++ }
func (n *node) InstallChild(c ChildSA) error {
	n.installed[c.SPIIn] = c
	return nil
}
func (n *node) RemoveChild(c ChildSA) {
	delete(n.installed, c.SPIIn)
	n.removed = append(n.removed, c.SPIIn)
}

// net wires two nodes back to back. drop decides per datagram whether it
// is lost.
type net struct {
	clock *fakeClock
	a, b  *node
	drop  func(from *node, i int, d datagram) bool
	count int
}

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
)

func testLogger() *slog.Logger {
	if os.Getenv("IKE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func basePeer(name string, remote, local netip.Addr, lts, rts string) Peer {
	return Peer{Name: name, Remote: remote, Local: local,
		LocalTS: []netip.Prefix{netip.MustParsePrefix(lts)}, RemoteTS: []netip.Prefix{netip.MustParsePrefix(rts)}}
}

func newNet(t *testing.T, pa, pb Peer, tweak func(*Config)) *net {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mk := func(p Peer, seed byte) *node {
		n := &node{t: t, installed: map[uint32]ChildSA{}}
		cfg := Config{Peers: []Peer{p}, Clock: clock, Rand: newRand(seed), Log: testLogger(), Output: n,
			Timers: Timers{RetransmitBase: time.Second, RetransmitMax: 8 * time.Second, RetransmitTries: 3}}
		if tweak != nil {
			tweak(&cfg)
		}
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		n.e = e
		return n
	}
	return &net{clock: clock, a: mk(pa, 1), b: mk(pb, 2)}
}

// deliver moves datagrams between the nodes until both are quiet.
func (nw *net) deliver() {
	for i := 0; i < 100; i++ {
		moved := false
		for _, pair := range [][2]*node{{nw.a, nw.b}, {nw.b, nw.a}} {
			from, to := pair[0], pair[1]
			out := from.sent
			from.sent = nil
			for _, d := range out {
				nw.count++
				if nw.drop != nil && nw.drop(from, nw.count, d) {
					continue
				}
				moved = true
				b := d.data
				if d.marker {
					b = append([]byte{0, 0, 0, 0}, b...)
				}
				// The receiver sees the datagram arriving at its local
				// address from the sender's.
				to.e.receive(b, d.remote, d.local)
			}
		}
		if !moved {
			return
		}
	}
}

// advance moves the clock and runs due timers on both engines.
func (nw *net) advance(d time.Duration) {
	nw.clock.t = nw.clock.t.Add(d)
	nw.a.e.tick()
	nw.b.e.tick()
	nw.deliver()
}

func (nw *net) up(t *testing.T) {
	t.Helper()
	if err := nw.a.e.initiate("ab"); err != nil {
		t.Fatal(err)
	}
	nw.deliver()
	checkUp(t, nw)
}

func checkUp(t *testing.T, nw *net) {
	t.Helper()
	sa, sb := nw.a.e.saForPeer("ab"), nw.b.e.saForPeer("ba")
	if sa == nil || sb == nil || sa.state != stEstablished || sb.state != stEstablished {
		t.Fatalf("IKE SA not established: a=%v b=%v", stateOf(sa), stateOf(sb))
	}
	if len(nw.a.installed) != 1 || len(nw.b.installed) != 1 {
		t.Fatalf("Child SAs installed: a=%d b=%d", len(nw.a.installed), len(nw.b.installed))
	}
	for _, ca := range nw.a.installed {
		cb, ok := nw.b.installed[ca.SPIOut]
		if !ok {
			t.Fatalf("b has no Child SA with SPI %x", ca.SPIOut)
		}
		if cb.SPIOut != ca.SPIIn || !bytes.Equal(ca.KeyOut, cb.KeyIn) || !bytes.Equal(ca.KeyIn, cb.KeyOut) ||
			!bytes.Equal(ca.IntegOut, cb.IntegIn) || ca.Suite != cb.Suite || ca.ESN != cb.ESN {
			t.Fatalf("Child SA keys differ:\na=%+v\nb=%+v", ca, cb)
		}
		if bytes.Equal(ca.KeyIn, ca.KeyOut) || len(ca.KeyIn) == 0 {
			t.Fatalf("bad keys %x %x", ca.KeyIn, ca.KeyOut)
		}
		if ca.LocalTS[0] != cb.RemoteTS[0] || ca.RemoteTS[0] != cb.LocalTS[0] {
			t.Fatalf("selectors differ: %v %v / %v %v", ca.LocalTS, ca.RemoteTS, cb.LocalTS, cb.RemoteTS)
		}
	}
}

func stateOf(sa *ikeSA) string {
	if sa == nil {
		return "none"
	}
	return sa.state.String()
}

func pskPeers(ikeA, ikeB string) (Peer, Peer) {
	pa := basePeer("ab", addrB, addrA, "198.51.100.0/24", "203.0.113.0/24")
	pb := basePeer("ba", addrA, addrB, "203.0.113.0/24", "198.51.100.0/24")
	for _, x := range []struct {
		p    *Peer
		prop string
	}{{&pa, ikeA}, {&pb, ikeB}} {
		x.p.Auth, x.p.PSK = AuthPSK, []byte("a very secret shared key")
		if x.prop != "" {
			pr, err := ParseProposal(ProtoIKE, x.prop)
			if err != nil {
				panic(err)
			}
			x.p.IKE = []Proposal{pr}
		}
	}
	pa.LocalID, _ = ParseIdentity("a.test")
	pa.RemoteID, _ = ParseIdentity("b.test")
	pb.LocalID, _ = ParseIdentity("b.test")
	pb.RemoteID, _ = ParseIdentity("a.test")
	return pa, pb
}

func TestHandshakePSK(t *testing.T) {
	for _, prop := range []string{"aes128gcm16-prfsha256-ecp256", "chacha20poly1305-prfsha256-x25519",
		"aes256gcm16-prfsha384-modp2048", "aes128-sha256-prfsha256-ecp384"} {
		t.Run(prop, func(t *testing.T) {
			pa, pb := pskPeers(prop, prop)
			nw := newNet(t, pa, pb, nil)
			nw.up(t)
			if st := nw.a.e.status(); len(st) != 1 || st[0].Algorithms != prop {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

func TestHandshakeNull(t *testing.T) {
	pa := basePeer("ab", addrB, addrA, "198.51.100.0/24", "203.0.113.0/24")
	pb := basePeer("ba", netip.Addr{}, addrB, "203.0.113.0/24", "198.51.100.0/24")
	pa.Auth, pb.Auth = AuthNull, AuthNull
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	if sb := nw.b.e.saForPeer("ba"); sb.remoteID.Type != IDNull {
		t.Fatalf("remote id %v", sb.remoteID)
	}
}

func TestHandshakeEd25519(t *testing.T) {
	_, ka, _ := ed25519.GenerateKey(newRand(7))
	_, kb, _ := ed25519.GenerateKey(newRand(8))
	pa, pb := pskPeers("", "")
	pa.Auth, pb.Auth = AuthPubkey, AuthPubkey
	pa.PSK, pb.PSK = nil, nil
	pa.PrivateKey, pa.PeerKey = ka, kb.Public()
	pb.PrivateKey, pb.PeerKey = kb, ka.Public()
	nw := newNet(t, pa, pb, nil)
	nw.up(t)

	// A wrong peer key fails authentication on the responder.
	_, kc, _ := ed25519.GenerateKey(newRand(9))
	pb.PeerKey = kc.Public()
	nw = newNet(t, pa, pb, nil)
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	if nw.a.e.saForPeer("ab") != nil || nw.b.e.saForPeer("ba") != nil || len(nw.b.installed) != 0 {
		t.Fatal("SA established with the wrong key")
	}
}

func TestHandshakeECDSAAndRSAPSS(t *testing.T) {
	ka, err := ecdsa.GenerateKey(elliptic.P256(), newRand(11))
	if err != nil {
		t.Fatal(err)
	}
	kb, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// a signs with ECDSA P-256, b with RSASSA-PSS (RFC 7427).
	pa, pb := pskPeers("", "")
	pa.Auth, pb.Auth = AuthPubkey, AuthPubkey
	pa.PSK, pb.PSK = nil, nil
	pa.PrivateKey, pa.PeerKey = ka, kb.Public()
	pb.PrivateKey, pb.PeerKey = kb, ka.Public()
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
}

func TestWrongPSK(t *testing.T) {
	pa, pb := pskPeers("", "")
	pb.PSK = []byte("another secret shared key")
	nw := newNet(t, pa, pb, nil)
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	if nw.a.e.saForPeer("ab") != nil || len(nw.b.installed) != 0 || len(nw.a.installed) != 0 {
		t.Fatal("SA with wrong PSK")
	}
}

func TestRetransmissionAfterLoss(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	// Lose the first IKE_SA_INIT request and the first IKE_AUTH response.
	lost, fromB := 0, 0
	nw.drop = func(from *node, i int, d datagram) bool {
		if from == nw.b {
			fromB++
		}
		if (i == 1) || (from == nw.b && fromB == 2) {
			lost++
			return true
		}
		return false
	}
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	nw.advance(time.Second) // INIT retransmitted
	nw.advance(2 * time.Second)
	checkUp(t, nw)
	if lost != 2 || nw.a.e.stats.Retransmits != 2 || nw.b.e.stats.CachedReplies != 1 {
		t.Fatalf("lost %d retransmits %d cached %d", lost, nw.a.e.stats.Retransmits, nw.b.e.stats.CachedReplies)
	}
}

func TestGiveUp(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	nw.drop = func(*node, int, datagram) bool { return true }
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	for i := 0; i < 10 && nw.a.e.saForPeer("ab") != nil; i++ {
		nw.advance(10 * time.Second)
	}
	if nw.a.e.saForPeer("ab") != nil || nw.a.e.stats.Retransmits != 3 {
		t.Fatalf("still there, retransmits %d", nw.a.e.stats.Retransmits)
	}
}

func TestDPDAndDeath(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.DPD = 10 * time.Second
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	nw.advance(11 * time.Second) // DPD answered
	if nw.a.e.saForPeer("ab").state != stEstablished {
		t.Fatal("SA lost after answered DPD")
	}
	// Peer vanishes: the check goes unanswered and the SA is deleted.
	nw.drop = func(from *node, _ int, _ datagram) bool { return from == nw.a }
	for i := 0; i < 10; i++ {
		nw.advance(10 * time.Second)
	}
	if nw.a.e.saForPeer("ab") != nil || len(nw.a.installed) != 0 {
		t.Fatal("dead peer not detected")
	}
}

func TestDeleteFromEitherSide(t *testing.T) {
	for _, side := range []string{"initiator", "responder"} {
		t.Run(side, func(t *testing.T) {
			pa, pb := pskPeers("", "")
			nw := newNet(t, pa, pb, nil)
			nw.up(t)
			var err error
			if side == "initiator" {
				err = nw.a.e.terminate("ab")
			} else {
				err = nw.b.e.terminate("ba")
			}
			if err != nil {
				t.Fatal(err)
			}
			nw.deliver()
			if len(nw.a.e.sas) != 0 || len(nw.b.e.sas) != 0 || len(nw.a.installed) != 0 || len(nw.b.installed) != 0 {
				t.Fatalf("left: %d %d SAs, %d %d children", len(nw.a.e.sas), len(nw.b.e.sas), len(nw.a.installed), len(nw.b.installed))
			}
		})
	}
}

func TestChildCreateAndDelete(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	sa := nw.a.e.saForPeer("ab")
	nw.a.e.startCreateChild(sa, nil)
	nw.deliver()
	if len(nw.a.installed) != 2 || len(nw.b.installed) != 2 {
		t.Fatalf("children %d %d", len(nw.a.installed), len(nw.b.installed))
	}
	nw.a.e.deleteChild(sa, sa.children[0])
	nw.deliver()
	if len(nw.a.installed) != 1 || len(nw.b.installed) != 1 {
		t.Fatalf("after delete: children %d %d", len(nw.a.installed), len(nw.b.installed))
	}
	// Rekey with PFS.
	esp, _ := ParseProposal(ProtoESP, "aes256gcm16-x25519")
	sa.peer.ESP = []Proposal{esp}
	nw.b.e.peers["ba"].ESP = []Proposal{esp}
	old := sa.children[0]
	nw.a.e.startCreateChild(sa, old)
	nw.deliver()
	nw.advance(drainDelay) // our old inbound SA drains after the Delete (issue 5)
	if len(nw.a.installed) != 1 || len(nw.b.installed) != 1 || nw.a.installed[old.spiIn].SPIIn != 0 {
		t.Fatalf("after rekey: children %d %d", len(nw.a.installed), len(nw.b.installed))
	}
	for _, c := range nw.a.installed {
		if c.Suite != "aes256gcm16" {
			t.Fatalf("rekeyed suite %s", c.Suite)
		}
	}
	checkUp(t, nw)
}

func TestInvalidKE(t *testing.T) {
	pa, pb := pskPeers("aes128gcm16-prfsha256-ecp256-x25519", "aes128gcm16-prfsha256-x25519")
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	if g := nw.a.e.saForPeer("ab").chosen.DH; g != GroupX25519 {
		t.Fatalf("group %d", g)
	}
}

func TestNoProposalChosen(t *testing.T) {
	pa, pb := pskPeers("aes128gcm16-prfsha256-ecp256", "chacha20poly1305-prfsha256-ecp256")
	nw := newNet(t, pa, pb, nil)
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	if len(nw.a.e.sas) != 0 || len(nw.b.e.sas) != 0 {
		t.Fatal("SA despite no common proposal")
	}
	// ESP mismatch: the IKE SA comes up, the Child SA does not.
	pa, pb = pskPeers("", "")
	ea, _ := ParseProposal(ProtoESP, "aes128gcm16")
	eb, _ := ParseProposal(ProtoESP, "chacha20poly1305")
	pa.ESP, pb.ESP = []Proposal{ea}, []Proposal{eb}
	nw = newNet(t, pa, pb, nil)
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	if s := nw.a.e.saForPeer("ab"); s == nil || s.state != stEstablished || len(nw.a.installed)+len(nw.b.installed) != 0 {
		t.Fatal("want IKE SA without Child SA")
	}
}

func TestCookie(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, func(c *Config) { c.Limits.CookieThreshold = -1 })
	// CookieThreshold -1 would be replaced by the default for 0 only; -1
	// means: always demand a cookie.
	nw.up(t)
	if nw.b.e.stats.CookiesSent != 1 {
		t.Fatalf("cookies sent %d", nw.b.e.stats.CookiesSent)
	}
}

func TestHalfOpenLimit(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, func(c *Config) { c.Limits.HalfOpenPerIP = 1 })
	// Drop everything b says: a's SAs stay half-open on b.
	nw.drop = func(from *node, _ int, _ datagram) bool { return from == nw.b }
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	sa := nw.a.e.saForPeer("ab")
	delete(nw.a.e.sas, sa.spiI) // forget it so that a second one starts
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	if nw.b.e.stats.HalfOpenLimit != 1 || len(nw.b.e.sas) != 1 {
		t.Fatalf("half-open limit %d, sas %d", nw.b.e.stats.HalfOpenLimit, len(nw.b.e.sas))
	}
	nw.drop = func(*node, int, datagram) bool { return true }
	nw.advance(time.Minute) // half-open timeout
	if len(nw.b.e.sas) != 0 {
		t.Fatal("half-open SA not expired")
	}
}

func TestNATAndEncap(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Encap = true
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	for _, n := range []*node{nw.a, nw.b} {
		for _, c := range n.installed {
			if !c.Encap || c.Peer.Port() != 4500 || c.Local.Port() != 4500 {
				t.Fatalf("not encapsulated: %+v", c)
			}
		}
	}
	if !nw.a.e.saForPeer("ab").natT || !nw.b.e.saForPeer("ba").natT {
		t.Fatal("IKE not on 4500")
	}
}

func TestRestartReplaces(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	// a restarts: forgets everything and connects again.
	nw.a.e.sas = map[uint64]*ikeSA{}
	nw.a.e.childIn = map[uint32]*childSA{}
	nw.a.installed = map[uint32]ChildSA{}
	nw.a.e.initiate("ab")
	nw.deliver()
	if len(nw.b.e.sas) != 1 || len(nw.b.installed) != 1 {
		t.Fatalf("b keeps %d SAs, %d children", len(nw.b.e.sas), len(nw.b.installed))
	}
	checkUp(t, nw)
}

func TestShutdownDeletes(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	nw.a.e.shutdown()
	nw.deliver()
	if len(nw.b.e.sas) != 0 || len(nw.b.installed) != 0 || len(nw.a.installed) != 0 {
		t.Fatal("shutdown left SAs")
	}
}
