package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// cat joins hex fields, one wire field per argument; spaces are ignored.
func cat(fields ...string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(fields, ""), " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func rep(s string, n int) string { return strings.Repeat(s, n) }

// normalize turns empty slices into nil so that parsed and literal values
// compare with reflect.DeepEqual.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				normalize(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if !v.IsNil() && v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalize(v.Index(i))
		}
	}
}

func equalPayloads(a, b []Payload) bool {
	normalize(reflect.ValueOf(&a).Elem())
	normalize(reflect.ValueOf(&b).Elem())
	return reflect.DeepEqual(a, b)
}

var payloadTests = []struct {
	name  string
	first PayloadType
	wire  []byte
	want  []Payload
}{
	{
		name:  "SA IKE proposal, Key Length attribute",
		first: PayloadSA,
		wire: cat(
			"00",   // next payload: none
			"00",   // critical bit, reserved
			"0030", // payload length 48
			// proposal 1
			"00",   // last substruc: last proposal
			"00",   // reserved
			"002c", // proposal length 44
			"01",   // proposal num 1
			"01",   // protocol IKE
			"00",   // SPI size 0
			"04",   // 4 transforms
			// transform ENCR AES_GCM_16, key length 128
			"03",       // more transforms
			"00",       // reserved
			"000c",     // transform length 12
			"01",       // type ENCR
			"00",       // reserved
			"0014",     // ENCR_AES_GCM_16
			"800e0080", // AF|Key Length, 128
			// transform PRF
			"03",   // more transforms
			"00",   // reserved
			"0008", // transform length 8
			"02",   // type PRF
			"00",   // reserved
			"0005", // PRF_HMAC_SHA2_256
			// transform KE
			"03",   // more transforms
			"00",   // reserved
			"0008", // transform length 8
			"04",   // type KE
			"00",   // reserved
			"0013", // ECP_256
			// transform ADDKE1 (RFC 9370)
			"00",   // last transform
			"00",   // reserved
			"0008", // transform length 8
			"06",   // type ADDKE1
			"00",   // reserved
			"0024", // ML_KEM_768
		),
		want: []Payload{&SA{Proposals: []Proposal{{
			Number: 1, Protocol: ProtocolIKE,
			Transforms: []Transform{
				{Type: TransformENCR, ID: uint16(EncrAESGCM16), KeyLength: 128},
				{Type: TransformPRF, ID: uint16(PRFHMACSHA2256)},
				{Type: TransformKE, ID: uint16(KEECP256)},
				{Type: TransformADDKE1, ID: uint16(KEMLKEM768)},
			},
		}}}},
	},
	{
		name:  "SA two proposals: ESP with 4-octet SPI, IKE rekey with 8-octet SPI, other attributes",
		first: PayloadSA,
		wire: cat(
			"00",   // next payload
			"00",   // critical, reserved
			"004a", // payload length 74
			// proposal 1: ESP
			"02",       // last substruc: more proposals
			"00",       // reserved
			"0026",     // proposal length 38
			"01",       // proposal num
			"03",       // protocol ESP
			"04",       // SPI size 4
			"02",       // 2 transforms
			"c0a80001", // SPI
			// transform ENCR CHACHA20, TLV attr 99 then TV attr 5
			"03",       // more transforms
			"00",       // reserved
			"0012",     // transform length 18
			"01",       // ENCR
			"00",       // reserved
			"001c",     // ENCR_CHACHA20_POLY1305
			"0063",     // attribute type 99, AF=0 (TLV)
			"0002",     // attribute length 2
			"abcd",     // attribute value
			"80050007", // AF|type 5, value 7
			// transform ESN
			"00",   // last transform
			"00",   // reserved
			"0008", // length 8
			"05",   // ESN
			"00",   // reserved
			"0000", // NO_ESN
			// proposal 2: IKE rekey
			"00",               // last proposal
			"00",               // reserved
			"0020",             // proposal length 32
			"02",               // proposal num 2
			"01",               // protocol IKE
			"08",               // SPI size 8
			"01",               // 1 transform
			"0102030405060708", // SPI
			// transform: Key Length second, kept in Attrs
			"00",       // last transform
			"00",       // reserved
			"0010",     // length 16
			"01",       // ENCR
			"00",       // reserved
			"000c",     // ENCR_AES_CBC
			"80010001", // AF|type 1, value 1
			"800e0100", // AF|Key Length 256, not first
		),
		want: []Payload{&SA{Proposals: []Proposal{
			{
				Number: 1, Protocol: ProtocolESP, SPI: cat("c0a80001"),
				Transforms: []Transform{
					{Type: TransformENCR, ID: uint16(EncrChaCha20Poly1305), Attrs: []Attribute{
						{Type: 99, Value: cat("abcd")},
						{Type: 5, TV: true, Value: cat("0007")},
					}},
					{Type: TransformESN, ID: uint16(ESNNo)},
				},
			},
			{
				Number: 2, Protocol: ProtocolIKE, SPI: cat("0102030405060708"),
				Transforms: []Transform{
					{Type: TransformENCR, ID: uint16(EncrAESCBC), Attrs: []Attribute{
						{Type: 1, TV: true, Value: cat("0001")},
						{Type: AttrKeyLength, TV: true, Value: cat("0100")},
					}},
				},
			},
		}}},
	},
	{
		name:  "KE",
		first: PayloadKE,
		wire: cat(
			"00",       // next payload
			"00",       // critical, reserved
			"000c",     // length 12
			"001f",     // group 31 Curve25519
			"0000",     // reserved
			"01020304", // key exchange data
		),
		want: []Payload{&KE{Group: KECurve25519, Data: cat("01020304")}},
	},
	{
		name:  "IDi FQDN then IDr IPv4",
		first: PayloadIDi,
		wire: cat(
			"24",       // next payload IDr
			"00",       // critical, reserved
			"000b",     // length 11
			"02",       // ID_FQDN
			"000000",   // reserved
			"612e62",   // "a.b"
			"00",       // next payload
			"00",       // critical, reserved
			"000c",     // length 12
			"01",       // ID_IPV4_ADDR
			"000000",   // reserved
			"c0000201", // 192.0.2.1
		),
		want: []Payload{
			&ID{IDType: IDFQDN, Data: []byte("a.b")},
			&ID{Responder: true, IDType: IDIPv4Addr, Data: cat("c0000201")},
		},
	},
	{
		name:  "ID_NULL with reserved octets kept",
		first: PayloadIDr,
		wire: cat(
			"00",     // next payload
			"00",     // critical, reserved
			"0008",   // length 8
			"0d",     // ID_NULL (RFC 7619)
			"010203", // reserved, as sent by the peer
		),
		want: []Payload{&ID{Responder: true, IDType: IDNull, Reserved: [3]byte{1, 2, 3}}},
	},
	{
		name:  "CERT and CERTREQ",
		first: PayloadCERT,
		wire: cat(
			"26",     // next payload CERTREQ
			"00",     // critical, reserved
			"0008",   // length 8
			"0f",     // RAW_PUBLIC_KEY
			"aabbcc", // certificate data
			"00",     // next payload
			"00",     // critical, reserved
			"0005",   // length 5
			"04",     // X509_SIGNATURE, no CA
		),
		want: []Payload{
			&Cert{Encoding: CertRawPublicKey, Data: cat("aabbcc")},
			&CertReq{Encoding: CertX509Signature},
		},
	},
	{
		name:  "AUTH",
		first: PayloadAUTH,
		wire: cat(
			"00",     // next payload
			"00",     // critical, reserved
			"000a",   // length 10
			"0e",     // DIGITAL_SIGNATURE
			"000000", // reserved
			"0102",   // authentication data
		),
		want: []Payload{&Auth{Method: AuthDigitalSignature, Data: cat("0102")}},
	},
	{
		name:  "Nonce, 16 octets",
		first: PayloadNonce,
		wire: cat(
			"00",          // next payload
			"00",          // critical, reserved
			"0014",        // length 20
			rep("5a", 16), // nonce data
		),
		want: []Payload{&Nonce{Data: cat(rep("5a", 16))}},
	},
	{
		name:  "Notify without SPI, Notify with ESP SPI",
		first: PayloadNotify,
		wire: cat(
			"29",       // next payload N
			"00",       // critical, reserved
			"000a",     // length 10
			"00",       // protocol none
			"00",       // SPI size 0
			"0011",     // INVALID_KE_PAYLOAD
			"0013",     // data: group 19
			"00",       // next payload
			"00",       // critical, reserved
			"000c",     // length 12
			"03",       // protocol ESP
			"04",       // SPI size 4
			"4009",     // REKEY_SA
			"ed679cf4", // SPI
		),
		want: []Payload{
			&Notify{NotifyType: NotifyInvalidKEPayload, Data: cat("0013")},
			&Notify{Protocol: ProtocolESP, SPI: cat("ed679cf4"), NotifyType: NotifyRekeySA},
		},
	},
	{
		name:  "Delete IKE, Delete ESP with two SPIs",
		first: PayloadDelete,
		wire: cat(
			"2a",       // next payload D
			"00",       // critical, reserved
			"0008",     // length 8
			"01",       // protocol IKE
			"00",       // SPI size 0
			"0000",     // 0 SPIs
			"00",       // next payload
			"00",       // critical, reserved
			"0010",     // length 16
			"03",       // protocol ESP
			"04",       // SPI size 4
			"0002",     // 2 SPIs
			"00000001", // SPI
			"ffffffff", // SPI
		),
		want: []Payload{
			&Delete{Protocol: ProtocolIKE},
			&Delete{Protocol: ProtocolESP, SPIs: []uint32{1, 0xffffffff}},
		},
	},
	{
		name:  "Vendor ID",
		first: PayloadVendorID,
		wire: cat(
			"00",     // next payload
			"00",     // critical, reserved
			"0007",   // length 7
			"737774", // "swt"
		),
		want: []Payload{&VendorID{Data: []byte("swt")}},
	},
	{
		name:  "TSi IPv4 and IPv6, TSr security label",
		first: PayloadTSi,
		wire: cat(
			"2d",     // next payload TSr
			"00",     // critical, reserved
			"0040",   // length 64
			"02",     // 2 selectors
			"000000", // reserved
			// selector 1
			"07",       // TS_IPV4_ADDR_RANGE
			"06",       // TCP
			"0010",     // selector length 16
			"0000",     // start port
			"ffff",     // end port
			"c6336400", // 198.51.100.0
			"c63364ff", // 198.51.100.255
			// selector 2
			"08",                               // TS_IPV6_ADDR_RANGE
			"00",                               // any protocol
			"0028",                             // selector length 40
			"01f4",                             // start port 500
			"01f4",                             // end port 500
			"20010db8000000000000000000000001", // 2001:db8::1
			"20010db8000000000000000000000001", // 2001:db8::1
			"00",                               // next payload
			"00",                               // critical, reserved
			"000f",                             // length 15
			"01",                               // 1 selector
			"000000",                           // reserved
			"0a",                               // TS_SECLABEL (RFC 9478)
			"00",                               // reserved
			"0007",                             // selector length 7
			"6c6162",                           // "lab"
		),
		want: []Payload{
			&TS{Selectors: []TrafficSelector{
				{TSType: TSIPv4AddrRange, IPProtocol: 6, EndPort: 0xffff,
					Start: netip.MustParseAddr("198.51.100.0"), End: netip.MustParseAddr("198.51.100.255")},
				{TSType: TSIPv6AddrRange, StartPort: 500, EndPort: 500,
					Start: netip.MustParseAddr("2001:db8::1"), End: netip.MustParseAddr("2001:db8::1")},
			}},
			&TS{Responder: true, Selectors: []TrafficSelector{{TSType: TSSecLabel, Data: []byte("lab")}}},
		},
	},
	{
		name:  "CP request",
		first: PayloadCP,
		wire: cat(
			"00",       // next payload
			"00",       // critical, reserved
			"0014",     // length 20
			"01",       // CFG_REQUEST
			"000000",   // reserved
			"0001",     // INTERNAL_IP4_ADDRESS
			"0000",     // length 0
			"0003",     // INTERNAL_IP4_DNS
			"0004",     // length 4
			"c0000235", // 192.0.2.53
		),
		want: []Payload{&Config{CfgType: CPRequest, Attrs: []CPAttr{
			{Type: CPInternalIP4Address},
			{Type: CPInternalIP4DNS, Value: cat("c0000235")},
		}}},
	},
	{
		name:  "EAP, raw",
		first: PayloadEAP,
		wire: cat(
			"00",   // next payload
			"00",   // critical, reserved
			"0009", // length 9
			"01",   // EAP code request
			"07",   // identifier
			"0005", // EAP length
			"01",   // type identity
		),
		want: []Payload{&EAP{Data: cat("0107000501")}},
	},
	{
		name:  "unknown non-critical payload is kept and skipped",
		first: 200,
		wire: cat(
			"2b",   // next payload V
			"00",   // critical bit clear
			"0006", // length 6
			"beef", // body
			"00",   // next payload
			"00",   // critical, reserved
			"0004", // length 4, empty vendor ID
		),
		want: []Payload{&Unknown{PType: 200, Data: cat("beef")}, &VendorID{}},
	},
}

