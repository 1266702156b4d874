package ike

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"swanling/ike/ikecrypto"
)

func spiBytes(s uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], s)
	return b[:]
}

// spiOf returns the 4-octet ESP SPI of a single-proposal answer.
func spiOf(offers []Offer) (uint32, bool) {
	if len(offers) != 1 || len(offers[0].SPI) != 4 {
		return 0, false
	}
	s := binary.BigEndian.Uint32(offers[0].SPI)
	return s, s != 0
}

// completeChild finishes a Child SA we proposed, from the response: the
// accepted proposal, the responder's SPI and the narrowed selectors (RFC
// 7296, Section 2.9: they must be a subset of what we proposed).
func (e *Engine) completeChild(sa *ikeSA, c *childSA, m *msg, ours []Proposal, wantDH bool, gir, ni, nr []byte) error {
	ch, ok := acceptResponse(ours, m.SA, ProtoESP, wantDH)
	if !ok {
		return errors.New("ike: responder chose a proposal we did not offer")
	}
	spi, ok := spiOf(m.SA)
	if !ok {
		return errors.New("ike: bad ESP SPI in response")
	}
	if !m.hasTS || !subsetOf(m.TSi, c.localTS) || !subsetOf(m.TSr, c.remoteTS) {
		return errors.New("ike: responder's traffic selectors are not a subset of ours")
	}
	c.chosen, c.spiOut = ch, spi
	c.localTS, c.remoteTS = m.TSi, m.TSr
	if err := e.deriveChild(sa, c, gir, ni, nr); err != nil {
		return err
	}
	return e.installChild(sa, c)
}

// respondChild selects an ESP proposal, narrows the selectors and installs
// the Child SA, filling the response; on failure it puts the error notify
// in the response instead (RFC 7296, Section 2.21.3).
func (e *Engine) respondChild(sa *ikeSA, m, r *msg, p *Peer, wantDH bool, gir, ni, nr []byte, rekeyOf *childSA) *childSA {
	ch, ok := selectProposal(p.ESP, m.SA, wantDH)
	if !ok {
		e.log.Info("no ESP proposal chosen", "tunnel", p.Name)
		r.Notifies = append(r.Notifies, notify{Type: NNoProposalChosen})
		return nil
	}
	spiOut, ok := spiOf(filterNum(m.SA, ch.Num))
	if !ok {
		r.Notifies = append(r.Notifies, notify{Type: NInvalidSyntax})
		return nil
	}
	// TSi are the initiator's (our remote) selectors.
	tsi := narrow(m.TSi, selectorsFromPrefixes(p.RemoteTS))
	tsr := narrow(m.TSr, selectorsFromPrefixes(p.LocalTS))
	if !m.hasTS || len(tsi) == 0 || len(tsr) == 0 {
		e.log.Info("traffic selectors unacceptable", "tunnel", p.Name)
		r.Notifies = append(r.Notifies, notify{Type: NTSUnacceptable})
		return nil
	}
	c := &childSA{peer: p, spiIn: e.randomChildSPI(), spiOut: spiOut, chosen: ch, localTS: tsr, remoteTS: tsi,
		ni: ni, nr: nr}
	if rekeyOf != nil {
		c.rekeys = rekeyOf.spiIn
		c.generation = rekeyOf.generation + 1
	}
	e.childIn[c.spiIn] = c
	if err := e.deriveChild(sa, c, gir, ni, nr); err != nil {
		delete(e.childIn, c.spiIn)
		r.Notifies = append(r.Notifies, notify{Type: NNoProposalChosen})
		return nil
	}
	if err := e.installChild(sa, c); err != nil {
		e.log.Error("data plane refused Child SA", "tunnel", p.Name, "err", err)
		delete(e.childIn, c.spiIn)
		r.Notifies = append(r.Notifies, notify{Type: NTemporaryFailure})
		return nil
	}
	r.SA, r.hasSA = []Offer{chosenOffer(ch, spiBytes(c.spiIn))}, true
	r.TSi, r.TSr, r.hasTS = tsi, tsr, true
	return c
}

func containsChild(cs []*childSA, c *childSA) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

