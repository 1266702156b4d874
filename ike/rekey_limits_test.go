package ike

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The soft byte and packet limits handed to the data plane carry jitter,
// and the original responder's are always later than the original
// initiator's (issue 5).
func TestSoftCountMarginsAndJitter(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	e := nw.a.e
	for _, lim := range []struct{ soft, hard uint64 }{{1000, 2000}, {1 << 20, 0}, {100, 110}, {1 << 40, 1 << 41}} {
		iMin, iMax, rMin, rMax := ^uint64(0), uint64(0), ^uint64(0), uint64(0)
		iSeen, rSeen := map[uint64]bool{}, map[uint64]bool{}
		for i := 0; i < 200; i++ {
			v := e.softCount(lim.soft, lim.hard, true)
			iMin, iMax, iSeen[v] = min(iMin, v), max(iMax, v), true
			v = e.softCount(lim.soft, lim.hard, false)
			rMin, rMax, rSeen[v] = min(rMin, v), max(rMax, v), true
		}
		if iMax > lim.soft || iMin < lim.soft-lim.soft/10 {
			t.Errorf("%+v: initiator soft limits in [%d, %d]", lim, iMin, iMax)
		}
		if rMin <= iMax {
			t.Errorf("%+v: responder's soft limit %d not after the initiator's %d", lim, rMin, iMax)
		}
		if lim.hard != 0 && rMax >= lim.hard {
			t.Errorf("%+v: responder's soft limit %d reaches the hard one", lim, rMax)
		}
		if lim.soft >= 1000 && (len(iSeen) < 10 || len(rSeen) < 10) {
			t.Errorf("%+v: no jitter: %d and %d distinct values", lim, len(iSeen), len(rSeen))
		}
	}
	if e.softCount(0, 100, true) != 0 || e.softCount(0, 0, false) != 0 {
		t.Error("unlimited must stay unlimited")
	}
}

// The Child SAs handed to the data plane carry the moved soft limits,
// through rekeys too.
func TestChildLifetimeHandedToDataPlane(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Lifetime = Lifetime{SoftBytes: 1 << 30, HardBytes: 1 << 31, SoftPkts: 1 << 20, HardPkts: 1 << 21}
	pb.Lifetime = pa.Lifetime
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	for i := 0; i < 5; i++ {
		for _, ca := range nw.a.installed {
			cb := nw.b.installed[ca.SPIOut]
			la, lb := ca.Lifetime, cb.Lifetime
			if la.SoftBytes > 1<<30 || lb.SoftBytes <= 1<<30 || lb.SoftBytes >= 1<<31 ||
				la.SoftPkts > 1<<20 || lb.SoftPkts <= 1<<20 || lb.SoftPkts >= 1<<21 {
				t.Fatalf("lifetimes a=%+v b=%+v", la, lb)
			}
			if la.HardBytes != 1<<31 || lb.HardPkts != 1<<21 {
				t.Fatalf("hard limits changed: a=%+v b=%+v", la, lb)
			}
		}
		sa := nw.a.e.saForPeer("ab")
		nw.a.e.rekeyChild(sa, sa.children[0])
		nw.deliver()
		nw.advance(drainDelay)
		childKeysMatch(t, nw, 1)
	}
}

// expire does what the glue's Expire does on the engine's goroutine
// (RekeyChild or DeleteChild by inbound SPI).
func expire(n *node, spiIn uint32, hard bool) bool {
	sa, c := n.e.findChild(spiIn)
	if c == nil || sa.state != stEstablished {
		return false
	}
	if hard {
		n.e.deleteChild(sa, c)
	} else {
		n.e.rekeyChild(sa, c)
	}
	return true
}

// A soft expiry from the data plane rekeys; both directions may report it
// and only one rekey runs; a hard expiry deletes the Child SA on both
// sides.
func TestExpireSoftRekeysHardDeletes(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	var old uint32
	for spi := range nw.b.installed {
		old = spi
	}
	// The responder's data plane reports the soft limit (say, bytes
	// outbound and inbound at once).
	if !expire(nw.b, old, false) || !expire(nw.b, old, false) {
		t.Fatal("no Child SA to rekey")
	}
	nw.deliver()
	childKeysMatch(t, nw, 1)
	nw.advance(drainDelay) // our old inbound SA drains, then goes
	if _, still := nw.b.installed[old]; still {
		t.Fatal("old Child SA kept after the rekey")
	}
	if got := nw.b.e.stats.ChildUp; got != 2 {
		t.Fatalf("%d Child SAs installed on b, want 2 (one rekey)", got)
	}
	var cur uint32
	for spi := range nw.a.installed {
		cur = spi
	}
	if !expire(nw.a, cur, true) {
		t.Fatal("no Child SA to delete")
	}
	nw.deliver()
	childKeysMatch(t, nw, 0)
	if s := nw.a.e.saForPeer("ab"); s == nil || s.state != stEstablished {
		t.Fatal("hard expiry of a Child SA took the IKE SA")
	}
}

