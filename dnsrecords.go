package main

// dnsrecords.go: `swanling dns-records [-c FILE] [-hosts LIST]` prints the
// records a site publishes so that other gateways find it for opportunistic
// encryption (RFC 4322, Section 5): in the gateway's own reverse zone an
// IPSECKEY (RFC 4025) with no gateway (it is its own) and its public key,
// plus the TXT "X-IPsec-Server(P)=gateway key" form (RFC 4322, Section 5.2);
// at the reverse names of the hosts behind it, records that name the
// gateway (gateway delegation). Without a key file the IPSECKEY records are
// key-less (algorithm 0): enough to announce AUTH_NULL OE (RFC 7619), and
// the TXT form, which needs a key, is left out.

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"swanling/config"
	"swanling/dnsoe"
)

// cmdDNSRecords is the command's entry point for main's table.
func cmdDNSRecords(args []string) int {
	c := &cli{stdout: os.Stdout, stderr: os.Stderr}
	return c.cmdDNSRecords(args)
}

func (c *cli) cmdDNSRecords(args []string) int {
	fs := c.flags("dns-records")
	file := fs.String("c", "", "configuration file (TOML or UCI; default "+config.DefaultPath()+")")
	hosts := fs.String("hosts", "", "comma-separated addresses or prefixes of the hosts behind the gateway")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	cfg, err := config.Load(configPath(*file))
	if err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	var hs []netip.Prefix
	for _, s := range strings.Split(*hosts, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				fmt.Fprintf(c.stderr, "swanling dns-records: -hosts: %q is no address or prefix\n", s)
				return 2
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		hs = append(hs, p.Masked())
	}
	if err := writeDNSRecords(c.stdout, cfg, hs); err != nil {
		fmt.Fprintln(c.stderr, err)
		return 1
	}
	return 0
}

// siteGateways are the gateway's identities as DNS names them: the local
// id when it is an address or @fqdn, else the configured addresses, else
// the listen addresses.
func siteGateways(cfg *config.Config) ([]gateway, error) {
	var out []gateway
	if id := cfg.Local.ID; id != "" {
		if a, err := netip.ParseAddr(id); err == nil {
			g, _ := parseGateway(a.String())
			out = append(out, g)
		} else if strings.HasPrefix(id, "@") {
			g, err := parseGateway(id)
			if err != nil {
				return nil, err
			}
			out = append(out, g)
		}
	}
	addrs := cfg.Local.Address
	if len(addrs) == 0 {
		addrs = cfg.Listen.Addresses
	}
	for _, a := range addrs {
		if a.IsUnspecified() || (len(out) > 0 && out[0].typ != gwName && out[0].addr == a.Unmap()) {
			continue
		}
		g, _ := parseGateway(a.Unmap().String())
		out = append(out, g)
	}
	if len(out) == 0 {
		return nil, errors.New("swanling dns-records: no gateway address: set [local] id or address")
	}
	return out, nil
}

// writeDNSRecords prints the zone-file lines.
func writeDNSRecords(w io.Writer, cfg *config.Config, hosts []netip.Prefix) error {
	var pub crypto.PublicKey
	if cfg.Local.KeyFile != "" {
		k, err := loadPrivateKey(cfg.Local.KeyFile)
		if err != nil {
			return err
		}
		pub = k.Public()
	}
	gws, err := siteGateways(cfg)
	if err != nil {
		return err
	}
	rdata := func(gw gateway) (string, error) {
		if pub != nil {
			return ipseckeyRDATA(10, gw, pub)
		}
		// RFC 4025, Section 2.4, 2.6: algorithm 0, no key.
		g := "."
		switch gw.typ {
		case gwIPv4, gwIPv6:
			g = gw.addr.String()
		case gwName:
			g = gw.name + "."
		}
		return fmt.Sprintf("10 %d 0 %s", gw.typ, g), nil
	}
	emit := func(owner string, gw gateway, named gateway) error {
		rd, err := rdata(named)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s IN IPSECKEY ( %s )\n", owner, rd)
		if pub != nil && gw.typ != gwNone {
			txt, err := txtRecord(10, gw, pub)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s IN TXT %s\n", owner, zoneTXT(txt))
		}
		return nil
	}
	if pub == nil {
		fmt.Fprintf(w, "; no [local] key_file: key-less records, for AUTH_NULL OE only (RFC 7619)\n")
	}
	for _, gw := range gws {
		if gw.typ == gwName {
			fmt.Fprintf(w, "; gateway %s (ID_FQDN): at its own name\n", gw.name)
			if err := emit(gw.name+".", gw, gateway{typ: gwNone}); err != nil {
				return err
			}
			continue
		}
		owner, err := dnsoe.ReverseName(gw.addr)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "; gateway %s: in its own reverse zone\n", gw.addr)
		if err := emit(owner.String(), gw, gateway{typ: gwNone}); err != nil {
			return err
		}
	}
	for _, h := range hosts {
		// Delegate to the gateway of the same family (or the named one).
		gw := gws[0]
		for _, g := range gws {
			if g.typ != gwName && g.addr.Is4() == h.Addr().Is4() {
				gw = g
				break
			}
		}
		owners, err := hostOwners(h)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "; hosts %s: the gateway encrypts for them\n", h)
		for _, o := range owners {
			if err := emit(o, gw, gw); err != nil {
				return err
			}
		}
	}
	return nil
}

// hostOwners are the owner names that cover prefix p: one wildcard where p
// ends on a label boundary of the reverse tree (octets for IPv4, nibbles
// for IPv6), else every address (at most 256).
func hostOwners(p netip.Prefix) ([]string, error) {
	a := p.Addr()
	step := 8
	if a.Is6() {
		step = 4
	}
	if p.Bits() == a.BitLen() {
		n, err := dnsoe.ReverseName(a)
		if err != nil {
			return nil, err
		}
		return []string{n.String()}, nil
	}
	if p.Bits()%step == 0 {
		n, err := dnsoe.ReverseName(a)
		if err != nil {
			return nil, err
		}
		labels := strings.Split(strings.TrimSuffix(n.String(), "."), ".")
		drop := (a.BitLen() - p.Bits()) / step
		return []string{"*." + strings.Join(labels[drop:], ".") + "."}, nil
	}
	if a.BitLen()-p.Bits() > 8 {
		return nil, fmt.Errorf("swanling dns-records: %s: use a prefix on a reverse-zone boundary (/%d steps) or at most 256 addresses", p, step)
	}
	var out []string
	for x := a; p.Contains(x); x = x.Next() {
		n, err := dnsoe.ReverseName(x)
		if err != nil {
			return nil, err
		}
		out = append(out, n.String())
	}
	return out, nil
}
