package tun

import (
	"bytes"
	"encoding/binary"
)

// Receive coalescing, the reverse of segmentation: consecutive TCP segments
// of one flow in a write batch become one super-packet with a virtio header
// (GSO TCPv4/TCPv6, checksum partial), written with one writev(2) whose
// iovecs point at the packets themselves, so nothing is copied. The
// receiving TCP stack then works once per super-packet. The rules follow
// what a TCP receiver must see unchanged (RFC 9293): same addresses, ports,
// acknowledgment number and options; contiguous sequence numbers; only ACK
// (and PSH on the last segment) set; every segment but the last of the same
// size. The segments' checksums are not verified: the packets come out of
// an ESP SA whose integrity check covers every octet (RFC 4303, Section
// 3.4.4), so nothing between the two TCP stacks can have changed them, and
// the kernel takes the merged packet's partial checksum as verified. (This
// saves a pass over every octet received.)

const (
	maxGROSegs  = 64
	maxGROBytes = 65535
)

// tcpSeg describes a TCP segment found by tcpSegment.
type tcpSeg struct {
	v6      bool
	l4      int // start of the TCP header
	hdrs    int // IP and TCP headers
	payload int
	flags   byte
	seq     uint32
}

// tcpSegment reports whether p is a TCP segment that may be coalesced: no
// IP options or extension headers, not a fragment, only ACK or ACK|PSH,
// some payload.
func tcpSegment(p []byte) (tcpSeg, bool) {
	var s tcpSeg
	if len(p) < 20 {
		return s, false
	}
	switch p[0] >> 4 {
	case 4:
		if p[0] != 0x45 || p[9] != protoTCP || int(binary.BigEndian.Uint16(p[2:])) != len(p) ||
			binary.BigEndian.Uint16(p[6:])&0x3fff != 0 { // MF or a fragment offset
			return s, false
		}
		s.l4 = 20
	case 6:
		if len(p) < 40 || p[6] != protoTCP || int(binary.BigEndian.Uint16(p[4:]))+40 != len(p) {
			return s, false
		}
		s.v6, s.l4 = true, 40
	default:
		return s, false
	}
	if len(p) < s.l4+20 {
		return s, false
	}
	s.hdrs = s.l4 + int(p[s.l4+12]>>4)*4
	if s.hdrs < s.l4+20 || s.hdrs >= len(p) {
		return s, false
	}
	s.flags = p[s.l4+13]
	if s.flags != 0x10 && s.flags != 0x18 {
		return s, false
	}
	s.payload = len(p) - s.hdrs
	s.seq = binary.BigEndian.Uint32(p[s.l4+4:])
	return s, true
}

// sameFlow reports whether b may follow a in one super-packet, apart from
// the sequence number and sizes: IP header fields that must not change and
// the TCP ports, acknowledgment number and options.
func sameFlow(a, b []byte, sa, sb tcpSeg) bool {
	if sa.v6 != sb.v6 || sa.hdrs != sb.hdrs {
		return false
	}
	if sa.v6 {
		// Version, traffic class, flow label; next header, hop limit;
		// addresses.
		if !bytes.Equal(a[0:4], b[0:4]) || !bytes.Equal(a[6:40], b[6:40]) {
			return false
		}
	} else {
		// TOS; flags; TTL and protocol; addresses.
		if a[1] != b[1] || a[6] != b[6] || !bytes.Equal(a[8:10], b[8:10]) || !bytes.Equal(a[12:20], b[12:20]) {
			return false
		}
	}
	l := sa.l4
	return bytes.Equal(a[l:l+4], b[l:l+4]) && // ports
		bytes.Equal(a[l+8:l+13], b[l+8:l+13]) && // ack, data offset
		bytes.Equal(a[l+20:sa.hdrs], b[l+20:sb.hdrs]) // options
}

// groPlan finds the longest run of bufs, starting at i, that coalesces into
// one super-packet; it returns the run's end (exclusive). For a run of more
// than one it rewrites the first packet's headers for the whole run and
// fills h.
func groPlan(bufs [][]byte, offset, i int, h *vnetHdr) int {
	first := bufs[i][offset:]
	s0, ok := tcpSegment(first)
	if !ok || s0.flags != 0x10 {
		return i + 1
	}
	mss := s0.payload
	total := len(first)
	next := s0.seq + uint32(mss)
	psh := false
	j := i + 1
	for ; j < len(bufs) && j-i < maxGROSegs; j++ {
		p := bufs[j][offset:]
		s, ok := tcpSegment(p)
		if !ok || s.seq != next || s.payload > mss || total+s.payload > maxGROBytes || !sameFlow(first, p, s0, s) {
			break
		}
		total += s.payload
		next += uint32(s.payload)
		if s.flags&0x08 != 0 || s.payload < mss {
			psh = s.flags&0x08 != 0
			j++
			break // PSH or a short segment ends the run
		}
	}
	if j-i < 2 {
		return i + 1
	}
	// The first packet's headers now describe the whole run.
	if s0.v6 {
		binary.BigEndian.PutUint16(first[4:], uint16(total-40))
	} else {
		binary.BigEndian.PutUint16(first[2:], uint16(total))
		first[10], first[11] = 0, 0
		binary.BigEndian.PutUint16(first[10:], ^fold(checksum(first[:20], 0)))
	}
	if psh {
		first[s0.l4+13] |= 0x08
	}
	// Partial checksum: the pseudo-header sum, to be completed (or, for
	// local delivery, trusted) by the kernel.
	binary.BigEndian.PutUint16(first[s0.l4+16:], fold(pseudoSum(first, s0.v6, protoTCP, total-s0.l4)))
	*h = vnetHdr{
		flags:      vnetFlagNeedsCsum,
		gsoType:    gsoTCPv4,
		hdrLen:     uint16(s0.hdrs),
		gsoSize:    uint16(mss),
		csumStart:  uint16(s0.l4),
		csumOffset: 16,
	}
	if s0.v6 {
		h.gsoType = gsoTCPv6
	}
	return j
}

func putVnetHdr(b []byte, h vnetHdr) {
	b[0], b[1] = h.flags, h.gsoType
	binary.NativeEndian.PutUint16(b[2:], h.hdrLen)
	binary.NativeEndian.PutUint16(b[4:], h.gsoSize)
	binary.NativeEndian.PutUint16(b[6:], h.csumStart)
	binary.NativeEndian.PutUint16(b[8:], h.csumOffset)
}
