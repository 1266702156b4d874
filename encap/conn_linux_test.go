package encap

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inNewNetns runs f on a locked thread moved into a fresh, anonymous
// network namespace with lo up and the given addresses on it. Sockets
// opened there stay in that namespace whichever thread uses them later; the
// thread is never unlocked, so the namespace goes away with it.
func inNewNetns(t *testing.T, addrs []string, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip(8)")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare: %v", err)
			return
		}
		cmds := [][]string{{"link", "set", "lo", "up"}}
		for _, a := range addrs {
			cmds = append(cmds, []string{"addr", "add", a, "dev", "lo", "nodad"})
		}
		for _, c := range cmds {
			if c[len(c)-1] == "nodad" && !bytes.Contains([]byte(c[2]), []byte(":")) {
				c = c[:len(c)-1]
			}
			if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
				t.Errorf("ip %v: %v %s", c, err, out)
				return
			}
		}
		f()
	}()
	<-done
}

type ikeMsg struct {
	msg           []byte
	local, remote netip.AddrPort
}

// pump runs c.Recv until it is closed and sends every ESP packet on out.
func pump(c *Conn, out chan<- Packet) {
	pkts := make([]Packet, 8)
	for {
		for i := range pkts {
			pkts[i] = Packet{Buf: make([]byte, 2048), Off: 32}
		}
		n, err := c.Recv(pkts)
		if err != nil {
			close(out)
			return
		}
		for _, p := range pkts[:n] {
			out <- p
		}
	}
}

func espPacket(spi byte, seq, size int) []byte {
	b := make([]byte, size)
	b[3] = spi
	b[7] = byte(seq)
	for i := 8; i < size; i++ {
		b[i] = byte(i * seq)
	}
	return b
}

