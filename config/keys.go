package config

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Key checks. The daemon loads the keys itself; these checks make sure it
// will be able to, and that a private key is not left readable to others.

// checkKeyType accepts the key types RFC 7427 signatures are made with here:
// Ed25519 (RFC 8420), ECDSA P-256 and P-384, RSA of 2048 bits or more.
func checkKeyType(k any) error {
	switch k := k.(type) {
	case ed25519.PublicKey, ed25519.PrivateKey, *ed25519.PrivateKey:
		return nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
		return fmt.Errorf("ECDSA curve %s is not supported (P-256, P-384)", k.Curve.Params().Name)
	case *ecdsa.PrivateKey:
		return checkKeyType(&k.PublicKey)
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits is too short (at least 2048)", k.N.BitLen())
		}
		return nil
	case *rsa.PrivateKey:
		return checkKeyType(&k.PublicKey)
	}
	return fmt.Errorf("key type %T is not supported (Ed25519, ECDSA P-256/P-384, RSA)", k)
}

// checkPrivateKeyFile checks that path holds a PKCS#8 PEM private key that
// only its owner can read or write.
func checkPrivateKeyFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return errors.New(pathReason(err))
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("mode %04o gives group or others access to the private key (chmod 600)", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return errors.New(pathReason(err))
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return errors.New("not a PEM \"PRIVATE KEY\" (PKCS#8) file, as swanling genkey writes")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return errors.New("PKCS#8 key does not parse")
	}
	return checkKeyType(k)
}

func pathReason(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no such file"
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// inlineKey reports whether s is written as base64 rather than as a path:
// base64 of a DER SubjectPublicKeyInfo always starts with "MI" or "MC"
// (a SEQUENCE) and has no '.'.
func inlineKey(s string) bool {
	return (strings.HasPrefix(s, "MC") || strings.HasPrefix(s, "MI")) && !strings.ContainsAny(s, ". ")
}

// parsePublicKey reads a SubjectPublicKeyInfo (RFC 5280, Section 4.1.2.7)
// from base64 text or PEM "PUBLIC KEY" and returns its DER.
func parsePublicKey(data []byte) ([]byte, error) {
	var der []byte
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM %q is not a \"PUBLIC KEY\"", block.Type)
		}
		der = block.Bytes
	} else {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, errors.New("neither base64 nor PEM")
		}
		der = b
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a SubjectPublicKeyInfo public key")
	}
	if err := checkKeyType(k); err != nil {
		return nil, err
	}
	return der, nil
}
