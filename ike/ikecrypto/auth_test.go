package ikecrypto

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
)

// RFC 7427 Appendix A.3 and A.4.3, RFC 8420 Section 2: the identifiers sent.
func TestAlgorithmIdentifiers(t *testing.T) {
	for _, c := range []struct {
		alg  SigAlg
		hash uint16
		der  string
	}{
		{SigEd25519, HashIdentity, "300506032b6570"},
		{SigECDSASHA256, HashSHA2_256, "300a06082a8648ce3d040302"},
		{SigECDSASHA384, HashSHA2_384, "300a06082a8648ce3d040303"},
		{SigECDSASHA512, HashSHA2_512, "300a06082a8648ce3d040304"},
		{SigRSAPSSSHA256, HashSHA2_256, "3046 0609 2a86 4886 f70d 0101 0a30 39a0 0f30 0d06 0960 8648 0165 0304 0201 0500" +
			"a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0201 0500 a203 0201 20a3 0302 0101"},
	} {
		got := c.alg.AlgorithmIdentifier()
		if !bytes.Equal(got, unhex(t, c.der)) {
			t.Errorf("%v: %x", c.alg, got)
		}
		if c.alg.HashAlgorithm() != c.hash {
			t.Errorf("%v: hash %d", c.alg, c.alg.HashAlgorithm())
		}
		alg, _, err := parseAlgorithmIdentifier(got)
		if err != nil || alg != c.alg {
			t.Errorf("%v: parsed as %v %v", c.alg, alg, err)
		}
	}
	for _, a := range []SigAlg{SigRSAPSSSHA384, SigRSAPSSSHA512} {
		alg, salt, err := parseAlgorithmIdentifier(a.AlgorithmIdentifier())
		if h, _ := a.hash(); err != nil || alg != a || salt != h.Size() {
			t.Errorf("%v: %v %d %v", a, alg, salt, err)
		}
	}
	// ECDSA with explicit NULL parameters, the other encoding RFC 7427
	// Section 3 mentions.
	if alg, _, err := parseAlgorithmIdentifier(unhex(t, "300c06082a8648ce3d0403030500")); err != nil || alg != SigECDSASHA384 {
		t.Errorf("ecdsa-with-SHA384 with NULL: %v %v", alg, err)
	}
	// PSS parameters without the (default) trailerField, as DER proper
	// encodes them, are accepted too.
	noTrailer := unhex(t, "3041 0609 2a86 4886 f70d 0101 0a30 34a0 0f30 0d06 0960 8648 0165 0304 0201 0500"+
		"a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0201 0500 a203 0201 20")
	if alg, salt, err := parseAlgorithmIdentifier(noTrailer); err != nil || alg != SigRSAPSSSHA256 || salt != 32 {
		t.Errorf("PSS without trailerField: %v %v", alg, err)
	}
	for name, der := range map[string]string{
		// RFC 7427 A.4.1/A.4.2: default (SHA-1) parameters are refused.
		"pss empty":           "300d06092a864886f70d01010a3000",
		"sha1WithRSA":         "300d06092a864886f70d0101050500",
		"ed25519 with params": "300706032b65700500",
		"ecdsa with garbage":  "300c06082a8648ce3d0403020400",
		"pss sha1 mgf":        strings.Replace(hex.EncodeToString(noTrailer), "06092a864886f70d010108300d06096086480165030402010500", "06092a864886f70d010108300906052b0e03021a0500", 1),
	} {
		b, _ := hex.DecodeString(der)
		if alg, _, err := parseAlgorithmIdentifier(b); err == nil {
			t.Errorf("%s accepted as %v", name, alg)
		}
	}
}

var (
	testKeysOnce sync.Once
	testKeys     []crypto.Signer
)

func signers(t *testing.T) []crypto.Signer {
	testKeysOnce.Do(func() {
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		testKeys = []crypto.Signer{ed, p256, p384, p521, rsaKey}
	})
	return testKeys
}

