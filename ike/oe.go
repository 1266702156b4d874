package ike

// Opportunistic encryption (RFC 4322, RFC 7435) inside the engine: the
// policy groups, the per-destination state (lookup, negotiation, up,
// shunted), the failure shunts, the lifespan timers, and the responder's
// authorization check. DNS is reached only through OELookup; routes,
// shunt policies and held packets only through OEOutput.
//
// Every OE host pair gets a peer of its own ("oe:<local>-<remote>") with
// host selectors (RFC 4322, Section 3.3: the SA covers the pair of hosts),
// so the rest of the engine (exchanges, rekeying, DPD, Delete) treats it
// like a configured tunnel.

import (
	"context"
	"crypto"
	"errors"
	"net/netip"
	"strconv"
	"time"
)

// OE policy group names (RFC 4322, Section 3.2; the FreeS/WAN groups).
const (
	OEBlock          = "block"            // drop
	OEClear          = "clear"            // never encrypt
	OEClearOrPrivate = "clear-or-private" // answer OE, never start it
	OEPrivateOrClear = "private-or-clear" // try OE, fall back to clear
	OEPrivate        = "private"          // encrypt or drop
)

// OEGroup is one policy group. The group of an address is the one with the
// longest prefix containing it.
type OEGroup struct {
	Name  string
	CIDRs []netip.Prefix
	// RequireDNSSEC: only keys from authenticated DNS answers count;
	// otherwise unauthenticated keys (and AUTH_NULL, RFC 7619) are used
	// and the SA is labelled unauthenticated.
	RequireDNSSEC bool
	// FailDrop: after a failed attempt the destination is dropped (the
	// "private" shunt) instead of passed in the clear.
	FailDrop bool
}

// OEGateway is an answer of OELookup: who encrypts for an address.
type OEGateway struct {
	Addr netip.Addr       // where to negotiate; the gateway's ID_IPV4/6_ADDR
	FQDN string           // set when the record named the gateway by name (ID_FQDN)
	Key  crypto.PublicKey // nil: none published (AUTH_NULL only)
	// Authenticated is true only if every DNS answer behind this came
	// with a valid DNSSEC chain from a trusted resolver.
	Authenticated bool
}

// OELookup is the DNS side of OE. Every method returns at once and calls
// done later, from any goroutine.
type OELookup interface {
	// GatewayFor: the gateway that encrypts for addr (RFC 4322, Section 3.2).
	GatewayFor(ctx context.Context, addr netip.Addr, done func(OEGateway, error))
	// GatewaysFor: every gateway authorized for addr (RFC 4322, Section 3.3).
	GatewaysFor(ctx context.Context, addr netip.Addr, done func([]OEGateway, error))
	// KeyFor: the keys gw publishes for itself (by address or FQDN).
	KeyFor(ctx context.Context, gw OEGateway, done func([]OEGateway, error))
}

// ShuntAction is what OEOutput.OEShunt does with a host pair.
type ShuntAction uint8

// Shunt actions.
const (
	ShuntNone ShuntAction = iota // back to the group's policy (trap)
	ShuntPass                    // in the clear, held packet delivered in the clear
	ShuntDrop                    // dropped, held packet dropped
)

func (a ShuntAction) String() string {
	return [...]string{"none", "clear", "drop"}[a]
}

// OEOutput is what OE asks of the data plane. Calls come from the engine
// goroutine and must not block for long.
type OEOutput interface {
	// OEShunt sets the shunt for packets from local to remote.
	OEShunt(local, remote netip.Addr, a ShuntAction)
	// OETunnel reports that an OE Child SA for the host pair is up (route
	// remote into the tunnel) or gone.
	OETunnel(local, remote netip.Addr, up bool)
	// OEPackets returns the packets counted so far by the Child SA pair.
	OEPackets(spiIn, spiOut uint32) uint64
}

