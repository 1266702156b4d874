package ike

import (
	"net/netip"
)

// TS types, RFC 7296, Section 3.13.1.
const (
	TSIPv4Range uint8 = 7
	TSIPv6Range uint8 = 8
)

// Selector is one traffic selector: an address range, an IP protocol (0 for
// any) and a port range (RFC 7296, Section 3.13.1).
type Selector struct {
	Start, End         netip.Addr
	Proto              uint8
	StartPort, EndPort uint16
}

// SelectorFromPrefix covers a whole prefix, any protocol, any port.
func SelectorFromPrefix(p netip.Prefix) Selector {
	p = p.Masked()
	return Selector{Start: p.Addr(), End: lastAddr(p), EndPort: 0xffff}
}

// Type is TSIPv4Range or TSIPv6Range.
func (s Selector) Type() uint8 {
	if s.Start.Is4() {
		return TSIPv4Range
	}
	return TSIPv6Range
}

func (s Selector) valid() bool {
	return s.Start.IsValid() && s.End.IsValid() && s.Start.Is4() == s.End.Is4() &&
		s.Start.Compare(s.End) <= 0 && s.StartPort <= s.EndPort
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

func minAddr(a, b netip.Addr) netip.Addr {
	if a.Compare(b) <= 0 {
		return a
	}
	return b
}

// intersect narrows s to what o also covers (RFC 7296, Section 2.9).
func (s Selector) intersect(o Selector) (Selector, bool) {
	if s.Start.Is4() != o.Start.Is4() {
		return Selector{}, false
	}
	r := Selector{Start: maxAddr(s.Start, o.Start), End: minAddr(s.End, o.End)}
	if r.Start.Compare(r.End) > 0 {
		return Selector{}, false
	}
	switch {
	case s.Proto == 0:
		r.Proto = o.Proto
	case o.Proto == 0 || o.Proto == s.Proto:
		r.Proto = s.Proto
	default:
		return Selector{}, false
	}
	r.StartPort, r.EndPort = max(s.StartPort, o.StartPort), min(s.EndPort, o.EndPort)
	if r.StartPort > r.EndPort {
		return Selector{}, false
	}
	return r, true
}

// narrow returns the parts of the peer's proposed selectors that our
// configuration allows. RFC 7296, Section 2.9: the responder may narrow to a
// subset; an empty result is TS_UNACCEPTABLE.
func narrow(proposed, ours []Selector) []Selector {
	var out []Selector
	for _, p := range proposed {
		for _, o := range ours {
			if r, ok := p.intersect(o); ok && !containsSel(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// subsetOf reports whether every selector in got lies within some selector
// of allowed: the initiator's check of a responder's narrowing.
func subsetOf(got, allowed []Selector) bool {
	for _, g := range got {
		ok := false
		for _, a := range allowed {
			if r, in := g.intersect(a); in && r == g {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return len(got) > 0
}

func containsSel(s []Selector, x Selector) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// Prefixes converts selectors to the prefixes that exactly cover their
// address ranges, for the data plane, which routes by prefix. Protocol and
// port restrictions are not carried.
func Prefixes(sels []Selector) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range sels {
		out = append(out, rangeToPrefixes(s.Start, s.End)...)
	}
	return out
}

// rangeToPrefixes splits [start, end] into the fewest aligned prefixes.
func rangeToPrefixes(start, end netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	bits := start.BitLen()
	for start.IsValid() && start.Compare(end) <= 0 {
		// Largest prefix starting at start that stays within end.
		l := bits
		for l > 0 {
			p := netip.PrefixFrom(start, l-1)
			if p.Masked().Addr() != start || lastAddr(p).Compare(end) > 0 {
				break
			}
			l--
		}
		p := netip.PrefixFrom(start, l)
		out = append(out, p)
		last := lastAddr(p)
		if last == end {
			break
		}
		start = last.Next()
	}
	return out
}

func selectorsFromPrefixes(ps []netip.Prefix) []Selector {
	out := make([]Selector, 0, len(ps))
	for _, p := range ps {
		out = append(out, SelectorFromPrefix(p))
	}
	return out
}
