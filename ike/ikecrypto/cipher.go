package ikecrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"sync/atomic"

	"golang.org/x/crypto/chacha20poly1305"
)

// Offsets and sizes of the IKE header and the Encrypted payloads.
const (
	IKEHeaderLen = 28 // RFC 7296, Section 3.1
	SKHeaderLen  = 4  // generic payload header of SK (RFC 7296, Section 3.14)
	SKFHeaderLen = 8  // SKF header with Fragment Number and Total Fragments (RFC 7383, Section 2.5)
)

// Errors of Seal and Open. ErrAuth is the one to count as "integrity check
// failed"; the others report malformed or unfitting input.
var (
	ErrAuth        = errors.New("ikecrypto: integrity check failed")
	ErrSKLayout    = errors.New("ikecrypto: bad Encrypted payload layout")
	ErrPadding     = errors.New("ikecrypto: bad padding")
	ErrIVExhausted = errors.New("ikecrypto: IV counter exhausted")
)

// Cipher protects the Encrypted (SK) payload in one direction of an IKE SA:
// build one with SK_ei/SK_ai for messages from the original initiator and
// one with SK_er/SK_ar for the other direction. Seal and Open work in place
// on the whole IKE message. They may be called from several goroutines if
// the random source allows concurrent reads (crypto/rand does).
type Cipher struct {
	aead  cipher.AEAD // AEAD suites
	salt  [AEADSaltLen]byte
	block cipher.Block // AES-CBC suites
	integ func() hash.Hash
	ikey  []byte
	icv   int
	iv    int
	rand  io.Reader
	mask  uint64        // AEAD: IV = counter XOR mask
	ctr   atomic.Uint64 // AEAD: number of IVs handed out
}