// OEConfig enables OE in an engine (Config.OE).
type OEConfig struct {
	Groups []OEGroup
	// LocalID is our identity; zero: the outer address IKE runs from
	// (ID_IPV4/6_ADDR), which is what our DNS records name.
	LocalID Identity
	// Local4, Local6 are our outer addresses (invalid: routing chooses).
	Local4, Local6 netip.Addr
	// LocalFor, if set, returns the outer address towards a gateway when
	// Local4/Local6 is not set (what routing chooses).
	LocalFor func(remote netip.Addr) netip.Addr
	// PrivateKey signs our AUTH (RFC 7427); nil: AUTH_NULL only.
	PrivateKey crypto.Signer
	IKE, ESP   []Proposal // default DefaultProposals
	// ShuntTime: how long a failed destination stays shunted (default 15m).
	ShuntTime time.Duration
	// IdleTimeout: a tunnel without traffic this long after it came up
	// is deleted (default 1m, RFC 4322, Section 3.4).
	IdleTimeout time.Duration
	// RecheckTime: a tunnel in use is checked again this often (default
	// 20m): no traffic since the last check, or DNS no longer naming its
	// gateway, deletes it.
	RecheckTime time.Duration
	// LookupTimeout bounds each DNS question (default 10s).
	LookupTimeout time.Duration
	// MaxPending bounds concurrent lookups and negotiations (default 256).
	MaxPending int
	Lookup     OELookup
	Output     OEOutput
}

// OEStats counts OE events.
type OEStats struct {
	Acquires, Up, Fallbacks, Refused, PendingLimit, Idle uint64
}

// OEStatus describes one OE host pair.
type OEStatus struct {
	Local, Remote netip.Addr
	Group         string
	State         string
	Gateway       netip.Addr
	Responder     bool
	Authenticated bool
	Until         time.Time   // shunt expiry
	Action        ShuntAction // the shunt's action while shunted
}

type oeConnState uint8

const (
	oeLookup oeConnState = iota
	oeNegotiating
	oeUp
	oeShunted
)

func (s oeConnState) String() string {
	return [...]string{"lookup", "negotiating", "up", "shunted"}[s]
}

type oePair struct{ local, remote netip.Addr }

// oeConn is the state of one OE host pair.
type oeConn struct {
	name          string
	pair          oePair
	group         *OEGroup
	state         oeConnState
	responder     bool
	authenticated bool
	peer          *Peer
	gw            OEGateway
	until         time.Time // lookup deadline or shunt expiry
	idleAt        time.Time
	recheckAt     time.Time
	lastPkts      uint64
	rechecking    bool
	cancel        context.CancelFunc
	counted       bool // holds a MaxPending slot
}

type oeState struct {
	cfg OEConfig
	// template answers IKE_SA_INIT from any address (candidates); it is
	// never picked for IKE_AUTH.
	template *Peer
	conns    map[string]*oeConn // by name
	pend     int
	seq      uint64
	stats    OEStats
}

// SetOE enables opportunistic encryption; call it before Run.
func (e *Engine) SetOE(c OEConfig) error {
	if c.Lookup == nil || c.Output == nil {
		return errors.New("ike: OE needs a lookup and an output")
	}
	for _, g := range c.Groups {
		switch g.Name {
		case OEBlock, OEClear, OEClearOrPrivate, OEPrivateOrClear, OEPrivate:
		default:
			return errors.New("ike: unknown OE group " + g.Name)
		}
	}
	setDur(&c.ShuntTime, 15*time.Minute)
	setDur(&c.IdleTimeout, time.Minute)
	setDur(&c.RecheckTime, 20*time.Minute)
	setDur(&c.LookupTimeout, 10*time.Second)
	if c.MaxPending <= 0 {
		c.MaxPending = 256
	}
	if len(c.IKE) == 0 {
		c.IKE = DefaultProposals(ProtoIKE, true)
	}
	if len(c.ESP) == 0 {
		c.ESP = DefaultProposals(ProtoESP, true)
	}
	t := &Peer{Name: "oe", Auth: AuthNull, IKE: c.IKE, ESP: c.ESP, oe: &oeConn{}}
	if c.PrivateKey != nil {
		t.Auth = AuthPubkey // announces SIGNATURE_HASH_ALGORITHMS (RFC 7427)
	}
	e.oe = &oeState{cfg: c, conns: map[string]*oeConn{}, template: t}
	return nil
}

