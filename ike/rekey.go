package ike

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"swanling/ike/ikecrypto"
)

// Rekeying (RFC 7296, Sections 1.3.2, 1.3.3, 2.8, 2.18, 2.25) and the
// triggers and retries of issue 5:
//
//  1. Soft lifetimes: a Child SA's time (here) or bytes and packets (the
//     data plane's Expire event) start a CREATE_CHILD_SA with REKEY_SA; the
//     IKE SA's time starts an IKE SA rekey. The original initiator uses the
//     soft time as configured, the original responder a later one, and
//     both take off a random jitter, so that the two sides rarely collide.
//  2. The new Child SA is installed before the old one is deleted. The
//     rekey initiator moves outbound traffic at once; a responder keeps
//     sending on the old SA until its Delete arrives (the data plane gets
//     ChildSA.Rekeys and does the swap).
//  3. A refused rekey (an error notification) is retried up to four times
//     with doubling delays; the fifth refusal tears the IKE SA down and,
//     for started tunnels, sets it up from scratch.
//  4. Hard lifetimes delete the Child SA.

const maxRekeyRetries = 4

// DefaultRekeyGrace is how long a Child SA that the peer rekeyed keeps working
// when the peer's Delete for it does not come (issue 5: make-before-break).
// The peer has moved its outbound traffic to the new SA when the exchange
// completed, so only packets delayed in the network still use the old one.
const DefaultRekeyGrace = 30 * time.Second

// drainDelay is how long the inbound SA of a Child SA we rekeyed and
// deleted keeps accepting after the peer confirmed the Delete: packets
// the peer sealed before it switched may still be queued behind its
// answer.
const drainDelay = time.Second

// retryBase is the first delay before a refused rekey is tried again.
const retryBase = 2 * time.Second

func spiBytes8(s uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s)
	return b[:]
}

// jitter returns a random duration in [0, max).
func (e *Engine) jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	var b [8]byte
	if _, err := io.ReadFull(e.rand, b[:]); err != nil {
		return 0
	}
	return time.Duration(binary.BigEndian.Uint64(b[:]) % uint64(max))
}

// softTime is when an SA created at t with soft lifetime soft and hard
// lifetime hard should be rekeyed: the original responder waits half the
// remaining margin longer (issue 5: different soft margins per side).
func (e *Engine) softTime(t time.Time, soft, hard time.Duration, originalInitiator bool, jitter time.Duration) time.Time {
	if soft <= 0 {
		return time.Time{}
	}
	d := soft
	if !originalInitiator {
		if hard > soft {
			d += (hard - soft) / 2
		} else {
			d += soft / 20
		}
	}
	d -= e.jitter(min(jitter, d/2))
	return t.Add(d)
}

// softCount is the soft byte or packet limit handed to the data plane for
// a configured soft and hard limit: like softTime, the original responder
// moves half-way to the hard limit (or 1/20 further without one) so that
// the original initiator's rekey comes first, and both take off a random
// jitter of up to a tenth of the soft limit (issue 5). The responder's
// jitter stays below half its extra margin, so its limit is always later.
func (e *Engine) softCount(soft, hard uint64, originalInitiator bool) uint64 {
	if soft == 0 {
		return 0
	}
	j := soft / 10
	if !originalInitiator {
		margin := soft / 20
		if hard > soft {
			margin = (hard - soft) / 2
		}
		soft += margin
		j = min(j, margin/2)
	}
	if j > 0 {
		soft -= uint64(e.jitter(time.Duration(min(j, 1<<62))))
	}
	return max(soft, 1)
}

// childLifetime is the Lifetime handed to the data plane with c: the
// configured one with the soft counts moved by softCount.
func (e *Engine) childLifetime(sa *ikeSA, c *childSA) Lifetime {
	l := c.peer.Lifetime
	l.SoftBytes = e.softCount(l.SoftBytes, l.HardBytes, sa.initiator)
	l.SoftPkts = e.softCount(l.SoftPkts, l.HardPkts, sa.initiator)
	return l
}

// armChild sets a new Child SA's lifetime timers.
func (e *Engine) armChild(sa *ikeSA, c *childSA) {
	l := c.peer.Lifetime
	c.rekeyAt = e.softTime(c.created, l.SoftTime, l.HardTime, sa.initiator, l.Jitter)
	if l.HardTime > 0 {
		c.hardAt = c.created.Add(l.HardTime)
	}
}

// armIKE sets a new IKE SA's rekey and reauthentication timers. Only a
// side that can reach the peer (a configured address) reauthenticates.
func (e *Engine) armIKE(sa *ikeSA) {
	l := sa.peer.Lifetime
	sa.rekeyAt = e.softTime(sa.created, l.IKETime, 0, sa.initiator, l.Jitter)
	if l.ReauthTime > 0 && sa.peer.Remote.IsValid() {
		sa.reauthAt = e.softTime(sa.created, l.ReauthTime, 0, sa.initiator, l.Jitter)
	}
}

