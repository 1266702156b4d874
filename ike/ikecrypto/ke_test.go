package ikecrypto

import (
	"bytes"
	"crypto/mlkem"
	"math/big"
	mrand "math/rand/v2"
	"testing"
)

// RFC 5903 Section 8 (groups 19 and 20) and RFC 7748 Section 6.1 (X25519):
// both sides from fixed private keys.
func TestKEVectors(t *testing.T) {
	for _, c := range []struct {
		group                uint16
		i, gi, r, gr, shared string
	}{
		{GroupECP256,
			"C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
			"DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180" + "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
			"C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
			"D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63" + "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
			"D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"},
		{GroupECP384,
			"099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194",
			"667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA" +
				"9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
			"41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
			"E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571" +
				"DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
			"11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746"},
		{GroupCurve25519,
			"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
			"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
			"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
			"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
			"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
	} {
		ki, err := newECDHKEFromPrivate(c.group, unhex(t, c.i))
		if err != nil {
			t.Fatal(err)
		}
		kr, err := newECDHKEFromPrivate(c.group, unhex(t, c.r))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ki.PublicKey(), unhex(t, c.gi)) || !bytes.Equal(kr.PublicKey(), unhex(t, c.gr)) {
			t.Errorf("group %d: public keys %x %x", c.group, ki.PublicKey(), kr.PublicKey())
		}
		if n, _ := PublicKeyLen(c.group, true); n != len(ki.PublicKey()) {
			t.Errorf("group %d: PublicKeyLen %d", c.group, n)
		}
		si, err1 := ki.SharedSecret(kr.PublicKey())
		sr, err2 := kr.SharedSecret(ki.PublicKey())
		want := unhex(t, c.shared)
		if err1 != nil || err2 != nil || !bytes.Equal(si, want) || !bytes.Equal(sr, want) {
			t.Errorf("group %d: shared %x %x (%v %v)", c.group, si, sr, err1, err2)
		}
	}
}

// RFC 6989 Section 2.3 and RFC 5903: malformed ECP values are refused.
func TestECPRejects(t *testing.T) {
	for _, g := range []uint16{GroupECP256, GroupECP384} {
		k, err := NewKE(g, nil)
		if err != nil {
			t.Fatal(err)
		}
		peer, _ := NewKE(g, nil)
		good := peer.PublicKey()
		offCurve := bytes.Clone(good)
		offCurve[len(offCurve)-1] ^= 1 // y changed: not on the curve
		for name, v := range map[string][]byte{
			"off curve":   offCurve,
			"zero point":  make([]byte, len(good)),
			"with 0x04":   append([]byte{4}, good...),
			"short":       good[:len(good)-1],
			"x only":      good[:len(good)/2],
			"x too large": append(bytes.Repeat([]byte{0xff}, len(good)/2), good[len(good)/2:]...),
		} {
			if _, err := k.SharedSecret(v); err != ErrBadPublic {
				t.Errorf("group %d %s: %v", g, name, err)
			}
		}
		if _, err := k.SharedSecret(good); err != nil {
			t.Errorf("group %d good value: %v", g, err)
		}
	}
}

