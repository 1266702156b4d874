package esp

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "", ":", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

// ipPacket builds an IPv4 or IPv6 packet from src to dst with protocol
// proto and payload, checksums filled in (IPv4 header; TCP/UDP/ICMP).
func ipPacket(src, dst netip.Addr, proto byte, payload []byte, df bool) []byte {
	var p []byte
	if src.Is4() {
		p = make([]byte, 20+len(payload))
		p[0] = 0x45
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		binary.BigEndian.PutUint16(p[4:], 0x1234)
		if df {
			p[6] = 0x40
		}
		p[8] = 64
		p[9] = proto
		s, d := src.As4(), dst.As4()
		copy(p[12:], s[:])
		copy(p[16:], d[:])
		binary.BigEndian.PutUint16(p[10:], fold(checksum(0, p[:20])))
		copy(p[20:], payload)
	} else {
		p = make([]byte, 40+len(payload))
		p[0] = 0x60
		binary.BigEndian.PutUint16(p[4:], uint16(len(payload)))
		p[6] = proto
		p[7] = 64
		s, d := src.As16(), dst.As16()
		copy(p[8:], s[:])
		copy(p[24:], d[:])
		copy(p[40:], payload)
	}
	fixL4(p)
	return p
}

// l4 returns the transport header and payload of p, and the pseudo-header sum.
func l4(p []byte) ([]byte, byte, uint32) {
	if p[0]>>4 == 4 {
		ihl := int(p[0]&0xf) * 4
		seg := p[ihl:binary.BigEndian.Uint16(p[2:])]
		sum := checksum(0, p[12:20]) + uint32(p[9]) + uint32(len(seg))
		return seg, p[9], sum
	}
	seg := p[40:]
	sum := checksum(0, p[8:40]) + uint32(p[6]) + uint32(len(seg))
	return seg, p[6], sum
}

func l4CsumOff(proto byte) int {
	switch proto {
	case protoTCP:
		return 16
	case 17:
		return 6
	case protoICMP, protoICMPv6:
		return 2
	}
	return -1
}

// fixL4 recomputes the transport checksum of p.
func fixL4(p []byte) {
	seg, proto, sum := l4(p)
	off := l4CsumOff(proto)
	if off < 0 || len(seg) < off+2 {
		return
	}
	seg[off], seg[off+1] = 0, 0
	if proto == protoICMP {
		sum = 0 // ICMPv4 has no pseudo-header
	}
	binary.BigEndian.PutUint16(seg[off:], fold(checksum(sum, seg)))
}

// l4Valid verifies the transport checksum of p.
func l4Valid(p []byte) bool {
	seg, proto, sum := l4(p)
	if proto == protoICMP {
		sum = 0
	}
	return fold(checksum(sum, seg)) == 0
}

func echo(n int) []byte {
	b := make([]byte, 8+n)
	b[0] = 8 // echo request (ICMPv4); callers set 128 for ICMPv6
	for i := 8; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

func ping4(src, dst string, n int) []byte {
	return ipPacket(addr(src), addr(dst), protoICMP, echo(n), true)
}

func ping6(src, dst string, n int) []byte {
	e := echo(n)
	e[0] = 128
	return ipPacket(addr(src), addr(dst), protoICMPv6, e, false)
}

// tcpSYN builds a SYN with the options given (MSS first when mss != 0).
func tcpSYN(src, dst string, opts []byte) []byte {
	h := make([]byte, 20+len(opts))
	binary.BigEndian.PutUint16(h[0:], 40000)
	binary.BigEndian.PutUint16(h[2:], 443)
	h[12] = byte((20+len(opts))/4) << 4
	h[13] = 0x02
	binary.BigEndian.PutUint16(h[14:], 64240)
	copy(h[20:], opts)
	return ipPacket(addr(src), addr(dst), protoTCP, h, true)
}

// sealBuf returns a buffer with p at Headroom and room for sealing.
func sealBuf(p []byte) []byte {
	b := make([]byte, Headroom+len(p)+Tailroom)
	copy(b[Headroom:], p)
	return b
}

// saPair builds a matching outbound and inbound SA (same key and SPI).
func saPair(t testing.TB, s Suite, esn bool, local, remote []netip.Prefix) (out, in *SA) {
	t.Helper()
	key := make([]byte, s.KeyLen())
	for i := range key {
		key[i] = byte(0xa0 + i)
	}
	var err error
	out, err = NewSA(SAConfig{SPI: 0x11223344, Dir: Outbound, Suite: s, Key: key, ESN: esn,
		Peer: netip.MustParseAddrPort("192.0.2.2:4500"), Local: remote, Remote: local})
	if err != nil {
		t.Fatal(err)
	}
	in, err = NewSA(SAConfig{SPI: 0x11223344, Dir: Inbound, Suite: s, Key: key, ESN: esn,
		Peer: netip.MustParseAddrPort("192.0.2.1:4500"), Local: local, Remote: remote})
	if err != nil {
		t.Fatal(err)
	}
	return out, in
}

var suites = []Suite{AES128GCM16, AES192GCM16, AES256GCM16, ChaCha20Poly1305}
