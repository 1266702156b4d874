package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var groupNames = []string{GroupBlock, GroupClear, GroupClearOrPrivate, GroupPrivateOrClear, GroupPrivate}

// section decodes one section into d.cfg.
func (d *decoder) section(s *section) {
	named, ok := sectionTypes[s.typ]
	if !ok {
		d.fail(errorf(d.file, s.line, "", "", "unknown section type %q%s", s.typ, suggest(s.typ, sectionTypeNames())))
		return
	}
	c := &sctx{d: d, s: s, named: named && s.named, set: map[string]*option{}}
	c.label = sectionLabel(s.typ, s.name, c.named)
	if !named {
		if first, ok := d.singletonLine[s.typ]; ok {
			c.failf(s.line, "", "second %s section (first on line %d)", s.typ, first)
			return
		}
		d.singletonLine[s.typ] = s.line
	}
	if named && !s.named && s.typ != "resolver" {
		c.failf(s.line, "", "%s section needs a name: config %s 'NAME'", s.typ, s.typ)
		return
	}
	if c.named && s.typ != "oe_group" && !validName(s.name) {
		c.failf(s.line, "", "invalid name: letters, digits, '_' and '-', at most 64")
		return
	}
	switch s.typ {
	case "local":
		decodeFields(c, localFields, &d.cfg.Local)
	case "listen":
		decodeFields(c, listenFields, &d.cfg.Listen)
	case "log":
		decodeFields(c, logFields, &d.cfg.Log)
	case "limits":
		decodeFields(c, limitsFields, &d.cfg.Limits)
	case "timers":
		decodeFields(c, timersFields, &d.cfg.Timers)
	case "oe":
		decodeFields(c, oeFields, &d.cfg.OE)
	case "dns":
		decodeFields(c, dnsFields, &d.cfg.DNS)
	case "resolver":
		var r Resolver
		decodeFields(c, resolverFields, &r)
		if d.err == nil && c.set["address"] == nil {
			c.failf(s.line, "address", "address missing")
		}
		d.cfg.DNS.Resolvers = append(d.cfg.DNS.Resolvers, r)
	case "tunnel":
		d.tunnel(c)
	case "manual_sa":
		d.manual(c)
	case "oe_group":
		d.group(c)
	}
	for k, o := range c.set {
		d.keyLines[keyPath(s.typ, s.name, c.named, k)] = o.line
	}
}

// line returns the line of a set option, or the section's.
func (c *sctx) line(key string) int {
	if o := c.set[key]; o != nil {
		return o.line
	}
	return c.s.line
}

// valueLines returns the line of each value of a list key, in order.
func (c *sctx) valueLines(key string) []int {
	o := c.set[key]
	if o == nil {
		return nil
	}
	var lines []int
	for _, v := range c.many(o) {
		lines = append(lines, v.line)
	}
	return lines
}

