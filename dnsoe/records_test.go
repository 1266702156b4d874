package dnsoe

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // algorithm 1 is DSA
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// rfc4025Key is the RSA key of the examples in RFC 4025, Section 3.2.
const rfc4025Key = "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ=="

func b64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRSAKeyRFC4025(t *testing.T) {
	k, err := ParseRSAKey(b64(t, rfc4025Key))
	if err != nil {
		t.Fatal(err)
	}
	if k.E != 3 {
		t.Errorf("E = %d", k.E)
	}
	want, _ := new(big.Int).SetString("51537986ed35533b6064478eeeb27b5bd74dae149b6e81ba3a0521af82ab7801", 16)
	if k.N.Cmp(want) != 0 {
		t.Errorf("N = %x", k.N)
	}
	if got := AppendRSAKey(nil, k); !bytes.Equal(got, b64(t, rfc4025Key)) {
		t.Errorf("re-encoded %x", got)
	}
	// Long exponent form: zero octet, two-octet length (RFC 3110, Section 2).
	long := append([]byte{0, 0, 3, 1, 0, 1}, 0xC5, 0x01)
	if k, err := ParseRSAKey(long); err != nil || k.E != 65537 {
		t.Errorf("long form: %v %v", k, err)
	}
	for _, bad := range [][]byte{nil, {0}, {0, 0, 0}, {1, 3}, {1, 0, 5}, {1, 3, 0, 5}, {1, 4, 5}, {5, 1, 1, 1, 1, 1, 9}} {
		if _, err := ParseRSAKey(bad); err == nil {
			t.Errorf("ParseRSAKey(%x) accepted", bad)
		}
	}
}

type testKeys struct {
	rsaKey  *rsa.PublicKey
	rsaRaw  []byte
	p256    *ecdsa.PublicKey
	p256Raw []byte
	p384    *ecdsa.PublicKey
	p384Raw []byte
	ed      ed25519.PublicKey
	dsaRaw  []byte
}

func makeKeys(t testing.TB) testKeys {
	var k testKeys
	k.rsaKey = &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(0xC5A1), 2030), E: 65537}
	k.rsaKey.N.Add(k.rsaKey.N, big.NewInt(1))
	k.rsaRaw = AppendRSAKey(nil, k.rsaKey)
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		priv, err := ecdsa.GenerateKey(c, rand.Reader)
		must(t, err)
		raw, err := priv.PublicKey.Bytes()
		must(t, err)
		if c == elliptic.P256() {
			k.p256, k.p256Raw = &priv.PublicKey, raw[1:]
		} else {
			k.p384, k.p384Raw = &priv.PublicKey, raw[1:]
		}
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	k.ed = pub
	// RFC 2536 layout with T = 0: T, Q (20), P, G, Y (64 each).
	k.dsaRaw = append([]byte{0}, bytes.Repeat([]byte{7}, 20+3*64)...)
	return k
}