// AcquireOE reports a packet from src to dst that hit an OE trap. It
// never blocks (it is called on the packet path).
func (e *Engine) AcquireOE(src, dst netip.Addr) {
	e.post(func(e *Engine) { e.oeAcquire(src.Unmap(), dst.Unmap()) })
}

// OEStatus returns every OE host pair and the counters.
func (e *Engine) OEStatus() ([]OEStatus, OEStats) {
	var out []OEStatus
	var st OEStats
	_ = e.call(func(e *Engine) {
		if e.oe == nil {
			return
		}
		st = e.oe.stats
		for _, c := range e.oe.conns {
			s := OEStatus{Local: c.pair.local, Remote: c.pair.remote, Group: c.group.Name, State: c.state.String(),
				Responder: c.responder, Authenticated: c.authenticated, Gateway: c.gw.Addr}
			if c.state == oeShunted {
				s.Until, s.Action = c.until, ShuntPass
				if c.group.FailDrop {
					s.Action = ShuntDrop
				}
			}
			out = append(out, s)
		}
	})
	return out, st
}

// post queues an event without ever blocking the caller.
func (e *Engine) post(ev event) {
	select {
	case e.events <- ev:
	default:
		go func() { _ = e.enqueue(ev) }()
	}
}

// oeGroupFor is the group with the longest prefix containing a.
func (o *oeState) groupFor(a netip.Addr) *OEGroup {
	var best *OEGroup
	bits := -1
	for i := range o.cfg.Groups {
		g := &o.cfg.Groups[i]
		for _, p := range g.CIDRs {
			if p.Contains(a) && p.Bits() > bits {
				best, bits = g, p.Bits()
			}
		}
	}
	return best
}

// configuredCovers reports whether a configured tunnel's selectors cover
// the remote address (and, when local is valid, the local one): such
// traffic is the tunnel's, never OE's.
func (e *Engine) configuredCovers(local, remote netip.Addr) bool {
	for _, p := range e.cfg.Peers {
		if containsAddr(p.RemoteTS, remote) && (!local.IsValid() || containsAddr(p.LocalTS, local)) {
			return true
		}
	}
	return false
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func hostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

// findPair returns the initiator-side conn for the pair, or any conn.
func (o *oeState) findPair(p oePair) *oeConn {
	if c := o.conns["oe:"+p.local.String()+"-"+p.remote.String()]; c != nil {
		return c
	}
	for _, c := range o.conns {
		if c.pair == p {
			return c
		}
	}
	return nil
}

func (e *Engine) oeAcquire(src, dst netip.Addr) {
	o := e.oe
	if o == nil || e.stopping {
		return
	}
	o.stats.Acquires++
	if e.configuredCovers(src, dst) {
		return // RFC 4322 leaves it to local policy: a configured tunnel wins
	}
	g := o.groupFor(dst)
	if g == nil || (g.Name != OEPrivate && g.Name != OEPrivateOrClear) {
		return // never started for block, clear, clear-or-private
	}
	pair := oePair{src, dst}
	if c := o.findPair(pair); c != nil {
		return // in progress, up or shunted
	}
	if o.pend >= o.cfg.MaxPending {
		// The packet stays held; the data plane asks again later.
		o.stats.PendingLimit++
		return
	}
	c := &oeConn{name: "oe:" + src.String() + "-" + dst.String(), pair: pair, group: g, state: oeLookup,
		until: e.clock.Now().Add(o.cfg.LookupTimeout)}
	o.conns[c.name] = c
	o.take(c)
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.LookupTimeout)
	c.cancel = cancel
	// RFC 4322, Section 3.2: ask DNS who encrypts for the destination.
	o.cfg.Lookup.GatewayFor(ctx, dst, func(gw OEGateway, err error) {
		e.post(func(e *Engine) { e.oeGateway(c, gw, err) })
	})
}

func (o *oeState) take(c *oeConn) {
	if !c.counted {
		c.counted = true
		o.pend++
	}
}

