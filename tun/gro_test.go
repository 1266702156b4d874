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
		{"bad checksum", func(b [][]byte) { b[2][32+60] ^= 1 }, 2},
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
