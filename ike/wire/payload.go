package wire

import "encoding/binary"

// Payload is one parsed or to-be-built IKE payload. The concrete types are
// *SA, *KE, *ID, *Cert, *CertReq, *Auth, *Nonce, *Notify, *Delete,
// *VendorID, *TS, *Encrypted, *Fragment, *Config, *EAP and *Unknown.
type Payload interface {
	// Type is the payload type that names this payload in the previous
	// payload's (or the header's) Next Payload field.
	Type() PayloadType
	// appendBody appends the payload body (after the generic header).
	appendBody(b []byte) ([]byte, error)
}

// genericLen is the length of the generic payload header (RFC 7296, Section 3.2).
const genericLen = 4

const criticalBit = 0x80

// Message is a parsed IKE message: the header and the outer payload chain.
// When the message is encrypted the last payload is *Encrypted or *Fragment.
type Message struct {
	Header
	Payloads []Payload
}

// Parse decodes a whole IKE message (the UDP payload without the non-ESP
// marker, or one RFC 8229 frame without its length): the header and the
// outer payload chain, which ends at an Encrypted or Encrypted Fragment
// payload if there is one. The payloads alias b.
//
// On ErrMajorVersion the returned Message holds the decoded header and no
// payloads, so the engine can answer INVALID_MAJOR_VERSION. On other errors
// the Message is nil.
func Parse(b []byte) (*Message, error) {
	h, err := ParseHeader(b)
	if err == ErrMajorVersion {
		return &Message{Header: h}, err
	}
	if err != nil {
		return nil, err
	}
	ps, err := parseChain(h.NextPayload, b[HeaderLen:], HeaderLen, true)
	if err != nil {
		return nil, err
	}
	return &Message{Header: h, Payloads: ps}, nil
}

// ParsePayloads decodes an inner payload chain, such as the decrypted content
// of an Encrypted payload after StripPadding, whose first payload has type
// first (the Next Payload field of the Encrypted payload). b must end exactly
// after the last payload. Encrypted payloads are not allowed inside. The
// payloads alias b; error offsets are relative to b.
func ParsePayloads(first PayloadType, b []byte) ([]Payload, error) {
	return parseChain(first, b, 0, false)
}

// parseChain walks a payload chain, validating each generic payload header
// before looking at the body (RFC 7296, Section 3.2).
func parseChain(next PayloadType, b []byte, base int, outer bool) ([]Payload, error) {
	var ps []Payload
	off := 0
	for next != PayloadNone {
		t := next
		if len(b)-off < genericLen {
			return nil, perr(t, base+off, ErrShort)
		}
		next = PayloadType(b[off])
		crit := b[off+1]&criticalBit != 0
		plen := int(binary.BigEndian.Uint16(b[off+2:]))
		// RFC 7296, Section 3.2: Payload Length includes the generic
		// header; it must not run past the message.
		if plen < genericLen || plen > len(b)-off {
			return nil, perr(t, base+off, ErrLength)
		}
		body := b[off+genericLen : off+plen]
		if ps == nil {
			ps = make([]Payload, 0, 8)
		}
		if t == PayloadSK || t == PayloadSKF {
			// RFC 7296, Section 3.14 and RFC 7383, Section 2.5: the
			// encrypted payload is the last payload of the message; its
			// Next Payload field names the first inner payload.
			if !outer || off+plen != len(b) {
				return nil, perr(t, base+off, ErrNotLast)
			}
			var p Payload
			if t == PayloadSK {
				p = &Encrypted{NextPayload: next, Body: body}
			} else {
				f, err := parseFragment(next, body)
				if err != nil {
					return nil, perr(t, base+off, err)
				}
				p = f
			}
			return append(ps, p), nil
		}
		p, err := parseBody(t, body)
		if err != nil {
			return nil, perr(t, base+off, err)
		}
		if p == nil {
			// RFC 7296, Section 2.5: an unknown payload with the critical
			// bit set rejects the whole message; without it, it is skipped.
			if crit {
				return nil, perr(t, base+off, ErrUnsupportedCritical)
			}
			p = &Unknown{PType: t, Data: body}
		}
		ps = append(ps, p)
		off += plen
	}
	if off != len(b) {
		return nil, perr(PayloadNone, base+off, ErrTrailing)
	}
	return ps, nil
}