func (o *oeState) release(c *oeConn) {
	if c.counted {
		c.counted = false
		o.pend--
	}
	if c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
}

func (e *Engine) oeLive(c *oeConn) bool { return e.oe != nil && e.oe.conns[c.name] == c }

// oeGateway continues after GatewayFor answered.
func (e *Engine) oeGateway(c *oeConn, gw OEGateway, err error) {
	if !e.oeLive(c) || c.state != oeLookup {
		return
	}
	if err != nil {
		e.oeFail(c, "DNS: "+err.Error())
		return
	}
	if !gw.Addr.IsValid() {
		e.oeFail(c, "gateway has no address")
		return
	}
	if c.group.RequireDNSSEC && !gw.Authenticated {
		e.oeFail(c, "DNS answer not authenticated and the group requires DNSSEC")
		return
	}
	c.gw = gw
	if gw.Key == nil && e.oe.cfg.PrivateKey != nil {
		// RFC 4322, Section 5.1: the key is the one in the record that
		// named the gateway, or else the gateway's own.
		ctx, cancel := context.WithTimeout(context.Background(), e.oe.cfg.LookupTimeout)
		c.cancel = cancel
		e.oe.cfg.Lookup.KeyFor(ctx, gw, func(keys []OEGateway, err error) {
			e.post(func(e *Engine) { e.oeKeys(c, keys, err) })
		})
		return
	}
	e.oeNegotiate(c)
}

func (e *Engine) oeKeys(c *oeConn, keys []OEGateway, err error) {
	if !e.oeLive(c) || c.state != oeLookup {
		return
	}
	for _, k := range keys {
		if k.Key != nil && (k.Authenticated || !c.group.RequireDNSSEC) {
			c.gw.Key = k.Key
			c.gw.Authenticated = c.gw.Authenticated && k.Authenticated
			break
		}
	}
	e.oeNegotiate(c)
}

// oeNegotiate starts IKE with the gateway for the host pair.
func (e *Engine) oeNegotiate(c *oeConn) {
	o := e.oe
	gw := c.gw
	p := &Peer{Name: c.name, Remote: gw.Addr, RemotePort: e.cfg.IKEPort, IKE: o.cfg.IKE, ESP: o.cfg.ESP,
		LocalTS: []netip.Prefix{hostPrefix(c.pair.local)}, RemoteTS: []netip.Prefix{hostPrefix(c.pair.remote)}, oe: c}
	p.Local = o.cfg.Local4
	if gw.Addr.Is6() {
		p.Local = o.cfg.Local6
	}
	if !p.Local.IsValid() && o.cfg.LocalFor != nil {
		p.Local = o.cfg.LocalFor(gw.Addr)
	}
	switch {
	case gw.Key != nil && o.cfg.PrivateKey != nil:
		// RFC 7427 signatures with the key from DNS.
		p.Auth, p.PrivateKey, p.PeerKey = AuthPubkey, o.cfg.PrivateKey, gw.Key
		p.LocalID = o.localID(p.Local, c.pair.local)
		if gw.FQDN != "" {
			p.RemoteID = Identity{Type: IDFQDN, Data: []byte(gw.FQDN)}
		} else {
			p.RemoteID = IdentityFromAddr(gw.Addr)
		}
		c.authenticated = gw.Authenticated
	case !c.group.RequireDNSSEC:
		// RFC 7619: the destination announced OE with a key-less record.
		p.Auth, p.LocalID = AuthNull, Identity{Type: IDNull}
	default:
		e.oeFail(c, "no usable key for gateway "+gw.Addr.String())
		return
	}
	if !c.authenticated {
		e.log.Warn("OE tunnel is unauthenticated: it protects against passive listeners only",
			"local", c.pair.local, "remote", c.pair.remote, "gateway", gw.Addr, "auth", p.Auth)
	}
	c.peer = p
	c.state = oeNegotiating
	c.until = time.Time{} // IKE's retransmissions bound the negotiation
	e.peers[p.Name] = p
	if err := e.initiate(p.Name); err != nil {
		e.oeFail(c, "IKE: "+err.Error())
	}
}

