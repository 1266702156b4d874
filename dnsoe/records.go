package dnsoe

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // RFC 4025 algorithm 1 keys are DSA.
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/big"
	"net/netip"
	"sort"
	"strings"
)

// Record errors.
var (
	// ErrGatewayType reports an IPSECKEY gateway type other than 0-3; its
	// length is unknown, so the record cannot be read (RFC 4025, Section 2.3).
	ErrGatewayType = errors.New("dnsoe: unknown IPSECKEY gateway type")
	// ErrUnsupportedKey reports a key algorithm this package cannot decode
	// into a crypto.PublicKey (the raw octets are still available).
	ErrUnsupportedKey = errors.New("dnsoe: unsupported public key algorithm")
	// ErrBadKey reports key octets that do not match their algorithm's format.
	ErrBadKey = errors.New("dnsoe: malformed public key")
	// ErrNotIPsecServer reports a TXT string that is not an X-IPsec-Server record.
	ErrNotIPsecServer = errors.New("dnsoe: not an X-IPsec-Server record")
	// ErrBadIPsecServer reports a malformed X-IPsec-Server record.
	ErrBadIPsecServer = errors.New("dnsoe: malformed X-IPsec-Server record")
	// ErrNotAutoSEC reports a key field that is not in the IP AutoSEC form.
	ErrNotAutoSEC = errors.New("dnsoe: not an IP AutoSEC key")
	// ErrBadAutoSEC reports a malformed IP AutoSEC key.
	ErrBadAutoSEC = errors.New("dnsoe: malformed IP AutoSEC key")
)

// IPSECKEY gateway types (RFC 4025, Section 2.3).
const (
	GatewayNone = 0 // no gateway: the owner of the record is its own gateway
	GatewayIPv4 = 1
	GatewayIPv6 = 2
	GatewayName = 3 // an uncompressed domain name
)

// IPSECKEY algorithm types (RFC 4025, Section 2.4; RFC 9373, Section 3.1).
const (
	IPSECKEYAlgNone  = 0
	IPSECKEYAlgDSA   = 1 // RFC 2536
	IPSECKEYAlgRSA   = 2 // RFC 3110
	IPSECKEYAlgECDSA = 3 // RFC 6605, Section 4
	IPSECKEYAlgEdDSA = 4 // RFC 8080, Section 3
)

// IPSECKEY is the data of an IPSECKEY record (RFC 4025, Section 2.1).
type IPSECKEY struct {
	Precedence  uint8
	GatewayType uint8
	Algorithm   uint8
	Gateway     netip.Addr // for GatewayIPv4 and GatewayIPv6
	GatewayName Name       // for GatewayName
	PublicKey   []byte     // the key field as published; empty for algorithm 0
}

// ParseIPSECKEY parses IPSECKEY record data. The key octets are copied.
func ParseIPSECKEY(d []byte) (IPSECKEY, error) {
	if len(d) < 3 {
		return IPSECKEY{}, ErrRDataLength
	}
	k := IPSECKEY{Precedence: d[0], GatewayType: d[1], Algorithm: d[2]}
	d = d[3:]
	switch k.GatewayType {
	case GatewayNone:
		// RFC 4025, Section 2.5: no gateway field at all.
	case GatewayIPv4:
		if len(d) < 4 {
			return IPSECKEY{}, ErrRDataLength
		}
		k.Gateway = netip.AddrFrom4([4]byte(d[:4]))
		d = d[4:]
	case GatewayIPv6:
		if len(d) < 16 {
			return IPSECKEY{}, ErrRDataLength
		}
		k.Gateway = netip.AddrFrom16([16]byte(d[:16]))
		d = d[16:]
	case GatewayName:
		// RFC 4025, Section 2.5: "Compression MUST NOT be used."
		n, err := unpackNameNoCompress(&k.GatewayName, d)
		if err != nil {
			if err == ErrTruncated {
				err = ErrRDataLength
			}
			return IPSECKEY{}, err
		}
		d = d[n:]
	default:
		return IPSECKEY{}, ErrGatewayType
	}
	// RFC 4025, Section 2.4: algorithm 0 means no key is present.
	if k.Algorithm == IPSECKEYAlgNone && len(d) != 0 {
		return IPSECKEY{}, ErrRDataLength
	}
	if len(d) > 0 {
		k.PublicKey = append([]byte(nil), d...)
	}
	return k, nil
}

