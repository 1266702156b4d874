package ike

import (
	"bytes"
	"errors"
	"net/netip"

	"swanling/ike/ikecrypto"
)

// initiate starts IKE_SA_INIT for a configured peer (RFC 7296, Section 1.2).
func (e *Engine) initiate(name string) error {
	p := e.peers[name]
	if p == nil {
		return errors.New("ike: no tunnel " + name)
	}
	if !p.Remote.IsValid() {
		return errors.New("ike: tunnel " + name + " has no peer address (responder only)")
	}
	if e.stopping {
		return ErrClosed
	}
	now := e.clock.Now()
	sa := &ikeSA{peer: p, initiator: true, spiI: e.randomSPI(), state: stInitSent, created: now, lastRecv: now,
		local:  netip.AddrPortFrom(p.Local, e.cfg.IKEPort),
		remote: netip.AddrPortFrom(p.Remote, p.RemotePort),
		encap:  p.Encap, dhGroup: p.IKE[0].DH[0], ni: e.nonce()}
	if sa.spiI == 0 || sa.ni == nil {
		return errors.New("ike: random source failed")
	}
	e.sas[sa.spiI] = sa
	e.log.Info("initiating", "tunnel", p.Name, "peer", sa.remote)
	return e.sendInit(sa)
}

// sendInit (re)sends the IKE_SA_INIT request with the current group and
// cookie. A retry after COOKIE or INVALID_KE_PAYLOAD starts a new request
// with Message ID 0 (RFC 7296, Section 2.6, 1.2).
func (e *Engine) sendInit(sa *ikeSA) error {
	p := sa.peer
	ke, err := ikecrypto.NewKE(sa.dhGroup, e.rand)
	if err != nil {
		e.destroy(sa, "key exchange: "+err.Error())
		return err
	}
	sa.dh = ke
	m := &msg{Exch: ExchIKESAInit, SPIi: sa.spiI, Initiator: true}
	if sa.cookie != nil {
		// RFC 7296, Section 2.6: the cookie notification comes first.
		m.Notifies = append(m.Notifies, notify{Type: NCookie, Data: sa.cookie})
	}
	m.SA, m.hasSA = offerFromProposals(p.IKE, nil, true), true
	m.KE = &keData{Group: sa.dhGroup, Data: ke.PublicKey()}
	m.Nonce = sa.ni
	m.Notifies = append(m.Notifies, e.natNotifies(sa, sa.spiI, 0)...)
	if p.Auth == AuthPubkey {
		m.Notifies = append(m.Notifies, notify{Type: NSigHashAlgs, Data: ikecrypto.AppendSignatureHashAlgorithms(nil, ikecrypto.SupportedHashAlgorithms)})
	}
	data, err := e.encode(sa, m)
	if err != nil {
		e.destroy(sa, "encode: "+err.Error())
		return err
	}
	sa.initReq = data
	sa.nextID = 1
	sa.out = &request{id: 0, exch: ExchIKESAInit, data: data, next: e.clock.Now().Add(e.cfg.Timers.RetransmitBase), onResp: e.onInitResponse}
	e.send(sa, data, false)
	return nil
}

// natNotifies are NAT_DETECTION_SOURCE_IP and _DESTINATION_IP (RFC 7296,
// Section 2.23). With Encap the source hash is random so that the peer sees
// a NAT and encapsulates ESP in UDP (as strongSwan does for
// kernel-libipsec).
func (e *Engine) natNotifies(sa *ikeSA, spiI, spiR uint64) []notify {
	src := natHash(spiI, spiR, sa.local)
	if sa.encap || !sa.local.Addr().IsValid() || sa.local.Addr().IsUnspecified() {
		src = e.nonce()[:20]
	}
	return []notify{
		{Type: NNATDSource, Data: src},
		{Type: NNATDDestination, Data: natHash(spiI, spiR, sa.remote)},
	}
}

// checkNAT reads the peer's NAT_DETECTION payloads (RFC 7296, Section
// 2.23): a wrong destination hash means we are behind a NAT, a wrong source
// hash that the peer is.
func (e *Engine) checkNAT(sa *ikeSA, m *msg) {
	var srcSeen, srcMatch bool
	var dst *notify
	for i := range m.Notifies {
		n := &m.Notifies[i]
		switch n.Type {
		case NNATDSource:
			srcSeen = true
			if bytes.Equal(n.Data, natHash(m.SPIi, m.SPIr, sa.remote)) {
				srcMatch = true
			}
		case NNATDDestination:
			dst = n
		}
	}
	if !srcSeen || dst == nil {
		return // peer does not support NAT traversal
	}
	sa.natRemote = !srcMatch
	sa.natLocal = !bytes.Equal(dst.Data, natHash(m.SPIi, m.SPIr, sa.local))
}