// NewCipher returns the SK payload protection for one direction. encrKey is
// SK_e (key then salt for AEAD suites), integKey is SK_a (empty for AEAD).
// rand supplies CBC IVs and the AEAD IV mask; nil means crypto/rand.
func NewCipher(s Suite, encrKey, integKey []byte, rnd io.Reader) (*Cipher, error) {
	if err := s.CheckESP(); err != nil {
		return nil, err
	}
	el, _ := s.EncrKeyLen()
	al, _ := s.IntegKeyLen()
	if len(encrKey) != el || len(integKey) != al {
		return nil, errors.New("ikecrypto: key length does not fit the suite")
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	c := &Cipher{rand: rnd}
	var err error
	switch s.Encr {
	case EncrAESGCM16:
		var b cipher.Block
		if b, err = aes.NewCipher(encrKey[:el-AEADSaltLen]); err == nil {
			// RFC 5282, Section 3: 16-octet ICV, 8-octet explicit IV.
			c.aead, err = cipher.NewGCM(b)
		}
	case EncrChaCha20Poly1305:
		c.aead, err = chacha20poly1305.New(encrKey[:el-AEADSaltLen])
	case EncrAESCBC:
		c.block, err = aes.NewCipher(encrKey)
	}
	if err != nil {
		return nil, err
	}
	if c.aead != nil {
		copy(c.salt[:], encrKey[el-AEADSaltLen:])
		c.iv, c.icv = 8, c.aead.Overhead()
		// RFC 5282, Section 3.1: the IV MUST NOT repeat for a key. A
		// counter guarantees it; the random mask only hides how many
		// messages were sent.
		var m [8]byte
		if _, err := io.ReadFull(rnd, m[:]); err != nil {
			return nil, err
		}
		c.mask = binary.BigEndian.Uint64(m[:])
		return c, nil
	}
	c.iv = aes.BlockSize
	c.icv, _ = IntegICVLen(s.Integ)
	c.ikey = append([]byte(nil), integKey...)
	switch s.Integ {
	case IntegHMACSHA256_128:
		c.integ = sha256.New
	case IntegHMACSHA384_192:
		c.integ = sha512.New384
	case IntegHMACSHA512_256:
		c.integ = sha512.New
	}
	return c, nil
}

// IVLen is the length of the IV at the start of the SK payload body.
func (c *Cipher) IVLen() int { return c.iv }

// ICVLen is the length of the Integrity Checksum Data at the end.
func (c *Cipher) ICVLen() int { return c.icv }

// PadLen returns the smallest pad length for plainLen octets of inner
// payloads: 0 for AEAD (RFC 5282 Section 3 needs no alignment), and for CBC
// enough to make plaintext, padding and the Pad Length octet a multiple of
// the block size (RFC 7296, Section 3.14).
func (c *Cipher) PadLen(plainLen int) int {
	if c.aead != nil {
		return 0
	}
	return (aes.BlockSize - (plainLen+1)%aes.BlockSize) % aes.BlockSize
}

// BodyLen returns the length of the SK payload body (IV, encrypted inner
// payloads, padding, Pad Length, ICV), without the generic payload header.
func (c *Cipher) BodyLen(plainLen, padLen int) int {
	return c.iv + plainLen + padLen + 1 + c.icv
}

// PlaintextOffset returns where the inner payloads start in a message whose
// SK payload starts at skOff: skOff + 4 + IVLen.
func (c *Cipher) PlaintextOffset(skOff int) int { return skOff + SKHeaderLen + c.iv }

// Seal protects an SK payload in place. msg is the whole IKE message,
// from the IKE header on, and the SK payload at skOff is its last payload:
// len(msg) == skOff + 4 + BodyLen(plainLen, PadLen(plainLen)). The IKE
// header Length and the SK payload Length must already be set (they are
// authenticated), and the plainLen octets of inner payloads must be at
// PlaintextOffset(skOff). Seal writes the IV, zero padding, the Pad Length,
// the ciphertext and the ICV.
func (c *Cipher) Seal(msg []byte, skOff, plainLen int) error {
	padLen := c.PadLen(plainLen)
	if err := c.checkLayout(msg, skOff, SKHeaderLen, plainLen, padLen); err != nil {
		return err
	}
	clear(msg[skOff+SKHeaderLen+c.iv+plainLen:][:padLen])
	return c.seal(msg, skOff, SKHeaderLen, plainLen, padLen, nil)
}

// SealWithIV is Seal with a chosen pad length and IV (nil: from the IV
// source as Seal does). The padLen padding octets are left as the caller put
// them in msg (RFC 7296 Section 3.14 lets them hold any value). It exists to
// reproduce recorded messages; with AEAD an IV must never be used twice
// under one key (RFC 5282, Section 3.1).
func (c *Cipher) SealWithIV(msg []byte, skOff, plainLen, padLen int, iv []byte) error {
	if err := c.checkLayout(msg, skOff, SKHeaderLen, plainLen, padLen); err != nil {
		return err
	}
	if iv != nil && len(iv) != c.iv {
		return ErrSKLayout
	}
	return c.seal(msg, skOff, SKHeaderLen, plainLen, padLen, iv)
}

// SealFragment is Seal for an Encrypted Fragment (SKF) payload at skfOff
// (RFC 7383, Section 2.5): its 8-octet header, Fragment Number and Total
// Fragments included, is authenticated like the SK header. The inner data
// starts at skfOff + 8 + IVLen.
func (c *Cipher) SealFragment(msg []byte, skfOff, plainLen int) error {
	padLen := c.PadLen(plainLen)
	if err := c.checkLayout(msg, skfOff, SKFHeaderLen, plainLen, padLen); err != nil {
		return err
	}
	clear(msg[skfOff+SKFHeaderLen+c.iv+plainLen:][:padLen])
	return c.seal(msg, skfOff, SKFHeaderLen, plainLen, padLen, nil)
}

func (c *Cipher) checkLayout(msg []byte, off, hdrLen, plainLen, padLen int) error {
	if off < IKEHeaderLen || plainLen < 0 || padLen < 0 || padLen > 255 {
		return ErrSKLayout
	}
	if c.aead == nil && (plainLen+padLen+1)%aes.BlockSize != 0 {
		return ErrPadding
	}
	if len(msg) != off+hdrLen+c.BodyLen(plainLen, padLen) {
		return ErrSKLayout
	}
	return c.checkLengths(msg, off)
}

// checkLengths verifies that the IKE header and the payload header at off
// describe msg, with the payload last: both are covered by the AAD or the
// ICV, so a mismatch would make the peer reject the message.
func (c *Cipher) checkLengths(msg []byte, off int) error {
	if len(msg) < off+4 || off < IKEHeaderLen || uint64(len(msg)) > 1<<32-1 {
		return ErrSKLayout
	}
	if int(binary.BigEndian.Uint32(msg[24:28])) != len(msg) ||
		int(binary.BigEndian.Uint16(msg[off+2:off+4])) != len(msg)-off {
		return ErrSKLayout
	}
	return nil
}

func (c *Cipher) seal(msg []byte, off, hdrLen, plainLen, padLen int, iv []byte) error {
	ivOff := off + hdrLen
	ptOff := ivOff + c.iv
	n := plainLen + padLen + 1
	msg[ptOff+n-1] = byte(padLen)
	if iv != nil {
		copy(msg[ivOff:ptOff], iv)
	} else if c.aead != nil {
		ctr := c.ctr.Add(1) - 1
		if ctr == ^uint64(0) {
			return ErrIVExhausted
		}
		binary.BigEndian.PutUint64(msg[ivOff:ptOff], ctr^c.mask)
	} else if _, err := io.ReadFull(c.rand, msg[ivOff:ptOff]); err != nil {
		return err
	}
	if c.aead != nil {
		// RFC 5282, Section 5: the AAD is the IKE header through the
		// payload header; the nonce is salt | IV (Section 4, RFC 7634
		// Section 2).
		var nonce [12]byte
		copy(nonce[:4], c.salt[:])
		copy(nonce[4:], msg[ivOff:ptOff])
		c.aead.Seal(msg[ptOff:ptOff], nonce[:], msg[ptOff:ptOff+n], msg[:ivOff])
		return nil
	}
	cipher.NewCBCEncrypter(c.block, msg[ivOff:ptOff]).CryptBlocks(msg[ptOff:ptOff+n], msg[ptOff:ptOff+n])
	// RFC 7296, Section 3.14: the ICV covers the message from the IKE
	// header to the end of the encrypted data.
	var sum [64]byte
	copy(msg[len(msg)-c.icv:], c.icvSum(sum[:0], msg[:len(msg)-c.icv]))
	return nil
}

// icvSum appends the truncated HMAC of data (RFC 4868, Section 2.1.2: the
// first half of the output) to dst.
func (c *Cipher) icvSum(dst, data []byte) []byte {
	m := hmac.New(c.integ, c.ikey)
	m.Write(data)
	return m.Sum(dst)[:len(dst)+c.icv]
}

// Open verifies and decrypts, in place, the SK payload at skOff, which must
// be the last payload of msg (the whole IKE message, header Length equal to
// len(msg)). It returns the inner payloads (a slice of msg, without padding
// and Pad Length) and the pad length. Integrity is checked before anything
// is decrypted; when it fails msg is left unchanged.
func (c *Cipher) Open(msg []byte, skOff int) (plain []byte, padLen int, err error) {
	return c.open(msg, skOff, SKHeaderLen)
}

// OpenFragment is Open for an Encrypted Fragment (SKF) payload (RFC 7383,
// Section 2.5).
func (c *Cipher) OpenFragment(msg []byte, skfOff int) (plain []byte, padLen int, err error) {
	return c.open(msg, skfOff, SKFHeaderLen)
}

func (c *Cipher) open(msg []byte, off, hdrLen int) ([]byte, int, error) {
	if err := c.checkLengths(msg, off); err != nil {
		return nil, 0, err
	}
	ivOff := off + hdrLen
	ptOff := ivOff + c.iv
	if len(msg) < ptOff+1+c.icv {
		return nil, 0, ErrSKLayout
	}
	var pt []byte
	if c.aead != nil {
		var nonce [12]byte
		copy(nonce[:4], c.salt[:])
		copy(nonce[4:], msg[ivOff:ptOff])
		// Decrypt into a fresh buffer: the AEADs zero their output on
		// failure, and a failed Open must leave msg as it came.
		p, err := c.aead.Open(nil, nonce[:], msg[ptOff:], msg[:ivOff])
		if err != nil {
			return nil, 0, ErrAuth
		}
		pt = msg[ptOff : ptOff+copy(msg[ptOff:], p)]
	} else {
		end := len(msg) - c.icv
		if (end-ptOff)%aes.BlockSize != 0 {
			return nil, 0, ErrSKLayout
		}
		// RFC 7296, Section 3.14: verify the ICV before decrypting;
		// compare in constant time.
		var sum [64]byte
		if subtle.ConstantTimeCompare(c.icvSum(sum[:0], msg[:end]), msg[end:]) != 1 {
			return nil, 0, ErrAuth
		}
		pt = msg[ptOff:end]
		cipher.NewCBCDecrypter(c.block, msg[ivOff:ptOff]).CryptBlocks(pt, pt)
	}
	padLen := int(pt[len(pt)-1])
	if padLen+1 > len(pt) {
		return nil, 0, ErrPadding
	}
	return pt[:len(pt)-1-padLen], padLen, nil
}

// NewIKECiphers returns the two Ciphers of an IKE SA for one side: send
// protects this side's messages (SK_ei/SK_ai for the original initiator,
// RFC 7296 Section 2.14) and recv opens the peer's.
func NewIKECiphers(s Suite, k Keys, initiator bool, rnd io.Reader) (send, recv *Cipher, err error) {
	ci, err := NewCipher(s, k.SKei, k.SKai, rnd)
	if err != nil {
		return nil, nil, err
	}
	cr, err := NewCipher(s, k.SKer, k.SKar, rnd)
	if err != nil {
		return nil, nil, err
	}
	if initiator {
		return ci, cr, nil
	}
	return cr, ci, nil
}
