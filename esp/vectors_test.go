package esp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

type vectorFile struct {
	ChildSAs []struct {
		Name     string    `json:"name"`
		Proposal string    `json:"proposal"`
		I2R      vectorDir `json:"i2r"`
		R2I      vectorDir `json:"r2i"`
	} `json:"child_sas"`
}

type vectorDir struct {
	SPI     string `json:"spi"`
	EncrKey string `json:"encr_key"`
	Salt    string `json:"salt"`
	Packets []struct {
		Seq uint64 `json:"seq"`
		UDP string `json:"udp_payload"`
	} `json:"esp_packets"`
}

// TestStrongSwanVectors opens every ESP packet recorded between two
// strongSwan 5.9.8 daemons (kernel-libipsec) with the recorded keys: the
// inner packets are ICMP echoes between 198.51.100.1 and 203.0.113.1.
func TestStrongSwanVectors(t *testing.T) {
	files, _ := filepath.Glob("testdata/ikev2-strongswan-*.json")
	if len(files) != 5 {
		t.Fatalf("want 5 vector files in testdata, have %d", len(files))
	}
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vectorFile
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		for _, c := range v.ChildSAs {
			for _, d := range []struct {
				dir      vectorDir
				src, dst string
			}{{c.I2R, "198.51.100.1", "203.0.113.1"}, {c.R2I, "203.0.113.1", "198.51.100.1"}} {
				key := append(unhex(t, d.dir.EncrKey), unhex(t, d.dir.Salt)...)
				var suite Suite
				switch len(key) {
				case 20:
					suite = AES128GCM16
				case 36:
					suite = AES256GCM16
					if bytes.Contains(raw, []byte("chacha20poly1305")) {
						suite = ChaCha20Poly1305
					}
				}
				spi := binary.BigEndian.Uint32(unhex(t, d.dir.SPI))
				sa, err := NewSA(SAConfig{SPI: spi, Dir: Inbound, Suite: suite, Key: key,
					Local: []netip.Prefix{pfx(d.dst + "/32")}, Remote: []netip.Prefix{pfx(d.src + "/32")}})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range d.dir.Packets {
					esp := unhex(t, p.UDP)
					buf := make([]byte, 16+len(esp))
					copy(buf[16:], esp)
					inner, n, nh, err := sa.Open(buf, 16, len(esp))
					if err != nil {
						t.Fatalf("%s %s spi %08x seq %d: %v", filepath.Base(f), c.Name, spi, p.Seq, err)
					}
					pkt := buf[inner : inner+n]
					if nh != 4 || pkt[9] != protoICMP || !l4Valid(pkt) {
						t.Fatalf("%s seq %d: inner not an ICMPv4 packet: nh %d % x", f, p.Seq, nh, pkt)
					}
					if got := netip.AddrFrom4([4]byte(pkt[12:16])); got != addr(d.src) {
						t.Fatalf("%s: inner source %v, want %s", f, got, d.src)
					}
					total++
				}
				if st := sa.Status(); st.Packets != uint64(len(d.dir.Packets)) || st.Seq != uint64(len(d.dir.Packets)) {
					t.Fatalf("%s: status %+v", f, st)
				}
			}
		}
	}
	if total < 20 {
		t.Fatalf("opened only %d packets", total)
	}
}

