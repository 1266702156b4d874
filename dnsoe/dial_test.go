package dnsoe

import (
	"context"
	"net"
	"net/netip"
	"syscall"
	"testing"
)

// The default TCP dialer connects to literal addresses of both families,
// runs Control with the family's network name first, and reports a refused
// connection as an error.
func TestDialTCP(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("%s: %v (no such loopback here)", addr, err)
			continue
		}
		target := ln.Addr().(*net.TCPAddr).AddrPort()
		var saw string
		dial := dialTCP(func(network, address string, c syscall.RawConn) error { saw = network; return nil })
		c, err := dial(context.Background(), "tcp", target.String())
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		peer, _ := ln.Accept()
		if got := c.RemoteAddr().(*net.TCPAddr).AddrPort(); got != target || peer == nil {
			t.Errorf("connected to %v, want %v", got, target)
		}
		want := "tcp4"
		if target.Addr().Is6() {
			want = "tcp6"
		}
		if saw != want {
			t.Errorf("Control saw %q, want %q", saw, want)
		}
		c.Close()
		peer.Close()
		ln.Close()
		// Nobody listens any more: refused.
		if c, err := dial(context.Background(), "tcp", target.String()); err == nil {
			c.Close()
			t.Errorf("%s: connected with no listener", target)
		}
	}
	if _, err := dialTCP(nil)(context.Background(), "tcp", "host.example:53"); err == nil {
		t.Error("dialed a name")
	}
}

func TestListenUDPControl(t *testing.T) {
	var saw string
	pc, err := listenUDP(func(network, address string, c syscall.RawConn) error { saw = network; return nil })(context.Background(), "udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if ap := pc.LocalAddr().(*net.UDPAddr).AddrPort(); saw != "udp4" || ap.Port() == 0 || ap.Addr() != netip.IPv4Unspecified() {
		t.Errorf("Control saw %q, bound %v", saw, ap)
	}
}
