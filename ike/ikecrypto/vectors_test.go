package ikecrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// The strongSwan recordings (testdata/vectors/README.md describes them).

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil {
		*h = nil
		return nil
	}
	d, err := hex.DecodeString(*s)
	*h = d
	return err
}

type vTransform struct {
	ID      uint16 `json:"id"`
	KeyBits *int   `json:"key_bits"`
}

type vTransforms struct {
	Encr  vTransform  `json:"encr"`
	Integ *vTransform `json:"integ"`
	PRF   vTransform  `json:"prf"`
	DH    vTransform  `json:"dh"`
}

func (t vTransforms) suite() Suite {
	s := Suite{Encr: t.Encr.ID, PRF: t.PRF.ID, Group: t.DH.ID}
	if t.Encr.KeyBits != nil {
		s.EncrKeyBits = *t.Encr.KeyBits
	}
	if t.Integ != nil {
		s.Integ = t.Integ.ID
	}
	return s
}

type vKey struct {
	Len  int      `json:"len"`
	Hex  hexBytes `json:"hex"`
	Key  hexBytes `json:"key"`
	Salt hexBytes `json:"salt"`
}

type vKeys struct {
	SKd  vKey `json:"sk_d"`
	SKai vKey `json:"sk_ai"`
	SKar vKey `json:"sk_ar"`
	SKei vKey `json:"sk_ei"`
	SKer vKey `json:"sk_er"`
	SKpi vKey `json:"sk_pi"`
	SKpr vKey `json:"sk_pr"`
}

type vIKESA struct {
	SPIi        hexBytes `json:"spi_i"`
	SPIr        hexBytes `json:"spi_r"`
	Ni          hexBytes `json:"nonce_i"`
	Nr          hexBytes `json:"nonce_r"`
	Group       uint16   `json:"dh_group"`
	KEi         hexBytes `json:"ke_i"`
	KEr         hexBytes `json:"ke_r"`
	Gir         hexBytes `json:"g_ir"`
	SKEYSEED    hexBytes `json:"skeyseed"`
	PRFPlusSeed hexBytes `json:"prf_plus_seed"`
	Keys        vKeys    `json:"keys"`
}

type vAuthSide struct {
	Method        uint8    `json:"auth_method"`
	IDBody        hexBytes `json:"id_payload_body"`
	SignedMessage string   `json:"signed_message"`
	SignedNonce   hexBytes `json:"signed_nonce"`
	MACedID       hexBytes `json:"maced_id"`
	SignedOctets  hexBytes `json:"signed_octets"`
	SignedLen     int      `json:"signed_octets_len"`
	AuthData      hexBytes `json:"auth_data"`
	AlgID         hexBytes `json:"signature_algorithm_identifier"`
	Signature     hexBytes `json:"signature"`
}

type vKeyPair struct {
	Seed   hexBytes `json:"private_key_seed"`
	PKCS8  hexBytes `json:"private_key_pkcs8_der"`
	Public hexBytes `json:"public_key"`
	SPKI   hexBytes `json:"public_key_spki_der"`
}

type vAuth struct {
	Method       string    `json:"method"`
	PSK          hexBytes  `json:"psk_hex"`
	KeypadPRF    hexBytes  `json:"psk_keypad_prf"`
	InitiatorKey *vKeyPair `json:"initiator_key"`
	ResponderKey *vKeyPair `json:"responder_key"`
	Initiator    vAuthSide `json:"initiator"`
	Responder    vAuthSide `json:"responder"`
}

type vESPDir struct {
	SPI      hexBytes `json:"spi"`
	EncrKey  hexBytes `json:"encr_key"`
	Salt     hexBytes `json:"salt"`
	IntegKey hexBytes `json:"integ_key"`
	Packets  []struct {
		Seq     uint32   `json:"seq"`
		Payload hexBytes `json:"udp_payload"`
	} `json:"esp_packets"`
}

type vChild struct {
	Name       string `json:"name"`
	Transforms []struct {
		Type    string `json:"type"`
		ID      uint16 `json:"id"`
		KeyBits *int   `json:"key_bits"`
	} `json:"transforms"`
	Ni  hexBytes `json:"nonce_i"`
	Nr  hexBytes `json:"nonce_r"`
	PFS *struct {
		Group uint16   `json:"dh_group"`
		KEi   hexBytes `json:"ke_i"`
		KEr   hexBytes `json:"ke_r"`
		Gir   hexBytes `json:"g_ir"`
	} `json:"pfs"`
	SKd        hexBytes `json:"sk_d"`
	KeymatSeed hexBytes `json:"keymat_seed"`
	Keymat     hexBytes `json:"keymat"`
	KeymatLen  int      `json:"keymat_len"`
	I2R        vESPDir  `json:"i2r"`
	R2I        vESPDir  `json:"r2i"`
}

