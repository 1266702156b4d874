package dnsoe

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
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

func TestHeaderBits(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Header
		bits uint16
	}{
		{"QR", Header{Response: true}, 0x8000},
		{"opcode", Header{Opcode: 5}, 0x2800},
		{"AA", Header{Authoritative: true}, 0x0400},
		{"TC", Header{Truncated: true}, 0x0200},
		{"RD", Header{RecursionDesired: true}, 0x0100},
		{"RA", Header{RecursionAvailable: true}, 0x0080},
		{"AD", Header{AuthenticData: true}, 0x0020},
		{"CD", Header{CheckingDisabled: true}, 0x0010},
		{"rcode", Header{RCode: RCodeNameError}, 0x0003},
	} {
		if got := tc.h.bits(); got != tc.bits {
			t.Errorf("%s: bits %#04x, want %#04x", tc.name, got, tc.bits)
		}
		if got := headerFromBits(0, tc.bits); got != tc.h {
			t.Errorf("%s: parsed %+v, want %+v", tc.name, got, tc.h)
		}
	}
}

func TestNewName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		wire string
		out  string
		err  error
	}{
		{".", "00", ".", nil},
		{"", "00", ".", nil},
		{"example", "076578616d706c6500", "example.", nil},
		{"www.Example.", "03777777074578616d706c6500", "www.Example.", nil},
		{`a\.b.c`, "03612e620163 00", `a\.b.c.`, nil},
		{`\000.c`, "0100 0163 00", `\000.c.`, nil},
		{"a..b", "", "", ErrEmptyLabel},
		{".a", "", "", ErrEmptyLabel},
		{strings.Repeat("a", 64), "", "", ErrLabelTooLong},
		{strings.Repeat("a.", 127), strings.Repeat("0161", 127) + "00", strings.Repeat("a.", 127), nil},
		{strings.Repeat("a.", 128), "", "", ErrNameTooLong},
		{`a\`, "", "", ErrBadEscape},
		{`a\25`, "", "", ErrBadEscape},
		{`a\256`, "", "", ErrBadEscape},
	} {
		n, err := NewName(tc.in)
		if !errors.Is(err, tc.err) {
			t.Errorf("NewName(%q): err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if got := hex.EncodeToString(n.Data[:n.Length]); got != strings.ReplaceAll(tc.wire, " ", "") {
			t.Errorf("NewName(%q) = %s, want %s", tc.in, got, tc.wire)
		}
		if n.String() != tc.out {
			t.Errorf("NewName(%q).String() = %q, want %q", tc.in, n.String(), tc.out)
		}
		if m, err := NewName(n.String()); err != nil || !m.Equal(n) {
			t.Errorf("String round trip of %q: %v", tc.in, err)
		}
	}
	if !MustNewName("WWW.example").Equal(MustNewName("www.EXAMPLE.")) {
		t.Error("names must compare case-insensitively")
	}
	if MustNewName("a.b").Equal(MustNewName("a.c")) {
		t.Error("different names compare equal")
	}
}

// compressedAnswer is an answer for "www.example. A" with the owner name
// compressed to the question, a CNAME whose target is partly compressed,
// and an SOA in the authority section.
const compressedAnswer = `
1234 8180 0001 0002 0001 0000
03777777 076578616d706c65 00 0001 0001
c00c 0005 0001 0000012c 0006 03616263 c010
c029 0001 0001 00000e10 0004 c0000201
c010 0006 0001 00000384 0020 026e73 c010 0474657374 c010 00000001 00000002 00000003 00000004 0000003c
`

func TestParseCompressed(t *testing.T) {
	msg := unhex(t, compressedAnswer)
	m, err := ParseMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.ID != 0x1234 || !m.Header.Response || !m.Header.RecursionDesired || !m.Header.RecursionAvailable {
		t.Errorf("header %+v", m.Header)
	}
	if len(m.Questions) != 1 || m.Questions[0].Name.String() != "www.example." || m.Questions[0].Type != TypeA {
		t.Fatalf("questions %+v", m.Questions)
	}
	if len(m.Answers) != 2 || len(m.Authorities) != 1 {
		t.Fatalf("sections %d %d", len(m.Answers), len(m.Authorities))
	}
	cn, err := m.Answers[0].Target()
	if err != nil || cn.String() != "abc.example." || m.Answers[0].Header.Name.String() != "www.example." {
		t.Errorf("CNAME %v %v", cn, err)
	}
	if m.Answers[1].Header.Name.String() != "abc.example." {
		t.Errorf("A owner %v", m.Answers[1].Header.Name)
	}
	a, err := m.Answers[1].A()
	if err != nil || a != netip.MustParseAddr("192.0.2.1") || m.Answers[1].Header.TTL != 3600 {
		t.Errorf("A %v %v", a, err)
	}
	soa, err := m.Authorities[0].SOA()
	if err != nil || soa.MName.String() != "ns.example." || soa.RName.String() != "test.example." || soa.Minimum != 60 || soa.Expire != 4 {
		t.Errorf("SOA %+v %v", soa, err)
	}
}

func TestBadPointers(t *testing.T) {
	hdr := "0000 0000 0001 0000 0000 0000"
	for _, tc := range []struct {
		name string
		q    string
		err  error
	}{
		{"self loop", "c00c 0001 0001", ErrBadPointer},
		{"forward", "c00e 00 0001 0001", ErrBadPointer},
		{"two-label loop", "01 61 c00c 0001 0001", ErrBadPointer},
		{"reserved 0x40", "41 0001 0001", ErrReservedLabel},
		{"reserved 0x80", "81 0001 0001", ErrReservedLabel},
		{"truncated pointer", "c0", ErrTruncated},
		{"truncated label", "05 6162", ErrTruncated},
	} {
		msg := unhex(t, hdr+tc.q)
		_, err := ParseMessage(msg)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		}
	}
	// A long chain of backward pointers each adding nothing: rejected by the
	// pointer limit, not by running forever.
	msg := unhex(t, "0000 0000 0000 0000 0000 0000")
	msg = append(msg, 0) // root at offset 12
	for i := 0; i < 200; i++ {
		off := len(msg) - 2
		if i == 0 {
			off = 12
		}
		msg = append(msg, 0xC0|byte(off>>8), byte(off))
	}
	var n Name
	if _, err := unpackName(&n, msg, len(msg)-2); !errors.Is(err, ErrTooManyPointers) {
		t.Errorf("pointer chain: %v", err)
	}
}

func TestTruncatedEverywhere(t *testing.T) {
	msg := unhex(t, compressedAnswer)
	for i := 0; i < len(msg); i++ {
		if _, err := ParseMessage(msg[:i]); err == nil {
			t.Errorf("prefix of %d octets parsed", i)
		} else if !errors.Is(err, ErrTruncated) {
			t.Errorf("prefix of %d octets: %v", i, err)
		}
	}
}

func typicalAnswer(t testing.TB) []byte {
	b := NewBuilder(nil, Header{ID: 7, Response: true, RecursionDesired: true, RecursionAvailable: true, AuthenticData: true})
	qn := MustNewName("23.2.0.192.in-addr.arpa.")
	must(t, b.Question(Question{Name: qn, Type: TypeIPSECKEY, Class: ClassINET}))
	must(t, b.Answer(ResourceHeader{Name: qn, Class: ClassINET, TTL: 300},
		IPSECKEY{Precedence: 10, GatewayType: GatewayIPv4, Algorithm: IPSECKEYAlgEdDSA, Gateway: netip.MustParseAddr("192.0.2.1"), PublicKey: bytes.Repeat([]byte{1}, 32)}))
	must(t, b.Answer(ResourceHeader{Name: qn, Class: ClassINET, TTL: 300}, Raw{T: TypeRRSIG, Data: bytes.Repeat([]byte{2}, 100)}))
	var opt ResourceHeader
	opt.SetEDNS0(1232, 0, 0, true)
	must(t, b.Additional(opt, OPT{}))
	msg, err := b.Finish()
	must(t, err)
	return msg
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestParseAllocs(t *testing.T) {
	msg := typicalAnswer(t)
	parse := func() {
		var p Parser
		if _, err := p.Start(msg); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := p.Question(); err != nil {
				break
			}
		}
		for {
			r, err := p.Resource()
			if err != nil {
				break
			}
			if r.Header.Type == TypeOPT {
				if _, _, _, do := r.Header.EDNS0(); !do {
					t.Fatal("DO lost")
				}
			}
			_ = r.Data()
		}
	}
	if n := testing.AllocsPerRun(100, parse); n != 0 {
		t.Errorf("parsing a typical answer allocates %v times", n)
	}
}

func TestBuildRoundTrip(t *testing.T) {
	owner := MustNewName("host.example.")
	rds := []RData{
		A{netip.MustParseAddr("192.0.2.9")},
		AAAA{netip.MustParseAddr("2001:db8::9")},
		NameData{T: TypeCNAME, Target: MustNewName("c.example.")},
		NameData{T: TypePTR, Target: MustNewName("p.example.")},
		NameData{T: TypeNS, Target: MustNewName("ns.example.")},
		MX{Preference: 10, Exchange: MustNewName("mx.example.")},
		SOA{MName: MustNewName("ns.example."), RName: MustNewName("h.example."), Serial: 1, Refresh: 2, Retry: 3, Expire: 4, Minimum: 5},
		TXT{Strings: []string{"X-IPsec-Server(10)=192.0.2.1", "", strings.Repeat("k", 255)}},
		KEY{Flags: 0x4200, Protocol: 4, Algorithm: 5, PublicKey: []byte{1, 3, 0xc1}},
		KEY{Flags: 0x5200, ExtFlags: 7, Protocol: 4, Algorithm: 5, PublicKey: []byte{1, 3, 0xc1}},
		IPSECKEY{Precedence: 1, GatewayType: GatewayName, Algorithm: 0, GatewayName: MustNewName("gw.example.")},
		Raw{T: TypeRRSIG, Data: []byte{1, 2, 3}},
	}
	b := NewBuilder([]byte("prefix"), Header{ID: 0xBEEF, Response: true, Authoritative: true, RCode: RCodeNameError})
	must(t, b.Question(Question{Name: owner, Type: TypeA, Class: ClassINET}))
	for i, d := range rds {
		must(t, b.Answer(ResourceHeader{Name: owner, Class: ClassINET, TTL: uint32(i)}, d))
	}
	var opt ResourceHeader
	opt.SetEDNS0(4096, 1, 0, true)
	must(t, b.Additional(opt, OPT{Options: []Option{{Code: 10, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}}))
	if err := b.Question(Question{Name: owner}); !errors.Is(err, ErrSectionOrder) {
		t.Errorf("question after records: %v", err)
	}
	out, err := b.Finish()
	must(t, err)
	if string(out[:6]) != "prefix" {
		t.Fatal("builder must append")
	}
	m, err := ParseMessage(out[6:])
	must(t, err)
	if m.Header.ID != 0xBEEF || m.Header.RCode != RCodeNameError || !m.Header.Authoritative {
		t.Errorf("header %+v", m.Header)
	}
	if len(m.Answers) != len(rds) {
		t.Fatalf("%d answers", len(m.Answers))
	}
	for i, r := range m.Answers {
		got, err := r.RData()
		if err != nil {
			t.Errorf("%d: %v", i, err)
			continue
		}
		if !reflect.DeepEqual(got, rds[i]) {
			t.Errorf("%d: got %#v, want %#v", i, got, rds[i])
		}
		if r.Header.TTL != uint32(i) || !r.Header.Name.Equal(owner) {
			t.Errorf("%d: header %+v", i, r.Header)
		}
	}
	if len(m.Additionals) != 1 {
		t.Fatal("OPT missing")
	}
	size, ext, ver, do := m.Additionals[0].Header.EDNS0()
	if size != 4096 || ext != 1 || ver != 0 || !do {
		t.Errorf("EDNS0 %d %d %d %v", size, ext, ver, do)
	}
	o, err := m.Additionals[0].OPT()
	if err != nil || len(o.Options) != 1 || o.Options[0].Code != 10 || len(o.Options[0].Data) != 8 {
		t.Errorf("OPT %+v %v", o, err)
	}
}

func TestBuilderRejects(t *testing.T) {
	b := NewBuilder(nil, Header{})
	if err := b.Question(Question{Name: Name{Length: 3}}); !errors.Is(err, ErrBadName) {
		t.Errorf("bad name: %v", err)
	}
	if err := b.Answer(ResourceHeader{Name: Root}, A{netip.MustParseAddr("2001:db8::1")}); !errors.Is(err, ErrRDataLength) {
		t.Errorf("A with IPv6: %v", err)
	}
	if err := b.Answer(ResourceHeader{Name: Root}, TXT{Strings: []string{strings.Repeat("x", 256)}}); !errors.Is(err, ErrRDataLength) {
		t.Errorf("long TXT string: %v", err)
	}
	if err := b.Answer(ResourceHeader{Name: Root}, IPSECKEY{GatewayType: 9}); !errors.Is(err, ErrGatewayType) {
		t.Errorf("gateway type 9: %v", err)
	}
	if err := b.Answer(ResourceHeader{Name: Root}, Raw{T: TypeRRSIG, Data: make([]byte, 70000)}); !errors.Is(err, ErrRDataTooLong) {
		t.Errorf("huge rdata: %v", err)
	}
}

func TestAccessorsCheckLengths(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		data string
	}{
		{TypeA, "c00002"},
		{TypeAAAA, "20010db8"},
		{TypeCNAME, "0161"},     // name runs past the rdata
		{TypeCNAME, "016100ff"}, // trailing octet
		{TypeSOA, "00 00 0000"},
		{TypeTXT, ""},
		{TypeTXT, "0561"},
		{TypeOPT, "000a0005 0102"},
		{TypeMX, "00"},
	} {
		b := NewBuilder(nil, Header{})
		must(t, b.Answer(ResourceHeader{Name: Root}, Raw{T: tc.typ, Data: unhex(t, tc.data)}))
		msg, _ := b.Finish()
		m, err := ParseMessage(msg)
		must(t, err)
		if _, err := m.Answers[0].RData(); err == nil {
			t.Errorf("type %d data %s accepted", tc.typ, tc.data)
		}
	}
}

func BenchmarkParseTypicalAnswer(b *testing.B) {
	msg := typicalAnswer(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		var p Parser
		p.Start(msg)
		for {
			if _, err := p.Question(); err != nil {
				break
			}
		}
		for {
			if _, err := p.Resource(); err != nil {
				break
			}
		}
	}
}
