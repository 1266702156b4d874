package ikecrypto

import "testing"

func BenchmarkKeyExchange(b *testing.B) {
	for _, g := range []struct {
		name  string
		group uint16
	}{{"ecp256", GroupECP256}, {"ecp384", GroupECP384}, {"x25519", GroupCurve25519},
		{"modp2048", GroupMODP2048}, {"modp3072", GroupMODP3072}, {"modp4096", GroupMODP4096}, {"mlkem768", GroupMLKEM768}} {
		peer, _ := NewKE(g.group, nil)
		b.Run(g.name, func(b *testing.B) {
			for b.Loop() {
				// One side's whole work: key pair and shared secret.
				if _, _, err := Respond(g.group, nil, peer.PublicKey()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSealOpen(b *testing.B) {
	for _, s := range []Suite{testSuites[0], testSuites[3], testSuites[4]} {
		c := newTestCipher(b, s, 1)
		inner := make([]byte, 1024)
		b.Run(s.name(), func(b *testing.B) {
			msg, off := buildSK(c, nil, inner)
			b.SetBytes(int64(len(inner)))
			for b.Loop() {
				if err := c.Seal(msg, off, len(inner)); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Open(msg, off); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func (s Suite) name() string {
	switch s.Encr {
	case EncrAESGCM16:
		return "aesgcm"
	case EncrChaCha20Poly1305:
		return "chacha20poly1305"
	}
	return "aescbc-hmac"
}