type vRekey struct {
	SPIi          hexBytes    `json:"spi_i"`
	SPIr          hexBytes    `json:"spi_r"`
	Transforms    vTransforms `json:"transforms"`
	Ni            hexBytes    `json:"nonce_i"`
	Nr            hexBytes    `json:"nonce_r"`
	Gir           hexBytes    `json:"g_ir"`
	SKdOld        hexBytes    `json:"sk_d_old"`
	SKEYSEEDInput hexBytes    `json:"skeyseed_input"`
	SKEYSEED      hexBytes    `json:"skeyseed"`
	PRFPlusSeed   hexBytes    `json:"prf_plus_seed"`
	Keys          vKeys       `json:"keys"`
}

type vMessage struct {
	Index      int      `json:"index"`
	Direction  string   `json:"direction"`
	IKEMessage hexBytes `json:"ike_message"`
	Length     int      `json:"length"`
	Encrypted  *struct {
		EncrKey   string   `json:"encr_key"`
		IntegKey  *string  `json:"integ_key"`
		IV        hexBytes `json:"iv"`
		ICV       hexBytes `json:"icv"`
		Plaintext hexBytes `json:"plaintext"`
		PadLength int      `json:"pad_length"`
	} `json:"encrypted"`
}

type vector struct {
	Name       string
	Transforms vTransforms `json:"ike_transforms"`
	IKESA      vIKESA      `json:"ike_sa"`
	Auth       vAuth       `json:"authentication"`
	Children   []vChild    `json:"child_sas"`
	Rekeys     []vRekey    `json:"ike_rekeys"`
	Messages   []vMessage  `json:"messages"`
}

func loadVectors(t testing.TB) []*vector {
	t.Helper()
	files, err := filepath.Glob("../../testdata/vectors/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 7 {
		t.Fatalf("found %d vector files, want 7", len(files))
	}
	var out []*vector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v := &vector{Name: filepath.Base(f)}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, v)
	}
	return out
}

func eq(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if want == nil {
		t.Fatalf("%s: vector has no value", what)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

func checkKeys(t *testing.T, prefix string, got Keys, want vKeys) {
	t.Helper()
	for _, c := range []struct {
		name string
		got  []byte
		want vKey
	}{{"sk_d", got.SKd, want.SKd}, {"sk_ai", got.SKai, want.SKai}, {"sk_ar", got.SKar, want.SKar},
		{"sk_ei", got.SKei, want.SKei}, {"sk_er", got.SKer, want.SKer}, {"sk_pi", got.SKpi, want.SKpi}, {"sk_pr", got.SKpr, want.SKpr}} {
		if len(c.got) != c.want.Len {
			t.Errorf("%s.%s: length %d, want %d", prefix, c.name, len(c.got), c.want.Len)
		}
		if !bytes.Equal(c.got, c.want.Hex) && !(len(c.got) == 0 && len(c.want.Hex) == 0) {
			t.Errorf("%s.%s:\n got %x\nwant %x", prefix, c.name, c.got, c.want.Hex)
		}
		// AEAD keys are also given split: key, then the 4-octet salt.
		if c.want.Salt != nil && len(c.got) >= AEADSaltLen {
			n := len(c.got) - AEADSaltLen
			if !bytes.Equal(c.got[:n], c.want.Key) || !bytes.Equal(c.got[n:], c.want.Salt) {
				t.Errorf("%s.%s: key/salt split differs", prefix, c.name)
			}
		}
	}
}

// keyByName resolves names such as "ike_sa.keys.sk_ei" or
// "ike_rekeys[0].keys.sk_er" to keys this test derived itself.
func keyByName(t *testing.T, name string, ike Keys, rekeys []Keys) []byte {
	t.Helper()
	var k Keys
	switch {
	case strings.HasPrefix(name, "ike_sa.keys."):
		k = ike
	case strings.HasPrefix(name, "ike_rekeys["):
		i, err := strconv.Atoi(name[len("ike_rekeys["):strings.IndexByte(name, ']')])
		if err != nil || i >= len(rekeys) {
			t.Fatalf("bad key name %q", name)
		}
		k = rekeys[i]
	default:
		t.Fatalf("unknown key name %q", name)
	}
	switch name[strings.LastIndexByte(name, '.')+1:] {
	case "sk_ei":
		return k.SKei
	case "sk_er":
		return k.SKer
	case "sk_ai":
		return k.SKai
	case "sk_ar":
		return k.SKar
	}
	t.Fatalf("unknown key name %q", name)
	return nil
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) { testVector(t, v) })
	}
}

