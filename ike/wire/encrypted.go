package wire

import (
	"encoding/binary"
	"slices"
)

// Encrypted is the Encrypted and Authenticated payload, SK (RFC 7296,
// Section 3.14). The codec does not decrypt: Body is IV | ciphertext | ICV,
// and Split cuts it given the cipher's IV and ICV lengths.
type Encrypted struct {
	NextPayload PayloadType // type of the first payload inside
	Body        []byte      // IV | encrypted content (with padding) | ICV
}

// Fragment is the Encrypted and Authenticated Fragment payload, SKF
// (RFC 7383, Section 2.5).
type Fragment struct {
	NextPayload PayloadType // first inner payload in fragment 1, else 0
	Number      uint16      // Fragment Number, from 1
	Total       uint16      // Total Fragments
	Body        []byte      // IV | encrypted content (with padding) | ICV
}

const fragHdrLen = 4 // Fragment Number and Total Fragments

// Type implements Payload.
func (p *Encrypted) Type() PayloadType { return PayloadSK }

// Type implements Payload.
func (p *Fragment) Type() PayloadType { return PayloadSKF }

func (p *Encrypted) appendBody(b []byte) ([]byte, error) { return append(b, p.Body...), nil }

func (p *Fragment) appendBody(b []byte) ([]byte, error) {
	if err := checkFragment(p.Number, p.Total); err != nil {
		return b, err
	}
	b = binary.BigEndian.AppendUint16(b, p.Number)
	b = binary.BigEndian.AppendUint16(b, p.Total)
	return append(b, p.Body...), nil
}

func parseFragment(next PayloadType, b []byte) (*Fragment, error) {
	if len(b) < fragHdrLen {
		return nil, ErrShort
	}
	f := &Fragment{
		NextPayload: next,
		Number:      binary.BigEndian.Uint16(b),
		Total:       binary.BigEndian.Uint16(b[2:]),
		Body:        b[fragHdrLen:],
	}
	if err := checkFragment(f.Number, f.Total); err != nil {
		return nil, err
	}
	return f, nil
}

// checkFragment applies RFC 7383, Section 2.6: both fields are non-zero and
// the number does not exceed the total. (The RFC says to discard such a
// message silently; the engine does that on a *PayloadError for SKF.)
func checkFragment(num, total uint16) error {
	if num == 0 || total == 0 || num > total {
		return ErrSyntax
	}
	return nil
}

// Split cuts Body into IV, encrypted content and ICV.
func (p *Encrypted) Split(ivLen, icvLen int) (iv, ct, icv []byte, err error) {
	return splitBody(p.Body, ivLen, icvLen)
}

// Split cuts Body into IV, encrypted content and ICV.
func (p *Fragment) Split(ivLen, icvLen int) (iv, ct, icv []byte, err error) {
	return splitBody(p.Body, ivLen, icvLen)
}

func splitBody(b []byte, ivLen, icvLen int) (iv, ct, icv []byte, err error) {
	// At least the Pad Length octet is encrypted (RFC 7296, Section 3.14).
	if ivLen < 0 || icvLen < 0 || len(b) < ivLen+icvLen+1 {
		return nil, nil, nil, ErrShort
	}
	return b[:ivLen], b[ivLen : len(b)-icvLen], b[len(b)-icvLen:], nil
}

// EncryptedParts locates the protected parts of a received encrypted
// message. Every slice aliases the message.
type EncryptedParts struct {
	Type        PayloadType // PayloadSK or PayloadSKF
	NextPayload PayloadType // Next Payload of the SK/SKF payload: the first inner payload
	Number      uint16      // SKF only: Fragment Number
	Total       uint16      // SKF only: Total Fragments
	// AAD is the message from the IKE header up to the IV: the IKE header,
	// any payloads before the encrypted one and its header (with the
	// fragment fields for SKF). It is the AEAD associated data (RFC 5282,
	// Section 5.1).
	AAD        []byte
	IV         []byte
	Ciphertext []byte // encrypted content, padding and Pad Length included
	ICV        []byte
	// Signed is the message up to the ICV: what the integrity transform of
	// a non-AEAD cipher covers (RFC 7296, Section 3.14).
	Signed []byte
}

// SplitEncrypted finds the SK or SKF payload of the whole message msg
// (header included) and cuts it with the cipher's IV and ICV lengths. It
// walks only the generic payload headers, checking them as Parse does, and
// allocates nothing.
func SplitEncrypted(msg []byte, ivLen, icvLen int) (EncryptedParts, error) {
	var ep EncryptedParts
	h, err := ParseHeader(msg)
	if err != nil {
		return ep, err
	}
	next := h.NextPayload
	off := HeaderLen
	for {
		t := next
		if t == PayloadNone {
			return ep, perr(PayloadSK, -1, ErrShort)
		}
		if len(msg)-off < genericLen {
			return ep, perr(t, off, ErrShort)
		}
		next = PayloadType(msg[off])
		plen := int(binary.BigEndian.Uint16(msg[off+2:]))
		if plen < genericLen || plen > len(msg)-off {
			return ep, perr(t, off, ErrLength)
		}
		if t != PayloadSK && t != PayloadSKF {
			off += plen
			continue
		}
		if off+plen != len(msg) {
			return ep, perr(t, off, ErrNotLast)
		}
		ep.Type, ep.NextPayload = t, next
		body := off + genericLen
		if t == PayloadSKF {
			if plen < genericLen+fragHdrLen {
				return ep, perr(t, off, ErrShort)
			}
			ep.Number = binary.BigEndian.Uint16(msg[body:])
			ep.Total = binary.BigEndian.Uint16(msg[body+2:])
			if err := checkFragment(ep.Number, ep.Total); err != nil {
				return ep, perr(t, off, err)
			}
			body += fragHdrLen
		}
		iv, ct, icv, err := splitBody(msg[body:], ivLen, icvLen)
		if err != nil {
			return ep, perr(t, off, err)
		}
		ep.AAD = msg[:body]
		ep.IV, ep.Ciphertext, ep.ICV = iv, ct, icv
		ep.Signed = msg[:len(msg)-icvLen]
		return ep, nil
	}
}

