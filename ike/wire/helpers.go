package wire

import (
	"encoding/binary"
	"strings"
)

// First returns the first payload of ps that has concrete type T, for
// example First[*Nonce](ps).
func First[T Payload](ps []Payload) (T, bool) {
	for _, p := range ps {
		if q, ok := p.(T); ok {
			return q, true
		}
	}
	var zero T
	return zero, false
}

// FindNotify returns the first Notify payload of type t in ps, or nil.
func FindNotify(ps []Payload, t NotifyType) *Notify {
	for _, p := range ps {
		if n, ok := p.(*Notify); ok && n.NotifyType == t {
			return n
		}
	}
	return nil
}

// KEGroup decodes the data of an INVALID_KE_PAYLOAD notification: the
// 2-octet group the responder wants (RFC 7296, Section 3.10.1).
func (n *Notify) KEGroup() (KEMethod, error) {
	if len(n.Data) != 2 {
		return 0, ErrLength
	}
	return KEMethod(binary.BigEndian.Uint16(n.Data)), nil
}

// InvalidKE returns the INVALID_KE_PAYLOAD notification that asks for group
// g (RFC 7296, Section 1.3).
func InvalidKE(g KEMethod) *Notify {
	return &Notify{NotifyType: NotifyInvalidKEPayload, Data: binary.BigEndian.AppendUint16(nil, uint16(g))}
}

// ParseHashAlgorithms decodes the data of a SIGNATURE_HASH_ALGORITHMS
// notification: a list of 2-octet hash algorithm identifiers (RFC 7427,
// Section 4).
func ParseHashAlgorithms(data []byte) ([]HashAlgorithm, error) {
	if len(data)%2 != 0 {
		return nil, ErrLength
	}
	out := make([]HashAlgorithm, len(data)/2)
	for i := range out {
		out[i] = HashAlgorithm(binary.BigEndian.Uint16(data[2*i:]))
	}
	return out, nil
}

// AppendHashAlgorithms appends the SIGNATURE_HASH_ALGORITHMS notification
// data for algs (RFC 7427, Section 4).
func AppendHashAlgorithms(dst []byte, algs ...HashAlgorithm) []byte {
	for _, a := range algs {
		dst = binary.BigEndian.AppendUint16(dst, uint16(a))
	}
	return dst
}

// Summary names the payloads of a chain for logs, in the notation of RFC
// 7296 with notify and delete details: "SA KE Nonce N(COOKIE) D(ESP) SK".
func Summary(ps []Payload) string {
	var sb strings.Builder
	for i, p := range ps {
		if i > 0 {
			sb.WriteByte(' ')
		}
		switch q := p.(type) {
		case *Notify:
			sb.WriteString("N(" + q.NotifyType.String() + ")")
		case *Delete:
			sb.WriteString("D(" + q.Protocol.String() + ")")
		default:
			sb.WriteString(p.Type().String())
		}
	}
	return sb.String()
}

// String summarizes the message for logs: the header and the outer chain.
func (m *Message) String() string {
	return m.Header.String() + " [" + Summary(m.Payloads) + "]"
}