func testVector(t *testing.T, v *vector) {
	s := v.Transforms.suite()
	if err := s.CheckIKE(); err != nil {
		t.Fatalf("suite %+v: %v", s, err)
	}
	prf, err := NewPRF(s.PRF)
	if err != nil {
		t.Fatal(err)
	}
	sa := v.IKESA

	// Key exchange data lengths of the recorded KE payloads.
	for _, ke := range [][]byte{sa.KEi, sa.KEr} {
		if n, err := PublicKeyLen(sa.Group, true); err != nil || n != len(ke) {
			t.Errorf("group %d: KE length %d, PublicKeyLen %d %v", sa.Group, len(ke), n, err)
		}
	}
	// A responder's KE accepts the recorded initiator value (RFC 6989
	// checks pass on real data).
	if _, _, err := Respond(sa.Group, nil, sa.KEi); err != nil {
		t.Errorf("Respond to recorded ke_i: %v", err)
	}

	// RFC 7296, Section 2.14.
	skeyseed := SKEYSEED(prf, sa.Ni, sa.Nr, sa.Gir)
	eq(t, "skeyseed", skeyseed, sa.SKEYSEED)
	eq(t, "prf_plus_seed", bytes.Join([][]byte{sa.Ni, sa.Nr, sa.SPIi, sa.SPIr}, nil), sa.PRFPlusSeed)
	keys, err := DeriveIKEKeys(s, skeyseed, sa.Ni, sa.Nr, sa.SPIi, sa.SPIr)
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "ike_sa.keys", keys, sa.Keys)

	// RFC 7296, Section 2.18 (file 7).
	var rekeys []Keys
	for i, r := range v.Rekeys {
		eq(t, "rekey sk_d_old", r.SKdOld, keys.SKd)
		eq(t, "rekey skeyseed_input", bytes.Join([][]byte{r.Gir, r.Ni, r.Nr}, nil), r.SKEYSEEDInput)
		rs := RekeySKEYSEED(prf, keys.SKd, r.Gir, r.Ni, r.Nr)
		eq(t, "rekey skeyseed", rs, r.SKEYSEED)
		eq(t, "rekey prf_plus_seed", bytes.Join([][]byte{r.Ni, r.Nr, r.SPIi, r.SPIr}, nil), r.PRFPlusSeed)
		rk, err := DeriveIKEKeys(r.Transforms.suite(), rs, r.Ni, r.Nr, r.SPIi, r.SPIr)
		if err != nil {
			t.Fatal(err)
		}
		checkKeys(t, "ike_rekeys["+strconv.Itoa(i)+"].keys", rk, r.Keys)
		rekeys = append(rekeys, rk)
	}

	testVectorAuth(t, v, prf, keys)
	testVectorChildren(t, v, prf, keys, rekeys)
	testVectorMessages(t, v, s, keys, rekeys)
}