func TestConnLoopback(t *testing.T) {
	a4 := netip.MustParseAddr("198.51.100.1")
	b4 := netip.MustParseAddr("198.51.100.2")
	a6 := netip.MustParseAddr("2001:db8::1")
	b6 := netip.MustParseAddr("2001:db8::2")
	inNewNetns(t, []string{"198.51.100.1/32", "198.51.100.2/32", "2001:db8::1/128", "2001:db8::2/128"}, func() {
		// A is bound to its addresses on other ports; B listens on the
		// wildcard and the standard ports, with raw ESP.
		a, err := Listen(Config{Addresses: []netip.Addr{a4, a6}, IKEPort: 1500, NATTPort: 14500, RawESP: true, FwMark: 0x5157})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Listen(Config{IKEPort: 500, NATTPort: 4500, RawESP: true, FwMark: 0x5157, BatchSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		ikeA, ikeB := make(chan ikeMsg, 10), make(chan ikeMsg, 10)
		a.SetIKEHandler(func(m []byte, l, r netip.AddrPort) { ikeA <- ikeMsg{m, l, r} })
		b.SetIKEHandler(func(m []byte, l, r netip.AddrPort) { ikeB <- ikeMsg{m, l, r} })
		espA, espB := make(chan Packet, 100), make(chan Packet, 100)
		go pump(a, espA)
		go pump(b, espB)

		for _, fam := range []struct{ a, b netip.Addr }{{a4, b4}, {a6, b6}} {
			// ESP in UDP: ten equal packets and a short one (one GSO
			// run where supported), then a packet to another size.
			peer := netip.AddrPortFrom(fam.b, 4500)
			var pkts []Packet
			var want [][]byte
			for i := 0; i < 12; i++ {
				size := 1200
				if i == 10 {
					size = 300
				}
				if i == 11 {
					size = 1300
				}
				p := espPacket(1, i, size)
				want = append(want, p)
				pkts = append(pkts, Packet{Buf: append(make([]byte, 16), p...), Off: 16, Len: size, Peer: peer})
			}
			if n, err := a.Send(pkts); n != len(pkts) || err != nil {
				t.Fatalf("Send = %d, %v", n, err)
			}
			for i := range want {
				select {
				case p := <-espB:
					got := p.Buf[p.Off : p.Off+p.Len]
					if !bytes.Equal(got, want[i]) || p.Peer != netip.AddrPortFrom(fam.a, 14500) {
						t.Fatalf("packet %d from %v: %x...", i, p.Peer, got[:8])
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("packet %d lost", i)
				}
			}

			// Raw ESP: B's raw socket sees A's packet, IP header skipped.
			raw := espPacket(2, 1, 100)
			if _, err := a.Send([]Packet{{Buf: raw, Len: len(raw), Peer: netip.AddrPortFrom(fam.b, 0)}}); err != nil {
				t.Fatal(err)
			}
			select {
			case p := <-espB:
				// The raw socket is unbound: on lo the kernel picks the
				// destination as source, so only the family is known.
				if got := p.Buf[p.Off : p.Off+p.Len]; !bytes.Equal(got, raw) || p.Peer.Port() != 0 || p.Peer.Addr().Is4() != fam.a.Is4() {
					t.Fatalf("raw: %v %x", p.Peer, got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("raw ESP packet lost")
			}

			// SetSource: B's ESP to A leaves from B's address (on lo
			// the kernel would pick A's own), by IP_PKTINFO on B's
			// wildcard sockets, in UDP and raw. In one namespace every
			// raw socket sees every ESP packet, so the channels are
			// drained around each step.
			for _, tc := range []struct{ port, from uint16 }{{14500, 4500}, {0, 0}} {
				drain(espA)
				drain(espB)
				toA := netip.AddrPortFrom(fam.a, tc.port)
				b.SetSource(toA, fam.b)
				p := espPacket(4, int(tc.from%200), 200)
				if _, err := b.Send([]Packet{{Buf: p, Len: len(p), Peer: toA}, {Buf: p, Len: len(p), Peer: toA}}); err != nil {
					t.Fatal(err)
				}
				for n := 0; n < 2; n++ {
					select {
					case got := <-espA:
						if want := netip.AddrPortFrom(fam.b, tc.from); got.Peer != want {
							t.Fatalf("ESP from %v, want from %v", got.Peer, want)
						}
					case <-time.After(5 * time.Second):
						t.Fatalf("ESP to %v with a set source lost", toA)
					}
				}
				b.SetSource(toA, netip.Addr{})
			}
			drain(espA)
			drain(espB)

			// IKE on the NAT-T port: the marker is added and removed;
			// B learns its local address from IP_PKTINFO and answers
			// from it.
			msg := []byte("IKE_SA_INIT request, or something like it....")
			if err := a.SendIKE(msg, netip.AddrPortFrom(fam.a, 14500), peer); err != nil {
				t.Fatal(err)
			}
			m := <-ikeB
			if !bytes.Equal(m.msg, msg) || m.local != peer || m.remote != netip.AddrPortFrom(fam.a, 14500) {
				t.Fatalf("IKE at B: %q %v %v", m.msg, m.local, m.remote)
			}
			if err := b.SendIKE([]byte("reply"), m.local, m.remote); err != nil {
				t.Fatal(err)
			}
			m = <-ikeA
			if string(m.msg) != "reply" || m.remote != peer || m.local != netip.AddrPortFrom(fam.a, 14500) {
				t.Fatalf("IKE at A: %q %v %v", m.msg, m.local, m.remote)
			}
			// IKE on port 500: no marker.
			if err := a.SendIKE(msg, netip.AddrPortFrom(fam.a, 1500), netip.AddrPortFrom(fam.b, 500)); err != nil {
				t.Fatal(err)
			}
			if m = <-ikeB; !bytes.Equal(m.msg, msg) || m.local != netip.AddrPortFrom(fam.b, 500) {
				t.Fatalf("IKE on 500 at B: %q %v", m.msg, m.local)
			}

			// A keepalive and garbage are counted, never delivered.
			ka, bad := b.Counters.RxKeepalive.Load(), b.Counters.DropInvalid.Load()
			if err := a.SendKeepalive(peer); err != nil {
				t.Fatal(err)
			}
			fd, _ := unix.Socket(map[bool]int{true: unix.AF_INET, false: unix.AF_INET6}[fam.a.Is4()], unix.SOCK_DGRAM, 0)
			unix.Sendto(fd, []byte{0, 0, 0}, 0, sockaddr(peer))
			unix.Sendto(fd, []byte{0, 0, 0, 0}, 0, sockaddr(peer))
			unix.Close(fd)
			deadline := time.Now().Add(5 * time.Second)
			for b.Counters.RxKeepalive.Load() != ka+1 || b.Counters.DropInvalid.Load() != bad+2 {
				if time.Now().After(deadline) {
					t.Fatalf("keepalives %d, invalid %d", b.Counters.RxKeepalive.Load()-ka, b.Counters.DropInvalid.Load()-bad)
				}
				time.Sleep(10 * time.Millisecond)
			}
			select {
			case p := <-espB:
				t.Fatalf("unexpected ESP packet %x", p.Buf[p.Off:p.Off+p.Len])
			default:
			}
		}
		v4gso, v6gso := a.GSO()
		t.Logf("GSO v4 %v v6 %v, GSO sends %d, failures %d", v4gso, v6gso, a.Counters.GSOSends.Load(), a.Counters.GSOFailures.Load())
		if v4gso && a.Counters.GSOSends.Load() == 0 {
			t.Error("GSO available but never used")
		}
		// On lo a GSO train reaches B's socket whole; with UDP GRO Recv
		// cuts it (ten equal packets and a short one into batches of 8,
		// so segments also wait for the next call).
		t.Logf("GRO v4 %v, GRO receives %d", b.natt[0].gro != nil, b.Counters.GROReceives.Load())
		if v4gso && b.natt[0].gro != nil && b.Counters.GROReceives.Load() == 0 {
			t.Error("GRO available but never used")
		}
		if b.SocketBufferBytes() != 2*DefaultSocketBuffer*(2+2) {
			t.Errorf("SocketBufferBytes = %d", b.SocketBufferBytes())
		}
		b.Close()
		select {
		case _, ok := <-espB:
			if ok {
				t.Fatal("packet after Close")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Recv did not return after Close")
		}
		if err := b.SendKeepalive(peerOf(a4)); !errors.Is(err, ErrClosed) {
			t.Fatalf("SendKeepalive after Close: %v", err)
		}
	})
}

// drain empties ch of what arrives within a short while.
func drain(ch chan Packet) {
	for {
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

func peerOf(a netip.Addr) netip.AddrPort { return netip.AddrPortFrom(a, 4500) }

func TestConnNoAllocs(t *testing.T) {
	a4 := netip.MustParseAddr("198.51.100.1")
	b4 := netip.MustParseAddr("198.51.100.2")
	inNewNetns(t, []string{"198.51.100.1/32", "198.51.100.2/32"}, func() {
		a, err := Listen(Config{Addresses: []netip.Addr{a4}, NATTPort: 4500})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Listen(Config{Addresses: []netip.Addr{b4}, NATTPort: 4500})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		out := make([]Packet, 8)
		for i := range out {
			out[i] = Packet{Buf: espPacket(3, i, 1400), Len: 1400, Peer: netip.AddrPortFrom(b4, 4500)}
		}
		in := make([]Packet, 8)
		for i := range in {
			in[i] = Packet{Buf: make([]byte, 2048), Off: 32}
		}
		var mu sync.Mutex
		step := func() {
			mu.Lock()
			defer mu.Unlock()
			a.Send(out)
			for got := 0; got < len(out); {
				for i := range in {
					in[i].Off = 32
				}
				n, err := b.Recv(in)
				if err != nil {
					t.Fatal(err)
				}
				got += n
			}
		}
		for i := 0; i < 5; i++ {
			step()
		}
		if allocs := testing.AllocsPerRun(50, step); allocs != 0 {
			t.Fatalf("%v allocations per Send+Recv batch, want 0", allocs)
		}
	})
}
