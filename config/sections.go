package config

import (
	"math"
	"net/netip"
	"strings"
	"time"
)

// The schema: one field table per section type. The key names are the same
// in TOML and UCI; docs/config.md describes them.

const (
	year    = 365 * 24 * time.Hour
	maxSize = 1 << 50 // bytes; anything larger is a typo
)

var localFields = []field[Local]{
	{"id", func(c *sctx, o *option, l *Local) {
		id, ok := c.id(o, false)
		if ok && id == "%null" {
			c.bad(o, o.vals[0], "ID_NULL goes with auth null: set it as a tunnel's local_id")
			return
		}
		l.ID = id
	}},
	{"key_file", func(c *sctx, o *option, l *Local) {
		if p, ok := c.path(o); ok {
			l.KeyFile = p
			c.d.keyFileLine = o.line
		}
	}},
	{"address", func(c *sctx, o *option, l *Local) { l.Address = c.addrs(o) }},
}

var listenFields = []field[Listen]{
	{"addresses", func(c *sctx, o *option, l *Listen) { l.Addresses = c.addrs(o) }},
	{"ike_port", func(c *sctx, o *option, l *Listen) { l.IKEPort, _ = c.port(o, false) }},
	{"natt_port", func(c *sctx, o *option, l *Listen) { l.NATTPort, _ = c.port(o, false) }},
	{"tcp_port", func(c *sctx, o *option, l *Listen) { l.TCPPort, _ = c.port(o, true) }},
	{"interface", func(c *sctx, o *option, l *Listen) {
		s, ok := c.str(o)
		// Linux: IFNAMSIZ-1 bytes, no '/', no whitespace, not "." or "..".
		if ok && (s == "" || len(s) > 15 || s == "." || s == ".." || strings.ContainsAny(s, "/: \t\n")) {
			c.bad(o, o.vals[0], "not a valid interface name (at most 15 characters, no '/', ':' or spaces)")
			return
		}
		if ok {
			l.Interface = s
		}
	}},
	{"mtu", func(c *sctx, o *option, l *Listen) {
		n, ok := c.integer(o, 0, 65535)
		if ok && n != 0 && n < 576 {
			c.bad(o, o.vals[0], "below 576, the IPv4 minimum (0 derives it from outer_mtu)")
			return
		}
		l.MTU = int(n)
	}},
	{"outer_mtu", func(c *sctx, o *option, l *Listen) {
		n, ok := c.integer(o, 576, 65535)
		if ok {
			l.OuterMTU = int(n)
		}
	}},
	{"fwmark", func(c *sctx, o *option, l *Listen) {
		n, ok := c.integer(o, 1, math.MaxUint32)
		if ok {
			l.FwMark = uint32(n)
		}
	}},
	{"table", func(c *sctx, o *option, l *Listen) {
		n, ok := c.integer(o, 1, math.MaxInt32)
		if ok && n >= 253 && n <= 255 {
			c.bad(o, o.vals[0], "tables 253-255 are the kernel's default, main and local tables")
			return
		}
		if ok {
			l.Table = int(n)
		}
	}},
	{"mss_clamp", func(c *sctx, o *option, l *Listen) { l.MSSClamp, _ = c.boolean(o) }},
}

var logFields = []field[Log]{
	{"level", func(c *sctx, o *option, l *Log) {
		if s, ok := c.oneOf(o, "debug", "info", "warn", "error"); ok {
			l.Level = s
		}
	}},
	{"syslog", func(c *sctx, o *option, l *Log) { l.Syslog, _ = c.boolean(o) }},
}

var limitsFields = []field[Limits]{
	{"memory_limit", func(c *sctx, o *option, l *Limits) {
		n, ok := c.size(o)
		if ok && (n < 8<<20 || n > maxSize) {
			c.bad(o, o.vals[0], "out of range 8MiB-1PiB")
			return
		}
		if ok {
			l.MemoryLimit = int64(n)
		}
	}},
	{"half_open_total", func(c *sctx, o *option, l *Limits) { l.HalfOpenTotal = c.positive(o, l.HalfOpenTotal) }},
	{"half_open_per_ip", func(c *sctx, o *option, l *Limits) { l.HalfOpenPerIP = c.positive(o, l.HalfOpenPerIP) }},
	{"cookie_threshold", func(c *sctx, o *option, l *Limits) { l.CookieThreshold = c.positive(o, l.CookieThreshold) }},
}