func TestSignVerify(t *testing.T) {
	octets := []byte("RealMessage | Nonce | MACedID")
	keys := signers(t)
	for ki, k := range keys {
		for _, alg := range SigAlgsFor(k.Public()) {
			auth, err := SignAuth(k, alg, octets)
			if err != nil {
				t.Fatalf("%v: %v", alg, err)
			}
			if int(auth[0]) != len(alg.AlgorithmIdentifier()) {
				t.Errorf("%v: length octet %d", alg, auth[0])
			}
			got, err := VerifySignatureAuth(k.Public(), auth, octets, SupportedHashAlgorithms)
			if err != nil || got != alg {
				t.Errorf("%v: verify %v %v", alg, got, err)
			}
			// Other octets, a changed signature, another key, an
			// unannounced hash: all refused.
			if _, err := VerifySignatureAuth(k.Public(), auth, append(octets, 0), nil); err != ErrAuthFailed {
				t.Errorf("%v: other octets: %v", alg, err)
			}
			bad := bytes.Clone(auth)
			bad[len(bad)-3] ^= 1
			if _, err := VerifySignatureAuth(k.Public(), bad, octets, nil); err == nil {
				t.Errorf("%v: changed signature verified", alg)
			}
			for oi, other := range keys {
				if oi != ki {
					if _, err := VerifySignatureAuth(other.Public(), auth, octets, nil); err == nil {
						t.Errorf("%v: verified with a %T", alg, other.Public())
					}
				}
			}
			if _, err := VerifySignatureAuth(k.Public(), auth, octets, []uint16{HashSHA1}); err == nil {
				t.Errorf("%v: verified with hash not announced", alg)
			}
		}
	}
	// A key type that does not fit the requested algorithm.
	if _, err := SignAuth(keys[0], SigECDSASHA256, octets); err == nil {
		t.Error("Ed25519 key signed as ECDSA")
	}
	// ECDSA signatures are DER (RFC 7427 Section 3): SEQUENCE.
	auth, _ := SignAuth(keys[1], SigUnknown, octets)
	alg, sig, err := ParseSignatureAuth(auth)
	if err != nil || alg != SigECDSASHA256 || sig[0] != 0x30 {
		t.Errorf("ECDSA P-256 default: %v %x %v", alg, sig[:2], err)
	}
}

func TestChooseSigAlg(t *testing.T) {
	keys := signers(t)
	for _, c := range []struct {
		key    crypto.Signer
		hashes []uint16
		want   SigAlg
	}{
		{keys[0], []uint16{HashSHA2_256, HashIdentity}, SigEd25519},
		{keys[0], []uint16{HashSHA2_256}, SigUnknown},
		{keys[1], []uint16{HashSHA2_256, HashSHA2_384}, SigECDSASHA256},
		{keys[1], []uint16{HashSHA2_512}, SigECDSASHA512},
		{keys[2], []uint16{HashSHA2_256, HashSHA2_384}, SigECDSASHA384},
		{keys[4], []uint16{HashSHA2_384, HashSHA2_256}, SigRSAPSSSHA256},
		{keys[4], nil, SigRSAPSSSHA256},
	} {
		got, err := ChooseSigAlg(c.key.Public(), c.hashes)
		if got != c.want || (err == nil) != (c.want != SigUnknown) {
			t.Errorf("%T %v: %v %v", c.key, c.hashes, got, err)
		}
	}
	h, err := ParseSignatureHashAlgorithms(AppendSignatureHashAlgorithms(nil, SupportedHashAlgorithms))
	if err != nil || len(h) != 4 || h[3] != HashIdentity {
		t.Errorf("round trip %v %v", h, err)
	}
	// strongSwan's notify data (sha256, sha384, sha512, identity).
	if h, _ := ParseSignatureHashAlgorithms(unhex(t, "0002000300040005")); len(h) != 4 || h[0] != 2 {
		t.Errorf("%v", h)
	}
	if _, err := ParseSignatureHashAlgorithms([]byte{0, 2, 0}); err == nil {
		t.Error("odd length accepted")
	}
}

