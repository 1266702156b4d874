package main

// oe_glue.go wires opportunistic encryption (RFC 4322, RFC 7435, RFC
// 7619; the engine side is ike/oe.go) into the daemon:
//
//   - DNS: a dnsoe.Resolver from [dns] and the resolver sections, its
//     sockets carrying the fwmark so lookups never enter the tunnel; with
//     no resolver configured, /etc/resolv.conf's servers, untrusted.
//   - Routing, all in the tunnel table (Listen.Table, consulted by the
//     "not fwmark M lookup T" rule): the CIDRs of private and
//     private-or-clear groups go into the TUN device, where a trap policy
//     holds the first packet and reports it. Under every private CIDR a
//     blackhole with a worse metric waits: when swanling dies (kill -9),
//     the TUN device and its routes vanish, while the blackholes and the
//     rule stay, so private traffic is dropped, never sent in the clear.
//     block CIDRs get a blackhole of their own; clear and clear-or-private
//     CIDRs a THROW route, so that lookup falls through to the main table.
//   - Shunts are per source/destination pair (RFC 4322, Section 2.3.3):
//     a pair that falls back to clear gets a pass policy (local/32,
//     remote/32) in the ESP loop, whose packets, the held one first, go
//     out through bypassPacket, a raw socket with the fwmark (it skips the
//     tunnel table). There is no route for it: a THROW /32 would send
//     every source's traffic to that host into the clear, including pairs
//     with a tunnel and private ones. A dropped pair gets a drop policy.
//     An OE tunnel for a destination not routed into the TUN
//     (clear-or-private, as responder) gets a /32.
//
// # A LAN without reverse records
//
// Hosts on a LAN that publishes nothing (a home LAN; 198.18.0.0/15 in the
// tests) are source-NATed to the gateway's own address before they reach
// the TUN device. Routing picks the TUN (prerouting), SNAT rewrites the
// source (postrouting), so the packet the trap sees, and the OE selectors,
// carry the gateway's address, which its reverse zone publishes:
//
//	nft add table ip swanling-nat
//	nft add chain ip swanling-nat post '{ type nat hook postrouting priority srcnat; }'
//	nft add rule ip swanling-nat post oifname "swl0" ip saddr 198.18.0.0/15 snat to 192.0.2.1
//
// (swl0 is [listen] interface, 192.0.2.1 the gateway's address.) Replies
// come back through the tunnel and conntrack undoes the NAT.
//
// Packets from OE tunnels get no more trust than clear ones: they arrive on
// the TUN device, which the firewall should treat like the WAN side, and
// the ESP loop accepts from a Child SA only its negotiated host selectors.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"swanling/config"
	"swanling/dnsoe"
	"swanling/esp"
	"swanling/hw"
	"swanling/ike"
	"swanling/tun"
)

// oeFailClosedMetric is the metric of the blackholes under the TUN routes
// of private groups (the TUN routes have metric 0, so they win while the
// device exists).
const oeFailClosedMetric = 4096

// oeEnabled reports whether the configuration turns OE on.
func oeEnabled(cfg *config.Config) bool { return cfg.OE.Enabled && len(cfg.OE.Groups) > 0 }

// enableOE turns OE on in g's engine (before g.Run) and sets up the
// routes, policies, resolver and bypass socket. The caller closes it after
// the engine stopped.
func (g *ikeGlue) enableOE(d *daemon) (*oeGlue, error) {
	res, err := newOEResolver(d.cfg)
	if err != nil {
		return nil, err
	}
	o := &oeGlue{cfg: d.cfg, log: d.log.With("sub", "oe"), g: g, plane: d.espLoop(), routes: daemonOERouter{d},
		table: d.cfg.Listen.Table, tunIndex: d.dev.Index(), res: res,
		hosts: map[netip.Addr]int{}}
	if err := o.setEngine(d.cfg, dnsLookup{res}); err != nil {
		res.Close()
		return nil, err
	}
	if s, err := newRawSender(d.cfg.Listen.FwMark); err != nil {
		o.log.Warn("no raw socket for clear fallback: held packets of cleared destinations are dropped", "err", err)
	} else {
		o.bypass = s
		bypassSender.Store(s)
	}
	if err := o.install(); err != nil {
		o.close()
		return nil, err
	}
	d.setESPEvents(o)
	d.setOEStatus(o.status)
	return o, nil
}

