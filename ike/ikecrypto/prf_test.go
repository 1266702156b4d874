package ikecrypto

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPRF(t testing.TB, id uint16) PRF {
	t.Helper()
	p, err := NewPRF(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// RFC 3566 Section 4.6 (full 128-bit AES-XCBC-MAC values, which RFC 4434
// Section 2 uses as the PRF) and RFC 4434 Section 2.1 (key lengths).
func TestXCBCPRF(t *testing.T) {
	k16 := "000102030405060708090a0b0c0d0e0f"
	seq := func(n int) string {
		var b []byte
		for i := range n {
			b = append(b, byte(i))
		}
		return hex.EncodeToString(b)
	}
	for i, c := range []struct{ key, msg, want string }{
		{k16, "", "75f0251d528ac01c4573dfd584d79f29"},
		{k16, seq(3), "5b376580ae2f19afe7219ceef172756f"},
		{k16, seq(16), "d2a246fa349b68a79998a4394ff7a263"},
		{k16, seq(20), "47f51b4564966215b8985c63055ed308"},
		{k16, seq(32), "f54f0ec8d2b9f3d36807734bd5283fd4"},
		{k16, seq(34), "becbb3bccdb518a30677d5481fb6b4d8"},
		{k16, strings.Repeat("00", 1000), "f0dafee895db30253761103b5d84528f"},
		// RFC 4434 Section 2.1.
		{"00010203040506070809", seq(20), "0fa087af7d866e7653434e602fdde835"},
		{"000102030405060708090a0b0c0d0e0fedcb", seq(20), "8cd3c93ae598a9803006ffb67c40e9e4"},
	} {
		p := mustPRF(t, PRFAES128XCBC)
		if got := p.Sum(unhex(t, c.key), unhex(t, c.msg), nil); !bytes.Equal(got, unhex(t, c.want)) {
			t.Errorf("case %d: got %x, want %s", i, got, c.want)
		}
	}
}

// RFC 4493 Section 4 (AES-CMAC) and RFC 4615 Section 4 (the PRF with
// 18-, 16- and 10-octet keys).
func TestCMACPRF(t *testing.T) {
	k := "2b7e151628aed2a6abf7158809cf4f3c"
	m := "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
	seq20 := "000102030405060708090a0b0c0d0e0f10111213"
	for i, c := range []struct{ key, msg, want string }{
		{k, "", "bb1d6929e95937287fa37d129b756746"},
		{k, m[:32], "070a16b46b4d4144f79bdd9dd04a287c"},
		{k, m[:80], "dfa66747de9ae63030ca32611497c827"},
		{k, m, "51f0bebf7e3b9d92fc49741779363cfe"},
		{"000102030405060708090a0b0c0d0e0fedcb", seq20, "84a348a4a45d235babfffc0d2b4da09a"},
		{"000102030405060708090a0b0c0d0e0f", seq20, "980ae87b5f4c9c5214f5b6a8455e4c2d"},
		{"00010203040506070809", seq20, "290d9e112edb09ee141fcf64c0b72f3d"},
	} {
		p := mustPRF(t, PRFAES128CMAC)
		if got := p.Sum(unhex(t, c.key), unhex(t, c.msg), nil); !bytes.Equal(got, unhex(t, c.want)) {
			t.Errorf("case %d: got %x, want %s", i, got, c.want)
		}
	}
	// RFC 4493 Section 4, subkey generation.
	var k1 [16]byte
	copy(k1[:], unhex(t, "7df76b0c1ab899b33e42f047b91b546f"))
	dbl(&k1)
	if hex.EncodeToString(k1[:]) != "fbeed618357133667c85e08f7236a8de" {
		t.Errorf("K1 %x", k1)
	}
	dbl(&k1)
	if hex.EncodeToString(k1[:]) != "f7ddac306ae266ccf90bc11ee46d513b" {
		t.Errorf("K2 %x", k1)
	}
}

// RFC 4868 Section 2.7.1, test cases PRF-1, PRF-2, PRF-5.
func TestHMACPRF(t *testing.T) {
	key5 := strings.Repeat("aa", 131)
	msg5 := hex.EncodeToString([]byte("Test Using Larger Than Block-Size Key - Hash Key First"))
	for _, c := range []struct {
		id             uint16
		key, msg, want string
	}{
		{PRFHMACSHA256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
			"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{PRFHMACSHA384, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
			"afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"},
		{PRFHMACSHA512, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
			"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
		{PRFHMACSHA256, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
			"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{PRFHMACSHA384, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
			"af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
		{PRFHMACSHA512, "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
			"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
		{PRFHMACSHA256, key5, msg5, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
		{PRFHMACSHA384, key5, msg5, "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952"},
		{PRFHMACSHA512, key5, msg5, "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
	} {
		p := mustPRF(t, c.id)
		want := unhex(t, c.want)
		if p.Size() != len(want) || p.KeyLen() != len(want) {
			t.Errorf("prf %d: Size %d KeyLen %d", c.id, p.Size(), p.KeyLen())
		}
		// Sum appends to dst.
		got := p.Sum(unhex(t, c.key), unhex(t, c.msg), []byte{0xee})
		if got[0] != 0xee || !bytes.Equal(got[1:], want) {
			t.Errorf("prf %d key %.8s: got %x", c.id, c.key, got)
		}
	}
	if _, err := NewPRF(2); err != ErrUnsupported { // PRF_HMAC_SHA1 is not offered
		t.Errorf("NewPRF(2): %v", err)
	}
}

// RFC 4868 Section 2.7.2: the truncated ICVs (AUTH256-1, AUTH512-1), as
// the Cipher computes them.
func TestIntegICV(t *testing.T) {
	for _, c := range []struct {
		integ     uint16
		key, want string
	}{
		{IntegHMACSHA256_128, strings.Repeat("0b", 32), "198a607eb44bfbc69903a0f1cf2bbdc5"},
		{IntegHMACSHA512_256, strings.Repeat("0b", 64), "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8"},
	} {
		c0, err := NewCipher(Suite{Encr: EncrAESCBC, EncrKeyBits: 128, Integ: c.integ}, make([]byte, 16), unhex(t, c.key), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c0.icvSum(nil, []byte("Hi There")); hex.EncodeToString(got) != c.want {
			t.Errorf("integ %d: %x", c.integ, got)
		}
	}
}

// prfPlusReference spells out RFC 7296 Section 2.13 block by block.
func TestPRFPlus(t *testing.T) {
	p := mustPRF(t, PRFHMACSHA256)
	key, seed := []byte("key"), []byte("seed")
	t1 := p.Sum(key, append(bytes.Clone(seed), 1), nil)
	t2 := p.Sum(key, append(append(bytes.Clone(t1), seed...), 2), nil)
	t3 := p.Sum(key, append(append(bytes.Clone(t2), seed...), 3), nil)
	want := bytes.Join([][]byte{t1, t2, t3}, nil)
	for _, n := range []int{0, 1, 32, 33, 70, 96} {
		got, err := PRFPlus(p, key, seed, n)
		if err != nil || !bytes.Equal(got, want[:n]) {
			t.Errorf("n=%d: %x %v", n, got, err)
		}
	}
	// 255 blocks is the most the one-octet counter allows.
	full, err := PRFPlus(p, key, seed, 255*32)
	if err != nil || len(full) != 255*32 {
		t.Fatalf("255 blocks: %d %v", len(full), err)
	}
	last := p.Sum(key, append(append(bytes.Clone(full[254*32-32:254*32]), seed...), 255), nil)
	if !bytes.Equal(full[254*32:], last) {
		t.Error("block 255 wrong")
	}
	if _, err := PRFPlus(p, key, seed, 255*32+1); err != ErrPRFPlusTooLong {
		t.Errorf("256 blocks: %v", err)
	}
	if _, err := PRFPlus(p, key, seed, -1); err == nil {
		t.Error("negative length accepted")
	}
}

// RFC 7296 Section 2.14: with AES-XCBC and AES-CMAC PRFs only the first 64
// bits of each nonce key SKEYSEED.
func TestSKEYSEEDFixedKeyPRF(t *testing.T) {
	ni := bytes.Repeat([]byte{1}, 32)
	nr := bytes.Repeat([]byte{2}, 32)
	gir := []byte("shared secret")
	for _, id := range []uint16{PRFAES128XCBC, PRFAES128CMAC} {
		p := mustPRF(t, id)
		want := p.Sum(append(bytes.Repeat([]byte{1}, 8), bytes.Repeat([]byte{2}, 8)...), gir, nil)
		if got := SKEYSEED(p, ni, nr, gir); !bytes.Equal(got, want) {
			t.Errorf("prf %d: %x, want %x", id, got, want)
		}
		// And the keys: SK_d, SK_pi, SK_pr are 16 octets.
		k, err := DeriveIKEKeys(Suite{Encr: EncrAESCBC, EncrKeyBits: 128, Integ: IntegHMACSHA256_128, PRF: id, Group: GroupECP256},
			want, ni, nr, make([]byte, 8), make([]byte, 8))
		if err != nil || len(k.SKd) != 16 || len(k.SKpi) != 16 || len(k.SKai) != 32 || len(k.SKei) != 16 {
			t.Errorf("prf %d keys: %v %d %d %d", id, err, len(k.SKd), len(k.SKai), len(k.SKei))
		}
	}
	p := mustPRF(t, PRFHMACSHA256)
	if got, want := SKEYSEED(p, ni, nr, gir), p.Sum(append(ni, nr...), gir, nil); !bytes.Equal(got, want) {
		t.Error("HMAC SKEYSEED must use whole nonces")
	}
}

func TestKeyLengths(t *testing.T) {
	for _, c := range []struct {
		s           Suite
		encr, integ int
		ok          bool
	}{
		{Suite{Encr: EncrAESGCM16, EncrKeyBits: 128}, 20, 0, true},
		{Suite{Encr: EncrAESGCM16, EncrKeyBits: 192}, 28, 0, true},
		{Suite{Encr: EncrAESGCM16, EncrKeyBits: 256}, 36, 0, true},
		{Suite{Encr: EncrChaCha20Poly1305}, 36, 0, true},
		{Suite{Encr: EncrAESCBC, EncrKeyBits: 128, Integ: IntegHMACSHA256_128}, 16, 32, true},
		{Suite{Encr: EncrAESCBC, EncrKeyBits: 256, Integ: IntegHMACSHA384_192}, 32, 48, true},
		{Suite{Encr: EncrAESCBC, EncrKeyBits: 192, Integ: IntegHMACSHA512_256}, 24, 64, true},
		{Suite{Encr: EncrAESCBC, EncrKeyBits: 128}, 16, 0, false},                                // CBC needs integrity
		{Suite{Encr: EncrAESGCM16, EncrKeyBits: 128, Integ: IntegHMACSHA256_128}, 20, 32, false}, // AEAD takes none
		{Suite{Encr: EncrAESGCM16}, 0, 0, false},                                                 // key length missing
		{Suite{Encr: EncrChaCha20Poly1305, EncrKeyBits: 256}, 0, 0, false},                       // RFC 7634 Section 2
		{Suite{Encr: 3}, 0, 0, false},                                                            // 3DES
	} {
		err := c.s.CheckESP()
		if (err == nil) != c.ok {
			t.Errorf("%+v: CheckESP %v", c.s, err)
		}
		el, err1 := c.s.EncrKeyLen()
		il, _ := c.s.IntegKeyLen()
		if err1 == nil && (el != c.encr || il != c.integ) {
			t.Errorf("%+v: lengths %d %d", c.s, el, il)
		}
	}
	for integ, icv := range map[uint16]int{IntegHMACSHA256_128: 16, IntegHMACSHA384_192: 24, IntegHMACSHA512_256: 32} {
		if n, _ := IntegICVLen(integ); n != icv {
			t.Errorf("ICV of %d: %d", integ, n)
		}
	}
	if (Suite{Encr: EncrAESGCM16, EncrKeyBits: 128, PRF: PRFHMACSHA256, Group: 99}).CheckIKE() == nil {
		t.Error("unknown group accepted")
	}
}

// RFC 9370 Section 2.2.4 has the same form as RFC 7296 Section 2.18.
func TestAdditionalKeySKEYSEED(t *testing.T) {
	p := mustPRF(t, PRFHMACSHA384)
	skd, sk, ni, nr := []byte("skd"), []byte("mlkem secret"), []byte("ni"), []byte("nr")
	want := p.Sum(skd, []byte("mlkem secretninr"), nil)
	if got := AdditionalKeySKEYSEED(p, skd, sk, ni, nr); !bytes.Equal(got, want) {
		t.Errorf("%x", got)
	}
}

// RFC 9370 Section 2.2.4: SK(0) | Ni | Nr | SK(1) | ... | SK(n).
func TestMultiKeyExchangeSeeds(t *testing.T) {
	p := mustPRF(t, PRFHMACSHA256)
	skd := []byte("skd")
	seed := []byte("g0" + "ni" + "nr" + "s1" + "s2")
	km, _ := PRFPlus(p, skd, seed, 2*(20+0))
	ck, err := DeriveChildKeysMulti(p, skd, []byte("g0"), []byte("ni"), []byte("nr"), [][]byte{[]byte("s1"), []byte("s2")}, 20, 0)
	if err != nil || !bytes.Equal(bytes.Join([][]byte{ck.EncrI, ck.EncrR}, nil), km) {
		t.Errorf("KEYMAT %x %v", ck, err)
	}
	if got := RekeySKEYSEEDMulti(p, skd, []byte("g0"), []byte("ni"), []byte("nr"), [][]byte{[]byte("s1"), []byte("s2")}); !bytes.Equal(got, p.Sum(skd, seed, nil)) {
		t.Errorf("SKEYSEED %x", got)
	}
	// Without additional exchanges it is the RFC 7296 form.
	a, _ := DeriveChildKeys(p, skd, []byte("g0"), []byte("ni"), []byte("nr"), 16, 32)
	km2, _ := PRFPlus(p, skd, []byte("g0ninr"), 96)
	if !bytes.Equal(bytes.Join([][]byte{a.EncrI, a.IntegI, a.EncrR, a.IntegR}, nil), km2) || len(a.IntegR) != 32 || len(a.EncrR) != 16 {
		t.Errorf("KEYMAT split %x", a)
	}
	if _, err := DeriveChildKeys(p, skd, nil, nil, nil, -1, 0); err == nil {
		t.Error("negative length accepted")
	}
}
