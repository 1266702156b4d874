package tun

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// superPacket builds what the kernel hands over with TSO/USO: one IP header,
// one TCP or UDP header, a payload of many segments, and the transport
// checksum left partial (the pseudo-header sum, not complemented).
func superPacket(v6, udp bool, payload []byte, mss int, tcpFlags byte) ([]byte, vnetHdr) {
	l4 := 20
	if v6 {
		l4 = 40
	}
	th := 20
	if udp {
		th = 8
	} else {
		th = 32 // with 12 octets of options (timestamps)
	}
	p := make([]byte, l4+th+len(payload))
	if v6 {
		p[0] = 0x60
		binary.BigEndian.PutUint16(p[4:], uint16(len(p)-40))
		p[6] = protoTCP
		if udp {
			p[6] = protoUDP
		}
		p[7] = 64
		copy(p[8:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
		copy(p[24:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0xb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	} else {
		p[0] = 0x45
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		binary.BigEndian.PutUint16(p[4:], 0xfff0) // the IDs wrap during the packet
		p[6] = 0x40                               // DF
		p[8] = 64
		p[9] = protoTCP
		if udp {
			p[9] = protoUDP
		}
		copy(p[12:], []byte{198, 51, 100, 1, 203, 0, 113, 1})
		binary.BigEndian.PutUint16(p[10:], ^fold(checksum(p[:20], 0)))
	}
	t := p[l4:]
	binary.BigEndian.PutUint16(t[0:], 40000)
	binary.BigEndian.PutUint16(t[2:], 5201)
	h := vnetHdr{flags: vnetFlagNeedsCsum, gsoSize: uint16(mss), csumStart: uint16(l4), hdrLen: uint16(l4 + th)}
	var proto uint8
	if udp {
		binary.BigEndian.PutUint16(t[4:], uint16(len(t)))
		h.gsoType, h.csumOffset, proto = gsoUDPL4, 6, protoUDP
	} else {
		binary.BigEndian.PutUint32(t[4:], 0xfffffff0) // the sequence numbers wrap too
		binary.BigEndian.PutUint32(t[8:], 77)
		t[12] = byte(th/4) << 4
		t[13] = tcpFlags
		binary.BigEndian.PutUint16(t[14:], 512)
		copy(t[20:], []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2})
		h.gsoType, h.csumOffset, proto = gsoTCPv4, 16, protoTCP
		if v6 {
			h.gsoType = gsoTCPv6
		}
	}
	copy(p[l4+th:], payload)
	// Partial: the pseudo-header sum, folded, not complemented.
	binary.BigEndian.PutUint16(t[h.csumOffset:], fold(pseudoSum(p, v6, proto, len(t))))
	return p, h
}

func putVnet(h vnetHdr) []byte {
	b := make([]byte, vnetHdrLen)
	b[0], b[1] = h.flags, h.gsoType
	binary.NativeEndian.PutUint16(b[2:], h.hdrLen)
	binary.NativeEndian.PutUint16(b[4:], h.gsoSize)
	binary.NativeEndian.PutUint16(b[6:], h.csumStart)
	binary.NativeEndian.PutUint16(b[8:], h.csumOffset)
	return b
}

// verify checks one segment's IP and transport checksums and lengths.
func verify(t *testing.T, seg []byte, v6, udp bool) {
	t.Helper()
	l4 := int(seg[0]&0x0f) * 4
	if v6 {
		l4 = 40
		if int(binary.BigEndian.Uint16(seg[4:]))+40 != len(seg) {
			t.Fatalf("IPv6 payload length %d for %d octets", binary.BigEndian.Uint16(seg[4:]), len(seg))
		}
	} else {
		if int(binary.BigEndian.Uint16(seg[2:])) != len(seg) {
			t.Fatalf("IPv4 total length %d for %d octets", binary.BigEndian.Uint16(seg[2:]), len(seg))
		}
		if fold(checksum(seg[:l4], 0)) != 0xffff {
			t.Fatal("bad IPv4 header checksum")
		}
	}
	proto := uint8(protoTCP)
	if udp {
		proto = protoUDP
		if int(binary.BigEndian.Uint16(seg[l4+4:])) != len(seg)-l4 {
			t.Fatal("bad UDP length")
		}
	}
	if fold(checksum(seg[l4:], pseudoSum(seg, v6, proto, len(seg)-l4))) != 0xffff {
		t.Fatalf("bad transport checksum in %x", seg[:l4+20])
	}
}

func TestSegment(t *testing.T) {
	payload := make([]byte, 10*1400+333)
	for i := range payload {
		payload[i] = byte(i * 13)
	}
	for _, tc := range []struct {
		name    string
		v6, udp bool
	}{{"tcp4", false, false}, {"tcp6", true, false}, {"udp4", false, true}, {"udp6", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			const mss = 1400
			pkt, h := superPacket(tc.v6, tc.udp, payload, mss, 0x18|0x01|0x80) // PSH ACK FIN CWR
			var s segmenter
			if err := s.init(pkt, h); err != nil {
				t.Fatal(err)
			}
			// Room for 4 at a time: the segmenter resumes across calls.
			var segs [][]byte
			for !s.done() {
				bufs := make([][]byte, 4)
				for i := range bufs {
					bufs[i] = make([]byte, 32+1500)
				}
				sizes := make([]int, 4)
				n, err := s.emit(bufs, sizes, 32)
				if err != nil || n == 0 {
					t.Fatalf("emit = %d, %v", n, err)
				}
				for i := 0; i < n; i++ {
					segs = append(segs, bufs[i][32:32+sizes[i]])
				}
			}
			if len(segs) != 11 {
				t.Fatalf("%d segments, want 11", len(segs))
			}
			l4 := 20
			if tc.v6 {
				l4 = 40
			}
			hl := l4 + 8
			if !tc.udp {
				hl = l4 + 32
			}
			var got []byte
			for i, seg := range segs {
				verify(t, seg, tc.v6, tc.udp)
				got = append(got, seg[hl:]...)
				if i < 10 && len(seg)-hl != mss {
					t.Fatalf("segment %d carries %d octets", i, len(seg)-hl)
				}
				if !tc.v6 && binary.BigEndian.Uint16(seg[4:]) != 0xfff0+uint16(i) {
					t.Fatalf("segment %d: IPv4 ID %#x", i, binary.BigEndian.Uint16(seg[4:]))
				}
				if !tc.udp {
					if seq := binary.BigEndian.Uint32(seg[l4+4:]); seq != 0xfffffff0+uint32(i*mss) {
						t.Fatalf("segment %d: seq %#x", i, seq)
					}
					flags := seg[l4+13]
					last := i == len(segs)-1
					if (flags&0x01 != 0) != last || (flags&0x08 != 0) != last || (flags&0x80 != 0) != (i == 0) || flags&0x10 == 0 {
						t.Fatalf("segment %d: flags %#x", i, flags)
					}
				}
			}
			if !bytes.Equal(got, payload) {
				t.Fatal("payload differs after segmentation")
			}
		})
	}
}

func TestFinishCsum(t *testing.T) {
	pkt, h := superPacket(false, false, []byte("a small packet, no segmentation"), 1400, 0x18)
	if err := finishCsum(pkt, h); err != nil {
		t.Fatal(err)
	}
	verify(t, pkt, false, false)
	if finishCsum(pkt[:30], h) == nil {
		t.Fatal("checksum field beyond the packet accepted")
	}
}

func TestSegmentRejects(t *testing.T) {
	good, h := superPacket(false, false, make([]byte, 3000), 1400, 0x10)
	for i, tc := range []struct {
		pkt []byte
		h   vnetHdr
	}{
		/* 1 */ {good[:19], h},
		/* 2 */ {good, vnetHdr{gsoType: gsoTCPv6, gsoSize: 1400, csumStart: 20}},
		/* 3 */ {good, vnetHdr{gsoType: gsoTCPv4, gsoSize: 0, csumStart: 20}},
		/* 4 */ {good, vnetHdr{gsoType: gsoTCPv4, gsoSize: 1400, csumStart: 24}},
		/* 5 */ {good, vnetHdr{gsoType: gsoUDP, gsoSize: 1400, csumStart: 20}},
		/* 6 */ {good, vnetHdr{gsoType: gsoUDPL4, gsoSize: 1400, csumStart: 20}},
		/* 7 */ {good[:40], h},
	} {
		var s segmenter
		if s.init(tc.pkt, tc.h) == nil {
			t.Errorf("%d: accepted", i+1)
		}
	}
}

func TestSegmentNoAllocs(t *testing.T) {
	pkt, h := superPacket(false, false, make([]byte, 40000), 1400, 0x10)
	bufs := make([][]byte, 64)
	for i := range bufs {
		bufs[i] = make([]byte, 1600)
	}
	sizes := make([]int, 64)
	var s segmenter
	if a := testing.AllocsPerRun(100, func() {
		s.init(pkt, h)
		s.emit(bufs, sizes, 32)
	}); a != 0 {
		t.Fatalf("%v allocations", a)
	}
}

func FuzzSegment(f *testing.F) {
	for _, c := range []struct{ v6, udp bool }{{false, false}, {true, false}, {false, true}} {
		pkt, h := superPacket(c.v6, c.udp, make([]byte, 3000), 1000, 0x18)
		f.Add(append(putVnet(h), pkt...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < vnetHdrLen {
			return
		}
		h := parseVnetHdr(b)
		pkt := append([]byte(nil), b[vnetHdrLen:]...)
		if h.gsoType == gsoNone {
			finishCsum(pkt, h)
			return
		}
		var s segmenter
		if s.init(pkt, h) != nil {
			return
		}
		bufs := make([][]byte, 8)
		for i := range bufs {
			bufs[i] = make([]byte, 2000)
		}
		sizes := make([]int, 8)
		total := 0
		for rounds := 0; !s.done(); rounds++ {
			n, err := s.emit(bufs, sizes, 16)
			if err != nil {
				return // a segment too large for the buffers
			}
			for i := 0; i < n; i++ {
				seg := bufs[i][16 : 16+sizes[i]]
				verify(t, seg, s.v6, s.h.gsoType&^gsoECN == gsoUDPL4)
				total += sizes[i] - s.hdrs
			}
			if rounds > 70000 {
				t.Fatal("segmenter does not finish")
			}
		}
		if total != s.payload {
			t.Fatalf("segments carry %d octets of %d", total, s.payload)
		}
	})
}

// refChecksum is RFC 1071 done the slow, obvious way.
func refChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func TestChecksum(t *testing.T) {
	b := make([]byte, 70000)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	for n := 0; n < 200; n++ {
		for _, off := range []int{0, 1, 3} {
			if got, want := fold(checksum(b[off:off+n], 0)), refChecksum(b[off:off+n]); got != want && !(got == 0xffff && want == 0) && !(got == 0 && want == 0xffff) {
				t.Fatalf("length %d offset %d: %#x, want %#x", n, off, got, want)
			}
		}
	}
	for _, n := range []int{1500, 65535, 70000} {
		if got, want := fold(checksum(b[:n], 0x1234)), refChecksum(append([]byte{0x12, 0x34}, b[:n]...)); got != want {
			t.Fatalf("length %d with initial sum: %#x, want %#x", n, got, want)
		}
	}
	ff := bytes.Repeat([]byte{0xff}, 65536)
	if got := fold(checksum(ff, 0)); got != 0xffff {
		t.Fatalf("all ones: %#x", got)
	}
}

func BenchmarkChecksum1400(b *testing.B) {
	buf := make([]byte, 1400)
	b.SetBytes(1400)
	for i := 0; i < b.N; i++ {
		checksum(buf, 0)
	}
}
