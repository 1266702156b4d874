package tun

import (
	"bytes"
	"testing"
)

// segments cuts a super-packet as Read would and returns the packets, each
// in its own buffer at offset 32.
func segments(t *testing.T, pkt []byte, h vnetHdr) [][]byte {
	t.Helper()
	var s segmenter
	if err := s.init(pkt, h); err != nil {
		t.Fatal(err)
	}
	bufs := make([][]byte, s.nseg)
	sizes := make([]int, s.nseg)
	for i := range bufs {
		bufs[i] = make([]byte, 32+1600)
	}
	if n, err := s.emit(bufs, sizes, 32); err != nil || n != s.nseg {
		t.Fatalf("emit = %d, %v", n, err)
	}
	for i := range bufs {
		bufs[i] = bufs[i][:32+sizes[i]]
	}
	return bufs
}

// TestGRORoundTrip cuts a super-packet, coalesces the segments again and
// checks that cutting the result gives the same segments.
func TestGRORoundTrip(t *testing.T) {
	payload := make([]byte, 20*1300+77)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, v6 := range []bool{false, true} {
		pkt, h := superPacket(v6, false, payload, 1300, 0x18) // ACK, PSH on the last
		bufs := segments(t, pkt, h)
		want := make([][]byte, len(bufs))
		for i, b := range bufs {
			want[i] = append([]byte(nil), b[32:]...)
		}
		var gh vnetHdr
		if j := groPlan(bufs, 32, 0, &gh); j != len(bufs) {
			t.Fatalf("v6=%v: run of %d, want %d", v6, j, len(bufs))
		}
		if gh.gsoSize != 1300 || gh.flags != vnetFlagNeedsCsum {
			t.Fatalf("header %+v", gh)
		}
		// What writev puts on the wire: the first packet, then the
		// payloads of the others.
		merged := append([]byte(nil), bufs[0][32:]...)
		for _, b := range bufs[1:] {
			merged = append(merged, b[32+int(gh.hdrLen):]...)
		}
		again := segments(t, merged, gh)
		for i := range want {
			if !bytes.Equal(again[i][32:], want[i]) {
				t.Fatalf("v6=%v: segment %d differs after the round trip:\n%x\n%x", v6, i, again[i][32:32+60], want[i][:60])
			}
		}
	}
}

func TestGROBreaks(t *testing.T) {
	pkt, h := superPacket(false, false, make([]byte, 6*1000), 1000, 0x10)
	mk := func() [][]byte { return segments(t, pkt, h) }
	var gh vnetHdr
	for i, tc := range []struct {
		name   string
		change func(b [][]byte)
		want   int
	}{
		{"all", func(b [][]byte) {}, 6},
		{"gap in sequence", func(b [][]byte) { b[3] = b[4] }, 3},
		{"payload changed (checksums are the ICV's job)", func(b [][]byte) { b[2][32+60] ^= 1 }, 6},
		{"SYN", func(b [][]byte) { b[2][32+33] |= 0x02 }, 2},
		{"IPv4 fragment", func(b [][]byte) { b[3][32+6] |= 0x20; fixLen(b[3][32:]) }, 3},
		{"other port", func(b [][]byte) {
			b[4][32+20] ^= 1
			// keep its checksum right: the change must be caught as a flow change
			fixTCP(b[4][32:])
		}, 4},
		{"first has PSH", func(b [][]byte) { b[0][32+33] |= 0x08; fixTCP(b[0][32:]) }, 1},
		{"short middle", func(b [][]byte) { b[2] = b[2][:len(b[2])-10]; fixLen(b[2][32:]) }, 3},
	} {
		b := mk()
		tc.change(b)
		if j := groPlan(b, 32, 0, &gh); j != tc.want {
			t.Errorf("%d %s: run of %d, want %d", i+1, tc.name, j, tc.want)
		}
	}
}

func fixTCP(p []byte) {
	p[36], p[37] = 0, 0
	c := ^fold(checksum(p[20:], pseudoSum(p, false, protoTCP, len(p)-20)))
	p[36], p[37] = byte(c>>8), byte(c)
}

func fixLen(p []byte) {
	p[2], p[3] = byte(len(p)>>8), byte(len(p))
	p[10], p[11] = 0, 0
	c := ^fold(checksum(p[:20], 0))
	p[10], p[11] = byte(c>>8), byte(c)
	fixTCP(p)
}

// FuzzGRO feeds groPlan arbitrary packet trains. Whatever it merges must cut
// up again (segmenter) into the same payload bytes, in order, with
// consistent lengths and valid checksums.
func FuzzGRO(f *testing.F) {
	enc := func(pkts [][]byte) []byte {
		b := []byte{byte(len(pkts))}
		for _, p := range pkts {
			b = append(b, byte(len(p)>>8), byte(len(p)))
			b = append(b, p...)
		}
		return b
	}
	for _, v6 := range []bool{false, true} {
		pkt, h := superPacket(v6, false, make([]byte, 4*500+100), 500, 0x18)
		var s segmenter
		s.init(pkt, h)
		bufs := make([][]byte, 8)
		sizes := make([]int, 8)
		for i := range bufs {
			bufs[i] = make([]byte, 600)
		}
		n, _ := s.emit(bufs, sizes, 0)
		var pkts [][]byte
		for i := 0; i < n; i++ {
			pkts = append(pkts, bufs[i][:sizes[i]])
		}
		f.Add(enc(pkts))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 1 {
			return
		}
		n := int(b[0]) % 9
		b = b[1:]
		var bufs [][]byte
		for i := 0; i < n && len(b) >= 2; i++ {
			l := int(b[0])<<8 | int(b[1])
			b = b[2:]
			if l > len(b) {
				l = len(b)
			}
			bufs = append(bufs, append(make([]byte, 16), b[:l]...))
			b = b[l:]
		}
		if len(bufs) == 0 {
			return
		}
		var want []byte
		var h vnetHdr
		for i := 0; i < len(bufs); {
			orig := make([][]byte, 0, len(bufs))
			for _, p := range bufs {
				orig = append(orig, append([]byte(nil), p...))
			}
			j := groPlan(bufs, 16, i, &h)
			if j <= i || j > len(bufs) {
				t.Fatalf("run [%d, %d) of %d", i, j, len(bufs))
			}
			if j-i > 1 {
				want = want[:0]
				for k := i; k < j; k++ {
					s, ok := tcpSegment(orig[k][16:])
					if !ok {
						t.Fatalf("packet %d merged but not a valid segment", k)
					}
					want = append(want, orig[k][16+s.hdrs:]...)
				}
				merged := append([]byte(nil), bufs[i][16:]...)
				for k := i + 1; k < j; k++ {
					merged = append(merged, bufs[k][16+int(h.hdrLen):]...)
				}
				var s segmenter
				if err := s.init(merged, h); err != nil {
					t.Fatalf("merged packet does not parse: %v", err)
				}
				out := make([][]byte, s.nseg)
				sizes := make([]int, s.nseg)
				for k := range out {
					out[k] = make([]byte, 65536)
				}
				if m, err := s.emit(out, sizes, 0); err != nil || m != j-i {
					t.Fatalf("merged %d packets, cut into %d (%v)", j-i, m, err)
				}
				var got []byte
				for k := range out {
					seg := out[k][:sizes[k]]
					verify(t, seg, s.v6, false)
					got = append(got, seg[s.hdrs:]...)
				}
				if !bytes.Equal(got, want) {
					t.Fatal("payload changed by coalescing")
				}
			}
			i = j
		}
	})
}