// reauthenticate sets up a new IKE SA with fresh authentication next to
// sa; sa is deleted once the new one is established (make-before-break,
// issue 5).
func (e *Engine) reauthenticate(sa *ikeSA) {
	p := sa.peer
	e.log.Info("reauthenticating", "tunnel", p.Name)
	if err := e.initiate(p.Name); err != nil {
		e.log.Warn("reauthentication", "tunnel", p.Name, "err", err)
		return
	}
	for _, n := range e.sas {
		if n.peer == p && n.state == stInitSent && n.reauthOf == nil && n != sa {
			n.reauthOf = sa
		}
	}
}

// rekeyTimers runs the lifetime timers of an established IKE SA.
func (e *Engine) rekeyTimers(sa *ikeSA, now time.Time) {
	due := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	if due(sa.reauthAt) {
		sa.reauthAt, sa.rekeyAt, sa.retryAt = time.Time{}, time.Time{}, time.Time{}
		e.reauthenticate(sa)
		return
	}
	if due(sa.rekeyAt) || due(sa.retryAt) {
		sa.rekeyAt, sa.retryAt = time.Time{}, time.Time{}
		e.startIKERekey(sa)
	}
	for _, c := range append([]*childSA(nil), sa.children...) {
		switch {
		case due(c.dropAt):
			c.dropAt = time.Time{}
			e.dropChild(sa, c)
		case due(c.hardAt):
			c.hardAt, c.rekeyAt, c.retryAt = time.Time{}, time.Time{}, time.Time{}
			e.log.Info("Child SA hard lifetime reached", "tunnel", c.peer.Name, "spi_in", hex32(c.spiIn))
			if !c.deleting {
				e.deleteChild(sa, c)
			}
		case due(c.graceAt):
			c.graceAt = time.Time{}
			if (c.peerRekey != nil && c.peerRekey.installed) || (c.rekeying != nil && c.rekeying.installed) {
				// The SA the peer rekeyed (or, after a collision, we
				// did) is still here: drop it
				// here (both directions; outbound moves to the new SA),
				// also while our own Delete or rekey of it is still
				// unanswered, and tell the peer unless our Delete is
				// out already, naming our inbound SPI (RFC 7296,
				// Section 3.11).
				e.log.Info("rekeyed Child SA not deleted by the peer; grace period over",
					"tunnel", c.peer.Name, "spi_in", hex32(c.spiIn))
				e.dropChild(sa, c)
				if !c.deleting {
					c.deleting = true
					e.sendDeleteChildSPI(sa, c.spiIn)
				}
			}
		case due(c.rekeyAt) || due(c.retryAt):
			c.rekeyAt, c.retryAt = time.Time{}, time.Time{}
			e.rekeyChild(sa, c)
		}
	}
}

// rekeyChild starts a rekey of c unless one is under way.
func (e *Engine) rekeyChild(sa *ikeSA, c *childSA) {
	if c.rekeying != nil || c.deleting || sa.state != stEstablished {
		return
	}
	if sa.rekeyingIKE {
		// Wait for the IKE SA rekey (RFC 7296, Section 2.25.2).
		c.retryAt = e.clock.Now().Add(retryBase)
		return
	}
	e.startCreateChild(sa, c)
}

// rekeyRefused schedules a retry of a refused rekey or, after four, starts
// recovery: the IKE SA goes and the tunnel is set up again (issue 5).
func (e *Engine) rekeyRefused(sa *ikeSA, tries *int, retryAt *time.Time, what string, notify uint16) {
	*tries++
	if *tries > maxRekeyRetries {
		e.log.Warn("peer refuses rekeying; setting the tunnel up from scratch", "tunnel", peerName(sa.peer),
			"what", what, "notify", notify, "refusals", *tries)
		sa.restart = true
		e.deleteIKE(sa, "rekey refused")
		return
	}
	d := retryBase << (*tries - 1)
	*retryAt = e.clock.Now().Add(d + e.jitter(d/2))
	e.log.Info("rekey refused, retrying", "tunnel", peerName(sa.peer), "what", what, "notify", notify,
		"try", *tries, "in", d)
}

