package wire

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		ex    ExchangeType
		resp  bool
		types []PayloadType
		err   error
		bad   PayloadType
	}{
		{"IKE_SA_INIT request", ExchangeIKESAInit, false, []PayloadType{PayloadSA, PayloadKE, PayloadNonce, PayloadNotify, PayloadNotify}, nil, 0},
		{"IKE_SA_INIT request with cookie first", ExchangeIKESAInit, false, []PayloadType{PayloadNotify, PayloadSA, PayloadKE, PayloadNonce}, nil, 0},
		{"IKE_SA_INIT request without KE", ExchangeIKESAInit, false, []PayloadType{PayloadSA, PayloadNonce}, ErrMissing, PayloadKE},
		{"IKE_SA_INIT request of a notify only", ExchangeIKESAInit, false, []PayloadType{PayloadNotify}, ErrMissing, PayloadSA},
		{"IKE_SA_INIT response with CERTREQ", ExchangeIKESAInit, true, []PayloadType{PayloadSA, PayloadKE, PayloadNonce, PayloadCERTREQ}, nil, 0},
		{"IKE_SA_INIT request with CERTREQ", ExchangeIKESAInit, false, []PayloadType{PayloadSA, PayloadKE, PayloadNonce, PayloadCERTREQ}, ErrNotAllowed, PayloadCERTREQ},
		{"IKE_SA_INIT COOKIE response", ExchangeIKESAInit, true, []PayloadType{PayloadNotify}, nil, 0},
		{"IKE_SA_INIT with AUTH", ExchangeIKESAInit, false, []PayloadType{PayloadSA, PayloadKE, PayloadNonce, PayloadAUTH}, ErrNotAllowed, PayloadAUTH},
		{"IKE_SA_INIT with two SA", ExchangeIKESAInit, false, []PayloadType{PayloadSA, PayloadSA, PayloadKE, PayloadNonce}, ErrDuplicate, PayloadSA},
		{"IKE_SA_INIT with SK", ExchangeIKESAInit, false, []PayloadType{PayloadSK}, ErrNotAllowed, PayloadSK},
		{"unknown payload types are skipped", ExchangeIKESAInit, false, []PayloadType{PayloadSA, PayloadKE, PayloadNonce, 99, 99}, nil, 0},
		{"IKE_AUTH request", ExchangeIKEAuth, false, []PayloadType{PayloadIDi, PayloadNotify, PayloadIDr, PayloadAUTH, PayloadSA, PayloadTSi, PayloadTSr}, nil, 0},
		{"IKE_AUTH response with CERTREQ", ExchangeIKEAuth, true, []PayloadType{PayloadIDr, PayloadAUTH, PayloadCERTREQ}, ErrNotAllowed, PayloadCERTREQ},
		{"IKE_AUTH response with IDi", ExchangeIKEAuth, true, []PayloadType{PayloadIDi}, ErrNotAllowed, PayloadIDi},
		{"IKE_AUTH with KE", ExchangeIKEAuth, false, []PayloadType{PayloadIDi, PayloadKE}, ErrNotAllowed, PayloadKE},
		{"IKE_AUTH two AUTH", ExchangeIKEAuth, false, []PayloadType{PayloadIDi, PayloadAUTH, PayloadAUTH}, ErrDuplicate, PayloadAUTH},
		{"CREATE_CHILD_SA rekey", ExchangeCreateChildSA, false, []PayloadType{PayloadNotify, PayloadSA, PayloadNonce, PayloadKE, PayloadTSi, PayloadTSr}, nil, 0},
		{"CREATE_CHILD_SA without nonce", ExchangeCreateChildSA, false, []PayloadType{PayloadSA, PayloadKE}, ErrMissing, PayloadNonce},
		{"CREATE_CHILD_SA error response", ExchangeCreateChildSA, true, []PayloadType{PayloadNotify}, nil, 0},
		{"CREATE_CHILD_SA with Delete", ExchangeCreateChildSA, false, []PayloadType{PayloadSA, PayloadNonce, PayloadDelete}, ErrNotAllowed, PayloadDelete},
		{"INFORMATIONAL empty", ExchangeInformational, false, nil, nil, 0},
		{"INFORMATIONAL delete", ExchangeInformational, true, []PayloadType{PayloadDelete, PayloadDelete, PayloadNotify}, nil, 0},
		{"INFORMATIONAL with SA", ExchangeInformational, false, []PayloadType{PayloadSA}, ErrNotAllowed, PayloadSA},
		{"IKE_INTERMEDIATE KE", ExchangeIKEIntermediate, false, []PayloadType{PayloadKE}, nil, 0},
		{"IKE_INTERMEDIATE with AUTH", ExchangeIKEIntermediate, false, []PayloadType{PayloadAUTH}, ErrNotAllowed, PayloadAUTH},
		{"IKE_FOLLOWUP_KE", ExchangeIKEFollowupKE, false, []PayloadType{PayloadKE, PayloadNotify}, nil, 0},
		{"IKE_FOLLOWUP_KE without KE", ExchangeIKEFollowupKE, false, []PayloadType{PayloadNotify}, ErrMissing, PayloadKE},
		{"unknown exchange", 99, false, nil, ErrNotAllowed, PayloadNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.ex, tt.resp, tt.types)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Validate = %v, want %v", err, tt.err)
			}
			var pe *PayloadError
			if err != nil && (!errors.As(err, &pe) || pe.Type != tt.bad) {
				t.Fatalf("Validate = %v, want payload %v", err, tt.bad)
			}
			for _, ty := range tt.types {
				if err == nil && !Allowed(tt.ex, tt.resp, ty) {
					t.Fatalf("Allowed(%v) false in a valid message", ty)
				}
			}
		})
	}
	if Allowed(ExchangeIKEAuth, false, PayloadSK) || !Allowed(ExchangeIKEAuth, false, 99) {
		t.Fatal("Allowed: SK must be refused in a chain, unknown types skipped")
	}
}

