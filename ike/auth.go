package ike

import (
	"context"
	"crypto"
	"time"
)

// pendingAuth is an IKE_AUTH message parked while the KeySource looks up
// the peer's public key.
type pendingAuth struct {
	m      *msg
	peer   *Peer
	cancel context.CancelFunc
}

// sendAuth sends the initiator's IKE_AUTH request with the first Child SA
// (RFC 7296, Section 1.2).
func (e *Engine) sendAuth(sa *ikeSA) {
	p := sa.peer
	child := &childSA{peer: p, spiIn: e.randomChildSPI(), initiator: true,
		localTS: selectorsFromPrefixes(p.LocalTS), remoteTS: selectorsFromPrefixes(p.RemoteTS)}
	e.childIn[child.spiIn] = child
	sa.pendingChild = child
	e.sendRequest(sa, ExchIKEAuth, func(sa *ikeSA) *msg {
		m := &msg{}
		id := p.LocalID
		m.IDi = &id
		idb := idBody(id)
		if !p.RemoteID.Any() && p.RemoteID.Type != IDNull {
			rid := p.RemoteID
			m.IDr = &rid
		}
		a, err := e.makeAuth(sa, p, idb)
		if err != nil {
			e.log.Error("signing AUTH", "tunnel", p.Name, "err", err)
			return nil
		}
		m.Auth = a
		if p.Auth != AuthNull && sa.reauthOf == nil && e.initialContactDue(sa, p) {
			// RFC 7296, Section 2.4; RFC 7619, Section 2.3 (ignored
			// from ID_NULL peers, so not sent either). A
			// reauthentication keeps the old SA until the new one is
			// up, so it must not tell the peer to drop it; nor may
			// a second OE IKE SA with the same gateway.
			m.Notifies = append(m.Notifies, notify{Type: NInitialContact})
		}
		m.SA, m.hasSA = offerFromProposals(p.ESP, spiBytes(child.spiIn), false), true
		m.TSi, m.TSr, m.hasTS = child.localTS, child.remoteTS, true
		return m
	}, e.onAuthResponse)
}

// onAuthResponse is the initiator's handling of the IKE_AUTH response.
func (e *Engine) onAuthResponse(sa *ikeSA, m *msg) {
	p := sa.peer
	if m.IDr == nil || m.Auth == nil {
		n := m.errorNotify()
		why := "IKE_AUTH response without IDr/AUTH"
		if n != nil {
			why = "IKE_AUTH refused: notify " + itoa(int(n.Type))
		}
		e.destroy(sa, why)
		return
	}
	// RFC 7296, Section 2.15: the identity must be the one policy expects.
	if !responderIDOK(p, *m.IDr) {
		e.destroy(sa, "responder identity "+m.IDr.String()+" does not match "+p.RemoteID.String())
		return
	}
	if p.Auth == AuthPubkey && p.PeerKey == nil {
		e.parkAuth(sa, m, p)
		return
	}
	e.finishAuthResponse(sa, m, p, p.PeerKey)
}

func (e *Engine) finishAuthResponse(sa *ikeSA, m *msg, p *Peer, key crypto.PublicKey) {
	if err := e.verifyAuth(sa, p, m.Auth, m.idrBody, key); err != nil {
		// RFC 7296, Section 2.21.2: a failed AUTH in the response means
		// the IKE SA is not created; we delete it.
		e.destroy(sa, "responder AUTH: "+err.Error())
		return
	}
	sa.remoteID = *m.IDr
	e.established(sa)
	child := sa.pendingChild
	sa.pendingChild = nil
	if n := m.errorNotify(); n != nil || !m.hasSA {
		// RFC 7296, Section 2.21.3: the IKE SA stays; only the Child
		// SA failed.
		delete(e.childIn, child.spiIn)
		t := 0
		if n != nil {
			t = int(n.Type)
		}
		e.log.Warn("Child SA refused", "tunnel", p.Name, "notify", t)
		return
	}
	if err := e.completeChild(sa, child, m, p.ESP, false, nil, sa.ni, sa.nr); err != nil {
		delete(e.childIn, child.spiIn)
		e.log.Warn("Child SA unusable, deleting", "tunnel", p.Name, "err", err)
		// RFC 7296, Section 2.21.3: delete the Child SA we cannot use.
		if spi, ok := spiOf(m.SA); ok {
			e.sendDeleteChildSPI(sa, spi)
		}
	}
	e.pump(sa)
}

// established marks an authenticated IKE SA.
func (e *Engine) established(sa *ikeSA) {
	sa.state = stEstablished
	sa.deadline = time.Time{}
	sa.lastRecv = e.clock.Now()
	e.armIKE(sa)
	e.stats.IKEUp++
	e.log.Info("IKE SA established", "tunnel", sa.peer.Name, "peer", sa.remote, "remote_id", sa.remoteID.String(),
		"initiator", sa.initiator, "suite", ikeSuiteName(sa.chosen), "nat", sa.natT)
	if old := sa.reauthOf; old != nil {
		// Make-before-break reauthentication (issue 5): the new SA is
		// up, the old one goes.
		sa.reauthOf = nil
		sa.generation = old.generation + 1
		if old.state == stEstablished {
			e.deleteIKE(old, "reauthenticated")
		}
	}
}

