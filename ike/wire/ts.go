package wire

import (
	"encoding/binary"
	"net/netip"
)

// TS is the Traffic Selector payload, TSi or TSr (RFC 7296, Section 3.13).
type TS struct {
	Responder bool // TSr rather than TSi
	Selectors []TrafficSelector
}

// TrafficSelector is one traffic selector (RFC 7296, Section 3.13.1).
// For TSIPv4AddrRange and TSIPv6AddrRange, Start and End are 4- or 16-octet
// addresses and Data is nil. For other types only the first two octets are
// decoded (TSType, IPProtocol) and Data holds the rest of the selector after
// its 4-octet header.
type TrafficSelector struct {
	TSType     TSType
	IPProtocol uint8  // 0: any protocol
	StartPort  uint16 // 0..65535 is any port; for ICMP, type<<8|code
	EndPort    uint16
	Start, End netip.Addr // inclusive address range
	Data       []byte     // other TS types only
}

// Selector lengths including the 8-octet header (RFC 7296, Section 3.13.1).
const (
	tsHdrLen = 8
	tsLen4   = tsHdrLen + 2*4
	tsLen6   = tsHdrLen + 2*16
)

// Type implements Payload.
func (p *TS) Type() PayloadType {
	if p.Responder {
		return PayloadTSr
	}
	return PayloadTSi
}

func parseTS(resp bool, b []byte) (*TS, error) {
	if len(b) < 4 {
		return nil, ErrShort
	}
	n := int(b[0])
	p := &TS{Responder: resp, Selectors: make([]TrafficSelector, 0, n)}
	sb := b[4:]
	for off := 0; off < len(sb); {
		if len(sb)-off < 4 {
			return nil, ErrShort
		}
		l := int(binary.BigEndian.Uint16(sb[off+2:]))
		if l < 4 || l > len(sb)-off {
			return nil, ErrLength
		}
		s, err := parseSelector(sb[off : off+l])
		if err != nil {
			return nil, err
		}
		p.Selectors = append(p.Selectors, s)
		off += l
	}
	// RFC 7296, Section 3.13: Number of TSs is the number of selectors.
	if len(p.Selectors) != n {
		return nil, ErrSyntax
	}
	return p, nil
}

func parseSelector(b []byte) (TrafficSelector, error) {
	s := TrafficSelector{TSType: TSType(b[0]), IPProtocol: b[1]}
	switch s.TSType {
	case TSIPv4AddrRange:
		if len(b) != tsLen4 {
			return s, ErrLength
		}
		s.Start = netip.AddrFrom4([4]byte(b[8:12]))
		s.End = netip.AddrFrom4([4]byte(b[12:16]))
	case TSIPv6AddrRange:
		if len(b) != tsLen6 {
			return s, ErrLength
		}
		s.Start = netip.AddrFrom16([16]byte(b[8:24]))
		s.End = netip.AddrFrom16([16]byte(b[24:40]))
	default:
		s.Data = b[4:]
		return s, nil
	}
	s.StartPort = binary.BigEndian.Uint16(b[4:])
	s.EndPort = binary.BigEndian.Uint16(b[6:])
	return s, nil
}

func (p *TS) appendBody(b []byte) ([]byte, error) {
	if len(p.Selectors) > 255 {
		return b, ErrTooLong
	}
	b = append(b, byte(len(p.Selectors)), 0, 0, 0)
	for i := range p.Selectors {
		var err error
		if b, err = p.Selectors[i].append(b); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (s *TrafficSelector) append(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, byte(s.TSType), s.IPProtocol, 0, 0)
	switch s.TSType {
	case TSIPv4AddrRange:
		if !s.Start.Is4() || !s.End.Is4() {
			return b, ErrSyntax
		}
	case TSIPv6AddrRange:
		if !s.Start.Is6() || !s.End.Is6() || s.Start.Zone() != "" || s.End.Zone() != "" {
			return b, ErrSyntax
		}
	default:
		b = append(b, s.Data...)
		return putLen16(b, start)
	}
	b = binary.BigEndian.AppendUint16(b, s.StartPort)
	b = binary.BigEndian.AppendUint16(b, s.EndPort)
	b = appendAddr(b, s.Start)
	b = appendAddr(b, s.End)
	return putLen16(b, start)
}

// SelectorFromPrefix returns the selector for every address of prefix p
// (masked), IP protocol proto (0: any) and ports startPort..endPort (0..65535:
// any). An IPv4-mapped IPv6 prefix is treated as IPv4.
func SelectorFromPrefix(p netip.Prefix, proto uint8, startPort, endPort uint16) TrafficSelector {
	p = p.Masked()
	a := p.Addr()
	bits := p.Bits()
	if a.Is4In6() {
		a = a.Unmap()
		bits -= 96
		if bits < 0 {
			bits = 0
		}
	}
	s := TrafficSelector{IPProtocol: proto, StartPort: startPort, EndPort: endPort, Start: a}
	if a.Is4() {
		s.TSType = TSIPv4AddrRange
		v := a.As4()
		setHostBits(v[:], bits)
		s.End = netip.AddrFrom4(v)
	} else {
		s.TSType = TSIPv6AddrRange
		v := a.As16()
		setHostBits(v[:], bits)
		s.End = netip.AddrFrom16(v)
	}
	s.Start = netip.PrefixFrom(a, bits).Masked().Addr()
	return s
}

// setHostBits sets every bit after the first bits bits of v.
func setHostBits(v []byte, bits int) {
	for i := range v {
		switch {
		case bits >= 8*(i+1):
		case bits <= 8*i:
			v[i] = 0xff
		default:
			v[i] |= 0xff >> uint(bits-8*i)
		}
	}
}

// Prefix returns the prefix that covers exactly the address range
// Start..End, and false when the range is not one prefix (or the selector is
// not an address range). Protocol and ports are not part of the answer.
func (s *TrafficSelector) Prefix() (netip.Prefix, bool) {
	var a, e []byte
	switch {
	case s.TSType == TSIPv4AddrRange && s.Start.Is4() && s.End.Is4():
		a4, e4 := s.Start.As4(), s.End.As4()
		a, e = a4[:], e4[:]
	case s.TSType == TSIPv6AddrRange && s.Start.Is6() && s.End.Is6():
		a16, e16 := s.Start.As16(), s.End.As16()
		a, e = a16[:], e16[:]
	default:
		return netip.Prefix{}, false
	}
	// The common leading bits form the prefix; after them the start must
	// be all zeros and the end all ones.
	bits := 0
	for bits < 8*len(a) && bitAt(a, bits) == bitAt(e, bits) {
		bits++
	}
	for i := bits; i < 8*len(a); i++ {
		if bitAt(a, i) != 0 || bitAt(e, i) != 1 {
			return netip.Prefix{}, false
		}
	}
	return netip.PrefixFrom(s.Start.WithZone(""), bits), true
}

func bitAt(v []byte, i int) byte { return v[i/8] >> (7 - uint(i%8)) & 1 }

// AnyPorts reports whether the selector covers every port (0..65535).
func (s *TrafficSelector) AnyPorts() bool { return s.StartPort == 0 && s.EndPort == 0xffff }

// appendAddr appends the 4 or 16 octets of a.
func appendAddr(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(b, v[:]...)
	}
	v := a.As16()
	return append(b, v[:]...)
}