// oePlane is what OE needs of the ESP loop; *esp.Loop has it.
type oePlane interface {
	SetPolicy(p esp.Policy) error
	RemovePolicy(local, remote netip.Prefix) bool
}

// oeRouter adds and deletes routes; the daemon's netlink socket does.
type oeRouter interface {
	AddRoute(r tun.Route) error
	DelRoute(r tun.Route) error
}

type daemonOERouter struct{ d *daemon }

func (r daemonOERouter) AddRoute(rt tun.Route) error {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	return r.d.nl.AddRoute(rt)
}

func (r daemonOERouter) DelRoute(rt tun.Route) error {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	return r.d.nl.DelRoute(rt)
}

// oeGlue implements ike.OEOutput and esp.Events for OE.
type oeGlue struct {
	cfg      *config.Config
	log      *Logger
	g        *ikeGlue
	plane    oePlane
	routes   oeRouter
	table    int
	tunIndex int
	res      *dnsoe.Resolver
	bypass   *rawSender

	mu     sync.Mutex
	added  []tun.Route          // group routes, removed on a clean exit
	hosts  map[netip.Addr]int   // TUN /32 of OE tunnels
	groups map[netip.Prefix]int // CIDRs routed into the TUN device
}

// setEngine translates config.OE into the engine's OEConfig.
func (o *oeGlue) setEngine(cfg *config.Config, lookup ike.OELookup) error {
	oc := ike.OEConfig{ShuntTime: cfg.OE.ShuntDuration, IdleTimeout: cfg.OE.IdleTimeout,
		RecheckTime: cfg.OE.RecheckTime, MaxPending: cfg.OE.MaxPending, Lookup: lookup, Output: o,
		LocalFor: func(remote netip.Addr) netip.Addr { return localAddrFor(cfg, remote) }}
	for _, g := range cfg.OE.Groups {
		oc.Groups = append(oc.Groups, ike.OEGroup{Name: g.Name, CIDRs: g.CIDRs, RequireDNSSEC: g.RequireDNSSEC,
			FailDrop: g.Failure == config.ShuntDrop || g.Name == config.GroupPrivate})
	}
	for _, a := range cfg.Local.Address {
		if a.Is4() && !oc.Local4.IsValid() {
			oc.Local4 = a
		}
		if a.Is6() && !oc.Local6.IsValid() {
			oc.Local6 = a
		}
	}
	if cfg.Local.ID != "" {
		id, err := ike.ParseIdentity(cfg.Local.ID)
		if err != nil {
			return fmt.Errorf("swanling: local id: %w", err)
		}
		oc.LocalID = id
	}
	if cfg.Local.KeyFile != "" {
		k, err := ikeLoadPrivateKey(cfg.Local.KeyFile)
		if err != nil {
			return fmt.Errorf("swanling: OE key: %w", err)
		}
		oc.PrivateKey = k
	}
	if oc.PrivateKey == nil {
		o.log.Warn("no local key_file: OE uses AUTH_NULL only (RFC 7619)")
	}
	aesFast := hw.Detect().HardwareGCM()
	oc.IKE = ike.DefaultProposals(ike.ProtoIKE, aesFast)
	oc.ESP = ike.DefaultProposals(ike.ProtoESP, aesFast)
	return o.g.eng.SetOE(oc)
}

