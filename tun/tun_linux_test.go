package tun

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inNewNetns runs f on a locked thread moved into a fresh, anonymous network
// namespace. The thread is never unlocked, so the runtime discards it and
// the namespace disappears with it when f returns.
func inNewNetns(t *testing.T, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces and TUN")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			t.Errorf("unshare: %v", err)
			return
		}
		f()
	}()
	<-done
}

func udpSocket(t *testing.T, v6 bool, mark uint32) int {
	fam := unix.AF_INET
	if v6 {
		fam = unix.AF_INET6
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if mark != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(mark)); err != nil {
			t.Fatal(err)
		}
	}
	return fd
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

// readUDP reads packets from d until a UDP datagram arrives (the kernel
// also sends IPv6 router solicitations and MLD reports) or time runs out.
func readUDP(t *testing.T, d *Device) []byte {
	t.Helper()
	got := make(chan []byte, 1)
	go func() {
		bufs := [][]byte{make([]byte, 65600)}
		sizes := []int{0}
		for {
			n, err := d.Read(bufs, sizes, 32)
			if err != nil || n < 1 {
				got <- nil
				return
			}
			p := bufs[0][32 : 32+sizes[0]]
			if (p[0]>>4 == 4 && p[9] == unix.IPPROTO_UDP) || (p[0]>>4 == 6 && p[6] == unix.IPPROTO_UDP) {
				got <- p
				return
			}
		}
	}()
	select {
	case p := <-got:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet from the TUN device")
		return nil
	}
}