// TestRFC7634Example opens the ESP packet of RFC 7634, Appendix A.
func TestRFC7634Example(t *testing.T) {
	keymat := unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3")
	source := unhex(t, `45 00 00 54 a6 f2 00 00 40 01 e7 78 c6 33 64 05
		c0 00 02 05 08 00 5b 7a 3a 08 00 00 55 3b ec 10 00 07 36 27 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13
		14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33
		34 35 36 37`)
	packet := unhex(t, `45 00 00 8c 23 45 00 00 40 32 de 5b cb 00 71 99
		cb 00 71 05 01 02 03 04 00 00 00 05 10 11 12 13 14 15 16 17 24 03 94 28 b9 7f 41 7e 3c 13 75 3a
		4f 05 08 7b 67 c3 52 e6 a7 fa b1 b9 82 d4 66 ef 40 7a e5 c6 14 ee 80 99 d5 28 44 eb 61 aa 95 df
		ab 4c 02 f7 2a a7 1e 7c 4c 4f 64 c9 be fe 2f ac c6 38 e8 f3 cb ec 16 3f ac 46 9b 50 27 73 f6 fb
		94 e6 64 da 91 65 b8 28 29 f6 41 e0 76 aa a8 26 6b 7f b0 f7 b1 1b 36 99 07 e1 ad 43`)
	sa, err := NewSA(SAConfig{SPI: 0x01020304, Dir: Inbound, Suite: ChaCha20Poly1305, Key: keymat,
		Local: []netip.Prefix{pfx("192.0.2.5/32")}, Remote: []netip.Prefix{pfx("198.51.100.0/24")}})
	if err != nil {
		t.Fatal(err)
	}
	esp := packet[20:] // raw ESP: strip the outer IPv4 header
	buf := make([]byte, 16+len(esp))
	copy(buf[16:], esp)
	inner, n, nh, err := sa.Open(buf, 16, len(esp))
	if err != nil {
		t.Fatal(err)
	}
	if nh != 4 || !bytes.Equal(buf[inner:inner+n], source) {
		t.Fatalf("got nh %d % x", nh, buf[inner:inner+n])
	}
	// The same packet again is a replay (RFC 4303, Section 3.4.3).
	copy(buf[16:], esp)
	if _, _, _, err := sa.Open(buf, 16, len(esp)); err != ErrReplay {
		t.Fatalf("replay: %v", err)
	}
}

// TestRFC8439AEADAsESN: the AEAD vector of RFC 8439, Section 2.8.2 has the
// shape of an ESN packet: AAD = SPI 50515253 || seq-hi c0c1c2c3 || seq-lo
// c4c5c6c7, nonce = salt 07000000 || IV 4041424344454647. Opened as ESP with
// the replay window near that sequence number, it must pass the ICV (so the
// inferred high bits went into the AAD) and then fail the padding check,
// since the plaintext ends in "t." and is not an ESP trailer.
func TestRFC8439AEADAsESN(t *testing.T) {
	key := unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f07000000")
	ct := unhex(t, `d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2 a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6
		3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b 1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36
		92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58 fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc
		3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b 61 16`)
	tag := unhex(t, "1ae10b594f09e26a7e902ecbd0600691")
	pt := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")

	// The library itself, on the RFC's inputs.
	aead, _ := chacha20poly1305.New(key[:32])
	nonce := unhex(t, "07000000 4041424344454647")
	aad := unhex(t, "50515253c0c1c2c3c4c5c6c7")
	if got := aead.Seal(nil, nonce, pt, aad); !bytes.Equal(got, append(append([]byte{}, ct...), tag...)) {
		t.Fatal("chacha20poly1305 disagrees with RFC 8439, Section 2.8.2")
	}

	esp := append(unhex(t, "50515253 c4c5c6c7 4041424344454647"), ct...)
	esp = append(esp, tag...)
	for _, tc := range []struct {
		top  uint64
		want error
	}{
		{0xc0c1c2c3_00000100, ErrPadding}, // same subspace, ahead
		{0xc0c1c2c3_c4c5c6c0, ErrPadding}, // just below
		{0xc0c1c2c2_fffffff0, ErrPadding}, // previous subspace: infers the next one
		{0xc0c1c2c3_c4c5c6c7, ErrReplay},  // already received: rejected before the ICV
		// RFC 4303, Appendix A2.2: below the window means the next
		// subspace, so these guess the wrong high bits and fail the ICV.
		{0xc0c1c2c4_00000010, ErrAuth},
		{0xc0c1c2c3_d0000000, ErrAuth},
	} {
		sa, err := NewSA(SAConfig{SPI: 0x50515253, Dir: Inbound, Suite: ChaCha20Poly1305, Key: key, ESN: true,
			Local: []netip.Prefix{pfx("0.0.0.0/0")}, Remote: []netip.Prefix{pfx("0.0.0.0/0")}})
		if err != nil {
			t.Fatal(err)
		}
		sa.SetSeq(tc.top)
		buf := make([]byte, 16+len(esp))
		copy(buf[16:], esp)
		if _, _, _, err := sa.Open(buf, 16, len(esp)); err != tc.want {
			t.Fatalf("top %#x: %v, want %v", tc.top, err, tc.want)
		}
	}
}