// localID is our identity: the configured one, else our outer address,
// else (no outer address known) the inner one.
func (o *oeState) localID(outer, inner netip.Addr) Identity {
	if !o.cfg.LocalID.Any() {
		return o.cfg.LocalID
	}
	if outer.IsValid() && !outer.IsUnspecified() {
		return IdentityFromAddr(outer)
	}
	return IdentityFromAddr(inner)
}

// oeFail shunts the destination by its group's failure policy (RFC 4322,
// Section 3.5) and logs the fallback once.
func (e *Engine) oeFail(c *oeConn, why string) {
	o := e.oe
	o.release(c)
	if c.peer != nil {
		delete(e.peers, c.peer.Name)
		c.peer = nil
	}
	if c.responder {
		delete(o.conns, c.name)
		return
	}
	a := ShuntPass
	if c.group.FailDrop {
		a = ShuntDrop
	}
	c.state = oeShunted
	c.until = e.clock.Now().Add(o.cfg.ShuntTime)
	o.stats.Fallbacks++
	e.log.Warn("OE fallback", "local", c.pair.local, "remote", c.pair.remote, "group", c.group.Name,
		"action", a.String(), "for", o.cfg.ShuntTime.String(), "reason", why)
	o.cfg.Output.OEShunt(c.pair.local, c.pair.remote, a)
}

// oeChildUp runs when a Child SA of an OE peer is installed.
func (e *Engine) oeChildUp(sa *ikeSA, ch *childSA) {
	c := ch.peer.oe
	if !e.oeLive(c) || c.state == oeUp {
		return
	}
	o := e.oe
	o.release(c)
	now := e.clock.Now()
	c.state = oeUp
	c.idleAt = now.Add(o.cfg.IdleTimeout)
	c.recheckAt = now.Add(o.cfg.RecheckTime)
	o.stats.Up++
	e.log.Info("OE tunnel up", "local", c.pair.local, "remote", c.pair.remote, "gateway", sa.remote.Addr(),
		"authenticated", c.authenticated, "responder", c.responder)
	o.cfg.Output.OETunnel(c.pair.local, c.pair.remote, true)
}

// oeSADown runs when an IKE SA of an OE peer is destroyed.
func (e *Engine) oeSADown(sa *ikeSA, why string) {
	c := sa.peer.oe
	if e.stopping || !e.oeLive(c) || e.saForPeer(c.name) != nil {
		return // shutting down, replaced (rekey) or already forgotten
	}
	switch c.state {
	case oeNegotiating, oeLookup:
		e.oeFail(c, "IKE: "+why)
	case oeUp:
		e.oeForget(c)
		c.state = oeShunted // stale references see a dead conn
		e.oe.cfg.Output.OETunnel(c.pair.local, c.pair.remote, false)
	}
}

func (e *Engine) oeForget(c *oeConn) {
	e.oe.release(c)
	delete(e.oe.conns, c.name)
	if c.peer != nil && e.peers[c.peer.Name] == c.peer {
		delete(e.peers, c.peer.Name)
	}
}

// oeNext is the earliest OE timer.
func (e *Engine) oeNext() (time.Time, bool) {
	var best time.Time
	ok := false
	if e.oe == nil {
		return best, false
	}
	take := func(t time.Time) {
		if !t.IsZero() && (!ok || t.Before(best)) {
			best, ok = t, true
		}
	}
	for _, c := range e.oe.conns {
		take(c.until)
		if c.state == oeUp {
			take(c.idleAt)
			take(c.recheckAt)
		}
	}
	return best, ok
}

// oeTick runs the OE timers.
func (e *Engine) oeTick(now time.Time) {
	o := e.oe
	if o == nil {
		return
	}
	for _, c := range o.conns {
		switch c.state {
		case oeLookup:
			if !c.until.IsZero() && !now.Before(c.until) {
				e.oeFail(c, "DNS: lookup timed out")
			}
		case oeShunted:
			if !now.Before(c.until) {
				// Try again with the next packet.
				delete(o.conns, c.name)
				e.log.Info("OE shunt expired", "local", c.pair.local, "remote", c.pair.remote)
				o.cfg.Output.OEShunt(c.pair.local, c.pair.remote, ShuntNone)
			}
		case oeUp:
			e.oeLifespan(c, now)
		}
	}
}

