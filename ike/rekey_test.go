package ike

import (
	"testing"
	"time"
)

// childKeysMatch checks that both nodes have exactly the same Child SAs,
// paired by SPI with equal keys; a Child SA we rekeyed and deleted, whose
// inbound SA only drains (drainDelay), does not count.
func childKeysMatch(t *testing.T, nw *net, want int) {
	t.Helper()
	live := func(n *node) map[uint32]ChildSA {
		m := map[uint32]ChildSA{}
		for spi, c := range n.installed {
			if ch := n.e.childIn[spi]; ch == nil || ch.dropAt.IsZero() {
				m[spi] = c
			}
		}
		return m
	}
	a, b := live(nw.a), live(nw.b)
	if len(a) != want || len(b) != want {
		t.Fatalf("children a=%d b=%d, want %d", len(a), len(b), want)
	}
	for _, ca := range a {
		cb, ok := b[ca.SPIOut]
		if !ok || cb.SPIOut != ca.SPIIn || string(ca.KeyOut) != string(cb.KeyIn) || string(ca.KeyIn) != string(cb.KeyOut) {
			t.Fatalf("unpaired child %x", ca.SPIIn)
		}
	}
}

func TestChildRekeyByTime(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Lifetime = Lifetime{SoftTime: time.Minute, HardTime: 2 * time.Minute, Jitter: 10 * time.Second}
	pb.Lifetime = pa.Lifetime
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	seen := map[uint32]bool{}
	for _, c := range nw.a.installed {
		seen[c.SPIIn] = true
	}
	for i := 0; i < 50; i++ {
		nw.advance(10 * time.Second)
		childKeysMatch(t, nw, 1)
		for _, c := range nw.a.installed {
			seen[c.SPIIn] = true
		}
	}
	// 500 s with a soft lifetime of 50-60 s: about nine rekeys, all by
	// the original initiator (the responder's margin is later).
	if len(seen) < 8 || nw.b.e.stats.ChildUp != uint64(len(seen)) {
		t.Fatalf("%d distinct Child SAs, b installed %d", len(seen), nw.b.e.stats.ChildUp)
	}
	if nw.a.e.saForPeer("ab").state != stEstablished {
		t.Fatal("IKE SA lost")
	}
	st := nw.a.e.status()
	if len(st) != 1 || len(st[0].Children) != 1 || st[0].Children[0].Generation != len(seen)-1 ||
		!st[0].Children[0].RekeyAt.After(nw.clock.t) {
		t.Fatalf("status %+v", st)
	}
}

func TestIKERekey(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Lifetime = Lifetime{IKETime: 100 * time.Second}
	pb.Lifetime = pa.Lifetime
	pa.DPD = 30 * time.Second
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	old := nw.a.e.saForPeer("ab")
	child := map[uint32]bool{}
	for spi := range nw.a.installed {
		child[spi] = true
	}
	for i := 0; i < 12; i++ {
		nw.advance(10 * time.Second)
	}
	if len(nw.a.e.sas) != 1 || len(nw.b.e.sas) != 1 {
		t.Fatalf("IKE SAs a=%d b=%d", len(nw.a.e.sas), len(nw.b.e.sas))
	}
	n := nw.a.e.saForPeer("ab")
	if n == old || n.state != stEstablished || nw.b.e.saForPeer("ba").spiI != n.spiI {
		t.Fatal("not rekeyed")
	}
	// The Child SA moved over untouched.
	childKeysMatch(t, nw, 1)
	for spi := range nw.a.installed {
		if !child[spi] {
			t.Fatal("Child SA replaced by the IKE rekey")
		}
	}
	// The new SA works: DPD and a Child SA rekey run over it.
	nw.a.e.startCreateChild(n, n.children[0])
	nw.deliver()
	nw.advance(drainDelay) // the old inbound SA drains
	childKeysMatch(t, nw, 1)
	for i := 0; i < 10; i++ {
		nw.advance(30 * time.Second)
	}
	if s := nw.a.e.saForPeer("ab"); s == nil || s.state != stEstablished {
		t.Fatal("lost after IKE rekey")
	}
	childKeysMatch(t, nw, 1)
}

func TestChildRekeyCollision(t *testing.T) {
	for seed := byte(0); seed < 8; seed++ {
		pa, pb := pskPeers("", "")
		nw := newNet(t, pa, pb, nil)
		nw.a.e.rand, nw.b.e.rand = newRand(10+seed), newRand(20+seed)
		nw.up(t)
		sa, sb := nw.a.e.saForPeer("ab"), nw.b.e.saForPeer("ba")
		nw.a.e.rekeyChild(sa, sa.children[0])
		nw.b.e.rekeyChild(sb, sb.children[0])
		nw.deliver()
		nw.advance(drainDelay) // the old inbound SA drains
		childKeysMatch(t, nw, 1)
		if len(sa.children) != 1 || len(sb.children) != 1 {
			t.Fatalf("seed %d: children left a=%d b=%d", seed, len(sa.children), len(sb.children))
		}
	}
}