// parseBody decodes the body of a known payload type; it returns nil, nil
// for an unknown type.
func parseBody(t PayloadType, b []byte) (Payload, error) {
	switch t {
	case PayloadSA:
		return parseSA(b)
	case PayloadKE:
		return parseKE(b)
	case PayloadIDi, PayloadIDr:
		return parseID(t == PayloadIDr, b)
	case PayloadCERT:
		if len(b) < 1 {
			return nil, ErrShort
		}
		return &Cert{Encoding: CertEncoding(b[0]), Data: b[1:]}, nil
	case PayloadCERTREQ:
		if len(b) < 1 {
			return nil, ErrShort
		}
		return &CertReq{Encoding: CertEncoding(b[0]), Data: b[1:]}, nil
	case PayloadAUTH:
		return parseAuth(b)
	case PayloadNonce:
		return parseNonce(b)
	case PayloadNotify:
		return parseNotify(b)
	case PayloadDelete:
		return parseDelete(b)
	case PayloadVendorID:
		return &VendorID{Data: b}, nil
	case PayloadTSi, PayloadTSr:
		return parseTS(t == PayloadTSr, b)
	case PayloadCP:
		return parseConfig(b)
	case PayloadEAP:
		return &EAP{Data: b}, nil
	}
	return nil, nil
}

// Append appends the encoded message to dst: the header with Length and
// Next Payload back-patched (m.Header's values for them are ignored), then
// the payloads. An *Encrypted or *Fragment payload must be last; its Body is
// copied as given (see AppendEncrypted to encrypt in place instead).
func (m *Message) Append(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = AppendHeader(dst, m.Header)
	first, dst, err := AppendPayloads(dst, m.Payloads)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start
	if uint64(n) > 0xffffffff {
		return dst[:start], ErrTooLong
	}
	dst[start+16] = byte(first)
	binary.BigEndian.PutUint32(dst[start+24:], uint32(n))
	return dst, nil
}

// AppendPayloads appends a payload chain to dst, back-patching every Payload
// Length and Next Payload field, and returns the type of the first payload
// (PayloadNone for an empty chain) for the header or the enclosing Encrypted
// payload. An *Encrypted or *Fragment payload may only be last. On error dst
// is returned unextended.
func AppendPayloads(dst []byte, ps []Payload) (first PayloadType, out []byte, err error) {
	start := len(dst)
	prev := -1 // offset of the previous generic header
	for i, p := range ps {
		t := p.Type()
		if (t == PayloadSK || t == PayloadSKF) && i != len(ps)-1 {
			return PayloadNone, dst[:start], perr(t, -1, ErrNotLast)
		}
		if prev < 0 {
			first = t
		} else {
			dst[prev] = byte(t)
		}
		hdr := len(dst)
		var flags byte
		var next PayloadType
		switch q := p.(type) {
		case *Unknown:
			if q.Critical {
				flags = criticalBit
			}
		case *Encrypted:
			next = q.NextPayload
		case *Fragment:
			next = q.NextPayload
		}
		dst = append(dst, byte(next), flags, 0, 0)
		dst, err = p.appendBody(dst)
		if err != nil {
			return PayloadNone, dst[:start], perr(t, -1, err)
		}
		n := len(dst) - hdr
		if n > 0xffff {
			return PayloadNone, dst[:start], perr(t, -1, ErrTooLong)
		}
		binary.BigEndian.PutUint16(dst[hdr+2:], uint16(n))
		prev = hdr
	}
	return first, dst, nil
}

// Unknown is a payload of a type this codec does not know. Parse keeps
// non-critical ones (the engine skips them, RFC 7296 Section 2.5) so that
// the chain re-encodes; Critical is only used when building.
type Unknown struct {
	PType    PayloadType
	Critical bool
	Data     []byte
}

// Type implements Payload.
func (p *Unknown) Type() PayloadType { return p.PType }

func (p *Unknown) appendBody(b []byte) ([]byte, error) { return append(b, p.Data...), nil }
