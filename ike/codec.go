package ike

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"swanling/ike/wire"
)

// errInvalidSyntax marks an authenticated message whose payloads break the
// exchange's rules (RFC 7296, Section 2.21: answer INVALID_SYNTAX).
var errInvalidSyntax = errors.New("ike: invalid syntax")

// parseHeader reads just the header fields the window needs.
func (e *Engine) parseHeader(b []byte) (*msg, error) {
	h, err := wire.ParseHeader(b)
	if errors.Is(err, wire.ErrMajorVersion) {
		// The header is complete: the caller may answer.
		return headerMsg(&h), err
	}
	if err != nil {
		return nil, err
	}
	return &msg{SPIi: h.SPIi, SPIr: h.SPIr, Exch: uint8(h.Exchange), Response: h.IsResponse(),
		Initiator: h.IsInitiator(), ID: h.MessageID}, nil
}

// decodePlain decodes an unencrypted message (IKE_SA_INIT), validating the
// payloads against the exchange table.
func (e *Engine) decodePlain(b []byte) (*msg, error) {
	wm, err := wire.Parse(b)
	if err != nil {
		return nil, err
	}
	if err := wire.ValidateOuter(wm.Exchange, wire.Types(nil, wm.Payloads)); err != nil {
		return nil, err
	}
	m := headerMsg(&wm.Header)
	if err := wire.Validate(wm.Exchange, m.Response, wire.Types(nil, wm.Payloads)); err != nil {
		// A response carrying only a notification (COOKIE,
		// INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN) lacks the usual payloads.
		if !(m.Response && onlyNotifies(wm.Payloads)) {
			return nil, err
		}
	}
	if err := fillMsg(m, wm.Payloads); err != nil {
		return nil, err
	}
	return m, nil
}

func onlyNotifies(ps []wire.Payload) bool {
	n := 0
	for _, p := range ps {
		switch p.(type) {
		case *wire.Notify:
			n++
		case *wire.VendorID, *wire.Unknown:
		default:
			return false
		}
	}
	return n > 0
}

func headerMsg(h *wire.Header) *msg {
	return &msg{SPIi: h.SPIi, SPIr: h.SPIr, Exch: uint8(h.Exchange), Response: h.IsResponse(),
		Initiator: h.IsInitiator(), ID: h.MessageID}
}

// decodeProtected checks and decrypts an SK message in place (RFC 7296,
// Section 3.14) and decodes the inner payloads. Integrity failures return
// a plain error (drop); authenticated but malformed content returns
// errInvalidSyntax.
func (e *Engine) decodeProtected(sa *ikeSA, b []byte) (*msg, error) {
	if sa.keys == nil {
		return nil, errors.New("ike: no keys")
	}
	c := sa.keys.recv
	wm, err := wire.Parse(b)
	if err != nil {
		return nil, err
	}
	if err := wire.ValidateOuter(wm.Exchange, wire.Types(nil, wm.Payloads)); err != nil {
		return nil, err
	}
	parts, err := wire.SplitEncrypted(b, c.IVLen(), c.ICVLen())
	if err != nil || parts.Type != wire.PayloadSK {
		// Fragments (RFC 7383) are not reassembled yet.
		return nil, errors.New("ike: no SK payload")
	}
	skOff := len(parts.AAD) - 4
	next := parts.NextPayload
	plain, _, err := c.Open(b, skOff)
	if err != nil {
		return nil, err
	}
	m := headerMsg(&wm.Header)
	ps, err := wire.ParsePayloads(next, plain)
	if err != nil {
		var pe *wire.PayloadError
		if errors.As(err, &pe) && errors.Is(err, wire.ErrUnsupportedCritical) {
			// RFC 7296, Section 2.5: answer UNSUPPORTED_CRITICAL_PAYLOAD.
			m.unknownCritical = uint8(pe.Type)
			return m, nil
		}
		return m, errInvalidSyntax
	}
	if err := wire.Validate(wm.Exchange, m.Response, wire.Types(nil, ps)); err != nil {
		if !(m.Response && onlyNotifies(ps)) {
			return m, errInvalidSyntax
		}
	}
	if err := fillMsg(m, ps); err != nil {
		return m, errInvalidSyntax
	}
	return m, nil
}