func TestParseSignatureAuthErrors(t *testing.T) {
	ed := SigEd25519.AlgorithmIdentifier()
	for name, b := range map[string][]byte{
		"empty":        nil,
		"zero length":  {0, 1, 2},
		"no signature": append([]byte{byte(len(ed))}, ed...),
		"short id":     append([]byte{byte(len(ed) + 5)}, ed...),
		"unknown":      append([]byte{3}, 0x30, 0x01, 0x00, 0xaa),
	} {
		if _, _, err := ParseSignatureAuth(b); err == nil {
			t.Errorf("%s accepted", name)
		}
		if _, err := VerifySignatureAuth(signers(t)[0].Public(), b, nil, nil); err == nil {
			t.Errorf("%s verified", name)
		}
	}
}

// RFC 7619 Section 2.1: NULL AUTH is the shared-key MIC keyed with the
// sender's SK_p, so the two directions differ.
func TestNullAuth(t *testing.T) {
	p := mustPRF(t, PRFHMACSHA256)
	skpi, skpr, octets := []byte("SK_pi"), []byte("SK_pr"), []byte("signed octets")
	ai := NullAuth(p, skpi, octets)
	inner := p.Sum(skpi, []byte("Key Pad for IKEv2"), nil)
	if !bytes.Equal(ai, p.Sum(inner, octets, nil)) {
		t.Error("NULL AUTH is not prf(prf(SK_pi, keypad), octets)")
	}
	if bytes.Equal(ai, NullAuth(p, skpr, octets)) {
		t.Error("both directions give the same AUTH")
	}
	if VerifyNullAuth(p, skpi, octets, ai) != nil || VerifyNullAuth(p, skpr, octets, ai) == nil {
		t.Error("VerifyNullAuth")
	}
}

// FuzzParseSignatureAuth: arbitrary AUTH data never panics; what parses
// rebuilds to the same octets.
func FuzzParseSignatureAuth(f *testing.F) {
	for _, a := range []SigAlg{SigEd25519, SigECDSASHA256, SigECDSASHA384, SigECDSASHA512, SigRSAPSSSHA256, SigRSAPSSSHA384, SigRSAPSSSHA512} {
		f.Add(AppendSignatureAuth(nil, a, []byte("signature")))
	}
	for _, v := range loadVectors(f) {
		if v.Auth.Initiator.Method == AuthDigitalSignature {
			f.Add([]byte(v.Auth.Initiator.AuthData))
		}
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pubs := []crypto.PublicKey{ed.Public(), p256.Public()}
	f.Fuzz(func(t *testing.T, data []byte) {
		alg, sig, err := ParseSignatureAuth(data)
		if err == nil {
			id := alg.AlgorithmIdentifier()
			// Known blobs rebuild exactly (PSS parameters and ECDSA
			// with NULL parameters have other encodings).
			if int(data[0]) == len(id) && alg != SigRSAPSSSHA256 && alg != SigRSAPSSSHA384 && alg != SigRSAPSSSHA512 {
				if !bytes.Equal(AppendSignatureAuth(nil, alg, sig), data) {
					t.Fatalf("%v does not rebuild", alg)
				}
			} else if len(id) == 0 {
				t.Fatal("no identifier")
			}
		}
		for _, p := range pubs {
			if _, err := VerifySignatureAuth(p, data, []byte("octets"), nil); err == nil {
				t.Fatal("forged signature verified")
			}
		}
	})
}

// FuzzParseSignatureHashAlgorithms: decode, encode, compare.
func FuzzParseSignatureHashAlgorithms(f *testing.F) {
	f.Add([]byte{0, 2, 0, 3, 0, 4, 0, 5})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseSignatureHashAlgorithms(data)
		if err != nil {
			if len(data)%2 == 0 {
				t.Fatal(err)
			}
			return
		}
		if !bytes.Equal(AppendSignatureHashAlgorithms(nil, h), data) {
			t.Fatal("round trip differs")
		}
	})
}