// positive reads a count of 1 to 1,000,000; on error it keeps old.
func (c *sctx) positive(o *option, old int) int {
	n, ok := c.integer(o, 1, 1_000_000)
	if !ok {
		return old
	}
	return int(n)
}

var timersFields = []field[Timers]{
	{"retransmit_base", func(c *sctx, o *option, t *Timers) {
		t.RetransmitBase = c.durationOr(o, 10*time.Millisecond, time.Minute, t.RetransmitBase)
	}},
	{"retransmit_tries", func(c *sctx, o *option, t *Timers) {
		if n, ok := c.integer(o, 1, 20); ok {
			t.RetransmitTries = int(n)
		}
	}},
	{"retransmit_max", func(c *sctx, o *option, t *Timers) {
		t.RetransmitMax = c.durationOr(o, 10*time.Millisecond, time.Hour, t.RetransmitMax)
	}},
	{"keepalive", func(c *sctx, o *option, t *Timers) { t.Keepalive = c.durationOr(o, 0, time.Hour, t.Keepalive) }},
	{"dpd", func(c *sctx, o *option, t *Timers) { t.DPD = c.durationOr(o, 0, 24*time.Hour, t.DPD) }},
	{"half_open_timeout", func(c *sctx, o *option, t *Timers) {
		t.HalfOpenTimeout = c.durationOr(o, 100*time.Millisecond, time.Hour, t.HalfOpenTimeout)
	}},
}

func (c *sctx) durationOr(o *option, lo, hi, old time.Duration) time.Duration {
	d, ok := c.duration(o, lo, hi)
	if !ok {
		return old
	}
	return d
}

var oeFields = []field[OE]{
	{"enabled", func(c *sctx, o *option, e *OE) {
		if b, ok := c.boolean(o); ok {
			e.Enabled = b
			c.d.oeEnabled = o
		}
	}},
	{"shunt_duration", func(c *sctx, o *option, e *OE) {
		e.ShuntDuration = c.durationOr(o, time.Second, 7*24*time.Hour, e.ShuntDuration)
	}},
	{"idle_timeout", func(c *sctx, o *option, e *OE) {
		e.IdleTimeout = c.durationOr(o, time.Second, 24*time.Hour, e.IdleTimeout)
	}},
	{"recheck_time", func(c *sctx, o *option, e *OE) {
		e.RecheckTime = c.durationOr(o, time.Second, 7*24*time.Hour, e.RecheckTime)
	}},
	{"max_pending", func(c *sctx, o *option, e *OE) { e.MaxPending = c.positive(o, e.MaxPending) }},
	{"max_held", func(c *sctx, o *option, e *OE) { e.MaxHeld = c.positive(o, e.MaxHeld) }},
}

var dnsFields = []field[DNS]{
	{"timeout", func(c *sctx, o *option, d *DNS) {
		d.Timeout = c.durationOr(o, 10*time.Millisecond, time.Minute, d.Timeout)
	}},
	{"retries", func(c *sctx, o *option, d *DNS) {
		if n, ok := c.integer(o, 0, 10); ok {
			d.Retries = int(n)
		}
	}},
}

var resolverFields = []field[Resolver]{
	{"address", func(c *sctx, o *option, r *Resolver) {
		v, ok := c.one(o)
		if !ok || !c.kindOK(o, v, kString) {
			return
		}
		ap, err := parseAddrPort(v.text, 53)
		if err != nil {
			c.bad(o, v, "%v", err)
			return
		}
		r.Addr = ap
	}},
	{"trusted", func(c *sctx, o *option, r *Resolver) { r.Trusted, _ = c.boolean(o) }},
}

var groupFields = []field[Group]{
	{"cidrs", func(c *sctx, o *option, g *Group) { g.CIDRs = c.prefixes(o) }},
	{"require_dnssec", func(c *sctx, o *option, g *Group) { g.RequireDNSSEC, _ = c.boolean(o) }},
	{"failure_shunt", func(c *sctx, o *option, g *Group) {
		if s, ok := c.oneOf(o, ShuntPass, ShuntDrop); ok {
			g.Failure = s
		}
	}},
}