func (d *decoder) tunnel(c *sctx) {
	t := DefaultTunnel()
	t.Name, t.Line = c.s.name, c.s.line
	decodeFields(c, tunnelFields, &t)
	if d.err != nil {
		return
	}
	if t.Peer == "" {
		c.failf(c.s.line, "peer", "peer missing: an address, a host name, or %%any to only respond")
		return
	}
	if t.Auth == "" {
		switch {
		case t.PSK != "" && t.PeerPubkey != "":
			c.failf(c.line("peer_pubkey"), "auth", "both psk and peer_pubkey set: choose one with auth")
			return
		case t.PSK != "":
			t.Auth = AuthPSK
		case t.PeerPubkey != "":
			t.Auth = AuthPubkey
		default:
			c.failf(c.s.line, "auth", "no authentication: set psk, peer_pubkey, or auth = \"null\"")
			return
		}
	}
	switch {
	case t.Auth == AuthPSK && t.PSK == "":
		c.failf(c.line("auth"), "psk", "auth %q needs psk", t.Auth)
	case t.Auth == AuthPubkey && t.PeerPubkey == "":
		c.failf(c.line("auth"), "peer_pubkey", "auth %q needs peer_pubkey", t.Auth)
	case t.Auth != AuthPSK && t.PSK != "":
		c.failf(c.line("psk"), "psk", "psk set, but auth is %q", t.Auth)
	case t.Auth != AuthPubkey && t.PeerPubkey != "":
		c.failf(c.line("peer_pubkey"), "peer_pubkey", "peer_pubkey set, but auth is %q", t.Auth)
	}
	if d.err != nil {
		return
	}
	// RFC 7619, Section 2.2: ID_NULL is for NULL authentication; other uses
	// would need their own specification.
	for _, k := range []struct{ key, id string }{{"local_id", t.LocalID}, {"remote_id", t.RemoteID}} {
		if k.id == "%null" && t.Auth != AuthNull {
			c.failf(c.line(k.key), k.key, "%s %%null (ID_NULL, RFC 7619) goes with auth \"null\", not %q", k.key, t.Auth)
			return
		}
	}
	if t.PeerPubkey != "" {
		t.PeerKey = c.peerKey(t.PeerPubkey)
		if !inlineKey(t.PeerPubkey) && !filepath.IsAbs(t.PeerPubkey) {
			// Readers of PeerPubkey then find the file from any directory.
			t.PeerPubkey = filepath.Join(d.dir, t.PeerPubkey)
		}
	}
	if t.Peer == "%any" {
		if c.set["start"] != nil && t.Start != StartNone {
			c.failf(c.line("start"), "start", "start %q needs a peer to initiate to, not %%any", t.Start)
			return
		}
		t.Start = StartNone
	}
	c.rekey(&t.Rekey)
	lines := c.valueLines("remote_ts")
	for i, p := range t.RemoteTS {
		if other, ok := d.remoteTS[p]; ok {
			c.failf(lines[i], "remote_ts", "remote_ts %s is already tunnel %q's", p, other)
			return
		}
		d.remoteTS[p] = t.Name
	}
	d.cfg.Tunnels = append(d.cfg.Tunnels, t)
	d.tunnelOpts = append(d.tunnelOpts, c.set)
}

// peerKey reads the peer's public key, inline base64 or a file.
func (c *sctx) peerKey(s string) []byte {
	line := c.line("peer_pubkey")
	if inlineKey(s) {
		der, err := parsePublicKey([]byte(s))
		if err != nil {
			c.failf(line, "peer_pubkey", "peer_pubkey: %v", err)
		}
		return der
	}
	path := s
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.d.dir, path)
	}
	if c.d.opts.SkipFiles {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.failf(line, "peer_pubkey", "peer_pubkey %q: %s (neither a file nor a base64 public key)", s, pathReason(err))
		return nil
	}
	der, err := parsePublicKey(data)
	if err != nil {
		c.failf(line, "peer_pubkey", "peer_pubkey %q: %v", s, err)
	}
	return der
}