// resolveChildCollision applies RFC 7296, Section 2.8.1 once both our and
// the peer's rekey of old have completed: the new SA whose exchange holds
// the lowest of the four nonces is redundant and its creator deletes it;
// the creator of the surviving one deletes the old SA.
func (e *Engine) resolveChildCollision(sa *ikeSA, old *childSA) {
	ours, theirs := old.rekeying, old.peerRekey
	oursRedundant := lowestIn([][]byte{ours.ni, ours.nr}, [][]byte{theirs.ni, theirs.nr})
	e.log.Info("Child SA rekey collision", "tunnel", old.peer.Name, "ours_redundant", oursRedundant)
	if oursRedundant {
		e.deleteChild(sa, ours)
		return
	}
	e.deleteChild(sa, old)
}

// startIKERekey sends CREATE_CHILD_SA with an IKE SA payload (RFC 7296,
// Section 1.3.2).
func (e *Engine) startIKERekey(sa *ikeSA) {
	if sa.rekeyingIKE || sa.state != stEstablished || sa.peer == nil {
		return
	}
	e.sendIKERekey(sa, sa.chosen.DH)
}

func (e *Engine) sendIKERekey(sa *ikeSA, group uint16) {
	p := sa.peer
	sa.rekeyingIKE = true
	spi := e.randomSPI()
	ni := e.nonce()
	var ke dhPrivate
	e.sendRequest(sa, ExchCreateChildSA, func(sa *ikeSA) *msg {
		var err error
		if ke, err = ikecrypto.NewKE(group, e.rand); err != nil {
			sa.rekeyingIKE = false
			return nil
		}
		m := &msg{Nonce: ni, KE: &keData{Group: group, Data: ke.PublicKey()}}
		m.SA, m.hasSA = offerFromProposals(p.IKE, spiBytes8(spi), true), true
		return m
	}, func(sa *ikeSA, m *msg) {
		sa.rekeyingIKE = false
		peerNew := sa.peerRekeySA
		sa.peerRekeySA = nil
		if n := m.notify(NInvalidKEPayload); n != nil && len(n.Data) == 2 && peerNew == nil {
			g := binary.BigEndian.Uint16(n.Data)
			if g != group && e.offersGroup(p.IKE, g) {
				e.sendIKERekey(sa, g)
				return
			}
		}
		if n := m.errorNotify(); n != nil || !m.hasSA || m.KE == nil || m.Nonce == nil {
			if peerNew != nil {
				// The peer's rekey crossed ours and ours lost: its new
				// SA takes over; the peer deletes this one.
				e.moveToIKESA(sa, peerNew)
				return
			}
			t := uint16(0)
			if n != nil {
				t = n.Type
			}
			e.rekeyRefused(sa, &sa.rekeyTries, &sa.retryAt, "IKE SA", t)
			return
		}
		c, ok := acceptResponse(p.IKE, m.SA, ProtoIKE, true)
		var gir []byte
		var err error
		if ok && len(m.SA[0].SPI) == 8 && c.DH == group && m.KE.Group == group {
			gir, err = ke.SharedSecret(m.KE.Data)
		} else {
			err = errBadRekey
		}
		var n *ikeSA
		if err == nil {
			n = e.newIKESA(sa, true, spi, binary.BigEndian.Uint64(m.SA[0].SPI), c, ni, m.Nonce)
			err = e.deriveIKEFromSeed(n, ikecrypto.RekeySKEYSEED(sa.keys.prf, sa.keys.d, gir, ni, m.Nonce))
		}
		if err != nil {
			if peerNew != nil {
				e.moveToIKESA(sa, peerNew)
				return
			}
			e.rekeyRefused(sa, &sa.rekeyTries, &sa.retryAt, "IKE SA (bad answer)", 0)
			return
		}
		e.sas[n.localSPI()] = n
		if peerNew != nil {
			// RFC 7296, Section 2.8.2: both rekeys completed. The new
			// SA whose exchange has the lowest of the four nonces is
			// redundant; its creator deletes it, and the creator of
			// the other deletes the old SA.
			if lowestIn([][]byte{ni, m.Nonce}, [][]byte{peerNew.ni, peerNew.nr}) {
				e.log.Info("IKE SA rekey collision: ours is redundant", "tunnel", peerName(sa.peer))
				e.moveToIKESA(sa, peerNew)
				e.deleteIKE(n, "redundant rekey")
				return
			}
			e.log.Info("IKE SA rekey collision: ours survives", "tunnel", peerName(sa.peer))
		}
		e.moveToIKESA(sa, n)
		// The rekey initiator deletes the old IKE SA (Section 1.3.2).
		e.deleteIKE(sa, "rekeyed")
	})
}

var errBadRekey = errors.New("ike: unusable IKE SA rekey answer")