var tunnelFields = []field[Tunnel]{
	{"peer", func(c *sctx, o *option, t *Tunnel) {
		s, ok := c.str(o)
		if !ok {
			return
		}
		if s != "%any" && !validHostname(s) {
			if _, err := parseAddr(s); err != nil {
				c.bad(o, o.vals[0], "not an IP address, a host name or %%any")
				return
			}
		}
		t.Peer = s
	}},
	{"local_id", func(c *sctx, o *option, t *Tunnel) { t.LocalID, _ = c.id(o, false) }},
	{"remote_id", func(c *sctx, o *option, t *Tunnel) { t.RemoteID, _ = c.id(o, true) }},
	{"auth", func(c *sctx, o *option, t *Tunnel) {
		if s, ok := c.oneOf(o, AuthPSK, AuthPubkey, AuthNull); ok {
			t.Auth = s
		}
	}},
	{"psk", func(c *sctx, o *option, t *Tunnel) {
		s, ok := c.str(o)
		if !ok {
			return
		}
		// RFC 7296, Section 2.15: "The pre-shared key needs to contain as
		// much unpredictability as the strongest key being negotiated."
		// 16 octets is a floor for that, not a guarantee. The value is a
		// secret: the message never repeats it.
		if len(s) < 16 {
			c.failf(o.vals[0].line, o.key, "psk has %d octets, want at least 16: RFC 7296, Section 2.15 wants a PSK as unpredictable as the keys it protects", len(s))
			return
		}
		t.PSK = s
	}},
	{"peer_pubkey", func(c *sctx, o *option, t *Tunnel) {
		s, ok := c.str(o)
		if ok && s == "" {
			c.bad(o, o.vals[0], "empty")
			return
		}
		t.PeerPubkey = s
	}},
	{"local_ts", func(c *sctx, o *option, t *Tunnel) { t.LocalTS = c.prefixes(o) }},
	{"remote_ts", func(c *sctx, o *option, t *Tunnel) { t.RemoteTS = c.prefixes(o) }},
	{"ike_proposals", func(c *sctx, o *option, t *Tunnel) { t.IKE, t.IKEProposals = c.proposals(o, true) }},
	{"esp_proposals", func(c *sctx, o *option, t *Tunnel) { t.ESP, t.ESPProposals = c.proposals(o, false) }},
	{"encap", func(c *sctx, o *option, t *Tunnel) { t.Encap, _ = c.boolean(o) }},
	{"start", func(c *sctx, o *option, t *Tunnel) {
		if s, ok := c.oneOf(o, StartStart, StartTrap, StartNone); ok {
			t.Start = s
		}
	}},
	{"dpd", func(c *sctx, o *option, t *Tunnel) { t.DPD = c.durationOr(o, 0, 24*time.Hour, t.DPD) }},
	{"ike_rekey_time", func(c *sctx, o *option, t *Tunnel) {
		t.Rekey.IKETime = c.durationOr(o, time.Minute, year, t.Rekey.IKETime)
	}},
	{"reauth_time", func(c *sctx, o *option, t *Tunnel) { t.Rekey.ReauthTime = c.durationOr(o, 0, year, t.Rekey.ReauthTime) }},
	{"rekey_time", func(c *sctx, o *option, t *Tunnel) { t.Rekey.ChildTime = c.durationOr(o, 0, year, t.Rekey.ChildTime) }},
	{"life_time", func(c *sctx, o *option, t *Tunnel) { t.Rekey.LifeTime = c.durationOr(o, 0, year, t.Rekey.LifeTime) }},
	{"rand_time", func(c *sctx, o *option, t *Tunnel) { t.Rekey.Jitter = c.durationOr(o, 0, year, t.Rekey.Jitter) }},
	{"rekey_bytes", func(c *sctx, o *option, t *Tunnel) { t.Rekey.ChildBytes, _ = c.size(o) }},
	{"life_bytes", func(c *sctx, o *option, t *Tunnel) { t.Rekey.LifeBytes, _ = c.size(o) }},
	{"rekey_packets", func(c *sctx, o *option, t *Tunnel) { t.Rekey.ChildPkts, _ = c.count(o) }},
	{"life_packets", func(c *sctx, o *option, t *Tunnel) { t.Rekey.LifePkts, _ = c.count(o) }},
}