func TestPayloadTable(t *testing.T) {
	for _, tt := range payloadTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePayloads(tt.first, tt.wire)
			if err != nil {
				t.Fatalf("ParsePayloads: %v", err)
			}
			if !equalPayloads(got, tt.want) {
				t.Fatalf("parsed\n%#v\nwant\n%#v", got, tt.want)
			}
			first, out, err := AppendPayloads([]byte{0xee}, tt.want)
			if err != nil {
				t.Fatalf("AppendPayloads: %v", err)
			}
			if first != tt.first || !bytes.Equal(out[1:], tt.wire) || out[0] != 0xee {
				t.Fatalf("built first %v\n %x\nwant\n %x", first, out[1:], tt.wire)
			}
		})
	}
}

// hdrFields is an IKE_AUTH request header as wire fields, next payload and
// length given.
func hdrFields(next, length string) []string {
	return []string{
		"0102030405060708", // SPIi
		"1112131415161718", // SPIr
		next,               // next payload
		"20",               // version 2.0
		"23",               // exchange IKE_AUTH
		"08",               // flags: initiator
		"00000001",         // message ID 1
		length,             // length
	}
}

var testHeader = Header{
	SPIi: 0x0102030405060708, SPIr: 0x1112131415161718, Version: Version,
	Exchange: ExchangeIKEAuth, Flags: FlagInitiator, MessageID: 1,
}