func TestDeviceRoutesAndRule(t *testing.T) {
	inNewNetns(t, func() {
		nl, err := DialNetlink()
		if err != nil {
			t.Fatal(err)
		}
		defer nl.Close()
		d, err := Open("swltest0")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := nl.NoLinkLocal(d.Index()); err != nil {
			t.Fatal(err)
		}
		if err := d.SetMTU(nl, 1400); err != nil {
			t.Fatal(err)
		}
		if d.MTU() != 1400 {
			t.Fatalf("MTU = %d", d.MTU())
		}
		if _, mtu, _ := ifInfo(d.Name()); mtu != 1400 {
			t.Fatalf("kernel MTU = %d", mtu)
		}
		ifi, err := net.InterfaceByName(d.Name())
		if err != nil {
			t.Fatal(err)
		}
		if addrs, _ := ifi.Addrs(); len(addrs) != 0 {
			t.Fatalf("addresses before any were added (link-local?): %v", addrs)
		}
		src4 := netip.MustParseAddr("198.51.100.1")
		src6 := netip.MustParseAddr("2001:db8:1::1")
		for _, p := range []netip.Prefix{netip.PrefixFrom(src4, 32), netip.PrefixFrom(src6, 128)} {
			if err := nl.AddAddr(d.Index(), p); err != nil {
				t.Fatal(err)
			}
		}
		const table, mark = 5157, 0x5157
		routes := []Route{
			{Dst: netip.MustParsePrefix("203.0.113.0/24"), Index: d.Index(), Table: table, Src: src4},
			{Dst: netip.MustParsePrefix("2001:db8:2::/48"), Index: d.Index(), Table: table, Src: src6},
			{Dst: netip.MustParsePrefix("203.0.113.128/25"), Type: Blackhole, Table: table},
			{Dst: netip.MustParsePrefix("2001:db8:2:ff::/64"), Type: Unreachable, Table: table},
		}
		for _, r := range routes {
			if err := nl.AddRoute(r); err != nil {
				t.Fatal(err)
			}
		}
		for _, v6 := range []bool{false, true} {
			r := Rule{IPv6: v6, Priority: 100, Mark: mark, Invert: true, Table: table}
			if err := nl.AddRule(r); err != nil {
				t.Fatal(err)
			}
			if err := nl.AddRule(r); err != nil { // idempotent
				t.Fatal(err)
			}
		}

		for _, tc := range []struct {
			dst netip.AddrPort
			src netip.Addr
		}{
			{netip.MustParseAddrPort("203.0.113.5:9"), src4},
			{netip.MustParseAddrPort("[2001:db8:2::5]:9"), src6},
		} {
			v6 := tc.dst.Addr().Is6()
			fd := udpSocket(t, v6, 0)
			if err := unix.Sendto(fd, []byte("hello"), 0, sockaddr(tc.dst)); err != nil {
				t.Fatalf("send to %v: %v", tc.dst, err)
			}
			p := readUDP(t, d)
			var s, dd netip.Addr
			if v6 {
				s = netip.AddrFrom16([16]byte(p[8:24]))
				dd = netip.AddrFrom16([16]byte(p[24:40]))
			} else {
				s = netip.AddrFrom4([4]byte(p[12:16]))
				dd = netip.AddrFrom4([4]byte(p[16:20]))
			}
			if s != tc.src || dd != tc.dst.Addr() {
				t.Fatalf("packet %v -> %v, want %v -> %v", s, dd, tc.src, tc.dst.Addr())
			}
			unix.Close(fd)

			// A marked socket skips the tunnel table: main has no route.
			fd = udpSocket(t, v6, mark)
			err := unix.Sendto(fd, []byte("x"), 0, sockaddr(tc.dst))
			if !errors.Is(err, unix.ENETUNREACH) {
				t.Fatalf("marked send to %v: %v, want ENETUNREACH", tc.dst, err)
			}
			unix.Close(fd)
		}
		// Fail-closed routes refuse to send.
		for _, dst := range []string{"203.0.113.200:9", "[2001:db8:2:ff::1]:9"} {
			ap := netip.MustParseAddrPort(dst)
			fd := udpSocket(t, ap.Addr().Is6(), 0)
			if err := unix.Sendto(fd, []byte("x"), 0, sockaddr(ap)); err == nil {
				t.Fatalf("send to %v through a fail-closed route succeeded", dst)
			}
			unix.Close(fd)
		}
		for _, r := range routes {
			if err := nl.DelRoute(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := nl.DelRule(Rule{Priority: 100, Mark: mark, Invert: true, Table: table}); err != nil {
			t.Fatal(err)
		}
	})
}

func ipv4UDP(src, dst netip.AddrPort, payload []byte) []byte {
	p := make([]byte, 28+len(payload))
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	p[8] = 64
	p[9] = unix.IPPROTO_UDP
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(p[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(p[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(p[20:], src.Port())
	binary.BigEndian.PutUint16(p[22:], dst.Port())
	binary.BigEndian.PutUint16(p[24:], uint16(8+len(payload))) // checksum 0: none (IPv4)
	copy(p[28:], payload)
	return p
}

func TestDeviceWriteBatch(t *testing.T) {
	inNewNetns(t, func() {
		nl, err := DialNetlink()
		if err != nil {
			t.Fatal(err)
		}
		defer nl.Close()
		d, err := Open("swltest1")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.SetMTU(nl, 1420); err != nil {
			t.Fatal(err)
		}
		local := netip.MustParseAddrPort("198.51.100.1:7777")
		if err := nl.AddAddr(d.Index(), netip.PrefixFrom(local.Addr(), 32)); err != nil {
			t.Fatal(err)
		}
		if err := nl.AddRoute(Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), Index: d.Index()}); err != nil {
			t.Fatal(err)
		}
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(local))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		const n = 10
		bufs := make([][]byte, n)
		for i := range bufs {
			pkt := ipv4UDP(netip.MustParseAddrPort("203.0.113.9:1234"), local, []byte{byte(i)})
			bufs[i] = append(make([]byte, 16), pkt...)
		}
		bufs = append(bufs, append(make([]byte, 16), 0x00, 0, 0)) // not IPv4 or IPv6: counted, skipped
		// Two calls: state left by the first must not spoil the second.
		w, err := d.Write(bufs[:5], 16)
		if err != nil || w != 5 {
			t.Fatalf("Write = %d, %v", w, err)
		}
		w, err = d.Write(bufs[5:], 16)
		if err != nil || w != n+1-5 {
			t.Fatalf("Write = %d, %v", w, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 100)
		for i := 0; i < n; i++ {
			k, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil || k != 1 || buf[0] != byte(i) || from.String() != "203.0.113.9:1234" {
				t.Fatalf("packet %d: %d %v %v %x", i, k, from, err, buf[:k])
			}
		}
		if d.Counters.WriteError.Load() != 1 {
			t.Fatalf("WriteError = %d, want 1", d.Counters.WriteError.Load())
		}

		// Batched read: ten datagrams queued, read back in batches.
		out := make([][]byte, 64)
		for i := range out {
			out[i] = make([]byte, 2000)
		}
		sizes := make([]int, 64)
		s, _ := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort("203.0.113.9:9")))
		defer s.Close()
		for i := 0; i < n; i++ {
			s.Write([]byte{byte(i)})
		}
		total := 0
		for total < n {
			k, err := d.Read(out, sizes, 32)
			if err != nil || k < 1 {
				t.Fatalf("Read = %d, %v", k, err)
			}
			for i := 0; i < k; i++ {
				p := out[i][32 : 32+sizes[i]]
				if p[0]>>4 == 6 {
					continue // router solicitation, MLD
				}
				if len(p) != 29 || p[28] != byte(total) {
					t.Fatalf("packet %d: %x", total, p)
				}
				total++
			}
		}
	})
}

func TestReadAfterClose(t *testing.T) {
	inNewNetns(t, func() {
		d, err := Open("swltest2")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() {
			_, err := d.Read([][]byte{make([]byte, 2000)}, []int{0}, 0)
			done <- err
		}()
		time.Sleep(50 * time.Millisecond)
		d.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Read returned no error after Close")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Read did not return after Close")
		}
	})
}

