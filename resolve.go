package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"strings"

	"swanling/config"
	"swanling/dnsoe"
)

// hostsFile is read before DNS, as the system resolver does ("files dns").
var hostsFile = "/etc/hosts"

// lookupPeer resolves a tunnel's peer name once at start: /etc/hosts first,
// then DNS through dnsoe with the same servers (and fwmark) as OE, IPv4
// answers before IPv6 ones. net.DefaultResolver would do the same but
// links net's whole resolver, about 200 KB on the MIPS routers.
func lookupPeer(ctx context.Context, cfg *config.Config, host string) ([]netip.Addr, error) {
	if f, err := os.Open(hostsFile); err == nil {
		as := hostsLookup(f, host)
		f.Close()
		if len(as) > 0 {
			return as, nil
		}
	}
	name, err := dnsoe.NewName(host)
	if err != nil {
		return nil, err
	}
	r, err := newOEResolver(cfg)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []netip.Addr
	var firstErr error
	for _, t := range []dnsoe.Type{dnsoe.TypeA, dnsoe.TypeAAAA} {
		res, err := r.Lookup(ctx, name, t)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, rec := range res.Records {
			if a, ok := netip.AddrFromSlice(rec.Data); ok {
				out = append(out, a.Unmap())
			}
		}
	}
	if len(out) == 0 {
		if firstErr == nil {
			firstErr = errors.New("no address for " + host)
		}
		return nil, firstErr
	}
	return out, nil
}

// hostsLookup returns the addresses hosts(5) gives a name (any case, a
// trailing dot ignored), in file order.
func hostsLookup(rd io.Reader, host string) []netip.Addr {
	host = strings.TrimSuffix(host, ".")
	var out []netip.Addr
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		for _, n := range f[1:] {
			if strings.EqualFold(strings.TrimSuffix(n, "."), host) {
				out = append(out, a.Unmap())
				break
			}
		}
	}
	return out
}
