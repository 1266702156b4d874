package encap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// groCmsg builds a UDP_GRO control message carrying segment size seg,
// after an unrelated one, as the kernel would lay them out.
func groCmsg(seg int) []byte {
	b := make([]byte, unix.CmsgSpace(12)+unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
	h.SetLen(unix.CmsgLen(12))
	o := unix.CmsgSpace(12)
	h = (*unix.Cmsghdr)(unsafe.Pointer(&b[o]))
	h.Level, h.Type = unix.SOL_UDP, unix.UDP_GRO
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b[o+unix.SizeofCmsghdr:], uint32(seg))
	return b
}

func TestGROSegment(t *testing.T) {
	if got := groSegment(groCmsg(1400)); got != 1400 {
		t.Fatalf("groSegment = %d, want 1400", got)
	}
	if got := groSegment(groCmsg(1400)[:unix.CmsgSpace(12)]); got != 0 {
		t.Fatalf("groSegment without UDP_GRO = %d, want 0", got)
	}
	if got := groSegment(nil); got != 0 {
		t.Fatalf("groSegment(nil) = %d", got)
	}
}

// TestGROCut cuts received buffers into packets: equal segments and a
// short last one, an IKE message and a keepalive among them, segments
// carried over to the next call, and one too big for the caller's buffer.
func TestGROCut(t *testing.T) {
	c := &Conn{}
	var ike [][]byte
	c.SetIKEHandler(func(m []byte, _, _ netip.AddrPort) { ike = append(ike, m) })
	sk := &sock{kind: kindNATT, gro: newGRO()}
	g := sk.gro
	peer := netip.MustParseAddrPort("192.0.2.7:4500")
	put := func(i int, segs [][]byte, seg int) {
		var all []byte
		for _, s := range segs {
			all = append(all, s...)
		}
		copy(g.buf[i*groBufLen:], all)
		g.lens[i], g.segs[i] = len(all), seg
		putName(&g.names[i], peer)
		g.hdrs[i].Hdr.SetControllen(0)
	}
	// Message 0: three 100-octet ESP packets and a 60-octet one.
	// Message 1: an IKE message (marker + 96) alone. Message 2: a
	// keepalive alone. Message 3: two 300-octet ESP packets (too big for
	// the 256-octet buffers below) and a 40-octet one.
	var want [][]byte
	var m0 [][]byte
	for i := 0; i < 3; i++ {
		m0 = append(m0, espPacket(1, i+1, 100))
	}
	m0 = append(m0, espPacket(1, 4, 60))
	want = append(want, m0...)
	put(0, m0, 100)
	put(1, [][]byte{append(make([]byte, MarkerLen), bytes.Repeat([]byte{0x21}, 96)...)}, 100)
	put(2, [][]byte{{0xff}}, 1)
	put(3, [][]byte{espPacket(2, 1, 300), espPacket(2, 2, 300), espPacket(2, 3, 40)}, 300)
	want = append(want, espPacket(2, 3, 40))
	g.n, g.j, g.off = 4, 0, 0

	var got [][]byte
	for calls := 0; g.j < g.n; calls++ {
		if calls > 10 {
			t.Fatal("cut makes no progress")
		}
		pkts := make([]Packet, 3)
		for i := range pkts {
			pkts[i] = Packet{Buf: make([]byte, 16+256), Off: 16}
		}
		n := g.cut(c, sk, pkts, 0)
		if g.left.Load() != (g.j < g.n) {
			t.Fatal("left flag out of step")
		}
		for _, p := range pkts[:n] {
			if p.Peer != peer {
				t.Fatalf("peer %v", p.Peer)
			}
			got = append(got, p.Buf[p.Off:p.Off+p.Len])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("packet %d: got %x, want %x", i, got[i], want[i])
		}
	}
	if len(ike) != 1 || len(ike[0]) != 96 {
		t.Fatalf("IKE messages %d", len(ike))
	}
	if c.Counters.RxKeepalive.Load() != 1 || c.Counters.DropTruncated.Load() != 2 || c.Counters.RxESP.Load() != uint64(len(want)) {
		t.Fatalf("counters: keepalive %d truncated %d ESP %d", c.Counters.RxKeepalive.Load(), c.Counters.DropTruncated.Load(), c.Counters.RxESP.Load())
	}
}

// FuzzGROSegment parses arbitrary control buffers.
func FuzzGROSegment(f *testing.F) {
	f.Add(groCmsg(1400))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		groSegment(b)
	})
}