// install sets the group policies and routes (see the file comment).
func (o *oeGlue) install() error {
	o.groups = map[netip.Prefix]int{}
	for _, g := range o.cfg.OE.Groups {
		for _, p := range g.CIDRs {
			p = p.Masked()
			all := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			if p.Addr().Is6() {
				all = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			}
			var act esp.Action
			var rs []tun.Route
			switch g.Name {
			case config.GroupPrivate, config.GroupPrivateOrClear:
				act = esp.Trap
				rs = append(rs, tun.Route{Dst: p, Index: o.tunIndex, Table: o.table})
				if g.Name == config.GroupPrivate {
					rs = append(rs, tun.Route{Dst: p, Type: tun.Blackhole, Table: o.table, Metric: oeFailClosedMetric})
				}
				o.groups[p]++
			case config.GroupBlock:
				act = esp.Drop
				rs = append(rs, tun.Route{Dst: p, Type: tun.Blackhole, Table: o.table})
			default: // clear, clear-or-private
				act = esp.Pass
				rs = append(rs, tun.Route{Dst: p, Type: tun.Throw, Table: o.table})
			}
			if err := o.plane.SetPolicy(esp.Policy{Local: all, Remote: p, Action: act}); err != nil {
				return fmt.Errorf("swanling: OE policy %s: %w", p, err)
			}
			for _, r := range rs {
				if err := o.routes.AddRoute(r); err != nil {
					return fmt.Errorf("swanling: OE route %s: %w", p, err)
				}
				o.mu.Lock()
				o.added = append(o.added, r)
				o.mu.Unlock()
			}
		}
	}
	o.log.Info("OE on", "groups", len(o.cfg.OE.Groups), "table", o.table)
	return nil
}

// close removes what install and the shunts added: a clean exit is the
// admin's decision (kill -9 leaves the blackholes in place).
func (o *oeGlue) close() {
	bypassSender.Store(nil)
	if o.bypass != nil {
		o.bypass.close()
	}
	if o.res != nil {
		o.res.Close()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.added {
		_ = o.routes.DelRoute(r)
	}
	o.added = nil
	for a := range o.hosts {
		_ = o.routes.DelRoute(tun.Route{Dst: hostPrefix(a), Index: o.tunIndex, Table: o.table})
	}
	clear(o.hosts)
}

func hostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// OEShunt implements ike.OEOutput. The shunt is the pair's policy in the
// ESP loop and nothing else (see the file comment): a pass policy hands
// the pair's packets, the held one first, to Bypass; other sources to the
// same host still meet the group's trap or their own SA.
func (o *oeGlue) OEShunt(local, remote netip.Addr, a ike.ShuntAction) {
	l, r := hostPrefix(local), hostPrefix(remote)
	var err error
	switch a {
	case ike.ShuntPass:
		err = o.plane.SetPolicy(esp.Policy{Local: l, Remote: r, Action: esp.Pass})
	case ike.ShuntDrop:
		err = o.plane.SetPolicy(esp.Policy{Local: l, Remote: r, Action: esp.Drop})
	case ike.ShuntNone:
		o.plane.RemovePolicy(l, r)
	}
	if err != nil {
		o.log.Warn("OE shunt policy", "local", local, "remote", remote, "err", err)
	}
}

// ref counts users of a /32 route and adds or deletes it at the edges.
func (o *oeGlue) ref(m map[netip.Addr]int, a netip.Addr, d int, r tun.Route) {
	o.mu.Lock()
	n := m[a]
	if d < 0 && n == 0 {
		o.mu.Unlock()
		return
	}
	n += d
	if n == 0 {
		delete(m, a)
	} else {
		m[a] = n
	}
	o.mu.Unlock()
	var err error
	switch {
	case d > 0 && n == 1:
		err = o.routes.AddRoute(r)
	case d < 0 && n == 0:
		err = o.routes.DelRoute(r)
	}
	if err != nil {
		o.log.Warn("OE route", "dst", r.Dst, "err", err)
	}
}

// routedByGroup reports whether a group route already sends a into the TUN.
func (o *oeGlue) routedByGroup(a netip.Addr) bool {
	best, routed := -1, false
	for _, g := range o.cfg.OE.Groups {
		for _, p := range g.CIDRs {
			if p.Contains(a) && p.Bits() > best {
				best = p.Bits()
				routed = g.Name == config.GroupPrivate || g.Name == config.GroupPrivateOrClear
			}
		}
	}
	return routed
}

// OETunnel implements ike.OEOutput: a remote host not routed into the TUN
// by its group (clear-or-private, answered as responder) gets a /32 there
// while its OE tunnel is up.
func (o *oeGlue) OETunnel(local, remote netip.Addr, up bool) {
	if o.routedByGroup(remote) {
		return
	}
	d := -1
	if up {
		d = +1
	}
	o.ref(o.hosts, remote, d, tun.Route{Dst: hostPrefix(remote), Index: o.tunIndex, Table: o.table})
}

// OEPackets implements ike.OEOutput from the SAs' counters.
func (o *oeGlue) OEPackets(spiIn, spiOut uint32) uint64 {
	o.g.mu.Lock()
	gc := o.g.children[spiIn]
	o.g.mu.Unlock()
	if gc == nil {
		return 0
	}
	return gc.in.Status().Packets + gc.out.Status().Packets
}

// Acquire implements esp.Events: a configured tunnel wins over OE.
func (o *oeGlue) Acquire(src, dst netip.Addr, proto uint8) {
	for _, t := range o.cfg.Tunnels {
		if prefixesContain(t.LocalTS, src) && prefixesContain(t.RemoteTS, dst) {
			o.g.Acquire(src, dst, proto)
			return
		}
	}
	o.g.eng.AcquireOE(src, dst)
}

// Expire implements esp.Events.
func (o *oeGlue) Expire(spi uint32, dir esp.Direction, hard bool) { o.g.Expire(spi, dir, hard) }

// ---- DNS ----

// newOEResolver builds the resolver: the configured servers, or the
// system's, untrusted (their AD bit proves nothing, RFC 6840, Section 5.7).
func newOEResolver(cfg *config.Config) (*dnsoe.Resolver, error) {
	var servers []dnsoe.Server
	for _, r := range cfg.DNS.Resolvers {
		servers = append(servers, dnsoe.Server{Addr: r.Addr, Trusted: r.Trusted})
	}
	if len(servers) == 0 {
		f, err := os.Open("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("swanling: no [resolver] configured and %w", err)
		}
		servers, err = dnsoe.ReadResolvConf(f)
		f.Close()
		if err != nil || len(servers) == 0 {
			return nil, errors.New("swanling: no [resolver] configured and none in /etc/resolv.conf")
		}
	}
	mark := int(cfg.Listen.FwMark)
	return dnsoe.New(dnsoe.Config{Servers: servers, Timeout: cfg.DNS.Timeout, Attempts: cfg.DNS.Retries + 1,
		Control: func(_, _ string, c syscall.RawConn) error {
			// Our own lookups skip the tunnel table.
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, mark)
			}); err != nil {
				return err
			}
			return serr
		}})
}

