package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// RFC 9373, Appendix A: the EdDSA IPSECKEY example and its private key.
func TestIPSECKEYEdDSAVectorRFC9373(t *testing.T) {
	seed, _ := hex.DecodeString("c7be71a45cbf87785f639dc4fd1c82637c21b5e02488939976ece32b9268d0b7")
	priv := ed25519.NewKeyFromSeed(seed)
	got, err := ipseckeyRDATA(10, gateway{typ: gwNone}, priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	const want = "10 0 4 . 3WTXgUvpn1RlCXnm80gGY2LZ/ErUUEZtZ33IDi8yfhM="
	if got != want {
		t.Errorf("IPSECKEY RDATA\n got %s\nwant %s", got, want)
	}
}

// RFC 4025, Section 3.2: the example RSA key field is an RFC 3110 key with
// exponent length 1, exponent 3. Rebuild it from its parts.
func TestRFC3110LayoutRFC4025Example(t *testing.T) {
	raw, err := base64.StdEncoding.DecodeString("AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==")
	if err != nil {
		t.Fatal(err)
	}
	k := &rsa.PublicKey{E: int(raw[1]), N: new(big.Int).SetBytes(raw[2:])}
	if raw[0] != 1 {
		t.Fatalf("example exponent length %d", raw[0])
	}
	if got := rfc3110Key(k); !bytes.Equal(got, raw) {
		t.Errorf("rfc3110Key = %x, want %x", got, raw)
	}
	rd, err := ipseckeyRDATA(10, mustGateway(t, "192.0.2.38"), k)
	if err != nil {
		t.Fatal(err)
	}
	if want := "10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="; rd != want {
		t.Errorf("RDATA %q, want %q", rd, want)
	}
}

// RFC 3110, Section 2: exponents longer than 255 octets use 0 + 2 octets.
func TestRFC3110LongExponent(t *testing.T) {
	// rsa.PublicKey.E is an int, so a >255-octet exponent cannot occur;
	// check the 65537 case and the encoding boundary of the length octet.
	k := &rsa.PublicKey{E: 65537, N: new(big.Int).Lsh(big.NewInt(1), 3071)}
	got := rfc3110Key(k)
	if got[0] != 3 || !bytes.Equal(got[1:4], []byte{1, 0, 1}) {
		t.Errorf("exponent part %x", got[:4])
	}
	if len(got) != 4+384 || got[4] == 0 {
		t.Errorf("modulus: len %d first %x", len(got)-4, got[4])
	}
}

func TestGenerateAndForms(t *testing.T) {
	for _, typ := range keyTypes {
		t.Run(typ, func(t *testing.T) {
			key, err := generateKey(typ, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "key.pem")
			if err := writeKeyFile(path, key); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", fi.Mode().Perm())
			}
			back, err := loadPrivateKey(path)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Fatal("key read back differs")
			}
			// Never overwrite.
			other, _ := generateKey(keyEd25519, rand.Reader)
			if err := writeKeyFile(path, other); err == nil || !strings.Contains(err.Error(), "not overwriting") {
				t.Errorf("overwrite: err = %v", err)
			}
			if again, _ := loadPrivateKey(path); !again.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Error("file changed by the refused overwrite")
			}

			// Config form: base64 SPKI parses back with x509.
			s, err := spkiBase64(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			der, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := x509.ParsePKIXPublicKey(der)
			if err != nil {
				t.Fatal(err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Error("SPKI round trip differs")
			}

			alg, kb, err := ipseckeyPublicKey(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			checkIPSECKEYKey(t, key.Public(), alg, kb)
		})
	}
}

// checkIPSECKEYKey decodes the key field the way a DNS client must and
// compares with the real key.
func checkIPSECKEYKey(t *testing.T, pub crypto.PublicKey, alg uint8, kb []byte) {
	t.Helper()
	switch k := pub.(type) {
	case ed25519.PublicKey:
		// RFC 9373 / RFC 8080, Section 3: raw 32 octets.
		if alg != 4 || len(kb) != 32 || !bytes.Equal(kb, k) {
			t.Errorf("EdDSA: alg %d len %d", alg, len(kb))
		}
	case *ecdsa.PublicKey:
		// RFC 6605, Section 4: x | y, 32 octets each for P-256.
		if alg != 3 || len(kb) != 64 {
			t.Fatalf("ECDSA: alg %d len %d", alg, len(kb))
		}
		x := new(big.Int).SetBytes(kb[:32])
		y := new(big.Int).SetBytes(kb[32:])
		if !(&ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}).Equal(k) {
			t.Error("ECDSA x|y does not match the key")
		}
	case *rsa.PublicKey:
		// RFC 3110, Section 2.
		if alg != 2 || len(kb) < 2 {
			t.Fatalf("RSA: alg %d len %d", alg, len(kb))
		}
		el := int(kb[0])
		off := 1
		if el == 0 {
			el = int(kb[1])<<8 | int(kb[2])
			off = 3
		}
		e := new(big.Int).SetBytes(kb[off : off+el])
		n := kb[off+el:]
		if kb[off] == 0 || n[0] == 0 {
			t.Error("leading zero octet in exponent or modulus")
		}
		if e.Int64() != int64(k.E) || new(big.Int).SetBytes(n).Cmp(k.N) != 0 {
			t.Error("RSA exponent/modulus do not match")
		}
		if len(n) != 384 {
			t.Errorf("RSA-3072 modulus is %d octets", len(n))
		}
	default:
		t.Fatalf("unexpected key %T", pub)
	}
}

