package ikecrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"testing"
)

func TestKeyLoading(t *testing.T) {
	for _, k := range signers(t) {
		privPEM, err := MarshalPrivateKeyPEM(k)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := ParsePrivateKeyPEM(append([]byte("comment\n"), privPEM...))
		if err != nil || !SamePublicKey(priv.Public(), k.Public()) {
			t.Fatalf("%T: private PEM: %v", k, err)
		}
		pubPEM, _ := MarshalPublicKeyPEM(k.Public())
		b64, _ := MarshalPublicKeyBase64(k.Public())
		der, _ := x509.MarshalPKIXPublicKey(k.Public())
		wrapped := b64[:10] + "\n  " + b64[10:] + "\n"
		for name, in := range map[string][]byte{"pem": pubPEM, "base64": []byte(b64), "wrapped base64": []byte(wrapped), "der": der} {
			pub, err := ParsePublicKey(in)
			if err != nil || !SamePublicKey(pub, k.Public()) {
				t.Errorf("%T %s: %v", k, name, err)
			}
		}
		id1, _ := PublicKeyID(k.Public())
		pub, _ := ParsePublicKeyBase64(b64)
		id2, _ := PublicKeyID(pub)
		if len(id1) != 32 || !bytes.Equal(id1, id2) {
			t.Errorf("%T: key IDs differ", k)
		}
	}
	// DER ending in an octet that looks like white space (a P-256 key
	// whose y ends in 0x20, searched for).
	for {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKIXPublicKey(k.Public())
		if der[len(der)-1] != ' ' {
			continue
		}
		if pub, err := ParsePublicKey(der); err != nil || !SamePublicKey(pub, k.Public()) {
			t.Errorf("DER ending in 0x20: %v", err)
		}
		break
	}
	// EC and RSA in their older PEM forms.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	if k, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})); err != nil || !SamePublicKey(k.Public(), ec.Public()) {
		t.Errorf("EC PRIVATE KEY: %v", err)
	}
	rk := signers(t)[4].(*rsa.PrivateKey)
	if k, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})); err != nil || !SamePublicKey(k.Public(), rk.Public()) {
		t.Errorf("RSA PRIVATE KEY: %v", err)
	}
	// Refused: garbage, a certificate block, a short RSA key, P-224.
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallDER, _ := x509.MarshalPKIXPublicKey(small.Public())
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p224DER, _ := x509.MarshalPKIXPublicKey(p224.Public())
	for name, in := range map[string][]byte{
		"garbage":   []byte("not a key"),
		"cert PEM":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		"rsa 1024":  []byte(base64.StdEncoding.EncodeToString(smallDER)),
		"p224":      p224DER,
		"truncated": smallDER[:20],
	} {
		if _, err := ParsePublicKey(in); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := ParsePrivateKeyPEM([]byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Error("private key from a public PEM")
	}
	if SamePublicKey(signers(t)[0].Public(), signers(t)[1].Public()) {
		t.Error("different keys compare equal")
	}
}

// FuzzParsePublicKey: arbitrary key text never panics, and a key that
// parses survives a base64 round trip.
func FuzzParsePublicKey(f *testing.F) {
	for _, v := range loadVectors(f) {
		if v.Auth.InitiatorKey != nil {
			f.Add([]byte(v.Auth.InitiatorKey.SPKI))
			f.Add([]byte(base64.StdEncoding.EncodeToString(v.Auth.InitiatorKey.SPKI)))
		}
	}
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAwVLActp+xgpFzTxucJtcGqRGX4O5YGOuBrSA9yEbtAY=\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePublicKey(data)
		if err != nil {
			return
		}
		s, err := MarshalPublicKeyBase64(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePublicKeyBase64(s)
		if err != nil || !SamePublicKey(k, k2) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
