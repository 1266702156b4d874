package esp

import (
	"encoding/binary"
	"net/netip"
)

// TunnelMTU returns the largest inner packet that fits into one outer packet
// of outerMTU bytes: outer IP header (20 or 40), UDP header (8) when
// encapsulated (RFC 3948), ESP header and IV (16), the trailer padded to a
// 4-byte boundary (RFC 4303, Section 2.4) and the ICV (16).
func TunnelMTU(outerMTU int, outerIPv6, udp bool) int {
	h := 20
	if outerIPv6 {
		h = 40
	}
	if udp {
		h += 8
	}
	avail := outerMTU - h - espHdrLen - ivLen - icvLen
	if avail < 4 {
		return 0
	}
	return avail&^3 - 2
}

// checksum adds b to a ones' complement sum (RFC 1071).
func checksum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// isICMPError reports whether an inner packet is an ICMP or ICMPv6 error
// message, to which no ICMP error may be sent (RFC 1122, Section 3.2.2;
// RFC 4443, Section 2.4 (e)).
func isICMPError(pkt []byte) bool {
	switch pkt[0] >> 4 {
	case 4:
		ihl := int(pkt[0]&0xf) * 4
		if pkt[9] != protoICMP || len(pkt) <= ihl {
			return false
		}
		switch pkt[ihl] {
		case 3, 4, 5, 11, 12:
			return true
		}
	case 6:
		return pkt[6] == protoICMPv6 && len(pkt) > 40 && pkt[40] < 128
	}
	return false
}

const (
	icmp4MaxLen = 576  // RFC 1812, Section 4.3.2.3
	icmp6MaxLen = 1280 // RFC 4443, Section 2.4 (c)
)

// buildTooBig writes into out an ICMP Destination Unreachable /
// Fragmentation Needed (RFC 792, with the next-hop MTU of RFC 1191,
// Section 4) or an ICMPv6 Packet Too Big (RFC 4443, Section 3.2) addressed
// to the sender of pkt, and returns its length, or 0 when none may be sent.
// src is the source to use; if invalid the inner packet's destination is
// used. pkt has passed parseInner.
func buildTooBig(out, pkt []byte, mtu int, src netip.Addr) int {
	if isICMPError(pkt) {
		return 0
	}
	switch pkt[0] >> 4 {
	case 4:
		// Only for a first fragment with DF set (RFC 1191, Section 4).
		if pkt[6]&0x40 == 0 || binary.BigEndian.Uint16(pkt[6:])&0x1fff != 0 {
			return 0
		}
		dst := netip.AddrFrom4([4]byte(pkt[12:16]))
		if dst.IsUnspecified() || dst.IsMulticast() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return 0
		}
		if !src.Is4() {
			src = netip.AddrFrom4([4]byte(pkt[16:20]))
		}
		data := min(len(pkt), icmp4MaxLen-28)
		n := 28 + data
		if len(out) < n {
			return 0
		}
		clear(out[:28])
		out[0] = 0x45
		binary.BigEndian.PutUint16(out[2:], uint16(n))
		out[8] = 64 // TTL
		out[9] = protoICMP
		s4 := src.As4()
		copy(out[12:16], s4[:])
		copy(out[16:20], pkt[12:16])
		binary.BigEndian.PutUint16(out[10:], fold(checksum(0, out[:20])))
		out[20] = 3 // destination unreachable
		out[21] = 4 // fragmentation needed and DF set
		binary.BigEndian.PutUint16(out[26:], uint16(mtu))
		copy(out[28:n], pkt[:data])
		binary.BigEndian.PutUint16(out[22:], fold(checksum(0, out[20:n])))
		return n
	case 6:
		dst := netip.AddrFrom16([16]byte(pkt[8:24]))
		if dst.IsUnspecified() || dst.IsMulticast() {
			return 0
		}
		if !src.Is6() || src.Is4In6() {
			src = netip.AddrFrom16([16]byte(pkt[24:40]))
		}
		mtu = max(mtu, icmp6MaxLen) // RFC 8200, Section 5: no link below 1280
		data := min(len(pkt), icmp6MaxLen-48)
		n := 48 + data
		if len(out) < n {
			return 0
		}
		clear(out[:48])
		out[0] = 0x60
		binary.BigEndian.PutUint16(out[4:], uint16(8+data))
		out[6] = protoICMPv6
		out[7] = 64 // hop limit
		s16 := src.As16()
		copy(out[8:24], s16[:])
		copy(out[24:40], pkt[8:24])
		out[40] = 2 // packet too big
		binary.BigEndian.PutUint32(out[44:], uint32(mtu))
		copy(out[48:n], pkt[:data])
		// RFC 4443, Section 2.3: checksum over the pseudo-header (RFC 8200,
		// Section 8.1) and the message.
		sum := checksum(0, out[8:40])
		sum += uint32(8 + data)
		sum += protoICMPv6
		binary.BigEndian.PutUint16(out[42:], fold(checksum(sum, out[40:n])))
		return n
	}
	return 0
}

// clampMSS lowers the MSS option of a TCP SYN in pkt to at most mss and
// fixes the TCP checksum incrementally (RFC 1624, Section 3). It reports
// whether it changed the packet.
func clampMSS(pkt []byte, mss uint16) bool {
	var tcp []byte
	switch pkt[0] >> 4 {
	case 4:
		ihl := int(pkt[0]&0xf) * 4
		if pkt[9] != protoTCP || binary.BigEndian.Uint16(pkt[6:])&0x1fff != 0 || len(pkt) < ihl {
			return false
		}
		tcp = pkt[ihl:]
	case 6:
		if len(pkt) < 40 || pkt[6] != protoTCP {
			return false
		}
		tcp = pkt[40:]
	default:
		return false
	}
	if len(tcp) < 20 || tcp[13]&0x02 == 0 { // SYN
		return false
	}
	doff := int(tcp[12]>>4) * 4
	if doff < 20 || doff > len(tcp) {
		return false
	}
	for i := 20; i < doff; {
		switch tcp[i] {
		case 0: // end of option list
			return false
		case 1: // no-operation
			i++
			continue
		}
		if i+1 >= doff {
			return false
		}
		l := int(tcp[i+1])
		if l < 2 || i+l > doff {
			return false
		}
		if tcp[i] == 2 && l == 4 { // maximum segment size
			old := binary.BigEndian.Uint16(tcp[i+2:])
			if old <= mss {
				return false
			}
			binary.BigEndian.PutUint16(tcp[i+2:], mss)
			m, n := old, mss
			if (i+2)&1 != 0 { // odd offset: the field's bytes sit swapped in the 16-bit words
				m, n = m>>8|m<<8, n>>8|n<<8
			}
			hc := binary.BigEndian.Uint16(tcp[16:])
			sum := uint32(^hc) + uint32(^m) + uint32(n)
			binary.BigEndian.PutUint16(tcp[16:], fold(sum))
			return true
		}
		i += l
	}
	return false
}

// mssFor is the MSS that fits an inner packet of mtu bytes.
func mssFor(mtu int, v6 bool) uint16 {
	h := 40
	if v6 {
		h = 60
	}
	if mtu-h < 536 {
		return 536
	}
	return uint16(mtu - h)
}
