package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// vectorSeeds returns every recorded message and decrypted inner chain of
// the strongSwan vectors, as fuzz seeds.
func vectorSeeds(tt testing.TB) (msgs [][]byte, inner [][]byte, firsts []PayloadType) {
	for _, v := range loadVectors(tt) {
		for _, m := range v.Messages {
			raw := unhex(tt, m.IKEMessage)
			msgs = append(msgs, raw)
			if m.Encrypted == nil {
				continue
			}
			pm, err := Parse(raw)
			if err != nil {
				tt.Fatal(err)
			}
			in, err := StripPadding(unhex(tt, m.Encrypted.Plaintext))
			if err != nil {
				tt.Fatal(err)
			}
			inner = append(inner, in)
			firsts = append(firsts, pm.Payloads[len(pm.Payloads)-1].(*Encrypted).NextPayload)
		}
	}
	return msgs, inner, firsts
}

func FuzzParseMessage(f *testing.F) {
	for _, tt := range payloadTests {
		// Wrap each table chain in a header so the seeds reach the bodies.
		m := &Message{Header: testHeader}
		ps, err := ParsePayloads(tt.first, tt.wire)
		if err != nil {
			f.Fatal(err)
		}
		m.Payloads = ps
		b, err := m.Append(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(cat(append(hdrFields("35", "00000025"), "00", "00", "0009", "0001", "0001", "01")...))
	msgs, _, _ := vectorSeeds(f)
	for _, m := range msgs {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		out, err := m.Append(nil)
		if err != nil {
			t.Fatalf("a parsed message does not build: %v", err)
		}
		if len(out) != len(data) {
			t.Fatalf("rebuilt length %d, parsed %d", len(out), len(data))
		}
		m2, err := Parse(out)
		if err != nil {
			t.Fatalf("rebuilt message does not parse: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs\n%#v\n%#v", m, m2)
		}
		out2, err := m2.Append(nil)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second build differs: %v", err)
		}
		// The allocation-free walk agrees with the parser.
		if n := len(m.Payloads); n > 0 {
			if sk, ok := m.Payloads[n-1].(*Encrypted); ok {
				ep, err := SplitEncrypted(data, 0, 0)
				if len(sk.Body) == 0 {
					return
				}
				if err != nil || ep.NextPayload != sk.NextPayload || !bytes.Equal(ep.Ciphertext, sk.Body) {
					t.Fatalf("SplitEncrypted disagrees: %v", err)
				}
			}
		}
	})
}

func FuzzParsePayloads(f *testing.F) {
	for _, tt := range payloadTests {
		f.Add(byte(tt.first), tt.wire)
	}
	_, inner, firsts := vectorSeeds(f)
	for i := range inner {
		f.Add(byte(firsts[i]), inner[i])
	}
	f.Fuzz(func(t *testing.T, first byte, data []byte) {
		ps, err := ParsePayloads(PayloadType(first), data)
		if err != nil {
			return
		}
		ft, out, err := AppendPayloads(nil, ps)
		if err != nil {
			t.Fatalf("parsed payloads do not build: %v", err)
		}
		if ft != PayloadType(first) || len(out) != len(data) {
			t.Fatalf("rebuilt first %v len %d, parsed %v len %d", ft, len(out), first, len(data))
		}
		ps2, err := ParsePayloads(ft, out)
		if err != nil {
			t.Fatalf("rebuilt chain does not parse: %v", err)
		}
		if !reflect.DeepEqual(ps, ps2) {
			t.Fatalf("round trip differs\n%#v\n%#v", ps, ps2)
		}
		_ = Validate(ExchangeIKEAuth, false, Types(nil, ps))
	})
}