func filterNum(os []Offer, num uint8) []Offer {
	for _, o := range os {
		if o.Num == num {
			return []Offer{o}
		}
	}
	return nil
}

// installChild hands the Child SA to the data plane.
func (e *Engine) installChild(sa *ikeSA, c *childSA) error {
	c.created = e.clock.Now()
	c.life = e.childLifetime(sa, c)
	if err := e.out.InstallChild(e.childData(c, sa)); err != nil {
		return err
	}
	c.installed = true
	e.childIn[c.spiIn] = c
	sa.children = append(sa.children, c)
	e.armChild(sa, c)
	e.stats.ChildUp++
	if c.peer.oe != nil {
		e.oeChildUp(sa, c)
	}
	e.log.Info("Child SA installed", "tunnel", c.peer.Name, "spi_in", hex32(c.spiIn), "spi_out", hex32(c.spiOut),
		"suite", suiteName(c.chosen), "esn", c.chosen.ESN, "local_ts", Prefixes(c.localTS), "remote_ts", Prefixes(c.remoteTS))
	return nil
}

// childData is the plain-data form of a Child SA for Output.
func (e *Engine) childData(c *childSA, sa *ikeSA) ChildSA {
	d := ChildSA{Tunnel: c.peer.Name, SPIIn: c.spiIn, SPIOut: c.spiOut, Suite: suiteName(c.chosen),
		KeyIn: c.keyIn, KeyOut: c.keyOut, IntegIn: c.integIn, IntegOut: c.integOut, ESN: c.chosen.ESN,
		LocalTS: Prefixes(c.localTS), RemoteTS: Prefixes(c.remoteTS), Lifetime: c.life, Initiator: c.initiator,
		Rekeys: c.rekeys}
	if sa != nil {
		d.Local, d.Peer = sa.local, sa.remote
		d.Encap = sa.natT || sa.encap || sa.natLocal || sa.natRemote
		if d.Encap && !sa.natT {
			d.Local = netip.AddrPortFrom(d.Local.Addr(), e.cfg.NATTPort)
			d.Peer = netip.AddrPortFrom(d.Peer.Addr(), e.cfg.NATTPort)
		}
	}
	return d
}

func hex32(v uint32) string {
	const h = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = h[v&15]
		v >>= 4
	}
	return string(b[:])
}

// CreateChild negotiates an additional Child SA for the named tunnel over
// its existing IKE SA (RFC 7296, Section 1.3.1).
func (e *Engine) CreateChild(name string) error {
	var err error
	if cerr := e.call(func(e *Engine) {
		sa := e.saForPeer(name)
		if sa == nil || sa.state != stEstablished {
			err = errors.New("ike: no established IKE SA for " + name)
			return
		}
		e.startCreateChild(sa, nil)
	}); cerr != nil {
		return cerr
	}
	return err
}

