package tun

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// Segmentation offload. With IFF_VNET_HDR every packet on the TUN device
// carries a virtio_net_hdr (the virtio specification, section 5.1.6, "legacy"
// layout, 10 octets, in host byte order). Once TUNSETOFFLOAD allows it, the
// kernel hands over TCP (and UDP) "super-packets" of up to 64 KiB with one
// set of headers and a segment size, and leaves the transport checksum
// partial. The TCP stack then does its per-packet work once per 64 KiB; we
// cut the super-packet into MTU-sized packets here, as a NIC would
// (RFC 9293 for TCP's sequence numbers and flags, RFC 791 and RFC 8200 for
// the IP lengths, RFC 1071 for the checksums), before they are encrypted.

const vnetHdrLen = 10

// virtio_net_hdr fields.
const (
	vnetFlagNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM

	gsoNone  = 0 // VIRTIO_NET_HDR_GSO_NONE
	gsoTCPv4 = 1
	gsoUDP   = 3 // UFO, never enabled here
	gsoTCPv6 = 4
	gsoUDPL4 = 5
	gsoECN   = 0x80
)

const (
	protoTCP = 6
	protoUDP = 17
)

type vnetHdr struct {
	flags      uint8
	gsoType    uint8
	hdrLen     uint16
	gsoSize    uint16
	csumStart  uint16
	csumOffset uint16
}

func parseVnetHdr(b []byte) vnetHdr {
	return vnetHdr{
		flags:      b[0],
		gsoType:    b[1],
		hdrLen:     binary.NativeEndian.Uint16(b[2:]),
		gsoSize:    binary.NativeEndian.Uint16(b[4:]),
		csumStart:  binary.NativeEndian.Uint16(b[6:]),
		csumOffset: binary.NativeEndian.Uint16(b[8:]),
	}
}

var (
	errSegment = errors.New("tun: malformed offload packet")
	errNoRoom  = errors.New("tun: packet larger than the buffer")
)

// checksum adds b, as 16-bit big-endian words, to the ones' complement sum
// initial (RFC 1071). The sum does not depend on byte order (RFC 1071,
// Section 2 (B)), so the words are added little-endian, 32 bits at a time
// into two 64-bit accumulators that cannot overflow for any packet, and the
// folded result is swapped back.
func checksum(b []byte, initial uint64) uint64 {
	var s0, s1 uint64
	for len(b) >= 32 {
		x0 := binary.LittleEndian.Uint64(b)
		x1 := binary.LittleEndian.Uint64(b[8:])
		x2 := binary.LittleEndian.Uint64(b[16:])
		x3 := binary.LittleEndian.Uint64(b[24:])
		s0 += x0&0xffffffff + x1&0xffffffff + x2&0xffffffff + x3&0xffffffff
		s1 += x0>>32 + x1>>32 + x2>>32 + x3>>32
		b = b[32:]
	}
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		s0 += x & 0xffffffff
		s1 += x >> 32
		b = b[8:]
	}
	if len(b) >= 4 {
		s0 += uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		s1 += uint64(binary.LittleEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s0 += uint64(b[0]) // the low octet of a little-endian word
	}
	le := fold(s0 + s1)
	return initial + uint64(bits.ReverseBytes16(le))
}