// RRType implements RData.
func (IPSECKEY) RRType() Type { return TypeIPSECKEY }

// AppendRData implements RData.
func (k IPSECKEY) AppendRData(b []byte) ([]byte, error) {
	b = append(b, k.Precedence, k.GatewayType, k.Algorithm)
	var err error
	switch k.GatewayType {
	case GatewayNone:
	case GatewayIPv4:
		if !k.Gateway.Is4() {
			return b, ErrRDataLength
		}
		a := k.Gateway.As4()
		b = append(b, a[:]...)
	case GatewayIPv6:
		if !k.Gateway.Is6() {
			return b, ErrRDataLength
		}
		a := k.Gateway.As16()
		b = append(b, a[:]...)
	case GatewayName:
		if b, err = appendName(b, k.GatewayName); err != nil {
			return b, err
		}
	default:
		return b, ErrGatewayType
	}
	if k.Algorithm == IPSECKEYAlgNone && len(k.PublicKey) != 0 {
		return b, ErrRDataLength
	}
	return append(b, k.PublicKey...), nil
}

// Key decodes the public key: *rsa.PublicKey (algorithm 2), *dsa.PublicKey
// (1), *ecdsa.PublicKey on P-256 or P-384 (3), ed25519.PublicKey (4). It
// returns nil, nil for algorithm 0 (no key, as for AUTH_NULL OE).
func (k IPSECKEY) Key() (crypto.PublicKey, error) {
	switch k.Algorithm {
	case IPSECKEYAlgNone:
		return nil, nil
	case IPSECKEYAlgDSA:
		return parseDSAKey(k.PublicKey)
	case IPSECKEYAlgRSA:
		return ParseRSAKey(k.PublicKey)
	case IPSECKEYAlgECDSA:
		return parseECDSAKey(k.PublicKey)
	case IPSECKEYAlgEdDSA:
		return parseEdDSAKey(k.PublicKey)
	}
	return nil, ErrUnsupportedKey
}