// RekeyChild replaces the Child SA with inbound SPI spiIn by a new one
// (RFC 7296, Section 1.3.3, 2.8): CREATE_CHILD_SA with N(REKEY_SA); the old
// SA is deleted once the new one is installed.
func (e *Engine) RekeyChild(spiIn uint32) error {
	err := errors.New("ike: no Child SA with that SPI")
	if cerr := e.call(func(e *Engine) {
		if sa, c := e.findChild(spiIn); c != nil && sa.state == stEstablished {
			// Both directions may report their soft limit: one rekey
			// at a time (rekeyChild checks).
			e.rekeyChild(sa, c)
			err = nil
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// findChild finds an installed Child SA by inbound SPI and its IKE SA.
func (e *Engine) findChild(spiIn uint32) (*ikeSA, *childSA) {
	c := e.childIn[spiIn]
	if c == nil {
		return nil, nil
	}
	for _, sa := range e.sas {
		if containsChild(sa.children, c) {
			return sa, c
		}
	}
	return nil, nil
}

// startCreateChild sends CREATE_CHILD_SA for a new Child SA; rekeyOf, when
// set, makes it a rekey of that Child SA (N(REKEY_SA), Section 1.3.3).
// A KE payload is added when the ESP proposal names a group (PFS).
func (e *Engine) startCreateChild(sa *ikeSA, rekeyOf *childSA) {
	p := sa.peer
	c := &childSA{peer: p, spiIn: e.randomChildSPI(), initiator: true,
		localTS: selectorsFromPrefixes(p.LocalTS), remoteTS: selectorsFromPrefixes(p.RemoteTS)}
	if rekeyOf != nil {
		c.localTS, c.remoteTS = rekeyOf.localTS, rekeyOf.remoteTS
		c.rekeys = rekeyOf.spiIn
		c.generation = rekeyOf.generation + 1
		rekeyOf.rekeying = c
	}
	e.childIn[c.spiIn] = c
	sa.childOps++
	refused := func(sa *ikeSA, t uint16) {
		delete(e.childIn, c.spiIn)
		if rekeyOf == nil {
			e.log.Warn("CREATE_CHILD_SA refused", "tunnel", p.Name, "notify", t)
			return
		}
		rekeyOf.rekeying = nil
		if t == NChildSANotFound {
			// RFC 7296, Section 2.25: the peer has no such SA; drop ours
			// and create a new one from scratch.
			// Only if the tunnel has no other Child SA: a rekey of
			// ours that crossed the peer's rekey and Delete of the
			// same SA finds it gone, and the peer's replacement is
			// already here (issue 5: a rekey crossing a Delete).
			e.dropChild(sa, rekeyOf)
			if len(sa.children) == 0 {
				e.startCreateChild(sa, nil)
			}
			return
		}
		if sa.state == stEstablished && containsChild(sa.children, rekeyOf) {
			e.rekeyRefused(sa, &rekeyOf.rekeyTries, &rekeyOf.retryAt, "Child SA", t)
		}
	}
	pfs := uint16(0)
	if len(p.ESP) > 0 && len(p.ESP[0].DH) > 0 {
		pfs = p.ESP[0].DH[0]
	}
	e.sendRequest(sa, ExchCreateChildSA, func(sa *ikeSA) *msg {
		m := &msg{}
		if rekeyOf != nil {
			m.Notifies = append(m.Notifies, notify{Proto: ProtoESP, SPI: spiBytes(rekeyOf.spiIn), Type: NRekeySA})
		}
		c.ni = e.nonce()
		m.Nonce = c.ni
		m.SA, m.hasSA = offerFromProposals(p.ESP, spiBytes(c.spiIn), pfs != 0), true
		if pfs != 0 {
			ke, err := ikecrypto.NewKE(pfs, e.rand)
			if err != nil {
				return nil
			}
			c.dh = ke
			m.KE = &keData{Group: pfs, Data: ke.PublicKey()}
		}
		m.TSi, m.TSr, m.hasTS = c.localTS, c.remoteTS, true
		return m
	}, func(sa *ikeSA, m *msg) {
		sa.childOps--
		if n := m.errorNotify(); n != nil || !m.hasSA || m.Nonce == nil {
			t := uint16(0)
			if n != nil {
				t = n.Type
			}
			refused(sa, t)
			return
		}
		var gir []byte
		if c.dh != nil {
			if m.KE == nil || m.KE.Group != c.dh.Group() {
				refused(sa, 0)
				return
			}
			var err error
			if gir, err = c.dh.SharedSecret(m.KE.Data); err != nil {
				refused(sa, 0)
				return
			}
		}
		c.nr = m.Nonce
		if rekeyOf != nil && rekeyOf.peerRekey != nil && rekeyOf.peerRekey.installed &&
			lowestIn([][]byte{c.ni, c.nr}, [][]byte{rekeyOf.peerRekey.ni, rekeyOf.peerRekey.nr}) {
			// RFC 7296, Section 2.8.1: both sides rekeyed rekeyOf and
			// ours holds the lowest nonce, so it is redundant and we
			// delete it. It is never installed: outbound traffic
			// must not move to an SA the peer is about to drop
			// (issue 5: make-before-break). The Delete names the SPI
			// ours would have received on, which the peer sends to.
			e.log.Info("Child SA rekey collision", "tunnel", p.Name, "ours_redundant", true)
			delete(e.childIn, c.spiIn)
			rekeyOf.rekeying, rekeyOf.rekeyTries = nil, 0
			e.sendDeleteChildSPI(sa, c.spiIn)
			return
		}
		if err := e.completeChild(sa, c, m, p.ESP, c.dh != nil, gir, c.ni, m.Nonce); err != nil {
			e.log.Warn("new Child SA unusable", "tunnel", p.Name, "err", err)
			if spi, ok := spiOf(m.SA); ok {
				e.sendDeleteChildSPI(sa, spi)
			}
			refused(sa, 0)
			return
		}
		c.dh = nil
		if rekeyOf != nil {
			rekeyOf.rekeyTries = 0
			if rekeyOf.peerRekey != nil && rekeyOf.peerRekey.installed {
				e.resolveChildCollision(sa, rekeyOf)
			} else if containsChild(sa.children, rekeyOf) && !rekeyOf.deleting {
				e.deleteChild(sa, rekeyOf)
			}
		}
	})
}

// onCreateChildRequest answers CREATE_CHILD_SA (RFC 7296, Section 1.3).
// IKE SA rekeying (Section 1.3.2) is refused for now with
// NO_PROPOSAL_CHOSEN; the peer keeps the old IKE SA.
func (e *Engine) onCreateChildRequest(sa *ikeSA, m *msg) {
	p := sa.peer
	r := &msg{}
	if !m.hasSA || m.Nonce == nil {
		e.respondError(sa, m, NInvalidSyntax)
		return
	}
	if len(m.SA) > 0 && m.SA[0].Protocol == ProtoIKE {
		e.onIKERekeyRequest(sa, m)
		return
	}
	if sa.rekeyingIKE {
		// RFC 7296, Section 2.25.2.
		e.respondError(sa, m, NTemporaryFailure)
		return
	}
	var rekeyOf *childSA
	if n := m.notify(NRekeySA); n != nil && len(n.SPI) == 4 {
		old := binary.BigEndian.Uint32(n.SPI)
		for _, c := range sa.children {
			if c.spiOut == old {
				rekeyOf = c
			}
		}
		if rekeyOf == nil {
			// RFC 7296, Section 2.25: the SA is already gone.
			e.respond(sa, m, &msg{Notifies: []notify{{Proto: ProtoESP, SPI: n.SPI, Type: NChildSANotFound}}})
			return
		}
		if rekeyOf.deleting {
			// RFC 7296, Section 2.25.1.
			e.respondError(sa, m, NTemporaryFailure)
			return
		}
	}
	nr := e.nonce()
	var gir []byte
	wantDH := m.KE != nil
	if m.KE != nil {
		// PFS: the group must be in the proposal we select.
		ch, ok := selectProposal(p.ESP, m.SA, true)
		if !ok {
			e.respondError(sa, m, NNoProposalChosen)
			return
		}
		if ch.DH != m.KE.Group {
			var g [2]byte
			g[0], g[1] = byte(ch.DH>>8), byte(ch.DH)
			r.Notifies = append(r.Notifies, notify{Type: NInvalidKEPayload, Data: g[:]})
			e.respond(sa, m, r)
			return
		}
		pub, secret, err := ikecrypto.Respond(ch.DH, e.rand, m.KE.Data)
		if err != nil {
			e.respondError(sa, m, NInvalidSyntax)
			return
		}
		gir = secret
		r.KE = &keData{Group: ch.DH, Data: pub}
	}
	c := e.respondChild(sa, m, r, p, wantDH, gir, m.Nonce, nr, rekeyOf)
	if c == nil {
		r.KE = nil
		e.respond(sa, m, r)
		return
	}
	r.Nonce = nr
	e.respond(sa, m, r)
	if rekeyOf != nil {
		// The rekey initiator deletes the old Child SA (Section 2.8);
		// until then it keeps working. If we are rekeying it too, the
		// nonces decide when our exchange completes (Section 2.8.1).
		rekeyOf.peerRekey = c
		// Issue 5: the old inbound SA keeps accepting until the peer's
		// Delete arrives or the grace period ends.
		rekeyOf.graceAt = e.clock.Now().Add(e.cfg.Timers.RekeyGrace)
	}
}