// refSeal is an independent construction of an ESP packet: the standard
// AEADs, a hand-built header and trailer, following RFC 4303 Section 2,
// RFC 4106 Sections 3-5 and RFC 7634 Section 2.
func refSeal(t *testing.T, s Suite, keymat []byte, spi uint32, seq uint64, esn bool, inner []byte, nh byte) []byte {
	k, salt := keymat[:len(keymat)-4], keymat[len(keymat)-4:]
	var aead cipher.AEAD
	if s == ChaCha20Poly1305 {
		aead, _ = chacha20poly1305.New(k)
	} else {
		b, _ := aes.NewCipher(k)
		aead, _ = cipher.NewGCM(b)
	}
	iv := make([]byte, 8)
	binary.BigEndian.PutUint64(iv, seq)
	hdr := binary.BigEndian.AppendUint32(nil, spi)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(seq))
	aad := hdr
	if esn {
		aad = binary.BigEndian.AppendUint32(nil, spi)
		aad = binary.BigEndian.AppendUint32(aad, uint32(seq>>32))
		aad = binary.BigEndian.AppendUint32(aad, uint32(seq))
	}
	pt := append([]byte{}, inner...)
	for i := 1; (len(pt)+2)%4 != 0; i++ {
		pt = append(pt, byte(i))
	}
	pt = append(pt, byte(len(pt)-len(inner)), nh)
	out := append(append([]byte{}, hdr...), iv...)
	return aead.Seal(out, append(append([]byte{}, salt...), iv...), pt, aad)
}

func TestSealMatchesIndependentConstruction(t *testing.T) {
	for _, s := range suites {
		for _, esn := range []bool{false, true} {
			for _, seq := range []uint64{1, 2, 1<<32 - 1, 1 << 32, 1<<32 + 7, 0x0123456789abcdef} {
				if !esn && seq > 1<<32-1 {
					continue
				}
				for _, inner := range [][]byte{
					ping4("198.51.100.1", "203.0.113.1", 0),
					ping4("198.51.100.1", "203.0.113.1", 1),
					ping4("198.51.100.1", "203.0.113.1", 2),
					ping6("2001:db8:1::1", "2001:db8:2::1", 3),
				} {
					out, _ := saPair(t, s, esn, nil, nil)
					out.SetSeq(seq - 1)
					buf := sealBuf(inner)
					n, err := out.Seal(buf, len(inner))
					if err != nil {
						t.Fatal(err)
					}
					nh := byte(4)
					if inner[0]>>4 == 6 {
						nh = 41
					}
					key := make([]byte, s.KeyLen())
					for i := range key {
						key[i] = byte(0xa0 + i)
					}
					want := refSeal(t, s, key, 0x11223344, seq, esn, inner, nh)
					if got := buf[SealOffset : SealOffset+n]; !bytes.Equal(got, want) {
						t.Fatalf("%v esn=%v seq=%#x len %d:\n got % x\nwant % x", s, esn, seq, len(inner), got, want)
					}
					if n%4 != 0 {
						t.Fatalf("ESP packet of %d bytes is not 4-byte aligned (RFC 4303, Section 2.4)", n)
					}
				}
			}
		}
	}
}