// lowestIn reports whether the lowest nonce of ours and theirs is one of
// ours (RFC 7296, Section 2.8.1, 2.8.2).
func lowestIn(ours, theirs [][]byte) bool {
	lowest, mine := ours[0], true
	for _, n := range ours[1:] {
		if bytes.Compare(n, lowest) < 0 {
			lowest = n
		}
	}
	for _, n := range theirs {
		if bytes.Compare(n, lowest) < 0 {
			lowest, mine = n, false
		}
	}
	return mine
}

// newIKESA makes the IKE SA that replaces old. The initiator of the rekey
// is the original initiator of the new SA (RFC 7296, Section 2.18).
func (e *Engine) newIKESA(old *ikeSA, initiator bool, spiI, spiR uint64, c Chosen, ni, nr []byte) *ikeSA {
	if !initiator {
		spiI, spiR = spiR, spiI
	}
	now := e.clock.Now()
	return &ikeSA{peer: old.peer, initiator: initiator, spiI: spiI, spiR: spiR, state: stEstablished,
		local: old.local, remote: old.remote, natT: old.natT, natLocal: old.natLocal, natRemote: old.natRemote,
		encap: old.encap, chosen: c, ni: ni, nr: nr, remoteID: old.remoteID, sigHash: old.sigHash,
		peerHashes: old.peerHashes, created: now, lastRecv: now, lastSent: old.lastSent, generation: old.generation + 1}
}

// moveToIKESA moves old's Child SAs to its replacement n (registered
// already) and arms n's rekey timer.
func (e *Engine) moveToIKESA(old, n *ikeSA) {
	n.children, old.children = old.children, nil
	now := e.clock.Now()
	for _, c := range n.children {
		if c.rekeying != nil && !c.rekeying.installed {
			// A rekey queued on the old SA dies with it: try again on
			// the new one.
			delete(e.childIn, c.rekeying.spiIn)
			c.rekeying = nil
			c.retryAt = now.Add(retryBase)
		}
	}
	e.armIKE(n)
	e.stats.IKEUp++
	e.log.Info("IKE SA rekeyed", "tunnel", peerName(n.peer), "suite", ikeSuiteName(n.chosen), "initiator", n.initiator)
}

// onIKERekeyRequest answers the peer's IKE SA rekey (RFC 7296, Section
// 1.3.2). Collisions (Section 2.25.1, 2.25.2): while we create, rekey or
// delete a Child SA, or close this IKE SA, the answer is TEMPORARY_FAILURE.
// While we rekey it ourselves we answer as usual and keep the Child SAs
// where they are until our own exchange ends (Section 2.8.2).
func (e *Engine) onIKERekeyRequest(sa *ikeSA, m *msg) {
	p := sa.peer
	if sa.childOps > 0 || sa.state != stEstablished || sa.peerRekeySA != nil {
		e.respondError(sa, m, NTemporaryFailure)
		return
	}
	if m.KE == nil {
		e.respondError(sa, m, NInvalidSyntax)
		return
	}
	c, ok := selectProposal(restrictDH(p.IKE, m.KE.Group), m.SA, true)
	if !ok {
		c, ok = selectProposal(p.IKE, m.SA, true)
		if !ok {
			e.respondError(sa, m, NNoProposalChosen)
			return
		}
		var g [2]byte
		binary.BigEndian.PutUint16(g[:], c.DH)
		e.respond(sa, m, &msg{Notifies: []notify{{Type: NInvalidKEPayload, Data: g[:]}}})
		return
	}
	o := filterNum(m.SA, c.Num)
	if len(o) != 1 || len(o[0].SPI) != 8 {
		e.respondError(sa, m, NInvalidSyntax)
		return
	}
	pub, gir, err := ikecrypto.Respond(c.DH, e.rand, m.KE.Data)
	if err != nil {
		e.respondError(sa, m, NInvalidSyntax)
		return
	}
	nr := e.nonce()
	spi := e.randomSPI()
	n := e.newIKESA(sa, false, spi, binary.BigEndian.Uint64(o[0].SPI), c, m.Nonce, nr)
	if err := e.deriveIKEFromSeed(n, ikecrypto.RekeySKEYSEED(sa.keys.prf, sa.keys.d, gir, m.Nonce, nr)); err != nil {
		e.respondError(sa, m, NNoProposalChosen)
		return
	}
	r := &msg{Nonce: nr, KE: &keData{Group: c.DH, Data: pub}}
	r.SA, r.hasSA = []Offer{chosenOffer(c, spiBytes8(spi))}, true
	e.respond(sa, m, r)
	e.sas[n.localSPI()] = n
	if sa.rekeyingIKE {
		sa.peerRekeySA = n
		return
	}
	e.moveToIKESA(sa, n)
	// The old SA stays until the peer's Delete; it must not rekey.
	sa.rekeyAt, sa.retryAt = time.Time{}, time.Time{}
}