func testVectorAuth(t *testing.T, v *vector, prf PRF, keys Keys) {
	a := v.Auth
	if a.Method == "psk" {
		eq(t, "psk_keypad_prf", prf.Sum(a.PSK, []byte("Key Pad for IKEv2"), nil), a.KeypadPRF)
	}
	for _, side := range []struct {
		name string
		a    vAuthSide
		skp  []byte
		key  *vKeyPair
		peer *vKeyPair
	}{{"initiator", a.Initiator, keys.SKpi, a.InitiatorKey, a.ResponderKey}, {"responder", a.Responder, keys.SKpr, a.ResponderKey, a.InitiatorKey}} {
		t.Run(side.name, func(t *testing.T) {
			sa := side.a
			eq(t, "maced_id", MACedID(prf, side.skp, sa.IDBody), sa.MACedID)
			idx, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(sa.SignedMessage, "messages["), "]"))
			if err != nil {
				t.Fatal(err)
			}
			msg := v.Messages[idx].IKEMessage
			so := SignedOctets(prf, msg, sa.SignedNonce, side.skp, sa.IDBody)
			eq(t, "signed_octets", so, sa.SignedOctets)
			if len(so) != sa.SignedLen {
				t.Errorf("signed_octets_len %d, want %d", len(so), sa.SignedLen)
			}
			switch sa.Method {
			case AuthSharedKey:
				eq(t, "auth_data", PSKAuth(prf, a.PSK, so), sa.AuthData)
				if err := VerifyPSKAuth(prf, a.PSK, so, sa.AuthData); err != nil {
					t.Error(err)
				}
				// Negative controls: another PSK, another octet.
				if VerifyPSKAuth(prf, append(a.PSK, 'x'), so, sa.AuthData) == nil {
					t.Error("wrong PSK verified")
				}
				bad := bytes.Clone(so)
				bad[len(bad)-1] ^= 1
				if VerifyPSKAuth(prf, a.PSK, bad, sa.AuthData) == nil {
					t.Error("changed signed octets verified")
				}
			case AuthDigitalSignature:
				eq(t, "signature_algorithm_identifier", SigEd25519.AlgorithmIdentifier(), sa.AlgID)
				k, err := x509.ParsePKCS8PrivateKey(side.key.PKCS8)
				if err != nil {
					t.Fatal(err)
				}
				priv := k.(ed25519.PrivateKey)
				eq(t, "private key seed", priv.Seed(), side.key.Seed)
				auth, err := SignAuth(priv, SigUnknown, so)
				if err != nil {
					t.Fatal(err)
				}
				// Ed25519 is deterministic: exactly the recorded data.
				eq(t, "auth_data", auth, sa.AuthData)
				alg, sig, err := ParseSignatureAuth(sa.AuthData)
				if err != nil || alg != SigEd25519 {
					t.Fatalf("ParseSignatureAuth: %v %v", alg, err)
				}
				eq(t, "signature", sig, sa.Signature)
				pub, err := ParsePublicKey(side.key.SPKI)
				if err != nil {
					t.Fatal(err)
				}
				eq(t, "public key", pub.(ed25519.PublicKey), side.key.Public)
				if _, err := VerifySignatureAuth(pub, sa.AuthData, so, SupportedHashAlgorithms); err != nil {
					t.Errorf("verify: %v", err)
				}
				other, _ := ParsePublicKey(side.peer.SPKI)
				if _, err := VerifySignatureAuth(other, sa.AuthData, so, nil); err == nil {
					t.Error("verified with the other peer's key")
				}
			default:
				t.Fatalf("auth method %d", sa.Method)
			}
		})
	}
}

func testVectorChildren(t *testing.T, v *vector, prf PRF, keys Keys, rekeys []Keys) {
	for _, c := range v.Children {
		t.Run(c.Name, func(t *testing.T) {
			var es Suite
			for _, tr := range c.Transforms {
				switch tr.Type {
				case "ENCR":
					es.Encr = tr.ID
					if tr.KeyBits != nil {
						es.EncrKeyBits = *tr.KeyBits
					}
				case "INTEG":
					es.Integ = tr.ID
				}
			}
			if err := es.CheckESP(); err != nil {
				t.Fatal(err)
			}
			// The SK_d must be one this test derived.
			ok := bytes.Equal(c.SKd, keys.SKd)
			for _, r := range rekeys {
				ok = ok || bytes.Equal(c.SKd, r.SKd)
			}
			if !ok {
				t.Errorf("sk_d %x is none of the derived SK_d", c.SKd)
			}
			var gir []byte
			if c.PFS != nil {
				gir = c.PFS.Gir
				if n, _ := PublicKeyLen(c.PFS.Group, true); n != len(c.PFS.KEi) || n != len(c.PFS.KEr) {
					t.Errorf("PFS KE lengths %d/%d, want %d", len(c.PFS.KEi), len(c.PFS.KEr), n)
				}
			}
			eq(t, "keymat_seed", bytes.Join([][]byte{gir, c.Ni, c.Nr}, nil), c.KeymatSeed)
			el, _ := es.EncrKeyLen()
			il, _ := es.IntegKeyLen()
			if 2*(el+il) != c.KeymatLen {
				t.Errorf("keymat_len %d, suite needs %d", c.KeymatLen, 2*(el+il))
			}
			ck, err := DeriveChildKeys(prf, c.SKd, gir, c.Ni, c.Nr, el, il)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, "keymat", bytes.Join([][]byte{ck.EncrI, ck.IntegI, ck.EncrR, ck.IntegR}, nil), c.Keymat)
			for _, d := range []struct {
				name        string
				encr, integ []byte
				want        vESPDir
			}{{"i2r", ck.EncrI, ck.IntegI, c.I2R}, {"r2i", ck.EncrR, ck.IntegR, c.R2I}} {
				eq(t, d.name+".encr_key", d.encr[:el-AEADSaltLen], d.want.EncrKey)
				eq(t, d.name+".salt", d.encr[el-AEADSaltLen:], d.want.Salt)
				if len(d.integ) != 0 || d.want.IntegKey != nil {
					t.Errorf("%s: integ key for AEAD", d.name)
				}
				for _, p := range d.want.Packets {
					openESP(t, es.Encr, d.encr, p.Payload, d.want.SPI, p.Seq)
				}
			}
		})
	}
}

