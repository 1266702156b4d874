package ike

import (
	"errors"
	"net/netip"

	"swanling/ike/wire"
)

// receive handles one datagram from the outside (RFC 7296, Section 2.1-2.3
// for the window, Section 2.21 for errors).
func (e *Engine) receive(b []byte, local, remote netip.AddrPort) {
	natT := local.Port() == e.cfg.NATTPort
	if len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0 {
		// Non-ESP marker (RFC 3948, Section 2.2): IKE on port 4500.
		b = b[4:]
		natT = true
	} else if len(b) == 1 && b[0] == 0xff {
		return // NAT keepalive
	}
	hdr, err := e.parseHeader(b)
	if err != nil {
		if errors.Is(err, wire.ErrMajorVersion) && hdr != nil && hdr.Exch == ExchIKESAInit && !hdr.Response {
			// RFC 7296, Section 2.5: drop it, and say which version we
			// speak in an unauthenticated INVALID_MAJOR_VERSION.
			e.sendStateless(hdr, local, remote, notify{Type: NInvalidMajorVersion, Data: []byte{wire.Version}})
		}
		e.stats.Dropped++
		return
	}
	if hdr.Exch == ExchIKESAInit && !hdr.Response && hdr.Initiator && hdr.SPIr == 0 {
		m, err := e.decodePlain(b)
		if err != nil {
			e.stats.BadSyntax++
			var pe *wire.PayloadError
			if errors.As(err, &pe) && errors.Is(err, wire.ErrUnsupportedCritical) {
				// RFC 7296, Section 2.5.
				e.sendStateless(hdr, local, remote, notify{Type: NUnsupportedCritical, Data: []byte{uint8(pe.Type)}})
			}
			return
		}
		e.onInitRequest(b, m, local, remote)
		return
	}
	spi := hdr.SPIi
	if hdr.Initiator {
		spi = hdr.SPIr
	}
	sa := e.sas[spi]
	if sa == nil || sa.state == stDead || sa.spiI != hdr.SPIi {
		// RFC 7296, Section 2.21.4: we may answer INVALID_IKE_SPI, but
		// an unauthenticated answer helps attackers more; drop.
		e.stats.Dropped++
		return
	}
	// The I flag must say the sender has the other role.
	if hdr.Initiator == sa.initiator {
		e.stats.Dropped++
		return
	}
	if hdr.Response {
		e.receiveResponse(sa, hdr, b, local, remote, natT)
	} else {
		e.receiveRequest(sa, hdr, b, local, remote, natT)
	}
	if sa.state != stDead {
		e.pump(sa)
	}
}

func (e *Engine) receiveResponse(sa *ikeSA, hdr *msg, b []byte, local, remote netip.AddrPort, natT bool) {
	r := sa.out
	if r == nil || r.id != hdr.ID || r.exch != hdr.Exch {
		// A late duplicate or a response to something we never sent.
		e.stats.Dropped++
		return
	}
	var m *msg
	var err error
	if hdr.Exch == ExchIKESAInit {
		m, err = e.decodePlain(b)
		if err == nil {
			m.raw = append([]byte(nil), b...)
		}
	} else {
		m, err = e.decodeProtected(sa, b)
	}
	if err != nil {
		e.stats.Dropped++
		return
	}
	sa.out = nil
	if hdr.Exch != ExchIKESAInit {
		e.authenticatedFrom(sa, local, remote, natT)
	}
	r.onResp(sa, m)
}

func (e *Engine) receiveRequest(sa *ikeSA, hdr *msg, b []byte, local, remote netip.AddrPort, natT bool) {
	if hdr.Exch == ExchIKESAInit {
		e.stats.Dropped++
		return
	}
	if sa.lastResp != nil && hdr.ID+1 == sa.peerNextID && hdr.ID == sa.lastRespID && sa.keys != nil {
		// A retransmitted request: resend our cached response, after
		// checking it is genuine (RFC 7296, Section 2.1).
		if _, err := e.decodeProtected(sa, b); err != nil {
			e.stats.Dropped++
			return
		}
		e.stats.CachedReplies++
		e.send(sa, sa.lastResp, sa.natT)
		return
	}
	if hdr.ID != sa.peerNextID || sa.keys == nil || sa.state == stAuthWait {
		e.stats.Dropped++
		return
	}
	m, err := e.decodeProtected(sa, b)
	if err != nil {
		if err == errInvalidSyntax {
			// Authenticated but malformed: RFC 7296, Section 2.21.
			e.stats.BadSyntax++
			sa.peerNextID++
			e.respondError(sa, hdr, NInvalidSyntax)
			if sa.state != stEstablished {
				e.destroy(sa, "invalid syntax")
			}
			return
		}
		e.stats.Dropped++
		return
	}
	sa.peerNextID++
	e.authenticatedFrom(sa, local, remote, natT)
	if m.unknownCritical != 0 {
		e.respond(sa, m, &msg{Notifies: []notify{{Type: NUnsupportedCritical, Data: []byte{m.unknownCritical}}}})
		return
	}
	switch m.Exch {
	case ExchIKEAuth:
		e.onAuthRequest(sa, m)
	case ExchCreateChildSA:
		if sa.state != stEstablished {
			e.respondError(sa, m, NInvalidSyntax)
			return
		}
		e.onCreateChildRequest(sa, m)
	case ExchInformational:
		if sa.state != stEstablished && sa.state != stDeleting {
			e.respondError(sa, m, NInvalidSyntax)
			return
		}
		e.onInformationalRequest(sa, m)
	default:
		e.respondError(sa, m, NInvalidSyntax)
	}
}

// authenticatedFrom notes a verified message: it proves the peer alive and
// lets its address change (a NAT rebinding, RFC 7296, Section 2.23: only
// after an authenticated message).
func (e *Engine) authenticatedFrom(sa *ikeSA, local, remote netip.AddrPort, natT bool) {
	sa.lastRecv = e.clock.Now()
	if natT && !sa.natT {
		sa.natT = true
	}
	if sa.state == stInitDone && local.IsValid() {
		// Responder: IKE_AUTH may have moved to port 4500.
		sa.local, sa.remote = local, remote
		return
	}
	if sa.state != stEstablished || remote == sa.remote {
		return
	}
	if !(sa.natRemote || sa.natLocal || sa.natT) {
		return // without NAT-T the addresses are fixed
	}
	e.log.Info("peer address changed", "tunnel", peerName(sa.peer), "from", sa.remote, "to", remote)
	sa.remote = remote
	if local.IsValid() {
		sa.local = local
	}
	for _, c := range sa.children {
		if c.installed {
			if err := e.out.InstallChild(e.childData(c, sa)); err != nil {
				e.log.Warn("updating Child SA address", "err", err)
			}
		}
	}
}

// respond sends the response to request m and caches it for
// retransmissions (RFC 7296, Section 2.1).
func (e *Engine) respond(sa *ikeSA, m, r *msg) {
	r.Exch, r.ID, r.Response = m.Exch, m.ID, true
	r.SPIi, r.SPIr, r.Initiator = sa.spiI, sa.spiR, sa.initiator
	data, err := e.encode(sa, r)
	if err != nil {
		e.log.Error("encode response", "err", err)
		return
	}
	sa.lastResp, sa.lastRespID = data, m.ID
	e.send(sa, data, sa.natT)
}

func (e *Engine) respondError(sa *ikeSA, m *msg, t uint16) {
	e.respond(sa, m, &msg{Notifies: []notify{{Type: t}}})
}