func TestIPSECKEY(t *testing.T) {
	keys := makeKeys(t)
	type want struct {
		gwType uint8
		gw     string
		name   string
		keyOK  func(any) bool
	}
	isRSA := func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.Equal(keys.rsaKey) }
	for _, tc := range []struct {
		name  string
		rdata []byte
		want  want
		alg   uint8
	}{
		{"RFC 4025 type 1 RSA", append(unhex(t, "0a 01 02 c0000226"), b64(t, rfc4025Key)...),
			want{GatewayIPv4, "192.0.2.38", "", func(k any) bool { _, ok := k.(*rsa.PublicKey); return ok }}, 2},
		{"RFC 4025 type 0 RSA", append(unhex(t, "0a 00 02"), b64(t, rfc4025Key)...),
			want{GatewayNone, "", "", func(k any) bool { _, ok := k.(*rsa.PublicKey); return ok }}, 2},
		{"RFC 4025 type 3 RSA", append(unhex(t, "0a 03 02 096d7967617465776179076578616d706c6503636f6d00"), b64(t, rfc4025Key)...),
			want{GatewayName, "", "mygateway.example.com.", func(k any) bool { _, ok := k.(*rsa.PublicKey); return ok }}, 2},
		{"RFC 4025 type 2 RSA", append(unhex(t, "0a 02 02 20010db8000080020000000020000001"), b64(t, rfc4025Key)...),
			want{GatewayIPv6, "2001:db8:0:8002::2000:1", "", func(k any) bool { _, ok := k.(*rsa.PublicKey); return ok }}, 2},
		{"type 1 no key (AUTH_NULL)", unhex(t, "0a 01 00 c0000217"),
			want{GatewayIPv4, "192.0.2.23", "", func(k any) bool { return k == nil }}, 0},
		{"type 2 no key", unhex(t, "05 02 00 20010db8000000000000000000000001"),
			want{GatewayIPv6, "2001:db8::1", "", func(k any) bool { return k == nil }}, 0},
		{"type 3 no key", unhex(t, "05 03 00 026777076578616d706c6500"),
			want{GatewayName, "", "gw.example.", func(k any) bool { return k == nil }}, 0},
		{"type 0 no key", unhex(t, "05 00 00"),
			want{GatewayNone, "", "", func(k any) bool { return k == nil }}, 0},
		{"type 1 RSA", append(unhex(t, "0a 01 02 c0000201"), keys.rsaRaw...), want{GatewayIPv4, "192.0.2.1", "", isRSA}, 2},
		{"type 1 DSA", append(unhex(t, "0a 01 01 c0000201"), keys.dsaRaw...),
			want{GatewayIPv4, "192.0.2.1", "", func(k any) bool { d, ok := k.(*dsa.PublicKey); return ok && d.Y.Sign() > 0 }}, 1},
		{"type 2 ECDSA P-256", append(unhex(t, "0a 02 03 20010db8000000000000000000000001"), keys.p256Raw...),
			want{GatewayIPv6, "2001:db8::1", "", func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Equal(keys.p256) }}, 3},
		{"type 3 ECDSA P-384", append(unhex(t, "0a 03 03 026777076578616d706c6500"), keys.p384Raw...),
			want{GatewayName, "", "gw.example.", func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Equal(keys.p384) }}, 3},
		{"type 0 EdDSA", append(unhex(t, "0a 00 04"), keys.ed...),
			want{GatewayNone, "", "", func(k any) bool { e, ok := k.(ed25519.PublicKey); return ok && e.Equal(keys.ed) }}, 4},
	} {
		k, err := ParseIPSECKEY(tc.rdata)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if k.GatewayType != tc.want.gwType || k.Algorithm != tc.alg {
			t.Errorf("%s: type %d alg %d", tc.name, k.GatewayType, k.Algorithm)
		}
		if tc.want.gw != "" && k.Gateway != netip.MustParseAddr(tc.want.gw) {
			t.Errorf("%s: gateway %v", tc.name, k.Gateway)
		}
		if tc.want.gw == "" && k.Gateway.IsValid() {
			t.Errorf("%s: unexpected gateway address %v", tc.name, k.Gateway)
		}
		if tc.want.name != "" && k.GatewayName.String() != tc.want.name {
			t.Errorf("%s: gateway name %v", tc.name, k.GatewayName)
		}
		pk, err := k.Key()
		if err != nil || !tc.want.keyOK(pk) {
			t.Errorf("%s: key %T %v", tc.name, pk, err)
		}
		// Round trip through the builder form.
		out, err := k.AppendRData(nil)
		if err != nil || !bytes.Equal(out, tc.rdata) {
			t.Errorf("%s: re-encoded %x, %v", tc.name, out, err)
		}
	}
}

func TestIPSECKEYErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rdata string
		err   error
		keyEr error
	}{
		{"empty", "", ErrRDataLength, nil},
		{"short header", "0a01", ErrRDataLength, nil},
		{"short IPv4", "0a0100c00002", ErrRDataLength, nil},
		{"short IPv6", "0a020020010db8", ErrRDataLength, nil},
		{"compressed name", "0a0300c00c", ErrCompressed, nil},
		{"unterminated name", "0a030003616263", ErrRDataLength, nil},
		{"gateway type 4", "0a0402c0000201", ErrGatewayType, nil},
		{"alg 0 with key", "0a0000 0103", ErrRDataLength, nil},
		{"EdDSA wrong size", "0a0004 0102", nil, ErrBadKey},
		{"Ed448", "0a0004" + strings.Repeat("11", 57), nil, ErrUnsupportedKey},
		{"ECDSA not on curve", "0a0003" + strings.Repeat("11", 64), nil, ErrBadKey},
		{"ECDSA wrong size", "0a0003" + strings.Repeat("11", 65), nil, ErrBadKey},
		{"DSA wrong size", "0a0001 00 1122", nil, ErrBadKey},
		{"unknown alg", "0a0007 0102", nil, ErrUnsupportedKey},
	} {
		k, err := ParseIPSECKEY(unhex(t, tc.rdata))
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if _, err := k.Key(); !errors.Is(err, tc.keyEr) {
			t.Errorf("%s: Key err %v, want %v", tc.name, err, tc.keyEr)
		}
	}
}

func TestIPsecServer(t *testing.T) {
	keys := makeKeys(t)
	rsaB64 := base64.StdEncoding.EncodeToString(keys.rsaRaw)
	split := rsaB64[:20] + "\n  " + rsaB64[20:50] + "\t" + rsaB64[50:]
	for _, tc := range []struct {
		txt    string
		prec   uint16
		gw     string
		fqdn   string
		hasKey bool
		lists  bool
		err    error
	}{
		{"X-IPsec-Server(10)=192.0.2.5 " + rsaB64, 10, "192.0.2.5", "", true, false, nil},
		{"X-IPsec-Server(10)=192.0.2.5", 10, "192.0.2.5", "", false, false, nil},
		{"x-ipsec-server(0)=2001:db8::5 " + split, 0, "2001:db8::5", "", true, false, nil},
		{"X-IPsec-Server(65535)=@gw.example.com " + rsaB64, 65535, "", "gw.example.com.", true, false, nil},
		{"X-IPsec-Server(7)=@gw.example.com", 7, "", "gw.example.com.", false, false, nil},
		{"X-IPsec-Server(7)=192.0.2.5 ENCR_AES_CBC-256,ENCR_3DES-\n128;AUTH_HMAC_SHA2_512_256;MODP3072,MODP2048;" + rsaB64, 7, "192.0.2.5", "", true, true, nil},
		{"v=spf1 -all", 0, "", "", false, false, ErrNotIPsecServer},
		{"X-IPsec-Server", 0, "", "", false, false, ErrNotIPsecServer},
		{"X-IPsec-Server()=192.0.2.5", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(65536)=192.0.2.5", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)192.0.2.5", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)=", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)=192.0.2.300", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)=fe80::1%eth0", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)=@", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)=@a..b", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)=192.0.2.5 !!!", 0, "", "", false, false, ErrBadIPsecServer},
		{"X-IPsec-Server(1)=192.0.2.5 a;b;c;", 0, "", "", false, false, ErrBadAutoSEC},
	} {
		s, err := ParseIPsecServer(tc.txt)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: err %v, want %v", tc.txt, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if s.Precedence != tc.prec {
			t.Errorf("%q: precedence %d", tc.txt, s.Precedence)
		}
		if tc.gw != "" && s.Gateway != netip.MustParseAddr(tc.gw) || tc.gw == "" && s.Gateway.IsValid() {
			t.Errorf("%q: gateway %v", tc.txt, s.Gateway)
		}
		if s.HasFQDN != (tc.fqdn != "") || tc.fqdn != "" && s.FQDN.String() != tc.fqdn {
			t.Errorf("%q: fqdn %v %v", tc.txt, s.HasFQDN, s.FQDN)
		}
		pk, err := s.PublicKey()
		if tc.hasKey {
			if r, ok := pk.(*rsa.PublicKey); err != nil || !ok || !r.Equal(keys.rsaKey) {
				t.Errorf("%q: key %T %v", tc.txt, pk, err)
			}
		} else if pk != nil || err != nil {
			t.Errorf("%q: unexpected key %T %v", tc.txt, pk, err)
		}
		if (s.AutoSEC != nil) != tc.lists {
			t.Errorf("%q: AutoSEC %v", tc.txt, s.AutoSEC)
		}
		if tc.lists && !reflect.DeepEqual(s.AutoSEC.Ciphers, []string{"ENCR_AES_CBC-256", "ENCR_3DES-128"}) {
			t.Errorf("%q: ciphers %v", tc.txt, s.AutoSEC.Ciphers)
		}
		// Round trip through the text form.
		s2, err := ParseIPsecServer(s.String())
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Errorf("%q: round trip %q: %+v %v", tc.txt, s.String(), s2, err)
		}
	}
}