// openESP opens a recorded ESP packet (RFC 4106 / RFC 7634: AAD SPI | seq,
// nonce salt | IV) with the derived KEYMAT, proving the key split.
func openESP(t *testing.T, encr uint16, key, pkt, spi []byte, seq uint32) {
	t.Helper()
	var a cipher.AEAD
	var err error
	k, salt := key[:len(key)-4], key[len(key)-4:]
	if encr == EncrChaCha20Poly1305 {
		a, err = chacha20poly1305.New(k)
	} else {
		var b cipher.Block
		b, _ = aes.NewCipher(k)
		a, err = cipher.NewGCM(b)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkt[:4], spi) || binary.BigEndian.Uint32(pkt[4:8]) != seq {
		t.Fatalf("ESP header %x", pkt[:8])
	}
	nonce := append(bytes.Clone(salt), pkt[8:16]...)
	pt, err := a.Open(nil, nonce, pkt[16:], pkt[:8])
	if err != nil {
		t.Fatalf("ESP seq %d: %v", seq, err)
	}
	if pt[len(pt)-1] != 4 { // next header: IPv4
		t.Errorf("ESP next header %d", pt[len(pt)-1])
	}
}

func testVectorMessages(t *testing.T, v *vector, s Suite, keys Keys, rekeys []Keys) {
	n := 0
	for _, m := range v.Messages {
		e := m.Encrypted
		if e == nil {
			continue
		}
		n++
		t.Run("message"+strconv.Itoa(m.Index), func(t *testing.T) {
			msg := m.IKEMessage
			if len(msg) != m.Length || len(msg) < IKEHeaderLen+SKHeaderLen {
				t.Fatalf("length %d, recorded %d", len(msg), m.Length)
			}
			// The SK payload is the first payload after the header here.
			if msg[16] != 46 {
				t.Fatalf("next payload %d, want SK (46)", msg[16])
			}
			ek := keyByName(t, e.EncrKey, keys, rekeys)
			var ik []byte
			if e.IntegKey != nil {
				ik = keyByName(t, *e.IntegKey, keys, rekeys)
			}
			c, err := NewCipher(s, ek, ik, nil)
			if err != nil {
				t.Fatal(err)
			}
			work := bytes.Clone(msg)
			plain, pad, err := c.Open(work, IKEHeaderLen)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if pad != e.PadLength {
				t.Errorf("pad length %d, want %d", pad, e.PadLength)
			}
			eq(t, "plaintext", plain, e.Plaintext[:len(e.Plaintext)-1-e.PadLength])
			eq(t, "iv", msg[IKEHeaderLen+SKHeaderLen:][:c.IVLen()], e.IV)
			eq(t, "icv", msg[len(msg)-c.ICVLen():], e.ICV)

			// Re-encrypt with the recorded IV and padding: byte for byte.
			re := bytes.Clone(msg)
			off := c.PlaintextOffset(IKEHeaderLen)
			copy(re[off:], e.Plaintext)
			clear(re[off+len(e.Plaintext):])
			if err := c.SealWithIV(re, IKEHeaderLen, len(plain), e.PadLength, e.IV); err != nil {
				t.Fatalf("SealWithIV: %v", err)
			}
			eq(t, "re-encrypted message", re, msg)

			// Any changed octet fails integrity, before decryption.
			for _, i := range []int{0, 20, IKEHeaderLen + 2, IKEHeaderLen + 5, len(msg) / 2, len(msg) - 1} {
				bad := bytes.Clone(msg)
				bad[i] ^= 0x40
				if _, _, err := c.Open(bad, IKEHeaderLen); err == nil {
					t.Errorf("octet %d changed: Open succeeded", i)
				}
			}
			// The other direction's key does not open it.
			other, otherI := keys.SKer, keys.SKar
			if bytes.Equal(ek, keys.SKer) {
				other, otherI = keys.SKei, keys.SKai
			}
			if c2, err := NewCipher(s, other, otherI, nil); err != nil {
				t.Fatal(err)
			} else {
				if _, _, err := c2.Open(bytes.Clone(msg), IKEHeaderLen); err == nil {
					t.Error("opened with the other direction's key")
				}
			}
		})
	}
	if n < 4 {
		t.Errorf("only %d encrypted messages", n)
	}
}