// If the rekey initiator's Delete for the old Child SA never arrives, the
// responder drops the old SA when the grace period ends, not before.
func TestRekeyGracePeriod(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, func(c *Config) {
		c.Timers = Timers{RetransmitBase: time.Minute, RetransmitMax: time.Minute, RetransmitTries: 3}
	})
	nw.up(t)
	sa := nw.a.e.saForPeer("ab")
	old := sa.children[0]
	dropped := 0
	nw.drop = func(from *node, _ int, d datagram) bool {
		// Drop a's Delete (the first INFORMATIONAL after the rekey).
		if from == nw.a && d.data[18] == ExchInformational && dropped == 0 {
			dropped++
			return true
		}
		return false
	}
	nw.a.e.rekeyChild(sa, old)
	nw.deliver()
	if dropped != 1 {
		t.Fatal("the Delete was not sent")
	}
	if _, ok := nw.b.installed[old.spiOut]; !ok {
		t.Fatal("b dropped the old SA before the grace period")
	}
	nw.advance(DefaultRekeyGrace - time.Second)
	if _, ok := nw.b.installed[old.spiOut]; !ok {
		t.Fatal("b dropped the old SA before the grace period ended")
	}
	nw.advance(time.Second)
	if _, ok := nw.b.installed[old.spiOut]; ok {
		t.Fatal("b kept the old SA after the grace period")
	}
	// a's retransmitted Delete is answered (nothing listed) and a drops
	// its side too.
	nw.advance(time.Minute)
	childKeysMatch(t, nw, 1)
	if s := nw.a.e.saForPeer("ab"); s != sa || s.state != stEstablished {
		t.Fatal("IKE SA lost")
	}
}

// A rekey that falls due while another request is outstanding waits for
// it (window of 1, RFC 7296, Section 2.3), then runs.
func TestRekeyQueuedBehindRequest(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	sa := nw.a.e.saForPeer("ab")
	hold := true
	nw.drop = func(from *node, _ int, _ datagram) bool { return hold && from == nw.b }
	nw.a.e.sendDPD(sa)
	nw.deliver()
	if sa.out == nil {
		t.Fatal("no outstanding request")
	}
	old := sa.children[0]
	nw.a.e.rekeyChild(sa, old)
	if len(sa.queue) != 1 || old.rekeying == nil {
		t.Fatalf("rekey not queued: %d queued", len(sa.queue))
	}
	hold = false
	nw.advance(time.Second) // the DPD retransmission is answered
	childKeysMatch(t, nw, 1)
	if n := sa.children[len(sa.children)-1]; n == old || n.generation != 1 {
		t.Fatal("queued rekey did not run")
	}
}

// A rekey from one side crossing a Delete of the same Child SA from the
// other (RFC 7296, Section 2.25.1): both sides end up agreeing, with the
// IKE SA intact, for either order of the nonces.
func TestRekeyCrossesDelete(t *testing.T) {
	for seed := byte(0); seed < 4; seed++ {
		pa, pb := pskPeers("", "")
		nw := newNet(t, pa, pb, nil)
		nw.a.e.rand, nw.b.e.rand = newRand(50+seed), newRand(60+seed)
		nw.up(t)
		sa, sb := nw.a.e.saForPeer("ab"), nw.b.e.saForPeer("ba")
		nw.a.e.rekeyChild(sa, sa.children[0])
		nw.b.e.deleteChild(sb, sb.children[0])
		nw.deliver()
		for i := 0; i < 10; i++ {
			nw.advance(time.Second)
		}
		if len(nw.a.installed) != len(nw.b.installed) || len(nw.a.installed) > 1 {
			t.Fatalf("seed %d: a=%d b=%d Child SAs", seed, len(nw.a.installed), len(nw.b.installed))
		}
		childKeysMatch(t, nw, len(nw.a.installed))
		if nw.a.e.saForPeer("ab") != sa || nw.b.e.saForPeer("ba") != sb {
			t.Fatalf("seed %d: IKE SA replaced", seed)
		}
		if len(sa.children) != len(nw.a.installed) || len(sb.children) != len(nw.b.installed) {
			t.Fatalf("seed %d: engine and data plane disagree", seed)
		}
	}
}

// When the peer stops answering, the IKE SA ends after the
// retransmissions, recovery starts at once, and when recovery fails too
// the log says plainly that the peer is unreachable.
func TestRecoveryFailureIsReported(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Restart = true
	var logs strings.Builder
	nw := newNet(t, pa, pb, func(c *Config) {
		if c.Peers[0].Name == "ab" {
			c.Log = slog.New(slog.NewTextHandler(&logs, nil))
		}
	})
	nw.up(t)
	sa := nw.a.e.saForPeer("ab")
	nw.drop = func(from *node, _ int, _ datagram) bool { return from == nw.b }
	nw.a.e.rekeyChild(sa, sa.children[0])
	nw.deliver()
	for i := 0; i < 60; i++ {
		nw.advance(time.Second)
	}
	out := logs.String()
	down := strings.Index(out, "reason=\"retransmission limit\"")
	again := strings.Index(out, "setting the tunnel up again")
	failed := strings.Index(out, "tunnel recovery failed: peer unreachable")
	if down < 0 || again < down || failed < again {
		t.Fatalf("log lacks give-up, recovery, plain failure:\n%s", out)
	}
}