func TestMessageTable(t *testing.T) {
	tests := []struct {
		name string
		wire []byte
		want []Payload
	}{
		{
			name: "SK",
			wire: cat(append(hdrFields("2e", "00000029"),
				"23",               // SK next payload: IDi
				"00",               // critical, reserved
				"000d",             // length 13
				"0001020304050607", // IV
				"aa",               // ciphertext
			)...),
			want: []Payload{&Encrypted{NextPayload: PayloadIDi, Body: cat("0001020304050607aa")}},
		},
		{
			name: "Vendor ID then SKF",
			wire: cat(append(hdrFields("2b", "0000002f"),
				"35",       // next payload SKF
				"00",       // critical, reserved
				"0006",     // length 6
				"7777",     // vendor ID
				"00",       // SKF next payload: none (not the first fragment)
				"00",       // critical, reserved
				"000d",     // length 13
				"0002",     // fragment number 2
				"0003",     // total fragments 3
				"01020304", // IV
				"bb",       // ciphertext
			)...),
			want: []Payload{
				&VendorID{Data: cat("7777")},
				&Fragment{Number: 2, Total: 3, Body: cat("01020304bb")},
			},
		},
		{
			name: "empty INFORMATIONAL-like chain",
			wire: cat(hdrFields("00", "0000001c")...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.wire)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			h := m.Header
			h.NextPayload, h.Length = 0, 0
			if h != testHeader || int(m.Length) != len(tt.wire) {
				t.Fatalf("header %+v", m.Header)
			}
			if !equalPayloads(m.Payloads, tt.want) {
				t.Fatalf("parsed %#v", m.Payloads)
			}
			out, err := (&Message{Header: testHeader, Payloads: tt.want}).Append(nil)
			if err != nil || !bytes.Equal(out, tt.wire) {
				t.Fatalf("built (%v)\n %x\nwant\n %x", err, out, tt.wire)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		first   PayloadType
		wire    []byte
		err     error
		errType PayloadType
	}{
		{"generic header truncated", PayloadKE, cat("00", "00", "00"), ErrShort, PayloadKE},
		{"payload length below 4", PayloadKE, cat("00", "00", "0003", "00"), ErrLength, PayloadKE},
		{"payload length past the end", PayloadVendorID, cat("00", "00", "0009", "0102"), ErrLength, PayloadVendorID},
		{"next payload with no data", PayloadVendorID, cat("2b", "00", "0004"), ErrShort, PayloadVendorID},
		{"unknown critical payload", 99, cat("00", "80", "0005", "ff"), ErrUnsupportedCritical, 99},
		{"known payload, critical bit ignored", PayloadVendorID, cat("63", "80", "0004", "00", "80", "0004"), ErrUnsupportedCritical, 99},
		{"trailing octets", PayloadVendorID, cat("00", "00", "0004", "ff"), ErrTrailing, PayloadNone},
		{"SK inside a decrypted chain", PayloadSK, cat("00", "00", "0005", "01"), ErrNotLast, PayloadSK},
		{"nonce of 15 octets", PayloadNonce, cat("00", "00", "0013", rep("00", 15)), ErrNonceSize, PayloadNonce},
		{"nonce of 257 octets", PayloadNonce, cat("00", "00", "0105", rep("00", 257)), ErrNonceSize, PayloadNonce},
		{"KE too short", PayloadKE, cat("00", "00", "0007", "001300"), ErrShort, PayloadKE},
		{"ID too short", PayloadIDi, cat("00", "00", "0006", "0200"), ErrShort, PayloadIDi},
		{"AUTH too short", PayloadAUTH, cat("00", "00", "0005", "02"), ErrShort, PayloadAUTH},
		{"CERT empty", PayloadCERT, cat("00", "00", "0004"), ErrShort, PayloadCERT},
		{"Notify SPI past the end", PayloadNotify, cat("00", "00", "000a", "03", "04", "4009", "0102"), ErrLength, PayloadNotify},
		{"Delete IKE with SPI size 4", PayloadDelete, cat("00", "00", "0008", "01", "04", "0000"), ErrSyntax, PayloadDelete},
		{"Delete ESP with SPI size 8", PayloadDelete, cat("00", "00", "0010", "03", "08", "0001", "0102030405060708"), ErrSyntax, PayloadDelete},
		{"Delete count mismatch", PayloadDelete, cat("00", "00", "000c", "03", "04", "0002", "00000001"), ErrLength, PayloadDelete},
		{"Delete unknown protocol", PayloadDelete, cat("00", "00", "0008", "07", "00", "0000"), ErrSyntax, PayloadDelete},
		{"SA without proposals", PayloadSA, cat("00", "00", "0004"), ErrSyntax, PayloadSA},
		{"proposal marked more but last", PayloadSA, cat("00", "00", "000c", "02", "00", "0008", "01", "01", "00", "00"), ErrSyntax, PayloadSA},
		{"proposal marked last but more follow", PayloadSA, cat("00", "00", "0014", "00", "00", "0008", "01", "01", "00", "00", "00", "00", "0008", "02", "01", "00", "00"), ErrSyntax, PayloadSA},
		{"proposal last substruc 3", PayloadSA, cat("00", "00", "000c", "03", "00", "0008", "01", "01", "00", "00"), ErrSyntax, PayloadSA},
		{"proposal length past the payload", PayloadSA, cat("00", "00", "000c", "00", "00", "0009", "01", "01", "00", "00"), ErrLength, PayloadSA},
		{"proposal SPI size 3", PayloadSA, cat("00", "00", "000f", "00", "00", "000b", "01", "03", "03", "00", "010203"), ErrSyntax, PayloadSA},
		{"transform count mismatch", PayloadSA, cat("00", "00", "0014", "00", "00", "0010", "01", "01", "00", "02", "00", "00", "0008", "01", "00", "0014"), ErrSyntax, PayloadSA},
		{"transform length below 8", PayloadSA, cat("00", "00", "0014", "00", "00", "0010", "01", "01", "00", "01", "00", "00", "0007", "01", "00", "0014"), ErrLength, PayloadSA},
		{"transform last substruc 2", PayloadSA, cat("00", "00", "0014", "00", "00", "0010", "01", "01", "00", "01", "02", "00", "0008", "01", "00", "0014"), ErrSyntax, PayloadSA},
		{"TLV attribute past the transform", PayloadSA, cat("00", "00", "0018", "00", "00", "0014", "01", "01", "00", "01", "00", "00", "000c", "01", "00", "0014", "0063", "0001"), ErrLength, PayloadSA},
		{"attribute header truncated", PayloadSA, cat("00", "00", "0016", "00", "00", "0012", "01", "01", "00", "01", "00", "00", "000a", "01", "00", "0014", "800e"), ErrShort, PayloadSA},
		{"TS count mismatch", PayloadTSi, cat("00", "00", "0018", "02", "000000", "07", "00", "0010", "0000", "ffff", "c0000200", "c00002ff"), ErrSyntax, PayloadTSi},
		{"IPv4 selector of IPv6 length", PayloadTSr, cat("00", "00", "0010", "01", "000000", "07", "00", "0008", "0000", "ffff"), ErrLength, PayloadTSr},
		{"selector length below 4", PayloadTSr, cat("00", "00", "000c", "01", "000000", "07", "00", "0003"), ErrLength, PayloadTSr},
		{"CP attribute past the end", PayloadCP, cat("00", "00", "000c", "01", "000000", "0001", "0004"), ErrLength, PayloadCP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePayloads(tt.first, tt.wire)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			var pe *PayloadError
			if !errors.As(err, &pe) || pe.Type != tt.errType {
				t.Fatalf("err %v does not name payload %v", err, tt.errType)
			}
			if !strings.HasPrefix(err.Error(), "wire: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseMessageErrors(t *testing.T) {
	good := cat(hdrFields("00", "0000001c")...)
	tests := []struct {
		name string
		wire []byte
		err  error
	}{
		{"short header", good[:27], ErrShort},
		{"length larger than datagram", cat(hdrFields("00", "0000001d")...), ErrLength},
		{"datagram longer than length", append(cat(hdrFields("00", "0000001c")...), 0), ErrLength},
		{"length below header", cat(hdrFields("00", "00000010")...), ErrLength},
		{"SK not last", cat(append(hdrFields("2e", "00000022"), "00", "00", "0005", "01", "00")...), ErrNotLast},
		{"SKF fragment number 0", cat(append(hdrFields("35", "00000025"), "00", "00", "0009", "0000", "0001", "01")...), ErrSyntax},
		{"SKF number above total", cat(append(hdrFields("35", "00000025"), "00", "00", "0009", "0003", "0002", "01")...), ErrSyntax},
		{"SKF without fragment fields", cat(append(hdrFields("35", "00000023"), "00", "00", "0007", "0001", "00")...), ErrShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.wire)
			if !errors.Is(err, tt.err) || m != nil {
				t.Fatalf("Parse = %v, %v; want nil, %v", m, err, tt.err)
			}
		})
	}
	// A major version other than 2 is reported distinctly, with the
	// header decoded so that the engine can answer INVALID_MAJOR_VERSION.
	v3 := bytes.Clone(good)
	v3[17] = 0x30
	m, err := Parse(v3)
	if !errors.Is(err, ErrMajorVersion) || m == nil || m.SPIi != testHeader.SPIi ||
		m.MessageID != 1 || m.MajorVersion() != 3 || m.Payloads != nil {
		t.Fatalf("Parse(v3) = %+v, %v", m, err)
	}
	// Even when the length is wrong too.
	v3 = append(v3, 0)
	if m, err := Parse(v3); !errors.Is(err, ErrMajorVersion) || m == nil {
		t.Fatalf("Parse(v3, bad length) = %v", err)
	}
	// A higher minor version is accepted (RFC 7296, Section 2.5).
	v21 := bytes.Clone(good)
	v21[17] = 0x21
	if m, err := Parse(v21); err != nil || m.Version != 0x21 {
		t.Fatalf("Parse(2.1) = %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		ps   []Payload
		err  error
	}{
		{"nonce too short", []Payload{&Nonce{Data: make([]byte, 15)}}, ErrNonceSize},
		{"nonce too long", []Payload{&Nonce{Data: make([]byte, 257)}}, ErrNonceSize},
		{"SK not last", []Payload{&Encrypted{}, &VendorID{}}, ErrNotLast},
		{"SA without proposals", []Payload{&SA{}}, ErrSyntax},
		{"SPI of 3 octets", []Payload{&SA{Proposals: []Proposal{{SPI: []byte{1, 2, 3}}}}}, ErrSyntax},
		{"TV attribute of 3 octets", []Payload{&SA{Proposals: []Proposal{{Transforms: []Transform{{Attrs: []Attribute{{TV: true, Value: []byte{1, 2, 3}}}}}}}}}, ErrSyntax},
		{"Delete IKE with SPIs", []Payload{&Delete{Protocol: ProtocolIKE, SPIs: []uint32{1}}}, ErrSyntax},
		{"IPv4 selector with IPv6 address", []Payload{&TS{Selectors: []TrafficSelector{{TSType: TSIPv4AddrRange, Start: netip.IPv6Loopback(), End: netip.IPv6Loopback()}}}}, ErrSyntax},
		{"fragment number 0", []Payload{&Fragment{Number: 0, Total: 1}}, ErrSyntax},
		{"payload over 65535 octets", []Payload{&VendorID{Data: make([]byte, 65532)}}, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{1, 2, 3}
			_, out, err := AppendPayloads(dst, tt.ps)
			if !errors.Is(err, tt.err) || !bytes.Equal(out, dst) {
				t.Fatalf("AppendPayloads = %x, %v; want unchanged dst, %v", out, err, tt.err)
			}
		})
	}
}
