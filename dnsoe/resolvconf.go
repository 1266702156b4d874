package dnsoe

import (
	"bufio"
	"io"
	"net/netip"
	"strings"
)

// ReadResolvConf returns the "nameserver" entries of a resolv.conf file as
// untrusted servers on port 53: the system's resolver may be anywhere on the
// network, so its AD bit proves nothing (RFC 6840, Section 5.7). Lines it
// cannot read are skipped.
func ReadResolvConf(rd io.Reader) ([]Server, error) {
	var out []Server
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		out = append(out, Server{Addr: netip.AddrPortFrom(a.Unmap(), 53)})
	}
	return out, sc.Err()
}