// rekey fills in the missing half of each soft/hard pair (hard = soft +
// 10%, soft = hard - 10%, as swanctl does) and checks that every soft
// trigger comes before its hard limit.
func (c *sctx) rekey(r *Rekey) {
	set := func(k string) bool { return c.set[k] != nil }
	switch {
	case set("life_time") && !set("rekey_time"):
		r.ChildTime = r.LifeTime - r.LifeTime/10
	case set("rekey_time") && !set("life_time"):
		r.LifeTime = r.ChildTime + r.ChildTime/10
	}
	if !set("rand_time") {
		r.Jitter = r.ChildTime / 10
	}
	switch {
	case set("life_bytes") && !set("rekey_bytes"):
		r.ChildBytes = r.LifeBytes - r.LifeBytes/10
	case set("rekey_bytes") && !set("life_bytes"):
		r.LifeBytes = r.ChildBytes + r.ChildBytes/10
	}
	switch {
	case set("life_packets") && !set("rekey_packets"):
		r.ChildPkts = r.LifePkts - r.LifePkts/10
	case set("rekey_packets") && !set("life_packets"):
		r.LifePkts = r.ChildPkts + r.ChildPkts/10
	}
	type pair struct {
		soft, hard         string
		softV, hardV       uint64
		softShow, hardShow string
	}
	pairs := []pair{
		{"rekey_time", "life_time", uint64(r.ChildTime), uint64(r.LifeTime), fmtDuration(r.ChildTime), fmtDuration(r.LifeTime)},
		{"rekey_bytes", "life_bytes", r.ChildBytes, r.LifeBytes, fmt.Sprint(r.ChildBytes), fmt.Sprint(r.LifeBytes)},
		{"rekey_packets", "life_packets", r.ChildPkts, r.LifePkts, fmt.Sprint(r.ChildPkts), fmt.Sprint(r.LifePkts)},
	}
	for _, p := range pairs {
		if p.hardV == 0 {
			continue // no hard limit of this kind
		}
		if p.softV == 0 {
			c.failf(c.line(p.hard), p.soft, "%s %s without %s: the SA would die without a rekey", p.hard, p.hardShow, p.soft)
			return
		}
		if p.softV >= p.hardV {
			key := p.soft
			if c.line(p.hard) > c.line(p.soft) {
				key = p.hard
			}
			c.failf(c.line(key), key, "%s %s must be below %s %s", p.soft, p.softShow, p.hard, p.hardShow)
			return
		}
	}
	if r.ChildTime > 0 && r.Jitter >= r.ChildTime {
		c.failf(c.line("rand_time"), "rand_time", "rand_time %s must be below rekey_time %s", fmtDuration(r.Jitter), fmtDuration(r.ChildTime))
		return
	}
	if r.ReauthTime != 0 && r.ReauthTime < r.IKETime && set("reauth_time") && set("ike_rekey_time") {
		// Both set and reauth first: rekeying the IKE SA would never happen; allowed, but not silently.
		c.failf(c.line("reauth_time"), "reauth_time", "reauth_time %s comes before ike_rekey_time %s: raise ike_rekey_time or drop it", fmtDuration(r.ReauthTime), fmtDuration(r.IKETime))
	}
}

func (d *decoder) manual(c *sctx) {
	m := ManualSA{Name: c.s.name, Line: c.s.line}
	decodeFields(c, manualFields, &m)
	if d.err != nil {
		return
	}
	// RFC 4106, Section 2: GCM with statically configured keys cannot keep
	// nonces unique (a restart starts the sequence numbers again under the
	// same key), so implementations MUST use automated key management. The
	// same holds for ChaCha20-Poly1305 (RFC 7634, Section 5). Manual SAs are
	// for testing the data plane, and the config must say so.
	if !m.Insecure {
		c.failf(c.line("insecure"), "insecure", "manual keys need insecure = true: RFC 4106, Section 2 requires automated key management, since a restart repeats nonces under a static key; for tests only")
		return
	}
	for _, k := range []struct{ key, what string }{
		{"peer", "the outer address of the other end"},
		{"spi_in", "the SPI the peer sends with"},
		{"spi_out", "the SPI sent to the peer"},
		{"algorithm", "aes128gcm16, aes192gcm16, aes256gcm16 or chacha20poly1305"},
		{"key_in", "hex key and salt"},
		{"key_out", "hex key and salt"},
		{"local_ts", "the local inner CIDRs"},
		{"remote_ts", "the remote inner CIDRs"},
	} {
		if c.set[k.key] == nil {
			c.failf(c.s.line, k.key, "%s missing (%s)", k.key, k.what)
			return
		}
	}
	want := aeadKeyLen[m.Algorithm]
	for _, k := range []struct {
		key string
		b   []byte
	}{{"key_in", m.KeyIn}, {"key_out", m.KeyOut}} {
		if len(k.b) != want {
			c.failf(c.line(k.key), k.key, "%s has %d octets; %s takes %d: a %d-octet key and a 4-octet salt (RFC 4106, Section 8.1; RFC 7634, Section 2)",
				k.key, len(k.b), m.Algorithm, want, want-4)
			return
		}
	}
	if bytes.Equal(m.KeyIn, m.KeyOut) {
		c.failf(c.line("key_out"), "key_out", "key_out equals key_in: both directions would use the same nonces under one key")
		return
	}
	if m.Local.IsValid() && m.Local.Is4() != m.Peer.Addr().Is4() {
		c.failf(c.line("local"), "local", "local %s and peer %s are of different address families", m.Local, m.Peer.Addr())
		return
	}
	if other, ok := d.spiIn[m.SPIIn]; ok {
		c.failf(c.line("spi_in"), "spi_in", "spi_in %d is already manual SA %q's", m.SPIIn, other)
		return
	}
	d.spiIn[m.SPIIn] = m.Name
	d.cfg.Manual = append(d.cfg.Manual, m)
}

