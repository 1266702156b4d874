package ikecrypto

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	mrand "math/rand/v2"
	"testing"
)

var testSuites = []Suite{
	{Encr: EncrAESGCM16, EncrKeyBits: 128},
	{Encr: EncrAESGCM16, EncrKeyBits: 192},
	{Encr: EncrAESGCM16, EncrKeyBits: 256},
	{Encr: EncrChaCha20Poly1305},
	{Encr: EncrAESCBC, EncrKeyBits: 128, Integ: IntegHMACSHA256_128},
	{Encr: EncrAESCBC, EncrKeyBits: 192, Integ: IntegHMACSHA384_192},
	{Encr: EncrAESCBC, EncrKeyBits: 256, Integ: IntegHMACSHA512_256},
}

func newTestCipher(t testing.TB, s Suite, seed byte) *Cipher {
	t.Helper()
	el, _ := s.EncrKeyLen()
	il, _ := s.IntegKeyLen()
	r := mrand.NewChaCha8([32]byte{seed})
	ek, ik := make([]byte, el), make([]byte, il)
	r.Read(ek)
	r.Read(ik)
	c, err := NewCipher(s, ek, ik, r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// buildSK lays out header | prefix | SK header | room, as the engine does.
func buildSK(c *Cipher, prefix, inner []byte) ([]byte, int) {
	skOff := IKEHeaderLen + len(prefix)
	total := skOff + SKHeaderLen + c.BodyLen(len(inner), c.PadLen(len(inner)))
	msg := make([]byte, total)
	copy(msg, "SPIiSPIiSPIrSPIr")
	msg[16], msg[17], msg[18] = 46, 0x20, 35
	binary.BigEndian.PutUint32(msg[24:], uint32(total))
	copy(msg[IKEHeaderLen:], prefix)
	msg[skOff] = 41
	binary.BigEndian.PutUint16(msg[skOff+2:], uint16(total-skOff))
	copy(msg[c.PlaintextOffset(skOff):], inner)
	return msg, skOff
}

func TestCipherRoundTrip(t *testing.T) {
	for _, s := range testSuites {
		c := newTestCipher(t, s, 1)
		d := newTestCipher(t, s, 1) // same keys, the receiving side
		for _, n := range []int{0, 1, 14, 15, 16, 17, 100, 1000} {
			inner := bytes.Repeat([]byte{byte(n)}, n)
			for _, prefix := range [][]byte{nil, []byte("unencrypted payload")} {
				msg, skOff := buildSK(c, prefix, inner)
				if err := c.Seal(msg, skOff, n); err != nil {
					t.Fatalf("%+v n=%d: %v", s, n, err)
				}
				if s.AEAD() == false && (len(msg)-skOff-SKHeaderLen-c.IVLen()-c.ICVLen())%16 != 0 {
					t.Errorf("%+v: CBC data not block aligned", s)
				}
				sealed := bytes.Clone(msg)
				plain, pad, err := d.Open(msg, skOff)
				if err != nil {
					t.Fatalf("%+v n=%d: Open: %v", s, n, err)
				}
				if !bytes.Equal(plain, inner) || pad != c.PadLen(n) {
					t.Errorf("%+v n=%d: got %d octets pad %d", s, n, len(plain), pad)
				}
				// Every single-bit change is caught.
				for i := 0; i < len(sealed); i += 7 {
					bad := bytes.Clone(sealed)
					bad[i] ^= 0x10
					kept := bytes.Clone(bad)
					if _, _, err := d.Open(bad, skOff); err == nil {
						t.Fatalf("%+v: octet %d changed, Open succeeded", s, i)
					}
					if !bytes.Equal(bad, kept) {
						t.Fatalf("%+v: failed Open changed the message", s)
					}
				}
			}
		}
	}
}

// RFC 5282 Section 3.1: AEAD IVs never repeat under one key; CBC IVs come
// from the random source.
func TestCipherIVs(t *testing.T) {
	for _, s := range testSuites {
		c := newTestCipher(t, s, 2)
		seen := map[string]bool{}
		for range 1000 {
			msg, skOff := buildSK(c, nil, []byte("x"))
			if err := c.Seal(msg, skOff, 1); err != nil {
				t.Fatal(err)
			}
			iv := string(msg[skOff+SKHeaderLen:][:c.IVLen()])
			if seen[iv] {
				t.Fatalf("%+v: IV repeated", s)
			}
			seen[iv] = true
		}
		// Deterministic for a given random stream.
		a, b := newTestCipher(t, s, 3), newTestCipher(t, s, 3)
		m1, off := buildSK(a, nil, []byte("hello"))
		m2, _ := buildSK(b, nil, []byte("hello"))
		a.Seal(m1, off, 5)
		b.Seal(m2, off, 5)
		if !bytes.Equal(m1, m2) {
			t.Errorf("%+v: not reproducible from the IV source", s)
		}
	}
	c := newTestCipher(t, testSuites[0], 4)
	c.ctr.Store(^uint64(0))
	msg, off := buildSK(c, nil, nil)
	if err := c.Seal(msg, off, 0); err != ErrIVExhausted {
		t.Errorf("exhausted counter: %v", err)
	}
}

func TestCipherLayoutErrors(t *testing.T) {
	for _, s := range []Suite{testSuites[0], testSuites[4]} {
		c := newTestCipher(t, s, 5)
		msg, off := buildSK(c, nil, []byte("abc"))
		if err := c.Seal(msg[:len(msg)-1], off, 3); err != ErrSKLayout {
			t.Errorf("short buffer: %v", err)
		}
		bad := bytes.Clone(msg)
		binary.BigEndian.PutUint32(bad[24:], uint32(len(msg)+1))
		if err := c.Seal(bad, off, 3); err != ErrSKLayout {
			t.Errorf("header length: %v", err)
		}
		bad = bytes.Clone(msg)
		binary.BigEndian.PutUint16(bad[off+2:], 7)
		if err := c.Seal(bad, off, 3); err != ErrSKLayout {
			t.Errorf("payload length: %v", err)
		}
		if err := c.SealWithIV(msg, off, 3, 0, make([]byte, c.IVLen()+1)); err == nil {
			t.Error("wrong IV length accepted")
		}
		if !s.AEAD() {
			// CBC: pad must align to the block size.
			if err := c.SealWithIV(msg, off, 3, 1, nil); err == nil {
				t.Error("misaligned CBC padding accepted")
			}
		}
		if err := c.Seal(msg, off, 3); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Open(msg, 10); err != ErrSKLayout {
			t.Errorf("offset inside header: %v", err)
		}
		if _, _, err := c.Open(msg[:len(msg)-1], off); err != ErrSKLayout {
			t.Errorf("truncated: %v", err)
		}
	}
	if _, err := NewCipher(testSuites[0], make([]byte, 16), nil, nil); err == nil {
		t.Error("GCM key without salt accepted")
	}
	if _, err := NewCipher(testSuites[4], make([]byte, 16), make([]byte, 16), nil); err == nil {
		t.Error("short HMAC key accepted")
	}
}

// sealRaw encrypts pt (Pad Length octet included, as given) without the
// checks of Seal, to build messages a correct sender never makes.
func sealRaw(c *Cipher, msg []byte, off int, pt []byte) {
	ivOff := off + SKHeaderLen
	ptOff := ivOff + c.iv
	copy(msg[ptOff:], pt)
	if c.aead != nil {
		nonce := append(c.salt[:4:4], msg[ivOff:ptOff]...)
		c.aead.Seal(msg[ptOff:ptOff], nonce, msg[ptOff:ptOff+len(pt)], msg[:ivOff])
		return
	}
	cbcEncrypt(c, msg[ivOff:ptOff], msg[ptOff:ptOff+len(pt)])
	copy(msg[len(msg)-c.icv:], c.icvSum(nil, msg[:len(msg)-c.icv]))
}

// RFC 7296 Section 3.14: a Pad Length beyond the data is refused, even
// with a valid ICV.
func TestCipherBadPadLength(t *testing.T) {
	for _, s := range testSuites {
		c := newTestCipher(t, s, 6)
		pt := make([]byte, 16)
		pt[15] = 16 // claims 16 octets of padding before it: only 15 exist
		msg, off := buildSK(c, nil, pt[:15])
		if c.PadLen(15) != 0 || len(msg) != off+SKHeaderLen+c.IVLen()+16+c.ICVLen() {
			t.Fatal("layout")
		}
		sealRaw(c, msg, off, pt)
		if _, _, err := c.Open(bytes.Clone(msg), off); err != ErrPadding {
			t.Errorf("%+v: %v", s, err)
		}
		pt[15] = 15 // all padding: empty inner payloads, valid
		sealRaw(c, msg, off, pt)
		if plain, pad, err := c.Open(msg, off); err != nil || len(plain) != 0 || pad != 15 {
			t.Errorf("%+v: %v %d", s, err, pad)
		}
	}
}

func cbcEncrypt(c *Cipher, iv, data []byte) {
	cipher.NewCBCEncrypter(c.block, iv).CryptBlocks(data, data)
}

// RFC 7383 Section 2.5: the SKF header (with Fragment Number and Total
// Fragments) is authenticated like the SK header.
func TestCipherFragment(t *testing.T) {
	for _, s := range testSuites {
		c := newTestCipher(t, s, 8)
		inner := []byte("fragment data")
		off := IKEHeaderLen
		total := off + SKFHeaderLen + c.BodyLen(len(inner), c.PadLen(len(inner)))
		msg := make([]byte, total)
		msg[16] = 53
		binary.BigEndian.PutUint32(msg[24:], uint32(total))
		msg[off] = 35
		binary.BigEndian.PutUint16(msg[off+2:], uint16(total-off))
		binary.BigEndian.PutUint16(msg[off+4:], 2) // Fragment Number
		binary.BigEndian.PutUint16(msg[off+6:], 3) // Total Fragments
		copy(msg[off+SKFHeaderLen+c.IVLen():], inner)
		if err := c.SealFragment(msg, off, len(inner)); err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(msg)
		bad[off+5] = 1 // another fragment number
		if _, _, err := c.OpenFragment(bad, off); err != ErrAuth {
			t.Errorf("%+v: changed fragment number: %v", s, err)
		}
		plain, _, err := c.OpenFragment(msg, off)
		if err != nil || !bytes.Equal(plain, inner) {
			t.Errorf("%+v: %v %q", s, err, plain)
		}
	}
}

// FuzzCipherOpen feeds arbitrary messages to Open and OpenFragment: no
// panic, and nothing forged opens.
func FuzzCipherOpen(f *testing.F) {
	for _, v := range loadVectors(f) {
		for _, m := range v.Messages {
			if m.Encrypted != nil {
				f.Add([]byte(m.IKEMessage), uint16(IKEHeaderLen))
			}
		}
	}
	f.Add(make([]byte, 60), uint16(28))
	ciphers := make([]*Cipher, len(testSuites))
	for i, s := range testSuites {
		ciphers[i] = newTestCipher(f, s, 9)
	}
	f.Fuzz(func(t *testing.T, msg []byte, off uint16) {
		for _, c := range ciphers {
			if _, _, err := c.Open(bytes.Clone(msg), int(off)); err == nil {
				t.Fatalf("forged message opened")
			}
			if _, _, err := c.OpenFragment(bytes.Clone(msg), int(off)); err == nil {
				t.Fatalf("forged fragment opened")
			}
		}
	})
}

// FuzzCipherRoundTrip seals arbitrary inner data and opens it again.
func FuzzCipherRoundTrip(f *testing.F) {
	f.Add([]byte("inner payloads"), []byte{}, uint8(0))
	f.Add([]byte{}, []byte("N(COOKIE)"), uint8(4))
	f.Fuzz(func(t *testing.T, inner, prefix []byte, which uint8) {
		if len(inner)+len(prefix) > 60000 {
			return
		}
		s := testSuites[int(which)%len(testSuites)]
		c := newTestCipher(t, s, 10)
		msg, off := buildSK(c, prefix, inner)
		if err := c.Seal(msg, off, len(inner)); err != nil {
			t.Fatal(err)
		}
		plain, _, err := c.Open(msg, off)
		if err != nil || !bytes.Equal(plain, inner) {
			t.Fatalf("%+v: %v", s, err)
		}
	})
}

func TestNewIKECiphers(t *testing.T) {
	s := testSuites[4]
	p := mustPRF(t, PRFHMACSHA256)
	s.PRF = p.ID()
	k, err := DeriveIKEKeys(s, []byte("seed"), []byte("ni"), []byte("nr"), make([]byte, 8), make([]byte, 8))
	if err != nil {
		t.Fatal(err)
	}
	iSend, iRecv, err := NewIKECiphers(s, k, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	rSend, rRecv, _ := NewIKECiphers(s, k, false, nil)
	for _, pair := range [][2]*Cipher{{iSend, rRecv}, {rSend, iRecv}} {
		msg, off := buildSK(pair[0], nil, []byte("hello"))
		pair[0].Seal(msg, off, 5)
		if _, _, err := pair[1].Open(bytes.Clone(msg), off); err != nil {
			t.Errorf("peer cannot open: %v", err)
		}
	}
	msg, off := buildSK(iSend, nil, []byte("hello"))
	iSend.Seal(msg, off, 5)
	if _, _, err := iRecv.Open(msg, off); err == nil {
		t.Error("own message opened with the receive keys")
	}
	k.Wipe()
	if !bytes.Equal(k.SKd, make([]byte, len(k.SKd))) || !bytes.Equal(k.SKei, make([]byte, len(k.SKei))) {
		t.Error("Wipe left key material")
	}
}