// fillMsg copies the payloads the engine uses into m, checking each.
func fillMsg(m *msg, ps []wire.Payload) error {
	for _, p := range ps {
		switch p := p.(type) {
		case *wire.SA:
			m.hasSA = true
			for _, pr := range p.Proposals {
				o := Offer{Num: pr.Number, Protocol: uint8(pr.Protocol), SPI: append([]byte(nil), pr.SPI...)}
				for _, t := range pr.Transforms {
					o.Transforms = append(o.Transforms, Transform{Type: uint8(t.Type), ID: t.ID, KeyLen: t.KeyLength, Unknown: len(t.Attrs) != 0})
				}
				m.SA = append(m.SA, o)
			}
		case *wire.KE:
			m.KE = &keData{Group: uint16(p.Group), Data: append([]byte(nil), p.Data...)}
		case *wire.Nonce:
			m.Nonce = append([]byte(nil), p.Data...)
		case *wire.ID:
			id := &Identity{Type: uint8(p.IDType), Data: append([]byte(nil), p.Data...)}
			body := p.AppendBody(nil)
			if p.Responder {
				m.IDr, m.idrBody = id, body
			} else {
				m.IDi, m.idiBody = id, body
			}
		case *wire.Auth:
			m.Auth = &authData{Method: uint8(p.Method), Data: append([]byte(nil), p.Data...)}
		case *wire.TS:
			var sels []Selector
			for _, s := range p.Selectors {
				if s.TSType != wire.TSIPv4AddrRange && s.TSType != wire.TSIPv6AddrRange {
					continue // RFC 7296, Section 3.13.1: unknown types are skipped
				}
				x := Selector{Start: s.Start.Unmap(), End: s.End.Unmap(), Proto: s.IPProtocol, StartPort: s.StartPort, EndPort: s.EndPort}
				if !x.valid() {
					return errInvalidSyntax
				}
				sels = append(sels, x)
			}
			m.hasTS = true
			if p.Responder {
				m.TSr = sels
			} else {
				m.TSi = sels
			}
		case *wire.Notify:
			m.Notifies = append(m.Notifies, notify{Proto: uint8(p.Protocol), SPI: append([]byte(nil), p.SPI...),
				Type: uint16(p.NotifyType), Data: append([]byte(nil), p.Data...)})
		case *wire.Delete:
			d := deletePl{Proto: uint8(p.Protocol)}
			for _, s := range p.SPIs {
				d.SPIs = append(d.SPIs, spiBytes(s))
			}
			m.Deletes = append(m.Deletes, d)
		}
	}
	return nil
}