// oeLifespan deletes a tunnel idle in its first minute, and checks a
// tunnel in use every RecheckTime (RFC 4322, Section 3.4).
func (e *Engine) oeLifespan(c *oeConn, now time.Time) {
	sa := e.saForPeer(c.name)
	if sa == nil || sa.state != stEstablished {
		return
	}
	pk := e.oePackets(sa)
	switch {
	case !c.idleAt.IsZero() && !now.Before(c.idleAt):
		c.idleAt = time.Time{}
		if pk == 0 {
			e.oe.stats.Idle++
			e.deleteIKE(sa, "OE tunnel carried no traffic after "+e.oe.cfg.IdleTimeout.String())
			return
		}
		c.lastPkts = pk
	case !now.Before(c.recheckAt):
		c.recheckAt = now.Add(e.oe.cfg.RecheckTime)
		if pk == c.lastPkts {
			e.oe.stats.Idle++
			e.deleteIKE(sa, "OE tunnel idle since the last check")
			return
		}
		c.lastPkts = pk
		if !c.responder && !c.rechecking {
			// The records may have changed: the gateway must still be
			// the one DNS names.
			c.rechecking = true
			ctx, cancel := context.WithTimeout(context.Background(), e.oe.cfg.LookupTimeout)
			e.oe.cfg.Lookup.GatewayFor(ctx, c.pair.remote, func(gw OEGateway, err error) {
				cancel()
				e.post(func(e *Engine) { e.oeRechecked(c, gw, err) })
			})
		}
	}
}

func (e *Engine) oeRechecked(c *oeConn, gw OEGateway, err error) {
	c.rechecking = false
	if !e.oeLive(c) || c.state != oeUp {
		return
	}
	sa := e.saForPeer(c.name)
	if sa == nil || sa.state != stEstablished {
		return
	}
	var why string
	switch {
	case err != nil && !isTemporary(err):
		why = "DNS no longer names a gateway: " + err.Error()
	case err == nil && gw.Addr != c.gw.Addr:
		why = "DNS now names gateway " + gw.Addr.String()
	}
	if why != "" {
		e.deleteIKE(sa, why)
	}
}

// isTemporary: errors that say "could not ask", not "no records".
func isTemporary(err error) bool {
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, ErrOETemporary)
}

// ErrOETemporary can be wrapped by an OELookup to say that DNS could not be
// asked (timeout, server failure) as opposed to answering "nothing".
var ErrOETemporary = errors.New("ike: OE lookup failed temporarily")

func (e *Engine) oePackets(sa *ikeSA) uint64 {
	var n uint64
	for _, ch := range sa.children {
		n += e.oe.cfg.Output.OEPackets(ch.spiIn, ch.spiOut)
	}
	return n
}

// ---- responder ----

