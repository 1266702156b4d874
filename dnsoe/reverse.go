package dnsoe

import (
	"errors"
	"net/netip"
)

// ErrBadAddress reports an invalid address passed for a reverse lookup.
var ErrBadAddress = errors.New("dnsoe: invalid address")

// ReverseName returns the name under which the reverse records of a live:
// "d.c.b.a.in-addr.arpa." for IPv4 (RFC 1035, Section 3.5) and the 32
// reversed nibbles under "ip6.arpa." for IPv6 (RFC 3596, Section 2.5).
// IPv4-mapped IPv6 addresses are treated as the IPv4 addresses they carry.
func ReverseName(a netip.Addr) (Name, error) {
	if !a.IsValid() {
		return Name{}, ErrBadAddress
	}
	a = a.Unmap()
	var n Name
	w := 0
	label := func(s string) {
		n.Data[w] = byte(len(s))
		copy(n.Data[w+1:], s)
		w += 1 + len(s)
	}
	if a.Is4() {
		b := a.As4()
		for i := 3; i >= 0; i-- {
			v := b[i]
			var d [3]byte
			k := 0
			if v >= 100 {
				d[k] = '0' + v/100
				k++
			}
			if v >= 10 {
				d[k] = '0' + v/10%10
				k++
			}
			d[k] = '0' + v%10
			k++
			label(string(d[:k]))
		}
		label("in-addr")
	} else {
		const hex = "0123456789abcdef"
		b := a.As16()
		for i := 15; i >= 0; i-- {
			n.Data[w], n.Data[w+1] = 1, hex[b[i]&0xF]
			n.Data[w+2], n.Data[w+3] = 1, hex[b[i]>>4]
			w += 4
		}
		label("ip6")
	}
	label("arpa")
	n.Data[w] = 0
	n.Length = uint8(w + 1)
	return n, nil
}