// payloads turns m into the wire payload chain, in the order RFC 7296,
// Section 1.2-1.4 shows (COOKIE first, Section 2.6).
func payloads(m *msg) []wire.Payload {
	var ps []wire.Payload
	for _, n := range m.Notifies {
		if n.Type == NCookie {
			ps = append(ps, wireNotify(n))
		}
	}
	if m.IDi != nil {
		ps = append(ps, &wire.ID{IDType: wire.IDType(m.IDi.Type), Data: m.IDi.Data})
	}
	if m.IDr != nil {
		ps = append(ps, &wire.ID{Responder: true, IDType: wire.IDType(m.IDr.Type), Data: m.IDr.Data})
	}
	if m.Auth != nil {
		ps = append(ps, &wire.Auth{Method: wire.AuthMethod(m.Auth.Method), Data: m.Auth.Data})
	}
	for _, n := range m.Notifies {
		if n.Type == NRekeySA || n.Type == NInitialContact {
			ps = append(ps, wireNotify(n))
		}
	}
	if m.hasSA {
		sa := &wire.SA{}
		for _, o := range m.SA {
			pr := wire.Proposal{Number: o.Num, Protocol: wire.ProtocolID(o.Protocol), SPI: o.SPI}
			for _, t := range o.Transforms {
				pr.Transforms = append(pr.Transforms, wire.Transform{Type: wire.TransformType(t.Type), ID: t.ID, KeyLength: t.KeyLen})
			}
			sa.Proposals = append(sa.Proposals, pr)
		}
		ps = append(ps, sa)
	}
	if m.Nonce != nil {
		ps = append(ps, &wire.Nonce{Data: m.Nonce})
	}
	if m.KE != nil {
		ps = append(ps, &wire.KE{Group: wire.KEMethod(m.KE.Group), Data: m.KE.Data})
	}
	if m.hasTS {
		ps = append(ps, &wire.TS{Selectors: wireSelectors(m.TSi)}, &wire.TS{Responder: true, Selectors: wireSelectors(m.TSr)})
	}
	for _, n := range m.Notifies {
		if n.Type != NCookie && n.Type != NRekeySA && n.Type != NInitialContact {
			ps = append(ps, wireNotify(n))
		}
	}
	for _, d := range m.Deletes {
		wd := &wire.Delete{Protocol: wire.ProtocolID(d.Proto)}
		for _, s := range d.SPIs {
			wd.SPIs = append(wd.SPIs, binary.BigEndian.Uint32(s))
		}
		ps = append(ps, wd)
	}
	return ps
}

func wireNotify(n notify) *wire.Notify {
	return &wire.Notify{Protocol: wire.ProtocolID(n.Proto), SPI: n.SPI, NotifyType: wire.NotifyType(n.Type), Data: n.Data}
}

func wireSelectors(ss []Selector) []wire.TrafficSelector {
	out := make([]wire.TrafficSelector, 0, len(ss))
	for _, s := range ss {
		t := wire.TSIPv4AddrRange
		if !s.Start.Is4() {
			t = wire.TSIPv6AddrRange
		}
		out = append(out, wire.TrafficSelector{TSType: t, IPProtocol: s.Proto, StartPort: s.StartPort, EndPort: s.EndPort,
			Start: s.Start, End: s.End})
	}
	return out
}

func wireHeader(m *msg) wire.Header {
	h := wire.Header{SPIi: m.SPIi, SPIr: m.SPIr, Exchange: wire.ExchangeType(m.Exch), MessageID: m.ID}
	if m.Initiator {
		h.Flags |= wire.FlagInitiator
	}
	if m.Response {
		h.Flags |= wire.FlagResponse
	}
	return h
}

// encode builds m: in the clear for IKE_SA_INIT, otherwise inside an SK
// payload sealed with the SA's outbound keys (RFC 7296, Section 3.14).
func (e *Engine) encode(sa *ikeSA, m *msg) ([]byte, error) {
	h := wireHeader(m)
	ps := payloads(m)
	if m.Exch == ExchIKESAInit {
		wm := &wire.Message{Header: h, Payloads: ps}
		return wm.Append(nil)
	}
	if sa == nil || sa.keys == nil {
		return nil, errors.New("ike: no keys to encrypt with")
	}
	first, inner, err := wire.AppendPayloads(nil, ps)
	if err != nil {
		return nil, err
	}
	c := sa.keys.send
	pad := c.PadLen(len(inner))
	ivLen, icvLen := c.IVLen(), c.ICVLen()
	ptLen := c.BodyLen(len(inner), pad) - ivLen - icvLen
	out, ivOff, ctOff, _, err := wire.AppendEncrypted(nil, h, first, ivLen, ptLen, icvLen)
	if err != nil {
		return nil, err
	}
	copy(out[ctOff:], inner)
	if err := c.Seal(out, ivOff-4, len(inner)); err != nil {
		return nil, err
	}
	return out, nil
}

// addrPortOK reports a usable address for NAT detection.
func addrPortOK(ap netip.AddrPort) bool {
	return ap.Addr().IsValid() && !ap.Addr().IsUnspecified()
}