// fold reduces a 64-bit ones' complement sum to 16 bits.
func fold(sum uint64) uint16 {
	s := (sum >> 32) + (sum & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return uint16(s)
}

// pseudoSum is the sum of the IPv4 or IPv6 pseudo-header (RFC 9293,
// Section 3.1; RFC 8200, Section 8.1) for a transport segment of length l.
func pseudoSum(pkt []byte, v6 bool, proto uint8, l int) uint64 {
	var s uint64
	if v6 {
		s = checksum(pkt[8:40], 0)
	} else {
		s = checksum(pkt[12:20], 0)
	}
	return s + uint64(proto) + uint64(l)
}

// finishCsum completes a partial checksum the kernel left (NEEDS_CSUM): the
// field already holds the pseudo-header sum, so the checksum of everything
// from csumStart on is the final value.
func finishCsum(pkt []byte, h vnetHdr) error {
	start, at := int(h.csumStart), int(h.csumStart)+int(h.csumOffset)
	if start >= len(pkt) || at+2 > len(pkt) {
		return errSegment
	}
	binary.BigEndian.PutUint16(pkt[at:], ^fold(checksum(pkt[start:], 0)))
	return nil
}

// segmenter cuts one offload packet into packets. It is restartable so a
// super-packet with more segments than the caller's buffers spreads over
// several Reads.
type segmenter struct {
	pkt     []byte // the packet after the virtio header
	h       vnetHdr
	v6      bool
	l4      int // start of the TCP or UDP header
	hdrs    int // length of all headers
	payload int // octets of payload
	mss     int
	next    int // next segment
	nseg    int
}

// init checks the headers of an offload packet and prepares to cut it.
func (s *segmenter) init(pkt []byte, h vnetHdr) error {
	*s = segmenter{pkt: pkt, h: h}
	typ := h.gsoType &^ gsoECN
	if len(pkt) < 20 {
		return errSegment
	}
	var proto byte
	switch pkt[0] >> 4 {
	case 4:
		ihl := int(pkt[0]&0x0f) * 4
		if ihl < 20 || len(pkt) < ihl || int(binary.BigEndian.Uint16(pkt[2:])) > len(pkt) {
			return errSegment
		}
		proto = pkt[9]
		s.l4 = ihl
	case 6:
		if len(pkt) < 40 {
			return errSegment
		}
		s.v6 = true
		proto = pkt[6]
		s.l4 = 40 // the kernel's GSO packets carry no extension headers here
	default:
		return errSegment
	}
	if int(h.csumStart) != s.l4 {
		return errSegment
	}
	switch typ {
	case gsoTCPv4, gsoTCPv6:
		if proto != protoTCP || (typ == gsoTCPv6) != s.v6 || len(pkt) < s.l4+20 {
			return errSegment
		}
		s.hdrs = s.l4 + int(pkt[s.l4+12]>>4)*4
		if s.hdrs < s.l4+20 || s.hdrs > len(pkt) {
			return errSegment
		}
	case gsoUDPL4:
		if proto != protoUDP || len(pkt) < s.l4+8 {
			return errSegment
		}
		s.hdrs = s.l4 + 8
	default:
		return errSegment
	}
	s.mss = int(h.gsoSize)
	s.payload = len(pkt) - s.hdrs
	if s.mss == 0 || s.payload <= 0 {
		return errSegment
	}
	s.nseg = (s.payload + s.mss - 1) / s.mss
	return nil
}

// done reports whether every segment has been emitted.
func (s *segmenter) done() bool { return s.next >= s.nseg }

// emit writes the next segments into bufs[i][offset:], setting sizes[i],
// and returns how many it wrote.
func (s *segmenter) emit(bufs [][]byte, sizes []int, offset int) (int, error) {
	n := 0
	pkt := s.pkt
	for n < len(bufs) && n < len(sizes) && s.next < s.nseg {
		i := s.next
		lo := s.hdrs + i*s.mss
		hi := min(lo+s.mss, len(pkt))
		out := bufs[n][offset:]
		total := s.hdrs + hi - lo
		if total > len(out) {
			return n, errNoRoom
		}
		copy(out, pkt[:s.hdrs])
		copy(out[s.hdrs:], pkt[lo:hi])
		out = out[:total]
		last := i == s.nseg-1
		if s.v6 {
			binary.BigEndian.PutUint16(out[4:], uint16(total-40))
		} else {
			binary.BigEndian.PutUint16(out[2:], uint16(total))
			id := binary.BigEndian.Uint16(pkt[4:])
			binary.BigEndian.PutUint16(out[4:], id+uint16(i))
			out[10], out[11] = 0, 0
			binary.BigEndian.PutUint16(out[10:], ^fold(checksum(out[:s.l4], 0)))
		}
		l4 := out[s.l4:]
		var csumAt int
		proto := uint8(protoUDP)
		if s.h.gsoType&^gsoECN == gsoUDPL4 {
			binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
			csumAt = 6
		} else {
			proto = protoTCP
			seq := binary.BigEndian.Uint32(pkt[s.l4+4:])
			binary.BigEndian.PutUint32(l4[4:], seq+uint32(i*s.mss))
			if !last {
				l4[13] &^= 0x01 | 0x08 // FIN and PSH belong to the last segment
			}
			if i > 0 {
				l4[13] &^= 0x80 // CWR to the first (RFC 3168, Section 6.1.2)
			}
			csumAt = 16
		}
		l4[csumAt], l4[csumAt+1] = 0, 0
		c := ^fold(checksum(l4, pseudoSum(out, s.v6, proto, len(l4))))
		if c == 0 && proto == protoUDP {
			c = 0xffff // RFC 768: zero means "no checksum"
		}
		binary.BigEndian.PutUint16(l4[csumAt:], c)
		sizes[n] = total
		n++
		s.next++
	}
	return n, nil
}
