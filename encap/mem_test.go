package encap

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestMemPair(t *testing.T) {
	a, b := NewMemPair(netip.MustParseAddrPort("192.0.2.1:4500"), netip.MustParseAddrPort("192.0.2.2:4500"), 16)
	a.Drop = func(p []byte) bool { return p[0] == 0xEE }
	out := []Packet{
		{Buf: []byte{9, 9, 1, 2, 3}, Off: 2, Len: 3},
		{Buf: []byte{0xEE, 1}, Len: 2},
		{Buf: []byte{4, 5}, Len: 2},
	}
	if n, err := a.Send(out); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	in := []Packet{{Buf: make([]byte, 100), Off: 10}, {Buf: make([]byte, 100), Off: 10}, {Buf: make([]byte, 100)}}
	n, err := b.Recv(in)
	if err != nil || n != 2 || a.Dropped.Load() != 1 {
		t.Fatalf("Recv = %d, %v, dropped %d", n, err, a.Dropped.Load())
	}
	if !bytes.Equal(in[0].Buf[10:10+in[0].Len], []byte{1, 2, 3}) || !bytes.Equal(in[1].Buf[10:10+in[1].Len], []byte{4, 5}) || in[0].Peer.Port() != 4500 || in[0].Peer.Addr() != netip.MustParseAddr("192.0.2.1") {
		t.Fatalf("got %+v", in[:2])
	}
	b.Close()
	if _, err := a.Recv(in); err != ErrClosed {
		t.Fatalf("Recv after Close: %v", err)
	}
}

func TestMemNoAllocs(t *testing.T) {
	a, b := NewMemPair(netip.MustParseAddrPort("192.0.2.1:4500"), netip.MustParseAddrPort("192.0.2.2:4500"), 16)
	out := []Packet{{Buf: make([]byte, 1400), Len: 1400}}
	in := []Packet{{Buf: make([]byte, 2000), Off: 32}}
	step := func() {
		a.Send(out)
		b.Recv(in)
	}
	for i := 0; i < 5; i++ {
		step()
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