// AppendEncrypted appends an encrypted message whose only payload is SK:
// the header (NextPayload = SK, Length final) and the SK generic header
// (Next Payload = innerFirst, Payload Length final), then reserves ivLen +
// plaintextLen + icvLen zero octets. The caller then writes the IV to
// msg[ivOff:ctOff], the ciphertext of the padded plaintext to
// msg[ctOff:icvOff] and the ICV to msg[icvOff:]. The message starts at
// len(dst); the offsets index msg, so the AEAD associated data is
// msg[len(dst):ivOff] (RFC 5282, Section 5.1) and a non-AEAD ICV covers
// msg[len(dst):icvOff] (RFC 7296, Section 3.14). h.NextPayload and h.Length
// are ignored.
func AppendEncrypted(dst []byte, h Header, innerFirst PayloadType, ivLen, plaintextLen, icvLen int) (msg []byte, ivOff, ctOff, icvOff int, err error) {
	return appendProtected(dst, h, PayloadSK, innerFirst, 0, 0, ivLen, plaintextLen, icvLen)
}

// AppendFragment is AppendEncrypted for one fragment of a fragmented
// message (RFC 7383, Section 2.5): the payload is SKF with the given
// Fragment Number and Total Fragments, and innerFirst must be PayloadNone
// for every fragment but the first. The associated data msg[len(dst):ivOff]
// includes the fragment fields.
func AppendFragment(dst []byte, h Header, innerFirst PayloadType, number, total uint16, ivLen, plaintextLen, icvLen int) (msg []byte, ivOff, ctOff, icvOff int, err error) {
	if err := checkFragment(number, total); err != nil {
		return dst, 0, 0, 0, perr(PayloadSKF, -1, err)
	}
	return appendProtected(dst, h, PayloadSKF, innerFirst, number, total, ivLen, plaintextLen, icvLen)
}

func appendProtected(dst []byte, h Header, t, innerFirst PayloadType, number, total uint16, ivLen, ptLen, icvLen int) ([]byte, int, int, int, error) {
	if ivLen < 0 || ptLen < 1 || icvLen < 0 {
		return dst, 0, 0, 0, perr(t, -1, ErrShort)
	}
	hdrLen := genericLen
	if t == PayloadSKF {
		hdrLen += fragHdrLen
	}
	plen := hdrLen + ivLen + ptLen + icvLen
	if plen > 0xffff {
		return dst, 0, 0, 0, perr(t, -1, ErrTooLong)
	}
	h.NextPayload = t
	h.Length = uint32(HeaderLen + plen)
	dst = AppendHeader(dst, h)
	dst = append(dst, byte(innerFirst), 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(plen))
	if t == PayloadSKF {
		dst = binary.BigEndian.AppendUint16(dst, number)
		dst = binary.BigEndian.AppendUint16(dst, total)
	}
	ivOff := len(dst)
	n := ivLen + ptLen + icvLen
	dst = slices.Grow(dst, n)
	dst = dst[:ivOff+n]
	clear(dst[ivOff:])
	return dst, ivOff, ivOff + ivLen, ivOff + ivLen + ptLen, nil
}

// StripPadding removes the padding and the Pad Length octet from a
// decrypted SK or SKF content (RFC 7296, Section 3.14), returning the inner
// payload chain. The padding octets' values are not checked: the RFC lets
// them be arbitrary.
func StripPadding(plaintext []byte) ([]byte, error) {
	if len(plaintext) == 0 {
		return nil, ErrPadding
	}
	pad := int(plaintext[len(plaintext)-1])
	if pad+1 > len(plaintext) {
		return nil, ErrPadding
	}
	return plaintext[:len(plaintext)-1-pad], nil
}

// AppendPadding pads inner (a whole inner payload chain) with zero octets
// and the Pad Length octet so that its length is a multiple of blockSize
// (RFC 7296, Section 3.14). blockSize <= 1 adds the Pad Length octet only,
// as AEAD ciphers need (RFC 5282, Section 3). blockSize must not exceed
// 256, the largest padding the Pad Length octet can express.
func AppendPadding(inner []byte, blockSize int) []byte {
	pad := 0
	if blockSize > 1 {
		pad = (blockSize - (len(inner)+1)%blockSize) % blockSize
	}
	for range pad {
		inner = append(inner, 0)
	}
	return append(inner, byte(pad))
}