// dnsLookup is ike.OELookup on a dnsoe.Resolver.
type dnsLookup struct{ r *dnsoe.Resolver }

func toOEGateway(g dnsoe.Gateway) ike.OEGateway {
	return ike.OEGateway{Addr: g.Addr.Unmap(), FQDN: g.FQDN, Key: g.Key, Authenticated: g.Authenticated}
}

func toOEGateways(gs []dnsoe.Gateway) []ike.OEGateway {
	out := make([]ike.OEGateway, 0, len(gs))
	for _, g := range gs {
		out = append(out, toOEGateway(g))
	}
	return out
}

// oeDNSError marks "could not ask" errors for the engine's recheck.
func oeDNSError(err error) error {
	if err != nil && (errors.Is(err, dnsoe.ErrTimeout) || errors.Is(err, dnsoe.ErrServerFailure) ||
		errors.Is(err, dnsoe.ErrRefused) || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("%w: %w", ike.ErrOETemporary, err)
	}
	return err
}

func (l dnsLookup) GatewayFor(ctx context.Context, a netip.Addr, done func(ike.OEGateway, error)) {
	l.r.GatewayForAsync(ctx, a, func(g dnsoe.Gateway, err error) { done(toOEGateway(g), oeDNSError(err)) })
}

func (l dnsLookup) GatewaysFor(ctx context.Context, a netip.Addr, done func([]ike.OEGateway, error)) {
	go func() {
		gs, err := l.r.GatewaysFor(ctx, a)
		done(toOEGateways(gs), oeDNSError(err))
	}()
}

