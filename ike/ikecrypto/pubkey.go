package ikecrypto

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
)

// MinRSABits is the smallest RSA modulus accepted for authentication
// (RFC 8247, Section 4.1 asks for at least 2048 bits).
const MinRSABits = 2048

var errKeyFormat = errors.New("ikecrypto: unrecognised key encoding")

// ParsePrivateKeyPEM reads a private key from PEM: "PRIVATE KEY" (PKCS#8,
// as `swanling genkey` and strongSwan's pki write), or the older "EC PRIVATE
// KEY" (SEC 1) and "RSA PRIVATE KEY" (PKCS#1) blocks. Only key types usable
// for RFC 7427 authentication are returned.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errKeyFormat
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, ErrUnsupported
		}
		if err := CheckPublicKey(s.Public()); err != nil {
			return nil, err
		}
		return s, nil
	}
}

// ParsePublicKey reads a public key in any of the forms a config may hold:
// PEM "PUBLIC KEY" (PKIX SubjectPublicKeyInfo), DER SubjectPublicKeyInfo,
// or base64 of the DER (the form `swanling genkey` prints).
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	// DER first, before any trimming: binary data may end in octets that
	// look like white space.
	if len(data) > 0 && data[0] == 0x30 {
		if k, err := parseSPKI(data); err == nil {
			return k, nil
		}
	}
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "PUBLIC KEY" {
			return nil, errKeyFormat
		}
		return parseSPKI(b.Bytes)
	}
	return ParsePublicKeyBase64(string(data))
}

// ParsePublicKeyBase64 reads the standard base64 of a DER
// SubjectPublicKeyInfo; white space inside is ignored.
func ParsePublicKeyBase64(s string) (crypto.PublicKey, error) {
	s = string(bytes.Join(bytes.Fields([]byte(s)), nil))
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errKeyFormat
	}
	return parseSPKI(der)
}

func parseSPKI(der []byte) (crypto.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errKeyFormat
	}
	if err := CheckPublicKey(k); err != nil {
		return nil, err
	}
	return k, nil
}

// CheckPublicKey accepts the key types this package can verify with:
// Ed25519, ECDSA on P-256/P-384/P-521 and RSA of at least MinRSABits.
func CheckPublicKey(pub crypto.PublicKey) error {
	if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() < MinRSABits {
		return errors.New("ikecrypto: RSA key too short")
	}
	if len(SigAlgsFor(pub)) == 0 {
		return ErrUnsupported
	}
	return nil
}

// MarshalPublicKeyBase64 returns the base64 DER SubjectPublicKeyInfo of a
// public key, the inverse of ParsePublicKeyBase64.
func MarshalPublicKeyBase64(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// MarshalPublicKeyPEM returns a "PUBLIC KEY" PEM block.
func MarshalPublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// MarshalPrivateKeyPEM returns a PKCS#8 "PRIVATE KEY" PEM block.
func MarshalPrivateKeyPEM(priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// PublicKeyID returns SHA-256 over the DER SubjectPublicKeyInfo: a stable
// identifier for a raw public key (for an ID_KEY_ID, logs or a key table).
func PublicKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	s := sha256.Sum256(der)
	return s[:], nil
}

// SamePublicKey reports whether two public keys are equal.
func SamePublicKey(a, b crypto.PublicKey) bool {
	switch k := a.(type) {
	case ed25519.PublicKey:
		return k.Equal(b)
	case *ecdsa.PublicKey:
		return k.Equal(b)
	case *rsa.PublicKey:
		return k.Equal(b)
	}
	return false
}