func TestRekeyRefusedThenRecover(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Restart = true
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	sa := nw.a.e.saForPeer("ab")
	// b claims to be rekeying its IKE SA: every Child SA rekey gets
	// TEMPORARY_FAILURE (RFC 7296, Section 2.25.2).
	nw.b.e.saForPeer("ba").rekeyingIKE = true
	c := sa.children[0]
	nw.a.e.rekeyChild(sa, c)
	nw.deliver()
	for refusals := 1; refusals <= maxRekeyRetries; refusals++ {
		if c.rekeyTries != refusals || c.retryAt.IsZero() {
			t.Fatalf("tries %d, want %d", c.rekeyTries, refusals)
		}
		// The retries back off: 2 s, 4 s, 8 s, 16 s plus jitter.
		wait := time.Duration(0)
		for c.rekeyTries == refusals && nw.a.e.saForPeer("ab") == sa {
			nw.advance(time.Second)
			wait += time.Second
		}
		if min := retryBase << (refusals - 1); wait < min {
			t.Fatalf("retry %d after %v, want at least %v", refusals, wait, min)
		}
	}
	// The fifth refusal started the recovery: a fresh IKE SA.
	if s := nw.a.e.saForPeer("ab"); s == nil || s == sa || s.state != stEstablished {
		t.Fatal("no fresh IKE SA after recovery")
	}
	checkUp(t, nw)
}

func TestUnansweredRekeyRecovers(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Restart = true
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	sa := nw.a.e.saForPeer("ab")
	nw.drop = func(from *node, _ int, _ datagram) bool { return from == nw.b }
	nw.a.e.rekeyChild(sa, sa.children[0])
	nw.deliver()
	for i := 0; i < 30 && nw.a.e.saForPeer("ab") == sa; i++ {
		nw.advance(time.Second)
	}
	if nw.a.e.saForPeer("ab") == sa {
		t.Fatal("IKE SA survived an unanswered request")
	}
	nw.drop = nil
	for i := 0; i < 20 && len(nw.a.installed) == 0; i++ {
		nw.advance(time.Second)
	}
	checkUp(t, nw)
}

func TestIKERekeyCollision(t *testing.T) {
	for seed := byte(0); seed < 8; seed++ {
		pa, pb := pskPeers("", "")
		nw := newNet(t, pa, pb, nil)
		nw.a.e.rand, nw.b.e.rand = newRand(30+seed), newRand(40+seed)
		nw.up(t)
		oa, ob := nw.a.e.saForPeer("ab"), nw.b.e.saForPeer("ba")
		nw.a.e.startIKERekey(oa)
		nw.b.e.startIKERekey(ob)
		nw.deliver()
		if len(nw.a.e.sas) != 1 || len(nw.b.e.sas) != 1 {
			t.Fatalf("seed %d: IKE SAs a=%d b=%d", seed, len(nw.a.e.sas), len(nw.b.e.sas))
		}
		na, nb := nw.a.e.saForPeer("ab"), nw.b.e.saForPeer("ba")
		if na == oa || nb == ob || na.spiI != nb.spiI || na.spiR != nb.spiR || len(na.children) != 1 || len(nb.children) != 1 {
			t.Fatalf("seed %d: not one common new IKE SA with the Child SA", seed)
		}
		childKeysMatch(t, nw, 1)
		// And it works.
		nw.a.e.startCreateChild(na, na.children[0])
		nw.deliver()
		nw.advance(drainDelay) // the old inbound SA drains
		childKeysMatch(t, nw, 1)
	}
}

func TestReauthenticationMakeBeforeBreak(t *testing.T) {
	pa, pb := pskPeers("", "")
	pa.Lifetime = Lifetime{ReauthTime: 100 * time.Second}
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	old := nw.a.e.saForPeer("ab")
	oldChild := old.children[0].spiIn
	// Watch the data plane: some Child SA must be installed at every
	// moment, on both sides (make-before-break).
	for i := 0; i < 11; i++ {
		nw.advance(10 * time.Second)
		if len(nw.a.installed) == 0 || len(nw.b.installed) == 0 {
			t.Fatal("a moment without a Child SA")
		}
	}
	n := nw.a.e.saForPeer("ab")
	if n == old || n.generation != 1 || len(nw.a.e.sas) != 1 || len(nw.b.e.sas) != 1 {
		t.Fatalf("not reauthenticated: %d and %d IKE SAs", len(nw.a.e.sas), len(nw.b.e.sas))
	}
	if _, still := nw.a.installed[oldChild]; still {
		t.Fatal("old Child SA kept")
	}
	checkUp(t, nw)
}