// RFC 8031 Section 2.2: an all-zero X25519 result MUST be refused; these
// low-order points give one.
func TestX25519AllZero(t *testing.T) {
	k, err := NewKE(GroupCurve25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	one := make([]byte, 32)
	one[0] = 1
	for _, u := range [][]byte{make([]byte, 32), one, unhex(t, "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")} {
		if _, err := k.SharedSecret(u); err != ErrBadPublic {
			t.Errorf("u=%x: %v", u, err)
		}
	}
	if _, err := k.SharedSecret(make([]byte, 31)); err != ErrBadPublic {
		t.Errorf("short value: %v", err)
	}
}

// RFC 3526: the primes have the stated size, the fixed top and bottom 64
// bits, and are safe primes (so RFC 6989 Section 2.2 needs only the range
// check).
func TestMODPParameters(t *testing.T) {
	if testing.Short() {
		t.Skip("primality tests")
	}
	for g, bits := range map[uint16]int{GroupMODP2048: 2048, GroupMODP3072: 3072, GroupMODP4096: 4096} {
		p := modpPrimes[g]
		if p.BitLen() != bits {
			t.Errorf("group %d: %d bits", g, p.BitLen())
		}
		ones := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
		if new(big.Int).Rsh(p, uint(bits-64)).Cmp(ones) != 0 || new(big.Int).And(p, ones).Cmp(ones) != 0 {
			t.Errorf("group %d: top or bottom 64 bits not all ones", g)
		}
		q := new(big.Int).Rsh(p, 1)
		if !p.ProbablyPrime(2) || !q.ProbablyPrime(2) {
			t.Errorf("group %d: not a safe prime", g)
		}
		if n, _ := PublicKeyLen(g, true); n != bits/8 {
			t.Errorf("group %d: PublicKeyLen %d", g, n)
		}
	}
}

func TestMODPExchange(t *testing.T) {
	for _, g := range []uint16{GroupMODP2048, GroupMODP3072, GroupMODP4096} {
		a, err := NewKE(g, nil)
		if err != nil {
			t.Fatal(err)
		}
		pubB, sb, err := Respond(g, nil, a.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		sa, err := a.SharedSecret(pubB)
		if err != nil || !bytes.Equal(sa, sb) || len(sa) != len(pubB) {
			t.Errorf("group %d: %v, %d octets", g, err, len(sa))
		}
		p := modpPrimes[g]
		size := len(pubB)
		enc := func(x *big.Int) []byte { return x.FillBytes(make([]byte, size)) }
		pm1 := new(big.Int).Sub(p, big.NewInt(1))
		// RFC 6989 Section 2.1: 1 < y < p-1.
		for name, v := range map[string][]byte{
			"0": enc(big.NewInt(0)), "1": enc(big.NewInt(1)), "p-1": enc(pm1), "p": enc(p),
			"all ones": bytes.Repeat([]byte{0xff}, size), "short": pubB[1:], "long": append([]byte{0}, pubB...),
		} {
			if _, err := a.SharedSecret(v); err != ErrBadPublic {
				t.Errorf("group %d y=%s: %v", g, name, err)
			}
		}
		if _, err := a.SharedSecret(enc(big.NewInt(2))); err != nil {
			t.Errorf("group %d y=2: %v", g, err)
		}
	}
}

// A small fixed exponent: the public value and secret are easy to check.
func TestMODPFixed(t *testing.T) {
	k := newMODPKEFromPrivate(GroupMODP2048, big.NewInt(10))
	pub := k.PublicKey()
	if len(pub) != 256 || new(big.Int).SetBytes(pub).Int64() != 1024 {
		t.Fatalf("2^10 = %x", pub)
	}
	// 3^10 = 59049, zero-padded to 256 octets (RFC 7296 Section 2.14).
	s, err := k.SharedSecret(big.NewInt(3).FillBytes(make([]byte, 256)))
	if err != nil || len(s) != 256 || new(big.Int).SetBytes(s).Int64() != 59049 {
		t.Errorf("3^10: %v %x", err, s[250:])
	}
}

// The random source is injectable: the same stream gives the same key.
func TestKEDeterministic(t *testing.T) {
	for _, g := range []uint16{GroupECP256, GroupECP384, GroupCurve25519, GroupMODP2048, GroupMLKEM768} {
		a, err := NewKE(g, mrand.NewChaCha8([32]byte{1}))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewKE(g, mrand.NewChaCha8([32]byte{1}))
		c, _ := NewKE(g, mrand.NewChaCha8([32]byte{2}))
		if !bytes.Equal(a.PublicKey(), b.PublicKey()) || bytes.Equal(a.PublicKey(), c.PublicKey()) {
			t.Errorf("group %d: not determined by the random source", g)
		}
		if a.Group() != g {
			t.Errorf("Group() %d", a.Group())
		}
	}
	if _, err := NewKE(21, nil); err != ErrUnsupported {
		t.Errorf("group 21: %v", err)
	}
}

// draft-ietf-ipsecme-ikev2-mlkem-08: the initiator sends the encapsulation
// key, the responder the ciphertext; both get the same 32-octet secret.
func TestMLKEM768(t *testing.T) {
	if !IsKEM(GroupMLKEM768) || IsKEM(GroupCurve25519) {
		t.Fatal("IsKEM")
	}
	i, err := NewKE(GroupMLKEM768, nil)
	if err != nil {
		t.Fatal(err)
	}
	ek := i.PublicKey()
	if n, _ := PublicKeyLen(GroupMLKEM768, true); len(ek) != 1184 || n != 1184 {
		t.Fatalf("encapsulation key %d octets", len(ek))
	}
	ct, sr, err := Respond(GroupMLKEM768, nil, ek)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := PublicKeyLen(GroupMLKEM768, false); len(ct) != 1088 || n != 1088 {
		t.Fatalf("ciphertext %d octets", len(ct))
	}
	si, err := i.SharedSecret(ct)
	if err != nil || !bytes.Equal(si, sr) || len(si) != mlkem.SharedKeySize {
		t.Fatalf("secrets differ: %v", err)
	}
	// FIPS 203 Section 7.2: a key whose coefficients are not reduced
	// modulo q fails the responder's check (draft Section 2.2).
	if _, _, err := Respond(GroupMLKEM768, nil, bytes.Repeat([]byte{0xff}, 1184)); err != ErrBadPublic {
		t.Errorf("bad encapsulation key: %v", err)
	}
	if _, _, err := Respond(GroupMLKEM768, nil, ek[1:]); err != ErrBadPublic {
		t.Errorf("short encapsulation key: %v", err)
	}
	// Section 7.3 type check: the length.
	if _, err := i.SharedSecret(ct[1:]); err != ErrBadPublic {
		t.Errorf("short ciphertext: %v", err)
	}
	// Implicit rejection: a changed ciphertext gives another secret.
	bad := bytes.Clone(ct)
	bad[0] ^= 1
	if s2, err := i.SharedSecret(bad); err != nil || bytes.Equal(s2, sr) {
		t.Errorf("changed ciphertext: %v", err)
	}
}

// Respond works for every group and agrees with NewKE's side.
func TestRespondAllGroups(t *testing.T) {
	for _, g := range []uint16{GroupECP256, GroupECP384, GroupCurve25519, GroupMODP2048} {
		i, _ := NewKE(g, nil)
		pub, sr, err := Respond(g, nil, i.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		si, err := i.SharedSecret(pub)
		if err != nil || !bytes.Equal(si, sr) {
			t.Errorf("group %d: %v", g, err)
		}
		if _, _, err := Respond(g, nil, i.PublicKey()[1:]); err != ErrBadPublic {
			t.Errorf("group %d short: %v", g, err)
		}
	}
}