// ParseRSAKey decodes an RSA public key in the RFC 3110, Section 2 format:
// exponent length (one octet, or zero and two octets), exponent, modulus.
func ParseRSAKey(b []byte) (*rsa.PublicKey, error) {
	if len(b) < 1 {
		return nil, ErrBadKey
	}
	el := int(b[0])
	b = b[1:]
	if el == 0 {
		if len(b) < 2 {
			return nil, ErrBadKey
		}
		el = int(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if el == 0 || el > len(b)-1 {
		return nil, ErrBadKey
	}
	exp, mod := b[:el], b[el:]
	// RFC 3110, Section 2: "Leading zero octets are prohibited in the
	// exponent and modulus."
	if exp[0] == 0 || mod[0] == 0 {
		return nil, ErrBadKey
	}
	if el > 4 {
		return nil, ErrUnsupportedKey // crypto/rsa needs E to fit an int
	}
	e := 0
	for _, c := range exp {
		e = e<<8 | int(c)
	}
	if e < 3 || e&1 == 0 || e > 1<<31-1 {
		return nil, ErrBadKey
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(mod), E: e}, nil
}

// AppendRSAKey appends k in the RFC 3110 format.
func AppendRSAKey(b []byte, k *rsa.PublicKey) []byte {
	e := big.NewInt(int64(k.E)).Bytes()
	if len(e) < 256 {
		b = append(b, byte(len(e)))
	} else {
		b = append(b, 0, byte(len(e)>>8), byte(len(e)))
	}
	b = append(b, e...)
	return append(b, k.N.Bytes()...)
}

// parseDSAKey decodes the RFC 2536, Section 2 format: T, Q, P, G, Y.
func parseDSAKey(b []byte) (*dsa.PublicKey, error) {
	if len(b) < 1 || b[0] > 8 {
		return nil, ErrBadKey
	}
	l := 64 + int(b[0])*8
	if len(b) != 1+20+3*l {
		return nil, ErrBadKey
	}
	b = b[1:]
	q := new(big.Int).SetBytes(b[:20])
	p := new(big.Int).SetBytes(b[20 : 20+l])
	g := new(big.Int).SetBytes(b[20+l : 20+2*l])
	y := new(big.Int).SetBytes(b[20+2*l:])
	return &dsa.PublicKey{Parameters: dsa.Parameters{P: p, Q: q, G: g}, Y: y}, nil
}

// parseECDSAKey decodes the RFC 6605, Section 4 format: x || y, 64 octets
// for P-256 and 96 for P-384.
func parseECDSAKey(b []byte) (*ecdsa.PublicKey, error) {
	var c elliptic.Curve
	switch len(b) {
	case 64:
		c = elliptic.P256()
	case 96:
		c = elliptic.P384()
	default:
		return nil, ErrBadKey
	}
	k, err := ecdsa.ParseUncompressedPublicKey(c, append([]byte{4}, b...))
	if err != nil {
		return nil, ErrBadKey
	}
	return k, nil
}

// parseEdDSAKey decodes the RFC 8080, Section 3 format. Ed448 (57 octets)
// has no implementation in the standard library.
func parseEdDSAKey(b []byte) (crypto.PublicKey, error) {
	switch len(b) {
	case ed25519.PublicKeySize:
		return ed25519.PublicKey(append([]byte(nil), b...)), nil
	case 57:
		return nil, ErrUnsupportedKey
	}
	return nil, ErrBadKey
}

// KEY flag bits (RFC 2535, Section 3.1.2), in the usual numbering where
// bit 0 is the most significant.
const (
	KeyFlagNoAuth       = 0x8000 // use for authentication prohibited
	KeyFlagNoConf       = 0x4000 // use for confidentiality prohibited
	KeyFlagExtend       = 0x1000 // a second flags field follows the algorithm
	KeyFlagNameTypeMask = 0x0300
	KeyNameTypeUser     = 0x0000
	KeyNameTypeZone     = 0x0100
	KeyNameTypeEntity   = 0x0200 // a host or other non-zone entity
)

// KEY protocol octet values (RFC 2535, Section 3.1.3).
const (
	KeyProtocolDNSSEC = 3
	KeyProtocolIPsec  = 4
	KeyProtocolAll    = 255
)

// KEY is the data of a KEY record (RFC 2535, Section 3.1). RFC 4322,
// Section 5.1 publishes gateway keys as "KEY 0x4200 4 1 <RFC 3110 key>".
type KEY struct {
	Flags     uint16
	ExtFlags  uint16 // present only when Flags has KeyFlagExtend
	Protocol  uint8
	Algorithm uint8  // DNSSEC algorithm numbers: 1, 5, 7, 8, 10 RSA; 3, 6 DSA; 13, 14 ECDSA; 15, 16 EdDSA
	PublicKey []byte // the key field: binary key, or IP AutoSEC text
}

// ParseKEY parses KEY record data. The key octets are copied.
func ParseKEY(d []byte) (KEY, error) {
	if len(d) < 4 {
		return KEY{}, ErrRDataLength
	}
	k := KEY{Flags: binary.BigEndian.Uint16(d), Protocol: d[2], Algorithm: d[3]}
	d = d[4:]
	if k.Flags&KeyFlagExtend != 0 {
		// RFC 2535, Section 3.1.2: bit 3 adds a second flags field.
		if len(d) < 2 {
			return KEY{}, ErrRDataLength
		}
		k.ExtFlags = binary.BigEndian.Uint16(d)
		d = d[2:]
	}
	// RFC 2535, Section 3.1.2: with both type bits set "there is no key
	// information and the RR stops after the algorithm octet".
	if k.NoKey() && len(d) != 0 {
		return KEY{}, ErrRDataLength
	}
	if len(d) > 0 {
		k.PublicKey = append([]byte(nil), d...)
	}
	return k, nil
}

// RRType implements RData.
func (KEY) RRType() Type { return TypeKEY }

// AppendRData implements RData.
func (k KEY) AppendRData(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, k.Flags)
	b = append(b, k.Protocol, k.Algorithm)
	if k.Flags&KeyFlagExtend != 0 {
		b = binary.BigEndian.AppendUint16(b, k.ExtFlags)
	} else if k.ExtFlags != 0 {
		return b, ErrRDataLength
	}
	if k.NoKey() && len(k.PublicKey) != 0 {
		return b, ErrRDataLength
	}
	return append(b, k.PublicKey...), nil
}

// NoKey reports the "no key" value of the type bits (RFC 2535, Section 3.1.2).
func (k KEY) NoKey() bool {
	return k.Flags&(KeyFlagNoAuth|KeyFlagNoConf) == KeyFlagNoAuth|KeyFlagNoConf
}

// ForIPsecAuth reports whether the key may authenticate an IPsec peer:
// protocol IPsec or all (RFC 2535, Section 3.1.3), and authentication use
// not prohibited (Section 3.1.2).
func (k KEY) ForIPsecAuth() bool {
	return (k.Protocol == KeyProtocolIPsec || k.Protocol == KeyProtocolAll) && k.Flags&KeyFlagNoAuth == 0
}

// IsAutoSEC reports whether the key field holds the IP AutoSEC text form.
func (k KEY) IsAutoSEC() bool { return isAutoSECText(k.PublicKey) }

// AutoSEC parses the IP AutoSEC form in the key field
// (draft-kechel-ip-autosec, Section 2.1), or returns ErrNotAutoSEC.
func (k KEY) AutoSEC() (AutoSEC, error) {
	if !isAutoSECText(k.PublicKey) {
		return AutoSEC{}, ErrNotAutoSEC
	}
	return ParseAutoSEC(string(k.PublicKey))
}

// Key decodes the public key by the KEY algorithm number (the DNSSEC
// registry): RSA in the RFC 3110 format, DSA (RFC 2536), ECDSA (RFC 6605)
// and Ed25519 (RFC 8080). In the IP AutoSEC form the base64 key inside the
// text is decoded the same way.
func (k KEY) Key() (crypto.PublicKey, error) {
	if k.NoKey() {
		return nil, nil
	}
	raw := k.PublicKey
	if isAutoSECText(raw) {
		a, err := ParseAutoSEC(string(raw))
		if err != nil {
			return nil, err
		}
		raw = a.PublicKey
	}
	return dnssecKey(k.Algorithm, raw)
}

func dnssecKey(alg uint8, raw []byte) (crypto.PublicKey, error) {
	switch alg {
	case 1, 5, 7, 8, 10:
		return ParseRSAKey(raw)
	case 3, 6:
		return parseDSAKey(raw)
	case 13:
		if len(raw) != 64 {
			return nil, ErrBadKey
		}
		return parseECDSAKey(raw)
	case 14:
		if len(raw) != 96 {
			return nil, ErrBadKey
		}
		return parseECDSAKey(raw)
	case 15, 16:
		return parseEdDSAKey(raw)
	}
	return nil, ErrUnsupportedKey
}

// AutoSEC is the "IP AutoSEC" key form of draft-kechel-ip-autosec,
// Section 2.1: "ciphers;hashes;DH groups;base64 public key", each list
// comma-separated and most preferred first, using the IKEv2 transform
// names (ENCR_AES_CBC-256, AUTH_HMAC_SHA2_256_128, MODP2048, ...).
//
// The draft puts this text in a KEY record (Section 2: "IP AutoSEC uses the
// DNS Resource Record (RR) 'KEY' for public-keys"). This package reads it
// from the key field of a KEY record, after the four octets of flags,
// protocol and algorithm that RFC 2535 requires; the algorithm octet says
// how to read the base64 key inside. It also accepts the same text as the
// key of a TXT X-IPsec-Server record, for sites that cannot publish KEY.
type AutoSEC struct {
	Ciphers   []string // upper case, in the publisher's order of preference
	Hashes    []string
	Groups    []string
	PublicKey []byte // decoded from base64
}

// isAutoSECText tells the text form from a binary key: printable ASCII or
// white space only, with exactly three semicolons. Binary keys in the
// RFC 3110 format start with a length octet below 0x20.
func isAutoSECText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	semi := 0
	for _, c := range b {
		switch {
		case c == ';':
			semi++
		case c >= 0x20 && c <= 0x7e, c == '\t', c == '\n', c == '\r':
		default:
			return false
		}
	}
	return semi == 3
}

