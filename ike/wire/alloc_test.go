package wire

import (
	"testing"
)

// vectorMessage returns message i of recording 1 (IKE_SA_INIT request for
// 0, IKE_AUTH request for 2) and, for encrypted ones, its inner chain.
func vectorMessage(tb testing.TB, i int) (raw, inner []byte) {
	v := loadVectors(tb)["ikev2-strongswan-1-aes128gcm16-prfsha256-ecp256.json"]
	m := v.Messages[i]
	raw = unhex(tb, m.IKEMessage)
	if m.Encrypted != nil {
		var err error
		inner, err = StripPadding(unhex(tb, m.Encrypted.Plaintext))
		if err != nil {
			tb.Fatal(err)
		}
	}
	return raw, inner
}

func TestAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	init0, _ := vectorMessage(t, 0)
	auth, inner := vectorMessage(t, 2)
	m, err := Parse(auth)
	if err != nil {
		t.Fatal(err)
	}
	sk := m.Payloads[0].(*Encrypted)
	ps, err := ParsePayloads(sk.NextPayload, inner)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 2048)

	checks := []struct {
		name string
		max  float64
		f    func()
	}{
		// The receive path up to decryption allocates nothing.
		{"SplitEncrypted", 0, func() { _, _ = SplitEncrypted(auth, 8, 16) }},
		{"ParseHeader", 0, func() { _, _ = ParseHeader(auth) }},
		// Building into a buffer with room allocates nothing.
		{"AppendPayloads", 0, func() { _, _, _ = AppendPayloads(buf[:0], ps) }},
		{"AppendEncrypted", 0, func() { _, _, _, _, _ = AppendEncrypted(buf[:0], m.Header, sk.NextPayload, 8, len(inner)+1, 16) }},
		// Parsing: the Message, the payload slice and one value per
		// payload (SA, TS add their inner slices).
		{"Parse IKE_SA_INIT (9 payloads)", 14, func() { _, _ = Parse(init0) }},
		{"ParsePayloads IKE_AUTH inner (10 payloads)", 16, func() { _, _ = ParsePayloads(sk.NextPayload, inner) }},
	}
	for _, c := range checks {
		if n := testing.AllocsPerRun(100, c.f); n > c.max {
			t.Errorf("%s: %v allocations, want at most %v", c.name, n, c.max)
		} else {
			t.Logf("%s: %v allocations", c.name, n)
		}
	}
}

func BenchmarkParseIKESAInit(b *testing.B) {
	raw, _ := vectorMessage(b, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseInnerIKEAuth(b *testing.B) {
	raw, inner := vectorMessage(b, 2)
	m, _ := Parse(raw)
	first := m.Payloads[0].(*Encrypted).NextPayload
	b.ReportAllocs()
	b.SetBytes(int64(len(inner)))
	for b.Loop() {
		if _, err := ParsePayloads(first, inner); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendIKESAInit(b *testing.B) {
	raw, _ := vectorMessage(b, 0)
	m, _ := Parse(raw)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := m.Append(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