func (d *decoder) group(c *sctx) {
	// UCI section names cannot hold '-': private_or_clear is private-or-clear.
	name := strings.ReplaceAll(c.s.name, "_", "-")
	if !slices.Contains(groupNames, name) {
		c.failf(c.s.line, "", "unknown group: want one of %s%s", strings.Join(groupNames, ", "), suggest(name, groupNames))
		return
	}
	for _, g := range d.cfg.OE.Groups {
		if g.Name == name {
			c.failf(c.s.line, "", "group %s defined twice (first on line %d)", name, g.Line)
			return
		}
	}
	g := Group{Name: name, Line: c.s.line}
	decodeFields(c, groupFields, &g)
	if d.err != nil {
		return
	}
	if len(g.CIDRs) == 0 {
		c.failf(c.line("cidrs"), "cidrs", "cidrs missing: a group needs at least one CIDR")
		return
	}
	lines := c.valueLines("cidrs")
	for i, p := range g.CIDRs {
		// A destination must have one policy: the same CIDR in two groups
		// is ambiguous. (A more specific CIDR elsewhere is fine: it wins.)
		if ref, ok := d.groupLines[p]; ok {
			c.failf(lines[i], "cidrs", "cidr %s is already in group %s (line %d)", p, ref.group, ref.line)
			return
		}
		d.groupLines[p] = groupRef{name, lines[i]}
	}
	switch name {
	case GroupBlock, GroupClear:
		if c.set["failure_shunt"] != nil {
			c.failf(c.line("failure_shunt"), "failure_shunt", "group %s never negotiates, so it has no failure_shunt", name)
			return
		}
		if c.set["require_dnssec"] != nil {
			c.failf(c.line("require_dnssec"), "require_dnssec", "group %s never negotiates, so require_dnssec does not apply", name)
			return
		}
	case GroupPrivate:
		if g.Failure == ShuntPass {
			c.failf(c.line("failure_shunt"), "failure_shunt", "group private never falls back to clear: failure_shunt must be drop")
			return
		}
		g.Failure = ShuntDrop
	default:
		if g.Failure == "" {
			g.Failure = ShuntPass
		}
	}
	d.cfg.OE.Groups = append(d.cfg.OE.Groups, g)
	d.groupOpts = append(d.groupOpts, c.set)
}

// lineOf returns the line of the latest of the keys that were set.
func (d *decoder) lineOf(keys ...string) (int, string) {
	line, key := 0, ""
	for _, k := range keys {
		if l, ok := d.keyLines[k]; ok && l >= line {
			line, key = l, k
		}
	}
	return line, key
}

func (d *decoder) failKeys(format string, keys []string, args ...any) {
	line, key := d.lineOf(keys...)
	sec := key
	if i := strings.IndexByte(sec, '.'); i >= 0 {
		sec = sec[:i]
	}
	d.fail(errorf(d.file, line, sec, key, format, args...))
}