// oeAuthRequest handles an IKE_AUTH that no configured tunnel accepts: an
// OE initiator. RFC 4322, Section 3.3: its gateway must be authorized for
// the inner source address (the source's reverse records name it); the
// selectors are then narrowed to the host pair.
func (e *Engine) oeAuthRequest(sa *ikeSA, m *msg) {
	o := e.oe
	refuse := func(why string) {
		o.stats.Refused++
		e.log.Info("OE initiator refused", "peer", sa.remote, "id", m.IDi.String(), "reason", why)
		e.respondError(sa, m, NAuthFailed)
		e.destroy(sa, "OE: "+why)
	}
	if !m.hasSA || !m.hasTS || len(m.TSi) == 0 || len(m.TSr) == 0 {
		refuse("no Child SA proposed")
		return
	}
	// RFC 7296, Section 2.9: the first selectors are the packet's.
	src, dst := m.TSi[0].Start.Unmap(), m.TSr[0].Start.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		refuse("bad selectors")
		return
	}
	g := o.groupFor(src)
	if g == nil || g.Name == OEBlock || g.Name == OEClear {
		refuse("local policy does not answer OE for " + src.String())
		return
	}
	// Isolation: an OE peer never gets selectors of a configured tunnel
	// or of another OE peer.
	if e.configuredCovers(netip.Addr{}, src) || e.configuredCovers(netip.Addr{}, dst) {
		refuse(src.String() + " belongs to a configured tunnel")
		return
	}
	pair := oePair{dst, src}
	for _, x := range o.conns {
		if x.pair == pair && x.peer != nil && x.peer.Remote != sa.remote.Addr() {
			// RFC 7619, Section 2.3: nobody takes over another peer's SAs.
			refuse("host pair owned by gateway " + x.peer.Remote.String())
			return
		}
	}
	null := m.Auth.Method == 13
	if null && g.RequireDNSSEC {
		refuse("AUTH_NULL but the group requires DNSSEC")
		return
	}
	if !null && o.cfg.PrivateKey == nil {
		refuse("signature auth but no local key")
		return
	}
	if o.pend >= o.cfg.MaxPending {
		o.stats.PendingLimit++
		refuse("too many OE negotiations")
		return
	}
	o.seq++
	p := &Peer{Name: "oe" + strconv.FormatUint(o.seq, 10) + "<:" + dst.String() + "-" + src.String(),
		Remote: sa.remote.Addr(), RemotePort: sa.remote.Port(), IKE: o.cfg.IKE, ESP: o.cfg.ESP,
		LocalTS: []netip.Prefix{hostPrefix(dst)}, RemoteTS: []netip.Prefix{hostPrefix(src)}, RemoteID: *m.IDi}
	if null {
		p.Auth, p.LocalID, p.RemoteID = AuthNull, Identity{Type: IDNull}, Identity{}
	} else {
		p.Auth, p.PrivateKey, p.LocalID = AuthPubkey, o.cfg.PrivateKey, o.localID(sa.local.Addr(), dst)
	}
	c := &oeConn{name: p.Name, pair: pair, group: g, state: oeNegotiating, responder: true, peer: p}
	p.oe = c
	o.conns[c.name] = c
	o.take(c)
	e.peers[p.Name] = p
	sa.peer = p
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.LookupTimeout)
	c.cancel = cancel
	pa := &pendingAuth{m: m, peer: p, cancel: cancel}
	sa.authPending = pa
	sa.state = stAuthWait
	sa.deadline = e.clock.Now().Add(o.cfg.LookupTimeout)
	o.cfg.Lookup.GatewaysFor(ctx, src, func(gws []OEGateway, err error) {
		e.post(func(e *Engine) { e.oeAuthorized(sa, pa, c, gws, err) })
	})
}

// responderIDOK reports whether got, the responder's IDr, is the identity
// the peer p expects (RFC 7296, Section 2.15). An OE gateway named by DNS
// name (IPSECKEY gateway type 3, RFC 4025; TXT "@fqdn", RFC 4322, Section
// 5.3) may identify by that name or, as gateways with a static address
// do (issue 6), by the address the name resolved to, the one we talk to.
// Either way AUTH must verify with the key DNS published for it.
func responderIDOK(p *Peer, got Identity) bool {
	if p.RemoteID.Matches(got) {
		return true
	}
	return p.oe != nil && p.RemoteID.Type == IDFQDN && p.Remote.IsValid() &&
		IdentityFromAddr(p.Remote).Matches(got)
}

// initialContactDue reports whether the IKE_AUTH request of sa, for the
// peer p, may carry INITIAL_CONTACT, which asserts that sa is the only IKE
// SA between the two identities (RFC 7296, Section 2.4). OE keeps one IKE
// SA per host pair, so a gateway often has several with the same peer
// gateway: a new one announced as the only one would make the peer delete
// the others (see samePeer) while we still send on them.
func (e *Engine) initialContactDue(sa *ikeSA, p *Peer) bool {
	if p.oe == nil {
		return true
	}
	for _, o := range e.sas {
		if o != sa && o.state != stDead && o.peer != nil && o.peer.oe != nil &&
			o.remote.Addr().Unmap() == sa.remote.Addr().Unmap() {
			return false
		}
	}
	return true
}

