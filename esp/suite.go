package esp

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"

	"golang.org/x/crypto/chacha20poly1305"
)

// Suite is an ESP AEAD transform with a 16-octet ICV and an 8-octet explicit IV.
type Suite uint8

// Supported suites.
const (
	AES128GCM16      Suite = iota + 1 // ENCR_AES_GCM_16, 128-bit key (RFC 4106)
	AES192GCM16                       // ENCR_AES_GCM_16, 192-bit key (RFC 4106)
	AES256GCM16                       // ENCR_AES_GCM_16, 256-bit key (RFC 4106)
	ChaCha20Poly1305                  // ENCR_CHACHA20_POLY1305 (RFC 7634)
)

const (
	saltLen   = 4  // RFC 4106, Section 8.1; RFC 7634, Section 2
	ivLen     = 8  // RFC 4106, Section 3.1; RFC 7634, Section 2
	icvLen    = 16 // RFC 4106, Section 6 (ICV of 16 octets); RFC 7634, Section 2
	espHdrLen = 8  // SPI + sequence number, RFC 4303, Section 2
)

var errUnknownSuite = errors.New("esp: unknown algorithm")

// ParseSuite maps the config keywords "aes128gcm16", "aes192gcm16",
// "aes256gcm16" and "chacha20poly1305" to a Suite.
func ParseSuite(s string) (Suite, error) {
	switch s {
	case "aes128gcm16":
		return AES128GCM16, nil
	case "aes192gcm16":
		return AES192GCM16, nil
	case "aes256gcm16":
		return AES256GCM16, nil
	case "chacha20poly1305":
		return ChaCha20Poly1305, nil
	}
	return 0, errUnknownSuite
}

// String returns the config keyword of s.
func (s Suite) String() string {
	switch s {
	case AES128GCM16:
		return "aes128gcm16"
	case AES192GCM16:
		return "aes192gcm16"
	case AES256GCM16:
		return "aes256gcm16"
	case ChaCha20Poly1305:
		return "chacha20poly1305"
	}
	return "unknown"
}

// KeyLen is the length of the keying material for s: the cipher key followed
// by the 4-octet salt (RFC 4106, Section 8.1; RFC 7634, Section 4).
func (s Suite) KeyLen() int {
	switch s {
	case AES128GCM16:
		return 16 + saltLen
	case AES192GCM16:
		return 24 + saltLen
	case AES256GCM16:
		return 32 + saltLen
	case ChaCha20Poly1305:
		return chacha20poly1305.KeySize + saltLen
	}
	return 0
}

// newAEAD builds the AEAD for key (without the salt).
func (s Suite) newAEAD(key []byte) (cipher.AEAD, error) {
	switch s {
	case AES128GCM16, AES192GCM16, AES256GCM16:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		// RFC 4106, Section 3: a 12-octet nonce (salt || IV) and, for
		// ENCR_AES_GCM_16, a 16-octet ICV: the cipher.NewGCM defaults.
		return cipher.NewGCM(b)
	case ChaCha20Poly1305:
		return chacha20poly1305.New(key)
	}
	return nil, errUnknownSuite
}