func TestValidateOuter(t *testing.T) {
	tests := []struct {
		ex    ExchangeType
		types []PayloadType
		err   error
	}{
		{ExchangeIKESAInit, []PayloadType{PayloadSA, PayloadKE, PayloadNonce}, nil},
		{ExchangeIKESAInit, []PayloadType{PayloadSK}, ErrNotAllowed},
		{ExchangeIKEAuth, []PayloadType{PayloadSK}, nil},
		{ExchangeIKEAuth, []PayloadType{PayloadSKF}, nil},
		{ExchangeIKEAuth, []PayloadType{200, PayloadSK}, nil},
		{ExchangeIKEAuth, []PayloadType{PayloadIDi, PayloadSK}, ErrNotAllowed},
		{ExchangeInformational, nil, ErrMissing},
		{ExchangeIKEIntermediate, []PayloadType{PayloadKE}, ErrNotAllowed},
		{77, []PayloadType{PayloadSK}, ErrNotAllowed},
	}
	for _, tt := range tests {
		if err := ValidateOuter(tt.ex, tt.types); !errors.Is(err, tt.err) {
			t.Errorf("ValidateOuter(%v, %v) = %v, want %v", tt.ex, tt.types, err, tt.err)
		}
	}
}

func TestSelectorPrefix(t *testing.T) {
	tests := []struct {
		prefix     string
		start, end string
	}{
		{"198.51.100.0/24", "198.51.100.0", "198.51.100.255"},
		{"198.51.100.7/32", "198.51.100.7", "198.51.100.7"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
		{"203.0.113.64/27", "203.0.113.64", "203.0.113.95"},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:db8::1/128", "2001:db8::1", "2001:db8::1"},
		{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:db8:0:1::/63", "2001:db8:0::", "2001:db8:0:1:ffff:ffff:ffff:ffff"},
	}
	for _, tt := range tests {
		p := netip.MustParsePrefix(tt.prefix)
		s := SelectorFromPrefix(p, 17, 500, 4500)
		if s.Start != netip.MustParseAddr(tt.start) || s.End != netip.MustParseAddr(tt.end) ||
			s.IPProtocol != 17 || s.StartPort != 500 || s.EndPort != 4500 {
			t.Errorf("SelectorFromPrefix(%s) = %+v", p, s)
		}
		if got, ok := s.Prefix(); !ok || got != p.Masked() {
			t.Errorf("Prefix() of %s = %v, %v", p, got, ok)
		}
	}
	if s := SelectorFromPrefix(netip.MustParsePrefix("::ffff:192.0.2.0/120"), 0, 0, 0xffff); s.TSType != TSIPv4AddrRange ||
		s.Start != netip.MustParseAddr("192.0.2.0") || s.End != netip.MustParseAddr("192.0.2.255") || !s.AnyPorts() {
		t.Errorf("mapped prefix: %+v", s)
	}
	// Ranges that are not one prefix.
	for _, r := range [][2]string{
		{"192.0.2.1", "192.0.2.2"},
		{"192.0.2.0", "192.0.2.254"},
		{"192.0.2.255", "192.0.2.0"},
		{"2001:db8::", "2001:db8::2"},
	} {
		s := TrafficSelector{TSType: TSIPv4AddrRange, Start: netip.MustParseAddr(r[0]), End: netip.MustParseAddr(r[1])}
		if s.Start.Is6() {
			s.TSType = TSIPv6AddrRange
		}
		if p, ok := s.Prefix(); ok {
			t.Errorf("Prefix() of %v-%v = %v", r[0], r[1], p)
		}
	}
	if _, ok := (&TrafficSelector{TSType: TSSecLabel}).Prefix(); ok {
		t.Error("Prefix() of a security label")
	}
}

func TestPadding(t *testing.T) {
	for _, bs := range []int{0, 1, 8, 16} {
		for n := 0; n < 40; n++ {
			in := bytes.Repeat([]byte{0xab}, n)
			pt := AppendPadding(bytes.Clone(in), bs)
			if bs > 1 && len(pt)%bs != 0 {
				t.Fatalf("block %d, len %d: padded to %d", bs, n, len(pt))
			}
			if len(pt)-n > max(bs, 1) {
				t.Fatalf("block %d, len %d: %d octets of padding", bs, n, len(pt)-n)
			}
			got, err := StripPadding(pt)
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("block %d, len %d: StripPadding = %x, %v", bs, n, got, err)
			}
		}
	}
	for _, bad := range [][]byte{nil, {1}, {0, 0, 3}} {
		if _, err := StripPadding(bad); !errors.Is(err, ErrPadding) {
			t.Errorf("StripPadding(%x) = %v", bad, err)
		}
	}
}

func TestNATDetectionHash(t *testing.T) {
	// Computed independently: SHA-1 over SPIi | SPIr | address | port.
	var in []byte
	in = binary.BigEndian.AppendUint64(in, 0x8b71435e23dab6ba)
	in = binary.BigEndian.AppendUint64(in, 0)
	in = append(in, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
	in = append(in, 0x11, 0x94)
	want := sha1.Sum(in)
	got := NATDetectionHash(0x8b71435e23dab6ba, 0, netip.MustParseAddrPort("[2001:db8::1]:4500"))
	if got != want {
		t.Fatalf("IPv6: %x, want %x", got, want)
	}
	a := NATDetectionHash(1, 2, netip.MustParseAddrPort("192.0.2.1:500"))
	b := NATDetectionHash(1, 2, netip.MustParseAddrPort("[::ffff:192.0.2.1]:500"))
	c := NATDetectionHash(1, 2, netip.MustParseAddrPort("192.0.2.1:501"))
	if a != b || a == c {
		t.Fatal("mapped address must hash as IPv4, and the port must count")
	}
}

func TestSplitEncryptedErrors(t *testing.T) {
	sk := cat(append(hdrFields("2e", "00000029"), "23", "00", "000d", "0001020304050607", "aa")...)
	if _, err := SplitEncrypted(sk, 8, 1); !errors.Is(err, ErrShort) {
		t.Errorf("no room for the Pad Length octet: %v", err)
	}
	if ep, err := SplitEncrypted(sk, 8, 0); err != nil || len(ep.Ciphertext) != 1 || len(ep.AAD) != 32 {
		t.Errorf("SplitEncrypted = %+v, %v", ep, err)
	}
	plain := cat(hdrFields("00", "0000001c")...)
	if _, err := SplitEncrypted(plain, 8, 16); !errors.Is(err, ErrShort) {
		t.Errorf("message without SK: %v", err)
	}
	notLast := cat(append(hdrFields("2e", "00000022"), "00", "00", "0005", "01", "00")...)
	if _, err := SplitEncrypted(notLast, 0, 0); !errors.Is(err, ErrNotLast) {
		t.Errorf("SK not last: %v", err)
	}
	frag := cat(append(hdrFields("35", "00000027"), "21", "00", "000b", "0001", "0002", "0102", "03")...)
	ep, err := SplitEncrypted(frag, 2, 0)
	if err != nil || ep.Type != PayloadSKF || ep.Number != 1 || ep.Total != 2 || ep.NextPayload != PayloadSA ||
		len(ep.AAD) != 36 || !bytes.Equal(ep.IV, []byte{1, 2}) || !bytes.Equal(ep.Ciphertext, []byte{3}) {
		t.Errorf("SKF: %+v, %v", ep, err)
	}
	// AppendFragment lays out the same message.
	msg, ivOff, ctOff, icvOff, err := AppendFragment(nil, testHeader, PayloadSA, 1, 2, 2, 1, 0)
	if err != nil || ivOff != 36 || ctOff != 38 || icvOff != 39 {
		t.Fatalf("AppendFragment offsets %d %d %d, %v", ivOff, ctOff, icvOff, err)
	}
	copy(msg[ivOff:], []byte{1, 2, 3})
	if !bytes.Equal(msg, frag) {
		t.Fatalf("AppendFragment\n %x\nwant\n %x", msg, frag)
	}
	if _, _, _, _, err := AppendFragment(nil, testHeader, PayloadSA, 3, 2, 2, 1, 0); !errors.Is(err, ErrSyntax) {
		t.Errorf("fragment 3 of 2: %v", err)
	}
	if _, _, _, _, err := AppendEncrypted(nil, testHeader, PayloadSA, 8, 0xfff0, 16); !errors.Is(err, ErrTooLong) {
		t.Errorf("oversized SK: %v", err)
	}
}

func TestNotifyHelpers(t *testing.T) {
	n := InvalidKE(KEECP384)
	if g, err := n.KEGroup(); err != nil || g != KEECP384 || n.NotifyType != NotifyInvalidKEPayload {
		t.Fatalf("KEGroup = %v, %v", g, err)
	}
	if _, err := (&Notify{Data: []byte{1}}).KEGroup(); err == nil {
		t.Fatal("KEGroup of 1 octet")
	}
	data := AppendHashAlgorithms(nil, HashSHA2256, HashSHA2384, HashSHA2512, HashIdentity)
	if !bytes.Equal(data, cat("0002", "0003", "0004", "0005")) {
		t.Fatalf("AppendHashAlgorithms = %x", data)
	}
	algs, err := ParseHashAlgorithms(data)
	if err != nil || len(algs) != 4 || algs[3] != HashIdentity {
		t.Fatalf("ParseHashAlgorithms = %v, %v", algs, err)
	}
	if _, err := ParseHashAlgorithms([]byte{1, 2, 3}); err == nil {
		t.Fatal("odd length accepted")
	}
	ps := []Payload{&VendorID{}, n, &Nonce{Data: make([]byte, 16)}}
	if FindNotify(ps, NotifyInvalidKEPayload) != n || FindNotify(ps, NotifyCookie) != nil {
		t.Fatal("FindNotify")
	}
	if no, ok := First[*Nonce](ps); !ok || len(no.Data) != 16 {
		t.Fatal("First[*Nonce]")
	}
	if _, ok := First[*KE](ps); ok {
		t.Fatal("First[*KE] found one")
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{ExchangeIKEIntermediate.String(), "IKE_INTERMEDIATE"},
		{ExchangeIKEFollowupKE.String(), "IKE_FOLLOWUP_KE"},
		{ExchangeType(99).String(), "ExchangeType(99)"},
		{PayloadSKF.String(), "SKF"},
		{NotifyNATDetectionSourceIP.String(), "NAT_DETECTION_SOURCE_IP"},
		{NotifyAdditionalKeyExchange.String(), "ADDITIONAL_KEY_EXCHANGE"},
		{NotifyType(60000).String(), "NotifyType(60000)"},
		{KEMLKEM768.String(), "ML_KEM_768"},
		{TransformADDKE7.String(), "ADDKE7"},
		{IDNull.String(), "ID_NULL"},
		{AuthNull.String(), "NULL_AUTH"},
		{EncrAESGCM16.String(), "ENCR_AES_GCM_16"},
		{IntegHMACSHA2512256.String(), "AUTH_HMAC_SHA2_512_256"},
		{PRFAES128CMAC.String(), "PRF_AES128_CMAC"},
		{TSIPv6AddrRange.String(), "TS_IPV6_ADDR_RANGE"},
		{HashIdentity.String(), "IDENTITY"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	m := &Message{
		Header:   Header{SPIi: 0x8b71435e23dab6ba, SPIr: 0x10, Exchange: ExchangeInformational, Flags: FlagResponse, MessageID: 5},
		Payloads: []Payload{&Notify{NotifyType: NotifyCookie}, &Delete{Protocol: ProtocolESP}, &Nonce{}, &Unknown{PType: 99}},
	}
	if got, want := m.String(), "INFORMATIONAL response 5 i=8b71435e23dab6ba r=0000000000000010 [N(COOKIE) D(ESP) Nonce PayloadType(99)]"; got != want {
		t.Errorf("Message.String() = %q, want %q", got, want)
	}
	if !NotifyTemporaryFailure.IsError() || NotifyCookie.IsError() {
		t.Error("IsError")
	}
}

func TestProposalHelpers(t *testing.T) {
	p := Proposal{Number: 1, Protocol: ProtocolESP, Transforms: []Transform{
		{Type: TransformENCR, ID: uint16(EncrAESCBC), KeyLength: 256},
		{Type: TransformINTEG, ID: uint16(IntegHMACSHA2256128)},
		{Type: TransformADDKE2, ID: uint16(KEMLKEM768)},
		{Type: TransformESN, ID: uint16(ESNNo), Attrs: []Attribute{{Type: 1}}},
		{Type: 99, ID: 7},
	}}
	want := "ESP:ENCR_AES_CBC/256,AUTH_HMAC_SHA2_256_128,ML_KEM_768,NO_ESN+attrs,TransformType(99):7"
	if got := p.String(); got != want {
		t.Errorf("Proposal.String() = %q, want %q", got, want)
	}
	if tr := p.Find(TransformINTEG); tr == nil || IntegID(tr.ID) != IntegHMACSHA2256128 {
		t.Error("Find(INTEG)")
	}
	if p.Find(TransformPRF) != nil {
		t.Error("Find(PRF) found one")
	}
	sa := &SA{Proposals: []Proposal{{Number: 1}, {Number: 2}, {Number: 3}}}
	if err := sa.CheckNumbers(); err != nil {
		t.Error(err)
	}
	sa.Proposals[2].Number = 2
	if err := sa.CheckNumbers(); !errors.Is(err, ErrSyntax) {
		t.Error("repeated proposal number accepted")
	}
}

func TestAppendEncryptedReusedBuffer(t *testing.T) {
	buf := bytes.Repeat([]byte{0xff}, 200)[:3]
	msg, ivOff, ctOff, icvOff, err := AppendEncrypted(buf, testHeader, PayloadIDi, 8, 10, 16)
	if err != nil || ivOff != 3+32 || ctOff != ivOff+8 || icvOff != ctOff+10 || len(msg) != icvOff+16 {
		t.Fatalf("offsets %d %d %d len %d, %v", ivOff, ctOff, icvOff, len(msg), err)
	}
	if !bytes.Equal(msg[ivOff:], make([]byte, 34)) || !bytes.Equal(msg[:3], []byte{0xff, 0xff, 0xff}) {
		t.Fatalf("reserved area not zeroed or prefix changed: %x", msg)
	}
	h, err := ParseHeader(msg[3:])
	if err != nil || h.NextPayload != PayloadSK || h.Length != 32+34 {
		t.Fatalf("header %+v, %v", h, err)
	}
	if msg[3+28] != byte(PayloadIDi) || msg[3+30] != 0 || msg[3+31] != 4+34 {
		t.Fatalf("SK header %x", msg[3+28:3+32])
	}
}