func (c *sctx) proposals(o *option, ike bool) ([]string, []Proposal) {
	what := "esp proposal"
	if ike {
		what = "ike proposal"
	}
	var names []string
	var ps []Proposal
	for _, v := range c.many(o) {
		if !c.kindOK(o, v, kString) {
			return nil, nil
		}
		p, err := parseProposal(v.text, ike)
		if err != nil {
			c.failf(v.line, o.key, "%s %q: %v", what, v.text, err)
			return nil, nil
		}
		// Kept in canonical form (aliases resolved, the derived prf
		// written out), so whoever reads the strings knows every word.
		canon := p.String()
		if i := slicesIndex(names, canon); i >= 0 {
			c.failf(v.line, o.key, "%s %q listed twice", what, v.text)
			return nil, nil
		}
		names = append(names, canon)
		ps = append(ps, p)
	}
	return names, ps
}

func slicesIndex(s []string, x string) int {
	for i, y := range s {
		if y == x {
			return i
		}
	}
	return -1
}

var manualFields = []field[ManualSA]{
	{"peer", func(c *sctx, o *option, m *ManualSA) {
		if a, ok := c.addr(o); ok {
			m.Peer = netip.AddrPortFrom(a, m.Peer.Port())
		}
	}},
	{"udp_port", func(c *sctx, o *option, m *ManualSA) {
		if p, ok := c.port(o, false); ok {
			m.Peer = netip.AddrPortFrom(m.Peer.Addr(), p)
		}
	}},
	{"local", func(c *sctx, o *option, m *ManualSA) { m.Local, _ = c.addr(o) }},
	{"spi_in", func(c *sctx, o *option, m *ManualSA) { m.SPIIn = c.spi(o) }},
	{"spi_out", func(c *sctx, o *option, m *ManualSA) { m.SPIOut = c.spi(o) }},
	{"algorithm", func(c *sctx, o *option, m *ManualSA) {
		s, ok := c.str(o)
		if !ok {
			return
		}
		a, ok := manualAlgorithm(s)
		if !ok {
			c.bad(o, o.vals[0], "want aes128gcm16, aes192gcm16, aes256gcm16 or chacha20poly1305")
			return
		}
		m.Algorithm = a
	}},
	{"key_in", func(c *sctx, o *option, m *ManualSA) { m.KeyIn = c.hexKey(o) }},
	{"key_out", func(c *sctx, o *option, m *ManualSA) { m.KeyOut = c.hexKey(o) }},
	{"esn", func(c *sctx, o *option, m *ManualSA) { m.ESN, _ = c.boolean(o) }},
	{"local_ts", func(c *sctx, o *option, m *ManualSA) { m.LocalTS = c.prefixes(o) }},
	{"remote_ts", func(c *sctx, o *option, m *ManualSA) { m.RemoteTS = c.prefixes(o) }},
	{"insecure", func(c *sctx, o *option, m *ManualSA) { m.Insecure, _ = c.boolean(o) }},
}

// spi reads an SPI. RFC 4303, Section 2.1: 1-255 are reserved by IANA and
// 0 is for local use and MUST NOT be sent.
func (c *sctx) spi(o *option) uint32 {
	v, ok := c.one(o)
	if !ok {
		return 0
	}
	n, ok := c.intValue(o, v, 0, math.MaxUint32)
	if !ok {
		return 0
	}
	if n < 256 {
		c.bad(o, v, "SPIs 0-255 are reserved (RFC 4303, Section 2.1)")
		return 0
	}
	return uint32(n)
}

// hexKey reads key material; the message never shows it.
func (c *sctx) hexKey(o *option) []byte {
	v, ok := c.one(o)
	if !ok || !c.kindOK(o, v, kString) {
		return nil
	}
	b, err := parseHexKey(v.text)
	if err != nil {
		c.failf(v.line, o.key, "%s: %v", o.key, err)
		return nil
	}
	return b
}