// onInitResponse handles the IKE_SA_INIT response (initiator).
func (e *Engine) onInitResponse(sa *ikeSA, m *msg) {
	p := sa.peer
	if n := m.notify(NCookie); n != nil {
		// RFC 7296, Section 2.6: retry with the cookie, same SPI and
		// nonce. Bound the retries so a bad responder cannot loop us.
		if len(n.Data) < 1 || len(n.Data) > 64 || bytes.Equal(sa.cookie, n.Data) {
			e.destroy(sa, "bad cookie")
			return
		}
		sa.cookie = append([]byte(nil), n.Data...)
		_ = e.sendInit(sa)
		return
	}
	if n := m.notify(NInvalidKEPayload); n != nil {
		// RFC 7296, Section 1.2: retry with the group the responder asks
		// for, if we offered it.
		if len(n.Data) != 2 {
			e.destroy(sa, "bad INVALID_KE_PAYLOAD")
			return
		}
		g := uint16(n.Data[0])<<8 | uint16(n.Data[1])
		if g == sa.dhGroup || !e.offersGroup(p.IKE, g) {
			e.destroy(sa, "responder wants group "+itoa(int(g))+" which we did not offer")
			return
		}
		e.log.Info("INVALID_KE_PAYLOAD, retrying", "tunnel", p.Name, "group", g)
		sa.dhGroup = g
		_ = e.sendInit(sa)
		return
	}
	if n := m.errorNotify(); n != nil {
		e.destroy(sa, "IKE_SA_INIT refused: notify "+itoa(int(n.Type)))
		return
	}
	if !m.hasSA || m.KE == nil || m.Nonce == nil || m.SPIr == 0 {
		e.stats.Dropped++
		e.destroy(sa, "IKE_SA_INIT response incomplete")
		return
	}
	c, ok := acceptResponse(p.IKE, m.SA, ProtoIKE, true)
	if !ok || c.DH != sa.dhGroup || m.KE.Group != sa.dhGroup {
		e.destroy(sa, "IKE_SA_INIT response: unacceptable proposal")
		return
	}
	sa.chosen = c
	sa.spiR = m.SPIr
	sa.nr = append([]byte(nil), m.Nonce...)
	sa.initResp = m.raw
	gir, err := sa.dh.SharedSecret(m.KE.Data)
	if err != nil {
		e.destroy(sa, "key exchange: "+err.Error())
		return
	}
	sa.dh = nil
	if err := e.deriveIKE(sa, gir); err != nil {
		e.destroy(sa, "key derivation: "+err.Error())
		return
	}
	if n := m.notify(NSigHashAlgs); n != nil {
		sa.sigHash = true
		sa.peerHashes, _ = ikecrypto.ParseSignatureHashAlgorithms(n.Data)
	}
	e.checkNAT(sa, m)
	if sa.natLocal || sa.natRemote || sa.encap {
		// RFC 7296, Section 2.23: move to port 4500 for IKE_AUTH (also
		// when we fake a NAT to force UDP encapsulation).
		sa.natT = true
		sa.local = netip.AddrPortFrom(sa.local.Addr(), e.cfg.NATTPort)
		sa.remote = netip.AddrPortFrom(sa.remote.Addr(), e.cfg.NATTPort)
	}
	sa.state = stAuthSent
	e.sendAuth(sa)
}

func (e *Engine) offersGroup(ps []Proposal, g uint16) bool {
	for _, p := range ps {
		if containsU16(p.DH, g) {
			return true
		}
	}
	return false
}

// candidates are the peers that may answer a datagram from remote: those
// configured for its address, then those open to any address.
func (e *Engine) candidates(remote netip.AddrPort) []*Peer {
	var exact, anyp []*Peer
	for _, p := range e.cfg.Peers {
		p := e.peers[p.Name]
		switch {
		case p.Remote.IsValid() && p.Remote.Unmap() == remote.Addr().Unmap():
			exact = append(exact, p)
		case !p.Remote.IsValid():
			anyp = append(anyp, p)
		}
	}
	if e.oe != nil {
		// Any address may start OE; IKE_AUTH decides (oe.go).
		anyp = append(anyp, e.oe.template)
	}
	return append(exact, anyp...)
}

// sendStateless answers an IKE_SA_INIT request without creating state:
// COOKIE, INVALID_KE_PAYLOAD or NO_PROPOSAL_CHOSEN (RFC 7296, Section 2.6,
// 1.2). The responder SPI stays zero.
func (e *Engine) sendStateless(m *msg, local, remote netip.AddrPort, n notify) {
	r := &msg{Exch: ExchIKESAInit, SPIi: m.SPIi, Response: true, ID: 0, Notifies: []notify{n}}
	data, err := e.encode(nil, r)
	if err != nil {
		return
	}
	e.out.SendIKE(data, local, remote, local.Port() == e.cfg.NATTPort)
}

