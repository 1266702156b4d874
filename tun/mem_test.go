package tun

import (
	"bytes"
	"testing"
)

func TestMemRoundTrip(t *testing.T) {
	m := NewMem(1400, 8)
	defer m.Close()
	for i := 0; i < 3; i++ {
		if err := m.Send([]byte{0x45, byte(i), 1, 2}); err != nil {
			t.Fatal(err)
		}
	}
	bufs := make([][]byte, 4)
	for i := range bufs {
		bufs[i] = make([]byte, 1500)
	}
	sizes := make([]int, 4)
	n, err := m.Read(bufs, sizes, 32)
	if err != nil || n != 3 {
		t.Fatalf("Read = %d, %v; want 3 packets", n, err)
	}
	for i := 0; i < n; i++ {
		if got := bufs[i][32 : 32+sizes[i]]; !bytes.Equal(got, []byte{0x45, byte(i), 1, 2}) {
			t.Fatalf("packet %d = %x", i, got)
		}
	}
	if _, err := m.Write(bufs[:2], 32); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 1500)
	for i := 0; i < 2; i++ {
		k, err := m.Recv(out)
		if err != nil || k != len(bufs[i])-32 || out[1] != byte(i) {
			t.Fatalf("Recv %d = %d, %v, %x", i, k, err, out[:4])
		}
	}
}

func TestMemClose(t *testing.T) {
	m := NewMem(1400, 1)
	done := make(chan error)
	go func() {
		_, err := m.Read([][]byte{make([]byte, 100)}, []int{0}, 0)
		done <- err
	}()
	m.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("Read after Close = %v", err)
	}
	if err := m.Send([]byte{1}); err != ErrClosed {
		t.Fatalf("Send after Close = %v", err)
	}
}

func TestMemNoAllocs(t *testing.T) {
	m := NewMem(1400, 64)
	pkt := make([]byte, 1280)
	bufs := [][]byte{make([]byte, 1500)}
	sizes := []int{0}
	out := make([]byte, 1500)
	step := func() {
		m.Send(pkt)
		n, _ := m.Read(bufs, sizes, 16)
		m.Write(bufs[:n], 16)
		m.Recv(out)
	}
	for i := 0; i < 10; i++ {
		step()
	}
	if a := testing.AllocsPerRun(200, step); a != 0 {
		t.Fatalf("%v allocations per packet, want 0", a)
	}
}