// samePeer reports whether old belongs to the peer p for INITIAL_CONTACT
// (RFC 7296, Section 2.4): the same configured tunnel, or, for OE, a
// gateway at the same address whose DNS key was authenticated on both
// SAs. Unauthenticated OE peers never replace anything (RFC 7619,
// Section 2.3).
func (e *Engine) samePeer(old *ikeSA, p *Peer) bool {
	if old.peer == p {
		return true
	}
	if p.oe == nil || old.peer == nil || old.peer.oe == nil {
		return false
	}
	return p.oe.authenticated && old.peer.oe.authenticated && old.peer.Remote == p.Remote && p.Auth == AuthPubkey
}

// oeMatches reports whether the record gw names the initiator.
func oeMatches(gw OEGateway, id Identity, outer netip.Addr, null bool) bool {
	if null {
		// ID_NULL says nothing: the outer address must be the gateway.
		return gw.Addr.IsValid() && gw.Addr.Unmap() == outer.Unmap()
	}
	switch id.Type {
	case IDIPv4, IDIPv6:
		return gw.Addr.IsValid() && IdentityFromAddr(gw.Addr).Matches(id)
	case IDFQDN:
		return gw.FQDN != "" && (Identity{Type: IDFQDN, Data: []byte(gw.FQDN)}).Matches(id)
	}
	return false
}

func (e *Engine) oeAuthorized(sa *ikeSA, pa *pendingAuth, c *oeConn, gws []OEGateway, err error) {
	if sa.authPending != pa || sa.state != stAuthWait {
		return
	}
	m := pa.m
	null := m.Auth.Method == 13
	var gw *OEGateway
	for i := range gws {
		if oeMatches(gws[i], *m.IDi, sa.remote.Addr(), null) && (gws[i].Authenticated || !c.group.RequireDNSSEC) {
			gw = &gws[i]
			break
		}
	}
	if err != nil || gw == nil {
		why := "gateway " + m.IDi.String() + " is not authorized for " + c.pair.remote.String()
		if err != nil {
			why += ": " + err.Error()
		}
		e.oeAuthDone(sa, pa, c, nil, why)
		return
	}
	c.gw = *gw
	c.authenticated = !null && gw.Authenticated
	if null || gw.Key != nil {
		e.oeAuthDone(sa, pa, c, gw.Key, "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.oe.cfg.LookupTimeout)
	c.cancel = cancel
	e.oe.cfg.Lookup.KeyFor(ctx, *gw, func(keys []OEGateway, err error) {
		e.post(func(e *Engine) {
			if sa.authPending != pa || sa.state != stAuthWait {
				return
			}
			// Try each published key (roll-over): the one that verifies.
			for _, k := range keys {
				if k.Key == nil || (c.group.RequireDNSSEC && !k.Authenticated) {
					continue
				}
				if e.verifyAuth(sa, c.peer, m.Auth, m.idiBody, k.Key) == nil {
					c.authenticated = c.authenticated && k.Authenticated
					e.oeAuthDone(sa, pa, c, k.Key, "")
					return
				}
			}
			why := "no key of " + c.gw.Addr.String() + " verifies"
			if err != nil {
				why = "key lookup: " + err.Error()
			}
			e.oeAuthDone(sa, pa, c, nil, why)
		})
	})
}

func (e *Engine) oeAuthDone(sa *ikeSA, pa *pendingAuth, c *oeConn, key crypto.PublicKey, why string) {
	sa.authPending = nil
	pa.cancel()
	sa.deadline = time.Time{}
	sa.state = stInitDone
	if why != "" {
		e.oe.stats.Refused++
		e.keyLookupFailed(sa, pa, why)
		return
	}
	if !c.authenticated {
		e.log.Warn("OE peer is unauthenticated: the tunnel protects against passive listeners only",
			"peer", sa.remote, "remote", c.pair.remote)
	}
	e.finishAuthRequest(sa, pa.m, c.peer, key)
}
