package dnsoe

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"testing"
)

// FuzzParseMessage parses arbitrary messages; whatever parses must decode,
// re-encode with the Builder and parse again to the same values.
func FuzzParseMessage(f *testing.F) {
	f.Add(unhex(f, compressedAnswer))
	f.Add(typicalAnswer(f))
	f.Add(unhex(f, "0000 0000 0001 0000 0000 0000 01 61 c00c 0001 0001"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := ParseMessage(msg)
		if err != nil {
			return
		}
		b := NewBuilder(nil, m.Header)
		for _, q := range m.Questions {
			if err := b.Question(q); err != nil {
				t.Fatalf("question did not re-encode: %v", err)
			}
		}
		type decoded struct {
			sec Section
			h   ResourceHeader
			d   RData
		}
		var want []decoded
		for _, sec := range [][]Resource{m.Answers, m.Authorities, m.Additionals} {
			for _, r := range sec {
				d, err := r.RData()
				if err != nil {
					return // typed data malformed: nothing to round-trip
				}
				h := r.Header
				h.Length = 0
				want = append(want, decoded{r.Section, h, d})
			}
		}
		for _, w := range want {
			if err := b.Resource(w.sec, w.h, w.d); err != nil {
				return // e.g. a TXT of zero strings cannot be written
			}
		}
		out, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if m2.Header != m.Header || !reflect.DeepEqual(m2.Questions, m.Questions) {
			t.Fatalf("header or questions changed")
		}
		i := 0
		for _, sec := range [][]Resource{m2.Answers, m2.Authorities, m2.Additionals} {
			for _, r := range sec {
				d, err := r.RData()
				if err != nil {
					t.Fatalf("re-encoded record %d: %v", i, err)
				}
				h := r.Header
				h.Length = 0
				if h.Type != want[i].h.Type || !h.Name.Equal(want[i].h.Name) || h.TTL != want[i].h.TTL || h.Class != want[i].h.Class {
					t.Fatalf("record %d header %+v, want %+v", i, h, want[i].h)
				}
				if !reflect.DeepEqual(d, want[i].d) && !bothEmpty(d, want[i].d) {
					t.Fatalf("record %d: %#v, want %#v", i, d, want[i].d)
				}
				i++
			}
		}
		if i != len(want) {
			t.Fatalf("%d records, want %d", i, len(want))
		}
	})
}

// bothEmpty treats nil and empty raw data as equal.
func bothEmpty(a, b RData) bool {
	ra, ok1 := a.(Raw)
	rb, ok2 := b.(Raw)
	return ok1 && ok2 && ra.T == rb.T && len(ra.Data) == 0 && len(rb.Data) == 0
}

func FuzzIPSECKEY(f *testing.F) {
	f.Add(append(unhex(f, "0a 01 02 c0000226"), b64(f, rfc4025Key)...))
	f.Add(unhex(f, "0a 03 00 026777076578616d706c6500"))
	f.Add(unhex(f, "0a 02 04 20010db8000000000000000000000001 0102"))
	f.Add(unhex(f, "0a 00 03"+"11223344"))
	f.Fuzz(func(t *testing.T, d []byte) {
		k, err := ParseIPSECKEY(d)
		if err != nil {
			return
		}
		k.Key() // must not panic
		out, err := k.AppendRData(nil)
		if err != nil || !bytes.Equal(out, d) {
			t.Fatalf("round trip %x -> %x (%v)", d, out, err)
		}
	})
}

func FuzzTXT(f *testing.F) {
	f.Add("X-IPsec-Server(10)=192.0.2.5 " + rfc4025Key)
	f.Add("X-IPsec-Server(10)=@gw.example.com")
	f.Add("X-IPsec-Server(1)=2001:db8::1 A;B,C;D;" + rfc4025Key)
	f.Add("v=spf1 -all")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseIPsecServer(s)
		if err != nil {
			return
		}
		r.PublicKey()
		r2, err := ParseIPsecServer(r.String())
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip %q -> %q: %v", s, r.String(), err)
		}
	})
}

func FuzzKEY(f *testing.F) {
	f.Add(append(unhex(f, "4200 04 01"), b64(f, rfc4025Key)...))
	f.Add(append(unhex(f, "4200 04 05"), "ENCR_AES_CBC-256;AUTH_HMAC_SHA2_512_256;MODP3072;"+rfc4025Key...))
	f.Add(unhex(f, "5200 04 05 0001 0103"))
	f.Add(unhex(f, "c200 04 01"))
	f.Fuzz(func(t *testing.T, d []byte) {
		k, err := ParseKEY(d)
		if err != nil {
			return
		}
		k.Key()
		if a, err := k.AutoSEC(); err == nil {
			a2, err := ParseAutoSEC(a.String())
			if err != nil || !reflect.DeepEqual(a, a2) {
				t.Fatalf("AutoSEC round trip %q: %v", a.String(), err)
			}
			if base64.StdEncoding.EncodeToString(a.PublicKey) == "" {
				t.Fatal("AutoSEC without key")
			}
		}
		out, err := k.AppendRData(nil)
		if err != nil || !bytes.Equal(out, d) {
			t.Fatalf("round trip %x -> %x (%v)", d, out, err)
		}
	})
}