func mustGateway(t *testing.T, s string) gateway {
	t.Helper()
	g, err := parseGateway(s)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGatewayForms(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public()
	key := base64.StdEncoding.EncodeToString(pub.(ed25519.PublicKey))
	tests := []struct {
		in        string
		rdata     string
		txt       string
		wantError bool
	}{
		{in: "", rdata: "10 0 4 . " + key, wantError: true},
		{in: "192.0.2.1", rdata: "10 1 4 192.0.2.1 " + key, txt: "X-IPsec-Server(10)=192.0.2.1 " + key},
		{in: "::ffff:192.0.2.1", rdata: "10 1 4 192.0.2.1 " + key, txt: "X-IPsec-Server(10)=192.0.2.1 " + key},
		{in: "2001:db8::1", rdata: "10 2 4 2001:db8::1 " + key, txt: "X-IPsec-Server(10)=2001:db8::1 " + key},
		{in: "@gw.example.net", rdata: "10 3 4 gw.example.net. " + key, txt: "X-IPsec-Server(10)=@gw.example.net " + key},
		{in: "gw.example.net.", rdata: "10 3 4 gw.example.net. " + key, txt: "X-IPsec-Server(10)=@gw.example.net " + key},
	}
	for _, tt := range tests {
		g := mustGateway(t, tt.in)
		rd, err := ipseckeyRDATA(10, g, pub)
		if err != nil || rd != tt.rdata {
			t.Errorf("%q: RDATA %q, %v; want %q", tt.in, rd, err, tt.rdata)
		}
		txt, err := txtRecord(10, g, pub)
		if tt.wantError {
			if err == nil {
				t.Errorf("%q: TXT without gateway accepted", tt.in)
			}
			continue
		}
		if err != nil || txt != tt.txt {
			t.Errorf("%q: TXT %q, %v; want %q", tt.in, txt, err, tt.txt)
		}
	}
	for _, bad := range []string{"-bad.example", "a..b", "fe80::1%eth0", "gw example", strings.Repeat("a", 64) + ".example"} {
		if _, err := parseGateway(bad); err == nil {
			t.Errorf("parseGateway(%q) accepted", bad)
		}
	}
}

// TXT character-strings are at most 255 octets (RFC 1035, Section 3.3.14).
func TestZoneTXTSplit(t *testing.T) {
	s := strings.Repeat("x", 600)
	got := zoneTXT(s)
	parts := strings.Split(got, " ")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	var joined string
	for _, p := range parts {
		p = strings.Trim(p, `"`)
		if len(p) > 255 {
			t.Errorf("part of %d octets", len(p))
		}
		joined += p
	}
	if joined != s {
		t.Error("parts do not join back")
	}
	if zoneTXT("short") != `"short"` {
		t.Error("short string quoted wrong")
	}
}

func TestParsePrivateKeyRejects(t *testing.T) {
	for _, in := range []string{"", "garbage", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} {
		if _, err := parsePrivateKey([]byte(in)); err == nil {
			t.Errorf("parsePrivateKey(%q) accepted", in)
		}
	}
}

func TestGenerateUnknownType(t *testing.T) {
	if _, err := generateKey("dsa-1024", rand.Reader); err == nil {
		t.Error("unknown key type accepted")
	}
	if _, _, err := ipseckeyPublicKey(&ecdsa.PublicKey{Curve: elliptic.P384()}); err == nil {
		t.Error("P-384 accepted for IPSECKEY algorithm 3 with P-256 layout")
	}
}

// FuzzParseGateway: never panics, and an accepted gateway prints in the
// IPSECKEY and TXT forms in a way that parses back to the same gateway.
func FuzzParseGateway(f *testing.F) {
	for _, s := range []string{"", ".", "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "@gw.example.net", "gw.example.net.", "fe80::1%eth0", "a..b", "-x"} {
		f.Add(s)
	}
	pub := ed25519.NewKeyFromSeed(make([]byte, 32)).Public()
	f.Fuzz(func(t *testing.T, s string) {
		g, err := parseGateway(s)
		if err != nil {
			return
		}
		rd, err := ipseckeyRDATA(10, g, pub)
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.Fields(rd)
		if len(fields) != 5 || fields[1] != strconv.Itoa(int(g.typ)) {
			t.Fatalf("%q: RDATA %q", s, rd)
		}
		back, err := parseGateway(fields[3])
		if err != nil || back != g {
			t.Fatalf("%q: gateway field %q parses to %+v, %v; want %+v", s, fields[3], back, err, g)
		}
		if g.typ == gwNone {
			return
		}
		txt, err := txtRecord(10, g, pub)
		if err != nil {
			t.Fatal(err)
		}
		gwText := strings.Fields(strings.TrimPrefix(txt, "X-IPsec-Server(10)="))[0]
		if back, err := parseGateway(gwText); err != nil || back != g {
			t.Fatalf("%q: TXT gateway %q parses to %+v, %v", s, gwText, back, err)
		}
	})
}

// FuzzParsePrivateKey: never panics; an accepted key encodes and parses
// back to the same key.
func FuzzParsePrivateKey(f *testing.F) {
	for _, typ := range []string{keyEd25519, keyECDSAP256} {
		k, _ := generateKey(typ, rand.Reader)
		b, _ := encodePrivateKey(k)
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parsePrivateKey(data)
		if err != nil {
			return
		}
		b, err := encodePrivateKey(k)
		if err != nil {
			return // a key x509 parses but will not write (e.g. an unusual curve)
		}
		k2, err := parsePrivateKey(b)
		if err != nil {
			t.Fatalf("re-encoded key refused: %v", err)
		}
		if !k2.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
			t.Fatal("round trip changed the key")
		}
	})
}
