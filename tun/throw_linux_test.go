package tun

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestThrowAndBlackholeMetric checks the OE routing layout: a THROW /32 in
// the tunnel table sends that host to the main table (the clear bypass),
// and a blackhole with a worse metric under the tunnel route takes over
// when the tunnel device (and with it its route) is gone (fail closed).
func TestThrowAndBlackholeMetric(t *testing.T) {
	inNewNetns(t, func() {
		nl, err := DialNetlink()
		if err != nil {
			t.Fatal(err)
		}
		defer nl.Close()
		tunDev, err := Open("swltest0")
		if err != nil {
			t.Fatal(err)
		}
		mainDev, err := Open("swltest1")
		if err != nil {
			t.Fatal(err)
		}
		defer mainDev.Close()
		for _, d := range []*Device{tunDev, mainDev} {
			if err := d.SetMTU(nl, 1400); err != nil { // also sets the link up
				t.Fatal(err)
			}
		}
		src := netip.MustParseAddr("198.51.100.1")
		if err := nl.AddAddr(mainDev.Index(), netip.PrefixFrom(src, 32)); err != nil {
			t.Fatal(err)
		}
		const table = 5157
		lan := netip.MustParsePrefix("203.0.113.0/24")
		for _, r := range []Route{
			{Dst: lan, Index: mainDev.Index(), Src: src}, // main table: the clear path
			{Dst: lan, Index: tunDev.Index(), Table: table, Src: src},
			{Dst: lan, Type: Blackhole, Table: table, Metric: 4096},
			{Dst: netip.MustParsePrefix("203.0.113.7/32"), Type: Throw, Table: table},
		} {
			if err := nl.AddRoute(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := nl.AddRule(Rule{Priority: 100, Mark: 0x5157, Invert: true, Table: table}); err != nil {
			t.Fatal(err)
		}
		send := func(dst string) error {
			fd := udpSocket(t, false, 0)
			defer unix.Close(fd)
			return unix.Sendto(fd, []byte("x"), 0, sockaddr(netip.MustParseAddrPort(dst)))
		}
		if err := send("203.0.113.5:9"); err != nil {
			t.Fatal(err)
		}
		if p := readUDP(t, tunDev); p == nil {
			t.Fatal("tunnel route not used")
		}
		if err := send("203.0.113.7:9"); err != nil {
			t.Fatal(err)
		}
		if p := readUDP(t, mainDev); p == nil {
			t.Fatal("THROW did not fall through to the main table")
		}
		tunDev.Close() // as after kill -9: the device and its routes go
		if err := send("203.0.113.5:9"); err == nil {
			t.Fatal("sent with the tunnel gone: the blackhole did not take over")
		}
		if err := nl.DelRoute(Route{Dst: netip.MustParsePrefix("203.0.113.7/32"), Type: Throw, Table: table}); err != nil {
			t.Fatal(err)
		}
	})
}