func (l dnsLookup) KeyFor(ctx context.Context, gw ike.OEGateway, done func([]ike.OEGateway, error)) {
	go func() {
		var gs []dnsoe.Gateway
		var err error
		if gw.FQDN != "" {
			var n dnsoe.Name
			if n, err = dnsoe.NewName(gw.FQDN); err == nil {
				gs, err = l.r.KeyForName(ctx, n)
			}
		} else {
			gs, err = l.r.KeyFor(ctx, gw.Addr)
		}
		done(toOEGateways(gs), oeDNSError(err))
	}()
}

// ---- clear bypass ----

// bypassSender is where bypassPacket sends; set while OE runs.
var bypassSender atomic.Pointer[rawSender]

// bypassPacket is the ESP loop's Config.Bypass: packets a pass policy lets
// through (the held first packet of a destination that fell back to
// clear) leave on a raw socket that carries the fwmark, so they skip the
// tunnel table and are routed by the main table.
func bypassPacket(pkt []byte) {
	if s := bypassSender.Load(); s != nil {
		s.send(pkt)
	}
}

// rawSender writes whole IP packets (IP_HDRINCL, IPV6_HDRINCL).
type rawSender struct{ fd4, fd6 int }

func newRawSender(mark uint32) (*rawSender, error) {
	s := &rawSender{fd4: -1, fd6: -1}
	open := func(fam, level, opt int) (int, error) {
		fd, err := unix.Socket(fam, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_RAW)
		if err != nil {
			return -1, err
		}
		if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
			unix.Close(fd)
			return -1, err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(mark)); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	var err error
	if s.fd4, err = open(unix.AF_INET, unix.IPPROTO_IP, unix.IP_HDRINCL); err != nil {
		return nil, fmt.Errorf("swanling: raw IPv4 socket: %w", err)
	}
	if s.fd6, err = open(unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_HDRINCL); err != nil {
		s.fd6 = -1 // no IPv6: IPv4 bypass still works
	}
	return s, nil
}

// send writes pkt to its destination; it never blocks (a full socket
// buffer drops the packet, as a router would).
func (s *rawSender) send(pkt []byte) {
	if len(pkt) < 20 {
		return
	}
	switch pkt[0] >> 4 {
	case 4:
		var sa unix.SockaddrInet4
		copy(sa.Addr[:], pkt[16:20])
		_ = unix.Sendto(s.fd4, pkt, unix.MSG_DONTWAIT, &sa)
	case 6:
		if len(pkt) < 40 || s.fd6 < 0 {
			return
		}
		var sa unix.SockaddrInet6
		copy(sa.Addr[:], pkt[24:40])
		_ = unix.Sendto(s.fd6, pkt, unix.MSG_DONTWAIT, &sa)
	}
}

func (s *rawSender) close() {
	if s.fd4 >= 0 {
		unix.Close(s.fd4)
	}
	if s.fd6 >= 0 {
		unix.Close(s.fd6)
	}
}

// ---- status ----

// OEStatus is the OE section of Status: the engine's counters and its host
// pairs (pending negotiations, tunnels, shunts).
type OEStatus struct {
	Acquires     uint64         `json:"acquires"`
	Up           uint64         `json:"up"`
	Fallbacks    uint64         `json:"fallbacks"`
	Refused      uint64         `json:"refused"`
	PendingLimit uint64         `json:"pending_limit"` // acquires refused at max_pending
	Idle         uint64         `json:"idle_teardowns"`
	Pairs        []OEPairStatus `json:"pairs"`
}

// OEPairStatus is one OE host pair.
type OEPairStatus struct {
	Local         string `json:"local"`
	Remote        string `json:"remote"`
	Group         string `json:"group"`
	State         string `json:"state"` // lookup, negotiating, up, shunted
	Gateway       string `json:"gateway"`
	Responder     bool   `json:"responder"`
	Authenticated bool   `json:"authenticated"`
	// Action is the shunt's action, "clear" or "drop"; "" unless shunted.
	Action string `json:"action"`
	// ShuntSecondsLeft is the time until the pair is tried again; -1
	// unless shunted.
	ShuntSecondsLeft int64 `json:"shunt_seconds_left"`
}

