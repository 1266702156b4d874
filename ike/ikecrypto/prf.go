package ikecrypto

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
)

// PRF is one of the IKEv2 pseudorandom functions. A PRF value holds no key
// and is safe for concurrent use.
type PRF interface {
	// ID is the IANA transform ID.
	ID() uint16
	// Size is the output length in octets.
	Size() int
	// KeyLen is the preferred key length in octets: the length of SK_d,
	// SK_pi and SK_pr (RFC 7296, Section 2.14).
	KeyLen() int
	// Sum appends prf(key, data) to dst and returns the result. Keys of any
	// length are accepted (RFC 4434 Section 2, RFC 4615 Section 3).
	Sum(key, data, dst []byte) []byte
}

// ErrUnsupported reports a transform, group or algorithm this package does
// not implement.
var ErrUnsupported = errors.New("ikecrypto: unsupported transform")

// NewPRF returns the PRF for an IANA PRF transform ID.
func NewPRF(id uint16) (PRF, error) {
	switch id {
	case PRFHMACSHA256:
		return hmacPRF{id, sha256.New, sha256.Size}, nil
	case PRFHMACSHA384:
		return hmacPRF{id, sha512.New384, sha512.Size384}, nil
	case PRFHMACSHA512:
		return hmacPRF{id, sha512.New, sha512.Size}, nil
	case PRFAES128XCBC:
		return xcbcPRF{}, nil
	case PRFAES128CMAC:
		return cmacPRF{}, nil
	}
	return nil, ErrUnsupported
}

type hmacPRF struct {
	id   uint16
	h    func() hash.Hash
	size int
}

func (p hmacPRF) ID() uint16  { return p.id }
func (p hmacPRF) Size() int   { return p.size }
func (p hmacPRF) KeyLen() int { return p.size } // RFC 4868, Section 2.1.2
func (p hmacPRF) Sum(key, data, dst []byte) []byte {
	m := hmac.New(p.h, key)
	m.Write(data)
	return m.Sum(dst)
}

// xcbcPRF is AES-XCBC-PRF-128 (RFC 4434): AES-XCBC-MAC (RFC 3566) without
// the truncation to 96 bits, with variable-length keys.
type xcbcPRF struct{}

func (xcbcPRF) ID() uint16  { return PRFAES128XCBC }
func (xcbcPRF) Size() int   { return 16 }
func (xcbcPRF) KeyLen() int { return 16 }
func (xcbcPRF) Sum(key, data, dst []byte) []byte {
	var k [16]byte
	switch {
	case len(key) == 16:
		copy(k[:], key)
	case len(key) < 16:
		// RFC 4434, Section 2: pad on the right with zero bits.
		copy(k[:], key)
	default:
		// RFC 4434, Section 2: shorten with the all-zero key.
		var zero [16]byte
		copy(k[:], xcbcMAC(zero[:], key, nil))
	}
	return xcbcMAC(k[:], data, dst)
}

// xcbcMAC is AES-XCBC-MAC-96 of RFC 3566 Section 4 before the truncation.
func xcbcMAC(key, msg, dst []byte) []byte {
	c, _ := aes.NewCipher(key) // 16-octet key: cannot fail
	var k1, k2, k3 [16]byte
	for i := range 16 {
		k1[i], k2[i], k3[i] = 1, 2, 3
	}
	c.Encrypt(k1[:], k1[:])
	c.Encrypt(k2[:], k2[:])
	c.Encrypt(k3[:], k3[:])
	c1, _ := aes.NewCipher(k1[:])
	var e [16]byte
	for len(msg) > 16 {
		for i := range 16 {
			e[i] ^= msg[i]
		}
		c1.Encrypt(e[:], e[:])
		msg = msg[16:]
	}
	if len(msg) == 16 {
		for i := range 16 {
			e[i] ^= msg[i] ^ k2[i]
		}
	} else {
		// Incomplete (or empty) last block: pad with 0x80 00.. and use K3.
		var last [16]byte
		copy(last[:], msg)
		last[len(msg)] = 0x80
		for i := range 16 {
			e[i] ^= last[i] ^ k3[i]
		}
	}
	c1.Encrypt(e[:], e[:])
	return append(dst, e[:]...)
}

// cmacPRF is AES-CMAC-PRF-128 (RFC 4615) on AES-CMAC (RFC 4493).
type cmacPRF struct{}

func (cmacPRF) ID() uint16  { return PRFAES128CMAC }
func (cmacPRF) Size() int   { return 16 }
func (cmacPRF) KeyLen() int { return 16 }
func (cmacPRF) Sum(key, data, dst []byte) []byte {
	if len(key) != 16 {
		// RFC 4615, Section 3, step 1b: K = AES-CMAC(0^128, VK) for any
		// other length, shorter ones included.
		var zero [16]byte
		key = cmacMAC(zero[:], key, nil)
	}
	return cmacMAC(key, data, dst)
}

// dbl is the doubling in GF(2^128) of RFC 4493 Section 2.3.
func dbl(b *[16]byte) {
	carry := b[0] >> 7
	for i := range 15 {
		b[i] = b[i]<<1 | b[i+1]>>7
	}
	b[15] = b[15]<<1 ^ 0x87*carry
}

// cmacMAC is AES-CMAC of RFC 4493 Section 2.4.
func cmacMAC(key, msg, dst []byte) []byte {
	c, _ := aes.NewCipher(key)
	var k1 [16]byte
	c.Encrypt(k1[:], k1[:])
	dbl(&k1)
	k2 := k1
	dbl(&k2)
	var e [16]byte
	for len(msg) > 16 {
		for i := range 16 {
			e[i] ^= msg[i]
		}
		c.Encrypt(e[:], e[:])
		msg = msg[16:]
	}
	if len(msg) == 16 {
		for i := range 16 {
			e[i] ^= msg[i] ^ k1[i]
		}
	} else {
		var last [16]byte
		copy(last[:], msg)
		last[len(msg)] = 0x80
		for i := range 16 {
			e[i] ^= last[i] ^ k2[i]
		}
	}
	c.Encrypt(e[:], e[:])
	return append(dst, e[:]...)
}

// ErrPRFPlusTooLong reports a prf+ request beyond 255 iterations.
var ErrPRFPlusTooLong = errors.New("ikecrypto: prf+ output longer than 255 blocks")

// PRFPlus returns the first n octets of prf+(key, seed) of RFC 7296,
// Section 2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n).
func PRFPlus(prf PRF, key, seed []byte, n int) ([]byte, error) {
	if n < 0 {
		return nil, errors.New("ikecrypto: negative prf+ length")
	}
	// RFC 7296, Section 2.13: the counter is one octet, so at most 255
	// blocks can be produced.
	if n > 255*prf.Size() {
		return nil, ErrPRFPlusTooLong
	}
	out := make([]byte, 0, n+prf.Size())
	in := make([]byte, 0, prf.Size()+len(seed)+1)
	var t []byte
	for i := 1; len(out) < n; i++ {
		in = append(append(append(in[:0], t...), seed...), byte(i))
		start := len(out)
		out = prf.Sum(key, in, out)
		t = out[start:]
	}
	return out[:n:n], nil
}