// TestIPsecServerKeyForms checks our extension of the TXT key field: the
// raw IPSECKEY encodings of Ed25519 and ECDSA keys that "swanling genkey"
// prints, told apart by length, next to RFC 3110 RSA.
func TestIPsecServerKeyForms(t *testing.T) {
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(k *ecdsa.PublicKey) []byte {
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b[1:] // x || y without the 0x04 prefix
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		name string
		key  []byte
		want interface{ Equal(crypto.PublicKey) bool }
		err  error
	}{
		{"ed25519", edPub, edPub, nil},
		{"p256", raw(&p256.PublicKey), &p256.PublicKey, nil},
		{"p384", raw(&p384.PublicKey), &p384.PublicKey, nil},
		{"rsa", AppendRSAKey(nil, &rsaKey.PublicKey), &rsaKey.PublicKey, nil},
		{"p256 off the curve", make([]byte, 64), nil, ErrBadKey},
		{"33 octets", append([]byte{3, 1, 0, 1}, make([]byte, 29)...), nil, ErrBadKey},
	} {
		txt := "X-IPsec-Server(10)=192.0.2.2 " + base64.StdEncoding.EncodeToString(tc.key)
		r, err := ParseIPsecServer(txt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		pk, err := r.PublicKey()
		if tc.err != nil {
			if !errors.Is(err, tc.err) || pk != nil {
				t.Errorf("%s: key %T, err %v, want %v", tc.name, pk, err, tc.err)
			}
			continue
		}
		if err != nil || !tc.want.Equal(pk) {
			t.Errorf("%s: key %T %v", tc.name, pk, err)
		}
		// The same bytes published as an IPSECKEY give the same key.
		alg := map[string]uint8{"ed25519": IPSECKEYAlgEdDSA, "p256": IPSECKEYAlgECDSA, "p384": IPSECKEYAlgECDSA,
			"rsa": IPSECKEYAlgRSA}[tc.name]
		ik, err := IPSECKEY{Algorithm: alg, PublicKey: tc.key}.Key()
		if err != nil || !tc.want.Equal(ik) {
			t.Errorf("%s: IPSECKEY key %T %v", tc.name, ik, err)
		}
	}
}

func TestSortIPsecServersTies(t *testing.T) {
	mk := func(p uint16, last byte) IPsecServer {
		return IPsecServer{Precedence: p, Gateway: netip.AddrFrom4([4]byte{192, 0, 2, last})}
	}
	seen := map[byte]int{}
	for i := 0; i < 40; i++ {
		rs := []IPsecServer{mk(20, 9), mk(10, 1), mk(10, 2), mk(30, 8), mk(10, 3)}
		n := i
		SortIPsecServers(rs, func(k int) int { n = n*7 + 3; return n % k })
		for j, want := range []uint16{10, 10, 10, 20, 30} {
			if rs[j].Precedence != want {
				t.Fatalf("order %v", rs)
			}
		}
		seen[rs[0].Gateway.As4()[3]]++
	}
	// Every one of the three precedence-10 gateways must win sometimes.
	if len(seen) != 3 {
		t.Errorf("ties not shuffled: winners %v", seen)
	}
	// A fixed rand picks deterministically.
	rs := []IPSECKEY{{Precedence: 5, Gateway: netip.MustParseAddr("192.0.2.1")}, {Precedence: 1, Gateway: netip.MustParseAddr("192.0.2.2")}}
	SortIPSECKEYs(rs, func(int) int { return 0 })
	if rs[0].Precedence != 1 {
		t.Errorf("IPSECKEY order %v", rs)
	}
}

func TestKEY(t *testing.T) {
	keys := makeKeys(t)
	rsaB64 := base64.StdEncoding.EncodeToString(keys.rsaRaw)
	// RFC 4322, Section 5.1: "KEY 0x4200 4 1 <RFC 3110 key>".
	rd := append(unhex(t, "4200 04 01"), keys.rsaRaw...)
	k, err := ParseKEY(rd)
	if err != nil {
		t.Fatal(err)
	}
	if k.Flags != 0x4200 || k.Flags&KeyFlagNameTypeMask != KeyNameTypeEntity || k.Protocol != KeyProtocolIPsec || k.Algorithm != 1 || !k.ForIPsecAuth() || k.NoKey() || k.IsAutoSEC() {
		t.Errorf("KEY %+v", k)
	}
	if pk, err := k.Key(); err != nil || !pk.(*rsa.PublicKey).Equal(keys.rsaKey) {
		t.Errorf("key %v", err)
	}
	if _, err := k.AutoSEC(); !errors.Is(err, ErrNotAutoSEC) {
		t.Errorf("binary key read as AutoSEC: %v", err)
	}
	for _, tc := range []struct {
		name  string
		rdata []byte
		check func(KEY) bool
		err   error
	}{
		{"no key", unhex(t, "c200 04 01"), func(k KEY) bool { pk, err := k.Key(); return k.NoKey() && pk == nil && err == nil }, nil},
		{"no key with data", unhex(t, "c200 04 01 00"), nil, ErrRDataLength},
		{"auth prohibited", append(unhex(t, "8200 04 01"), keys.rsaRaw...), func(k KEY) bool { return !k.ForIPsecAuth() }, nil},
		{"DNSSEC protocol", append(unhex(t, "0100 03 08"), keys.rsaRaw...), func(k KEY) bool { return !k.ForIPsecAuth() }, nil},
		{"all protocols", append(unhex(t, "0200 ff 08"), keys.rsaRaw...), func(k KEY) bool { return k.ForIPsecAuth() }, nil},
		{"extended flags", append(unhex(t, "5200 04 05 0001"), keys.rsaRaw...), func(k KEY) bool {
			pk, err := k.Key()
			return k.ExtFlags == 1 && err == nil && pk.(*rsa.PublicKey).Equal(keys.rsaKey)
		}, nil},
		{"extended flags missing", unhex(t, "5200 04 05 00"), nil, ErrRDataLength},
		{"short", unhex(t, "4200 04"), nil, ErrRDataLength},
		{"Ed25519", append(unhex(t, "4200 04 0f"), keys.ed...), func(k KEY) bool { pk, err := k.Key(); return err == nil && pk.(ed25519.PublicKey).Equal(keys.ed) }, nil},
		{"P-256", append(unhex(t, "4200 04 0d"), keys.p256Raw...), func(k KEY) bool { pk, err := k.Key(); return err == nil && pk.(*ecdsa.PublicKey).Equal(keys.p256) }, nil},
		{"P-384", append(unhex(t, "4200 04 0e"), keys.p384Raw...), func(k KEY) bool { pk, err := k.Key(); return err == nil && pk.(*ecdsa.PublicKey).Equal(keys.p384) }, nil},
		{"P-384 under alg 13", append(unhex(t, "4200 04 0d"), keys.p384Raw...), func(k KEY) bool { _, err := k.Key(); return errors.Is(err, ErrBadKey) }, nil},
		{"DH unsupported", unhex(t, "4200 04 02 0102"), func(k KEY) bool { _, err := k.Key(); return errors.Is(err, ErrUnsupportedKey) }, nil},
		// draft-kechel-ip-autosec, Section 2.2, with a complete key.
		{"AutoSEC", append(unhex(t, "4200 04 05"), "ENCR_AES_CBC-256,ENCR_3DES-\n   128;AUTH_HMAC_SHA2_512_256;MODP3072,MODP2048;\n"+rsaB64[:30]+"\n"+rsaB64[30:]...),
			func(k KEY) bool {
				a, err := k.AutoSEC()
				pk, kerr := k.Key()
				return k.IsAutoSEC() && err == nil && kerr == nil && pk.(*rsa.PublicKey).Equal(keys.rsaKey) &&
					reflect.DeepEqual(a.Ciphers, []string{"ENCR_AES_CBC-256", "ENCR_3DES-128"}) &&
					reflect.DeepEqual(a.Hashes, []string{"AUTH_HMAC_SHA2_512_256"}) &&
					reflect.DeepEqual(a.Groups, []string{"MODP3072", "MODP2048"}) && bytes.Equal(a.PublicKey, keys.rsaRaw)
			}, nil},
		{"AutoSEC Ed25519 lower case", append(unhex(t, "4200 04 0f"), "encr_aes_gcm_16-128;none;curve25519,ecp256;"+base64.StdEncoding.EncodeToString(keys.ed)...),
			func(k KEY) bool {
				a, err := k.AutoSEC()
				pk, kerr := k.Key()
				return err == nil && kerr == nil && pk.(ed25519.PublicKey).Equal(keys.ed) &&
					reflect.DeepEqual(a.Ciphers, []string{"ENCR_AES_GCM_16-128"}) && reflect.DeepEqual(a.Groups, []string{"CURVE25519", "ECP256"})
			}, nil},
		{"AutoSEC empty list", append(unhex(t, "4200 04 05"), ";AUTH_HMAC_SHA2_256_128;MODP2048;"+rsaB64...),
			func(k KEY) bool {
				_, err := k.AutoSEC()
				_, kerr := k.Key()
				return errors.Is(err, ErrBadAutoSEC) && errors.Is(kerr, ErrBadAutoSEC)
			}, nil},
		{"AutoSEC bad base64", append(unhex(t, "4200 04 05"), "A;B;C;***"...),
			func(k KEY) bool { _, err := k.AutoSEC(); return errors.Is(err, ErrBadAutoSEC) }, nil},
	} {
		k, err := ParseKEY(tc.rdata)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if !tc.check(k) {
			t.Errorf("%s: check failed for %+v", tc.name, k)
		}
		out, err := k.AppendRData(nil)
		if err != nil || !bytes.Equal(out, tc.rdata) {
			t.Errorf("%s: round trip %x %v", tc.name, out, err)
		}
	}
}

func TestAutoSECString(t *testing.T) {
	a := AutoSEC{Ciphers: []string{"ENCR_AES_CBC-128"}, Hashes: []string{"AUTH_HMAC_SHA1_96", "NONE"}, Groups: []string{"MODP2048"}, PublicKey: []byte{1, 2, 3}}
	got, err := ParseAutoSEC(a.String())
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("round trip %q: %+v %v", a.String(), got, err)
	}
	for _, bad := range []string{"a;b;c", "a;b;c;d;e", "a,,b;c;d;AQID", "a;b;d;", "é;b;c;AQID"} {
		if _, err := ParseAutoSEC(bad); err == nil {
			t.Errorf("ParseAutoSEC(%q) accepted", bad)
		}
	}
}

func TestReverseName(t *testing.T) {
	for _, tc := range []struct{ addr, name string }{
		{"192.0.2.23", "23.2.0.192.in-addr.arpa."},
		{"203.0.113.0", "0.113.0.203.in-addr.arpa."},
		{"::ffff:198.51.100.7", "7.100.51.198.in-addr.arpa."},
		// RFC 3596, Section 2.5.
		{"4321:0:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa."},
		// RFC 4025, Section 3.2.
		{"2001:0DB8:0200:1:210:f3ff:fe03:4d0", "0.d.4.0.3.0.e.f.f.f.3.f.0.1.2.0.1.0.0.0.0.0.2.0.8.b.d.0.1.0.0.2.ip6.arpa."},
	} {
		n, err := ReverseName(netip.MustParseAddr(tc.addr))
		if err != nil || n.String() != tc.name {
			t.Errorf("ReverseName(%s) = %s, %v; want %s", tc.addr, n, err, tc.name)
		}
		if !n.valid() {
			t.Errorf("ReverseName(%s) is not a valid wire name", tc.addr)
		}
	}
	if _, err := ReverseName(netip.Addr{}); !errors.Is(err, ErrBadAddress) {
		t.Errorf("zero address: %v", err)
	}
}
