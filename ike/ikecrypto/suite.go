package ikecrypto

import "errors"

// Suite names the transforms of an IKE SA or a Child SA by IANA number.
// For an AEAD cipher Integ is IntegNone. For ESP, PRF and Group are not used
// by the key length methods.
type Suite struct {
	Encr        uint16 // ENCR transform ID
	EncrKeyBits int    // Key Length attribute in bits; 0 when absent (ChaCha20-Poly1305)
	Integ       uint16 // INTEG transform ID; IntegNone with AEAD ciphers
	PRF         uint16 // PRF transform ID (IKE SAs only)
	Group       uint16 // key exchange method; GroupNone when absent
}

// AEADSaltLen is the salt that ends every AEAD key of this package: RFC 5282
// Section 7.1 (AES-GCM) and RFC 7634 Section 2 (ChaCha20-Poly1305).
const AEADSaltLen = 4

// EncrKeyLen returns the key length in octets of an encryption transform
// with its Key Length attribute, salt included for AEAD ciphers. The same
// lengths hold for SK_ei/SK_er and for ESP KEYMAT.
func EncrKeyLen(encr uint16, keyBits int) (int, error) {
	switch encr {
	case EncrAESCBC, EncrAESGCM16:
		switch keyBits {
		case 128, 192, 256:
		default:
			// RFC 5282 Section 8 and RFC 3602 Section 5: the Key Length
			// attribute is mandatory and must be one of the AES sizes.
			return 0, errors.New("ikecrypto: bad AES key length attribute")
		}
		if encr == EncrAESGCM16 {
			return keyBits/8 + AEADSaltLen, nil
		}
		return keyBits / 8, nil
	case EncrChaCha20Poly1305:
		// RFC 7634 Section 2: no Key Length attribute is allowed.
		if keyBits != 0 {
			return 0, errors.New("ikecrypto: ChaCha20-Poly1305 takes no key length attribute")
		}
		return 32 + AEADSaltLen, nil
	}
	return 0, ErrUnsupported
}

// IsAEAD reports whether encr is a combined-mode cipher.
func IsAEAD(encr uint16) bool {
	return encr == EncrAESGCM16 || encr == EncrChaCha20Poly1305
}

// IntegKeyLen returns the key length in octets of an integrity transform
// (RFC 4868 Section 2.1.1: the HMAC output length).
func IntegKeyLen(integ uint16) (int, error) {
	switch integ {
	case IntegNone:
		return 0, nil
	case IntegHMACSHA256_128:
		return 32, nil
	case IntegHMACSHA384_192:
		return 48, nil
	case IntegHMACSHA512_256:
		return 64, nil
	}
	return 0, ErrUnsupported
}

// IntegICVLen returns the truncated ICV length of an integrity transform
// (RFC 4868 Section 2.1.2: half the HMAC output).
func IntegICVLen(integ uint16) (int, error) {
	n, err := IntegKeyLen(integ)
	return n / 2, err
}

// AEAD reports whether the suite's cipher is a combined-mode cipher.
func (s Suite) AEAD() bool { return IsAEAD(s.Encr) }

// EncrKeyLen is EncrKeyLen(s.Encr, s.EncrKeyBits).
func (s Suite) EncrKeyLen() (int, error) { return EncrKeyLen(s.Encr, s.EncrKeyBits) }

// IntegKeyLen is IntegKeyLen(s.Integ).
func (s Suite) IntegKeyLen() (int, error) { return IntegKeyLen(s.Integ) }

// CheckESP reports whether the suite is a usable ESP cipher suite: a known
// cipher, with an integrity transform exactly when the cipher is not AEAD.
func (s Suite) CheckESP() error {
	if _, err := s.EncrKeyLen(); err != nil {
		return err
	}
	if _, err := s.IntegKeyLen(); err != nil {
		return err
	}
	// RFC 7296 Section 3.3.3 and RFC 5282 Section 8: AEAD ciphers come
	// without an integrity transform (or with NONE); others need one.
	if s.AEAD() != (s.Integ == IntegNone) {
		return errors.New("ikecrypto: integrity transform does not fit the cipher")
	}
	return nil
}

// CheckIKE reports whether the suite is a usable IKE SA suite: CheckESP plus
// a known PRF and a known key exchange method.
func (s Suite) CheckIKE() error {
	if err := s.CheckESP(); err != nil {
		return err
	}
	if _, err := NewPRF(s.PRF); err != nil {
		return err
	}
	if !KnownGroup(s.Group) {
		return ErrUnsupported
	}
	return nil
}