// onAuthRequest is the responder's IKE_AUTH (RFC 7296, Section 1.2, 2.15).
func (e *Engine) onAuthRequest(sa *ikeSA, m *msg) {
	if sa.state != stInitDone {
		e.respondError(sa, m, NInvalidSyntax)
		return
	}
	if m.IDi == nil || m.Auth == nil || !m.IDi.valid() {
		e.stats.BadSyntax++
		e.respondError(sa, m, NInvalidSyntax)
		e.destroy(sa, "IKE_AUTH without IDi/AUTH")
		return
	}
	p := e.pickPeer(sa, m)
	if p == nil && e.oe != nil {
		e.oeAuthRequest(sa, m)
		return
	}
	if p == nil {
		e.log.Info("no tunnel for identity", "peer", sa.remote, "id", m.IDi.String(), "method", m.Auth.Method)
		e.respondError(sa, m, NAuthFailed)
		e.destroy(sa, "unknown identity")
		return
	}
	sa.peer = p
	if p.Auth == AuthPubkey && p.PeerKey == nil {
		e.parkAuth(sa, m, p)
		return
	}
	e.finishAuthRequest(sa, m, p, p.PeerKey)
}

// pickPeer finds the tunnel whose remote identity and auth method fit the
// initiator's IDi (and IDr, when it names one).
func (e *Engine) pickPeer(sa *ikeSA, m *msg) *Peer {
	for _, p := range e.candidates(sa.remote) {
		if p.oe != nil {
			continue // the OE template: oeAuthRequest decides
		}
		if !p.RemoteID.Matches(*m.IDi) {
			continue
		}
		if m.IDr != nil && !p.LocalID.Any() && !p.LocalID.Matches(*m.IDr) {
			continue
		}
		switch m.Auth.Method {
		case 2:
			if p.Auth != AuthPSK {
				continue
			}
		case 13:
			if p.Auth != AuthNull {
				continue
			}
		default:
			if p.Auth != AuthPubkey {
				continue
			}
		}
		// The IKE proposal chosen must be one this tunnel allows.
		if _, ok := selectProposal(p.IKE, []Offer{chosenOffer(sa.chosen, nil)}, true); !ok {
			continue
		}
		return p
	}
	return nil
}

func (e *Engine) finishAuthRequest(sa *ikeSA, m *msg, p *Peer, key crypto.PublicKey) {
	if err := e.verifyAuth(sa, p, m.Auth, m.idiBody, key); err != nil {
		e.log.Info("initiator AUTH failed", "tunnel", p.Name, "peer", sa.remote, "err", err)
		// RFC 7296, Section 2.21.2.
		e.respondError(sa, m, NAuthFailed)
		e.destroy(sa, "authentication failed")
		return
	}
	sa.remoteID = *m.IDi
	if e.halfOpen[halfKey{sa.spiI, sa.remote}] == sa {
		delete(e.halfOpen, halfKey{sa.spiI, sa.remote})
	}
	e.halfDone(sa)
	// A peer that comes back with the same authenticated identity
	// replaces its old IKE SA (RFC 7296, Section 2.4 INITIAL_CONTACT);
	// never for unauthenticated ID_NULL peers (RFC 7619, Section 2.3).
	if p.Auth != AuthNull && sa.remoteID.Type != IDNull {
		for _, old := range e.sas {
			if old != sa && e.samePeer(old, p) && old.state == stEstablished && old.remoteID.Matches(sa.remoteID) &&
				m.notify(NInitialContact) != nil {
				e.destroy(old, "replaced by new IKE SA from the same identity")
			}
		}
	}
	e.established(sa)
	r := &msg{}
	id := p.LocalID
	r.IDr = &id
	a, err := e.makeAuth(sa, p, idBody(id))
	if err != nil {
		e.log.Error("signing AUTH", "err", err)
		e.respondError(sa, m, NAuthFailed)
		e.destroy(sa, "cannot sign")
		return
	}
	r.Auth = a
	if m.hasSA {
		e.respondChild(sa, m, r, p, false, nil, sa.ni, sa.nr, nil)
	}
	e.respond(sa, m, r)
}

// parkAuth asks the KeySource for the peer's key without blocking other
// SAs; the answer (or the timeout) resumes the exchange.
func (e *Engine) parkAuth(sa *ikeSA, m *msg, p *Peer) {
	if e.cfg.KeySource == nil {
		e.destroy(sa, "no key source")
		return
	}
	id := *m.IDi
	if sa.initiator {
		id = *m.IDr
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Timers.KeyLookupTimeout)
	pa := &pendingAuth{m: m, peer: p, cancel: cancel}
	sa.authPending = pa
	prev := sa.state
	sa.state = stAuthWait
	sa.deadline = e.clock.Now().Add(e.cfg.Timers.KeyLookupTimeout)
	if sa.out != nil && sa.initiator {
		// The response is in: stop retransmitting while we wait.
		sa.out = nil
	}
	e.cfg.KeySource.LookupKey(ctx, id, sa.remote.Addr(), func(k crypto.PublicKey, err error) {
		_ = e.enqueue(func(e *Engine) {
			if sa.authPending != pa || sa.state != stAuthWait {
				return // timed out or gone
			}
			sa.authPending = nil
			pa.cancel()
			sa.deadline = time.Time{}
			sa.state = prev
			if err != nil || k == nil {
				e.keyLookupFailed(sa, pa, "key lookup failed")
				return
			}
			if sa.initiator {
				e.finishAuthResponse(sa, pa.m, pa.peer, k)
			} else {
				e.finishAuthRequest(sa, pa.m, pa.peer, k)
			}
		})
	})
}

func (e *Engine) authLookupTimeout(sa *ikeSA) {
	pa := sa.authPending
	sa.authPending = nil
	if pa != nil {
		pa.cancel()
	}
	e.keyLookupFailed(sa, pa, "key lookup timed out")
}

func (e *Engine) keyLookupFailed(sa *ikeSA, pa *pendingAuth, why string) {
	e.log.Info("peer key unavailable", "peer", sa.remote, "reason", why)
	if !sa.initiator && pa != nil {
		sa.state = stInitDone
		e.respondError(sa, pa.m, NAuthFailed)
	}
	e.destroy(sa, why)
}