func stripSpace(s string) string {
	if strings.IndexAny(s, " \t\r\n") < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

// ParseAutoSEC parses the IP AutoSEC text. White space anywhere is ignored
// (draft-kechel-ip-autosec, Section 2.1). Every list must name at least one
// algorithm and the key must be non-empty base64.
func ParseAutoSEC(s string) (AutoSEC, error) {
	s = stripSpace(s)
	parts := strings.Split(s, ";")
	if len(parts) != 4 {
		return AutoSEC{}, ErrNotAutoSEC
	}
	var a AutoSEC
	lists := [3]*[]string{&a.Ciphers, &a.Hashes, &a.Groups}
	for i, dst := range lists {
		for _, w := range strings.Split(parts[i], ",") {
			if !isKeyword(w) {
				return AutoSEC{}, ErrBadAutoSEC
			}
			*dst = append(*dst, strings.ToUpper(w))
		}
	}
	k, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil || len(k) == 0 {
		return AutoSEC{}, ErrBadAutoSEC
	}
	a.PublicKey = k
	return a, nil
}

// String returns the canonical text form, as published.
func (a AutoSEC) String() string {
	return strings.Join(a.Ciphers, ",") + ";" + strings.Join(a.Hashes, ",") + ";" +
		strings.Join(a.Groups, ",") + ";" + base64.StdEncoding.EncodeToString(a.PublicKey)
}

// isKeyword accepts IKEv2 transform names: letters, digits, '_' and '-'.
func isKeyword(w string) bool {
	if w == "" || len(w) > 64 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// IPsecServer is one TXT delegation record "X-IPsec-Server(P)=gateway key"
// (RFC 4322, Section 5.2; draft-richardson-ipsec-opportunistic).
type IPsecServer struct {
	Precedence uint16     // lower wins
	Gateway    netip.Addr // when the gateway is an IP literal
	FQDN       Name       // when the gateway is "@FQDN" (RFC 4322, Section 5.3)
	HasFQDN    bool
	Key        []byte   // RFC 3110 RSA key, or the key inside AutoSEC; nil if absent
	AutoSEC    *AutoSEC // when the key field is in the IP AutoSEC form
}

const ipsecServerPrefix = "x-ipsec-server("

// ParseIPsecServer parses one TXT record, its character-strings already
// joined (RFC 4322, Section 5.2.1). Other TXT records, which may share the
// name, give ErrNotIPsecServer.
func ParseIPsecServer(txt string) (IPsecServer, error) {
	s := strings.TrimLeft(txt, " \t\r\n")
	// RFC 1464 attribute names are case-insensitive.
	if len(s) < len(ipsecServerPrefix) || !strings.EqualFold(s[:len(ipsecServerPrefix)], ipsecServerPrefix) {
		return IPsecServer{}, ErrNotIPsecServer
	}
	s = s[len(ipsecServerPrefix):]
	var r IPsecServer
	i := 0
	p := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		p = p*10 + int(s[i]-'0')
		if p > 0xFFFF {
			return IPsecServer{}, ErrBadIPsecServer
		}
		i++
	}
	if i == 0 || !strings.HasPrefix(s[i:], ")=") {
		return IPsecServer{}, ErrBadIPsecServer
	}
	r.Precedence = uint16(p)
	s = s[i+2:]
	// RFC 4322, Section 5.2: fields are separated by white space.
	gw, rest, _ := strings.Cut(strings.Map(func(c rune) rune {
		if c == '\t' || c == '\r' || c == '\n' {
			return ' '
		}
		return c
	}, s), " ")
	if gw == "" {
		return IPsecServer{}, ErrBadIPsecServer
	}
	if gw[0] == '@' {
		n, err := NewName(gw[1:])
		if err != nil || n.Length <= 1 {
			return IPsecServer{}, ErrBadIPsecServer
		}
		r.FQDN, r.HasFQDN = n, true
	} else {
		a, err := netip.ParseAddr(gw)
		if err != nil || a.Zone() != "" {
			return IPsecServer{}, ErrBadIPsecServer
		}
		r.Gateway = a.Unmap()
	}
	// RFC 4322, Section 5.2.1: white space inside the base64 is ignored.
	key := stripSpace(rest)
	if key == "" {
		return r, nil
	}
	if strings.Contains(key, ";") {
		a, err := ParseAutoSEC(key)
		if err != nil {
			return IPsecServer{}, err
		}
		r.AutoSEC = &a
		r.Key = a.PublicKey
		return r, nil
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) == 0 {
		return IPsecServer{}, ErrBadIPsecServer
	}
	r.Key = k
	return r, nil
}

// String returns the record text "X-IPsec-Server(P)=gateway key".
func (r IPsecServer) String() string {
	var b strings.Builder
	b.WriteString("X-IPsec-Server(")
	b.WriteString(itoa(int(r.Precedence)))
	b.WriteString(")=")
	if r.HasFQDN {
		b.WriteString("@")
		b.WriteString(strings.TrimSuffix(r.FQDN.String(), "."))
	} else {
		b.WriteString(r.Gateway.String())
	}
	switch {
	case r.AutoSEC != nil:
		b.WriteString(" ")
		b.WriteString(r.AutoSEC.String())
	case len(r.Key) > 0:
		b.WriteString(" ")
		b.WriteString(base64.StdEncoding.EncodeToString(r.Key))
	}
	return b.String()
}

// PublicKey decodes the key; nil, nil when the record has no key.
//
// RFC 4322, Section 5.2 defines only the RFC 3110 RSA form for this record.
// Our extension (it is what "swanling genkey" and "swanling dns-records"
// print in the TXT form) tells other key types by their length, in the
// raw encodings of IPSECKEY: 32 octets are an Ed25519 key (algorithm 4,
// RFC 9373), 64 and 96 octets an ECDSA P-256 and P-384 key x || y
// (algorithm 3, RFC 4025 and RFC 6605, Section 4). An RFC 3110 RSA key of
// those lengths would have a modulus of at most 736 bits, far too weak for
// anyone to publish, so reading these lengths as RSA would gain nothing.
func (r IPsecServer) PublicKey() (crypto.PublicKey, error) {
	switch len(r.Key) {
	case 0:
		return nil, nil
	case ed25519.PublicKeySize:
		return parseEdDSAKey(r.Key)
	case 64, 96:
		if k, err := parseECDSAKey(r.Key); err == nil {
			return k, nil
		}
		return nil, ErrBadKey // no typed nil in the interface
	}
	k, err := ParseRSAKey(r.Key)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}

// SortIPsecServers orders records by precedence, lowest first, and shuffles
// records of equal precedence with intn (RFC 4322, Section 5.2: one is
// "picked arbitrarily"). intn(n) must return a value in [0, n).
func SortIPsecServers(rs []IPsecServer, intn func(int) int) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Precedence < rs[j].Precedence })
	shuffleRuns(len(rs), func(i int) int { return int(rs[i].Precedence) }, func(i, j int) { rs[i], rs[j] = rs[j], rs[i] }, intn)
}

// SortIPSECKEYs orders records by precedence, lowest first, shuffling ties
// (RFC 4025, Section 2.2: "the order should be non-deterministic").
func SortIPSECKEYs(rs []IPSECKEY, intn func(int) int) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Precedence < rs[j].Precedence })
	shuffleRuns(len(rs), func(i int) int { return int(rs[i].Precedence) }, func(i, j int) { rs[i], rs[j] = rs[j], rs[i] }, intn)
}

// shuffleRuns applies a Fisher-Yates shuffle to each run of equal keys.
func shuffleRuns(n int, key func(int) int, swap func(i, j int), intn func(int) int) {
	for start := 0; start < n; {
		end := start + 1
		for end < n && key(end) == key(start) {
			end++
		}
		for i := end - 1; i > start; i-- {
			j := start + intn(i-start+1)
			swap(i, j)
		}
		start = end
	}
}