// onInitRequest is the responder's IKE_SA_INIT (RFC 7296, Section 1.2).
func (e *Engine) onInitRequest(raw []byte, m *msg, local, remote netip.AddrPort) {
	if m.ID != 0 || e.stopping {
		e.stats.Dropped++
		return
	}
	key := halfKey{m.SPIi, remote}
	if sa := e.halfOpen[key]; sa != nil {
		// A retransmission gets the same answer (RFC 7296, Section 2.1).
		if bytes.Equal(sa.initReq, raw) && sa.lastResp != nil {
			e.stats.CachedReplies++
			e.out.SendIKE(sa.lastResp, local, remote, false)
		} else {
			e.stats.Dropped++
		}
		return
	}
	if !m.hasSA || m.KE == nil || m.Nonce == nil {
		// RFC 7296, Section 2.21.1: an unusable IKE_SA_INIT gets at
		// most an unprotected notification.
		e.stats.BadSyntax++
		e.sendStateless(m, local, remote, notify{Type: NInvalidSyntax})
		return
	}
	cands := e.candidates(remote)
	if len(cands) == 0 {
		e.stats.Dropped++
		e.log.Debug("IKE_SA_INIT from unknown peer", "peer", remote)
		return
	}
	// Half-open limits (RFC 7296, Section 2.6): above the threshold ask
	// for a cookie; above the hard limits drop.
	total := e.halfOpenTotal()
	if total >= e.cfg.Limits.HalfOpenTotal || e.halfPerIP[remote.Addr()] >= e.cfg.Limits.HalfOpenPerIP {
		e.stats.HalfOpenLimit++
		return
	}
	if total >= e.cfg.Limits.CookieThreshold {
		c := m.notify(NCookie)
		if c == nil || !e.cookie.check(c.Data, m.Nonce, remote.Addr(), m.SPIi) {
			e.stats.CookiesSent++
			e.sendStateless(m, local, remote, notify{Type: NCookie, Data: e.cookie.make(m.Nonce, remote.Addr(), m.SPIi)})
			return
		}
	}
	var ours []Proposal
	encap := false
	for _, p := range cands {
		ours = append(ours, p.IKE...)
		encap = encap || p.Encap
	}
	// Prefer a proposal that works with the KE the initiator sent; only
	// ask for another group when none does (RFC 7296, Section 1.2).
	c, ok := selectProposal(restrictDH(ours, m.KE.Group), m.SA, true)
	if !ok {
		c, ok = selectProposal(ours, m.SA, true)
		if !ok {
			e.log.Info("no proposal chosen", "peer", remote)
			e.sendStateless(m, local, remote, notify{Type: NNoProposalChosen})
			return
		}
		var g [2]byte
		g[0], g[1] = byte(c.DH>>8), byte(c.DH)
		e.sendStateless(m, local, remote, notify{Type: NInvalidKEPayload, Data: g[:]})
		return
	}
	now := e.clock.Now()
	sa := &ikeSA{spiI: m.SPIi, spiR: e.randomSPI(), state: stInitDone, created: now, lastRecv: now,
		local: local, remote: remote, encap: encap, chosen: c, dhGroup: c.DH,
		ni: append([]byte(nil), m.Nonce...), nr: e.nonce(), initReq: append([]byte(nil), raw...),
		deadline: now.Add(e.cfg.Timers.HalfOpenTimeout), peerNextID: 1, nextID: 0}
	if sa.spiR == 0 || sa.nr == nil {
		return
	}
	pub, gir, err := ikecrypto.Respond(c.DH, e.rand, m.KE.Data)
	if err != nil {
		// RFC 6989 checks failed or bad length.
		e.stats.BadSyntax++
		e.sendStateless(m, local, remote, notify{Type: NInvalidSyntax})
		return
	}
	if err := e.deriveIKE(sa, gir); err != nil {
		e.log.Error("key derivation", "err", err)
		return
	}
	if n := m.notify(NSigHashAlgs); n != nil {
		sa.sigHash = true
		sa.peerHashes, _ = ikecrypto.ParseSignatureHashAlgorithms(n.Data)
	}
	e.checkNAT(sa, m)
	r := &msg{Exch: ExchIKESAInit, SPIi: sa.spiI, SPIr: sa.spiR, Response: true}
	r.SA, r.hasSA = []Offer{chosenOffer(c, nil)}, true
	r.KE = &keData{Group: c.DH, Data: pub}
	r.Nonce = sa.nr
	r.Notifies = e.natNotifies(sa, sa.spiI, sa.spiR)
	for _, p := range cands {
		if p.Auth == AuthPubkey {
			r.Notifies = append(r.Notifies, notify{Type: NSigHashAlgs, Data: ikecrypto.AppendSignatureHashAlgorithms(nil, ikecrypto.SupportedHashAlgorithms)})
			break
		}
	}
	data, err := e.encode(sa, r)
	if err != nil {
		return
	}
	sa.initResp = data
	sa.lastResp = data
	e.sas[sa.spiR] = sa
	e.halfOpen[key] = sa
	e.halfPerIP[remote.Addr()]++
	e.out.SendIKE(data, local, remote, false)
}

// restrictDH keeps only the proposals that allow group g, reduced to it.
func restrictDH(ps []Proposal, g uint16) []Proposal {
	var out []Proposal
	for _, p := range ps {
		if containsU16(p.DH, g) {
			q := p
			q.DH = []uint16{g}
			out = append(out, q)
		}
	}
	return out
}
