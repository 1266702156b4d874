package ike

import (
	"encoding/binary"
	"errors"
)

// deleteIKE closes an IKE SA with an INFORMATIONAL Delete (RFC 7296,
// Section 1.4.1); the SA is gone when the response arrives or the
// retransmissions give up.
func (e *Engine) deleteIKE(sa *ikeSA, why string) {
	if sa.state != stEstablished {
		e.destroy(sa, why)
		return
	}
	e.log.Info("deleting IKE SA", "tunnel", peerName(sa.peer), "reason", why)
	sa.state = stDeleting
	// Drop whatever else was waiting: the SA is going away.
	sa.queue = nil
	build := func(sa *ikeSA) *msg {
		return &msg{Deletes: []deletePl{{Proto: ProtoIKE}}}
	}
	done := func(sa *ikeSA, m *msg) { e.destroy(sa, why) }
	if sa.out != nil {
		// Window of 1: wait for the outstanding exchange.
		sa.queue = append(sa.queue, queued{ExchInformational, build, done})
		return
	}
	e.sendRequest(sa, ExchInformational, build, done)
}

// sendDeleteIKEOnce sends a Delete without waiting for its answer, for
// shutdown.
func (e *Engine) sendDeleteIKEOnce(sa *ikeSA) {
	m := &msg{Exch: ExchInformational, ID: sa.nextID, SPIi: sa.spiI, SPIr: sa.spiR, Initiator: sa.initiator,
		Deletes: []deletePl{{Proto: ProtoIKE}}}
	if data, err := e.encode(sa, m); err == nil {
		e.send(sa, data, sa.natT)
	}
}

// DeleteChild deletes one Child SA by its inbound SPI.
func (e *Engine) DeleteChild(spiIn uint32) error {
	err := errors.New("ike: no Child SA with that SPI")
	if cerr := e.call(func(e *Engine) {
		if sa, c := e.findChild(spiIn); c != nil && sa.state == stEstablished {
			e.deleteChild(sa, c)
			err = nil
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// deleteChild removes a Child SA: inbound stays until the peer answers
// (RFC 7296, Section 1.4.1), then both directions go.
func (e *Engine) deleteChild(sa *ikeSA, c *childSA) {
	if c.deleting {
		return
	}
	c.deleting = true
	sa.childOps++
	e.sendRequest(sa, ExchInformational, func(sa *ikeSA) *msg {
		return &msg{Deletes: []deletePl{{Proto: ProtoESP, SPIs: [][]byte{spiBytes(c.spiIn)}}}}
	}, func(sa *ikeSA, m *msg) {
		sa.childOps--
		if r := c.rekeying; r != nil && r.installed && containsChild(sa.children, c) {
			// Rekeyed: our outbound traffic left c already, but the
			// peer's last packets on it may still be queued behind
			// this answer in its data plane. Keep c's inbound SA a
			// moment longer (issue 5: make-before-break).
			c.dropAt = e.clock.Now().Add(drainDelay)
			return
		}
		e.dropChild(sa, c)
	})
}

// sendDeleteChildSPI deletes a Child SA the peer created that we could
// not use.
func (e *Engine) sendDeleteChildSPI(sa *ikeSA, spiOut uint32) {
	// Counted as a Child SA operation, so that the peer's IKE SA rekey
	// waits for it (RFC 7296, Section 2.25.2): a Delete still queued or
	// unanswered on an IKE SA that is then rekeyed away would be lost,
	// and the peer would keep the Child SA for good.
	sa.childOps++
	e.sendRequest(sa, ExchInformational, func(sa *ikeSA) *msg {
		// Our Delete names our inbound SPI; we have none installed, so
		// name the peer's (what it knows as its outbound... RFC 7296,
		// Section 3.11 wants the sender's inbound SPI; we never had one
		// installed, and the peer matches either).
		return &msg{Deletes: []deletePl{{Proto: ProtoESP, SPIs: [][]byte{spiBytes(spiOut)}}}}
	}, func(sa *ikeSA, _ *msg) { sa.childOps-- })
}

func (e *Engine) dropChild(sa *ikeSA, c *childSA) {
	for i, x := range sa.children {
		if x == c {
			sa.children = append(sa.children[:i], sa.children[i+1:]...)
			break
		}
	}
	e.removeChild(c)
}

// sendDPD sends an empty INFORMATIONAL as a liveness check (RFC 7296,
// Section 2.4); no answer after the retransmissions ends the SA.
func (e *Engine) sendDPD(sa *ikeSA) {
	sa.lastRecv = e.clock.Now() // rearm: the request's retransmissions now watch
	e.sendRequest(sa, ExchInformational, func(sa *ikeSA) *msg { return &msg{} }, func(*ikeSA, *msg) {})
}

// onInformationalRequest answers an INFORMATIONAL request: Deletes,
// liveness checks and notifications (RFC 7296, Section 1.4, 1.5).
func (e *Engine) onInformationalRequest(sa *ikeSA, m *msg) {
	r := &msg{}
	deleteIKE := false
	var gone []*childSA
	var ours [][]byte
	for _, d := range m.Deletes {
		switch d.Proto {
		case ProtoIKE:
			deleteIKE = true
		case ProtoESP, ProtoAH:
			for _, s := range d.SPIs {
				if len(s) != 4 {
					continue
				}
				spi := binary.BigEndian.Uint32(s)
				for _, c := range sa.children {
					// The Delete names the sender's inbound SPI: our
					// outbound (Section 3.11).
					if c.spiOut == spi {
						gone = append(gone, c)
						ours = append(ours, spiBytes(c.spiIn))
					}
				}
				// Every request gets a response, also for an SA that
				// is already gone (Section 1.4.1): it just lists nothing.
			}
		}
	}
	if deleteIKE {
		// Section 1.4.1: answer with an empty INFORMATIONAL, then close.
		e.respond(sa, m, r)
		if n := sa.peerRekeySA; n != nil && e.sas[n.localSPI()] == n {
			// The peer rekeyed this IKE SA while our own rekey was
			// queued or under way, and now deletes it: its new SA
			// won (RFC 7296, Section 2.8.2), so the Child SAs move
			// there instead of dying with this one.
			sa.peerRekeySA = nil
			e.moveToIKESA(sa, n)
		}
		e.destroy(sa, "deleted by peer")
		return
	}
	for _, c := range gone {
		e.dropChild(sa, c)
	}
	if len(ours) > 0 {
		r.Deletes = []deletePl{{Proto: ProtoESP, SPIs: ours}}
	}
	for _, n := range m.Notifies {
		if n.Type < 16384 {
			e.log.Info("peer reported error", "tunnel", peerName(sa.peer), "notify", n.Type)
		}
	}
	e.respond(sa, m, r)
}