// TestOffloadRead sends one UDP GSO datagram train into a TUN device with
// offloads; whether the kernel passes it as one super-packet (USO) or as
// single datagrams, Read must return the ten datagrams with good checksums.
func TestOffloadRead(t *testing.T) {
	inNewNetns(t, func() {
		nl, err := DialNetlink()
		if err != nil {
			t.Fatal(err)
		}
		defer nl.Close()
		d, err := Open("swltest3")
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if !d.Offload() {
			t.Skip("kernel refused TUN offloads")
		}
		if err := d.SetMTU(nl, 1500); err != nil {
			t.Fatal(err)
		}
		src := netip.MustParseAddr("198.51.100.1")
		nl.AddAddr(d.Index(), netip.PrefixFrom(src, 32))
		if err := nl.AddRoute(Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), Index: d.Index(), Src: src}); err != nil {
			t.Fatal(err)
		}
		fd := udpSocket(t, false, 0)
		defer unix.Close(fd)
		payload := make([]byte, 10*1000)
		for i := range payload {
			payload[i] = byte(i / 1000)
		}
		oob := make([]byte, unix.CmsgSpace(2))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
		binary.NativeEndian.PutUint16(oob[unix.CmsgLen(0):], 1000)
		if err := unix.Sendmsg(fd, payload, oob, sockaddr(netip.MustParseAddrPort("203.0.113.7:9")), 0); err != nil {
			t.Skipf("UDP GSO send: %v", err)
		}
		bufs := make([][]byte, 64)
		for i := range bufs {
			bufs[i] = make([]byte, 2000)
		}
		sizes := make([]int, 64)
		got := 0
		deadline := time.Now().Add(5 * time.Second)
		for got < 10 && time.Now().Before(deadline) {
			n, err := d.Read(bufs, sizes, 32)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i++ {
				p := bufs[i][32 : 32+sizes[i]]
				if p[0]>>4 != 4 || p[9] != unix.IPPROTO_UDP {
					continue
				}
				verify(t, p, false, true)
				if len(p) != 28+1000 || p[28] != byte(got) {
					t.Fatalf("datagram %d: %d octets, first %d", got, len(p), p[28])
				}
				got++
			}
		}
		if got != 10 {
			t.Fatalf("%d datagrams of 10", got)
		}
		t.Logf("super-packets cut: %d", d.Counters.Segmented.Load())
	})
}