// finish fills the defaults that depend on other sections and makes the
// checks that span sections.
func (d *decoder) finish() {
	cfg := d.cfg
	l := &cfg.Listen
	if l.IKEPort == l.NATTPort {
		d.failKeys("natt_port %d equals ike_port: NAT traversal needs its own port (RFC 3948)", []string{"listen.ike_port", "listen.natt_port"}, l.NATTPort)
		return
	}
	if l.MTU != 0 && l.MTU+54 > l.OuterMTU {
		d.failKeys("mtu %d leaves no room for ESP under outer_mtu %d (at least 54 octets: IPv4, ESP header, IV, trailer, ICV)", []string{"listen.mtu", "listen.outer_mtu"}, l.MTU, l.OuterMTU)
		return
	}
	lim := &cfg.Limits
	if lim.HalfOpenPerIP > lim.HalfOpenTotal {
		d.failKeys("half_open_per_ip %d exceeds half_open_total %d", []string{"limits.half_open_per_ip", "limits.half_open_total"}, lim.HalfOpenPerIP, lim.HalfOpenTotal)
		return
	}
	if lim.CookieThreshold > lim.HalfOpenTotal {
		d.failKeys("cookie_threshold %d exceeds half_open_total %d: cookies would never be asked for", []string{"limits.cookie_threshold", "limits.half_open_total"}, lim.CookieThreshold, lim.HalfOpenTotal)
		return
	}
	tm := &cfg.Timers
	if tm.RetransmitMax < tm.RetransmitBase {
		d.failKeys("retransmit_max %s is below retransmit_base %s", []string{"timers.retransmit_max", "timers.retransmit_base"}, fmtDuration(tm.RetransmitMax), fmtDuration(tm.RetransmitBase))
		return
	}

	oe := &cfg.OE
	if d.oeEnabled == nil {
		oe.Enabled = len(oe.Groups) > 0
	} else if oe.Enabled && len(oe.Groups) == 0 {
		d.fail(errorf(d.file, d.oeEnabled.line, "oe", "oe.enabled", "enabled, but no oe_group is configured"))
		return
	}
	trusted := slices.ContainsFunc(cfg.DNS.Resolvers, func(r Resolver) bool { return r.Trusted })
	for i, g := range oe.Groups {
		if g.RequireDNSSEC && !trusted {
			o := d.groupOpts[i]["require_dnssec"]
			d.fail(errorf(d.file, o.line, sectionLabel("oe_group", g.Name, true), "oe_group."+g.Name+".require_dnssec",
				"require_dnssec needs a resolver with trusted = true: only a trusted resolver's AD bit says an answer was validated"))
			return
		}
	}

	if cfg.Local.KeyFile != "" && !d.opts.SkipFiles {
		if err := checkPrivateKeyFile(cfg.Local.KeyFile); err != nil {
			d.fail(errorf(d.file, d.keyFileLine, "local", "local.key_file", "key_file %q: %v", cfg.Local.KeyFile, err))
			return
		}
	}
	if cfg.Local.ID == "" {
		switch {
		case len(cfg.Local.Address) > 0:
			cfg.Local.ID = cfg.Local.Address[0].String()
		case len(l.Addresses) > 0 && !l.Addresses[0].IsUnspecified():
			cfg.Local.ID = l.Addresses[0].String()
		}
	}
	for i := range cfg.Tunnels {
		t := &cfg.Tunnels[i]
		set := d.tunnelOpts[i]
		sec := sectionLabel("tunnel", t.Name, true)
		if t.Auth == AuthPubkey && cfg.Local.KeyFile == "" {
			line := t.Line
			if o := set["peer_pubkey"]; o != nil {
				line = o.line
			}
			if o := set["auth"]; o != nil {
				line = o.line
			}
			d.fail(errorf(d.file, line, sec, "tunnel."+t.Name+".auth", "auth %q signs with the local key: set key_file in [local]", t.Auth))
			return
		}
		if set["dpd"] == nil {
			t.DPD = tm.DPD
		}
		if t.LocalID == "" {
			t.LocalID = cfg.Local.ID
		}
		if t.RemoteID == "" {
			switch {
			case t.Peer == "%any":
				t.RemoteID = "%any"
			case validHostname(t.Peer):
				t.RemoteID = "@" + strings.TrimSuffix(t.Peer, ".")
			default:
				t.RemoteID = t.Peer
			}
		}
	}
}