// status is the daemon's OE status hook.
func (o *oeGlue) status() *OEStatus {
	pairs, stats := o.g.eng.OEStatus()
	return oeStatusFrom(pairs, stats, time.Now())
}

func oeStatusFrom(pairs []ike.OEStatus, stats ike.OEStats, now time.Time) *OEStatus {
	st := &OEStatus{Acquires: stats.Acquires, Up: stats.Up, Fallbacks: stats.Fallbacks, Refused: stats.Refused,
		PendingLimit: stats.PendingLimit, Idle: stats.Idle, Pairs: []OEPairStatus{}}
	pairs = slices.Clone(pairs)
	slices.SortFunc(pairs, func(a, b ike.OEStatus) int {
		if c := a.Remote.Compare(b.Remote); c != 0 {
			return c
		}
		return a.Local.Compare(b.Local)
	})
	for _, p := range pairs {
		ps := OEPairStatus{Local: p.Local.String(), Remote: p.Remote.String(), Group: p.Group, State: p.State,
			Responder: p.Responder, Authenticated: p.Authenticated, ShuntSecondsLeft: -1}
		if p.Gateway.IsValid() {
			ps.Gateway = p.Gateway.String()
		}
		if !p.Until.IsZero() {
			ps.Action = p.Action.String()
			ps.ShuntSecondsLeft = max(0, int64((p.Until.Sub(now)+time.Second-1)/time.Second))
		}
		st.Pairs = append(st.Pairs, ps)
	}
	return st
}

// writeOEStatus prints the OE section of `swanling status` (w is the
// status table's tabwriter).
func writeOEStatus(w io.Writer, st *OEStatus) {
	fmt.Fprintf(w, "\nOE pairs: %d (acquires %d, up %d, fallbacks %d, refused %d, over max_pending %d, idle teardowns %d)\n",
		len(st.Pairs), st.Acquires, st.Up, st.Fallbacks, st.Refused, st.PendingLimit, st.Idle)
	if len(st.Pairs) == 0 {
		return
	}
	fmt.Fprintln(w, "LOCAL\tREMOTE\tGROUP\tSTATE\tGATEWAY\tAUTHENTICATED\tSHUNT")
	for _, p := range st.Pairs {
		state := p.State
		if p.Responder {
			state += " (responder)"
		}
		auth := "no"
		if p.Authenticated {
			auth = "yes"
		}
		shunt := "-"
		if p.ShuntSecondsLeft >= 0 {
			shunt = dash(p.Action) + " for " + age(p.ShuntSecondsLeft)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(p.Local), dash(p.Remote), dash(p.Group), state,
			dash(p.Gateway), auth, shunt)
	}
}

// appendOEStatusJSON writes st the way encoding/json would (see
// appendStatusJSON).
func appendOEStatusJSON(w *jsonWriter, st *OEStatus) {
	w.open('{')
	for _, c := range []struct {
		k string
		v uint64
	}{{"acquires", st.Acquires}, {"up", st.Up}, {"fallbacks", st.Fallbacks}, {"refused", st.Refused},
		{"pending_limit", st.PendingLimit}, {"idle_teardowns", st.Idle}} {
		w.key(c.k)
		w.uint(c.v)
	}
	w.key("pairs")
	if st.Pairs == nil {
		w.null()
	} else {
		w.open('[')
		for _, p := range st.Pairs {
			w.elem()
			w.open('{')
			w.field("local", p.Local)
			w.field("remote", p.Remote)
			w.field("group", p.Group)
			w.field("state", p.State)
			w.field("gateway", p.Gateway)
			w.key("responder")
			w.bool(p.Responder)
			w.key("authenticated")
			w.bool(p.Authenticated)
			w.field("action", p.Action)
			w.key("shunt_seconds_left")
			w.int(p.ShuntSecondsLeft)
			w.close('}')
		}
		w.close(']')
	}
	w.close('}')
}
