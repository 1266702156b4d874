package main

// ike_glue.go wires the IKEv2 engine (package ike) to the outside: IKE
// datagrams come from and go to the encap sockets (UDP 500/4500, RFC 3948
// marker handled there), negotiated Child SAs become esp.SA pairs and
// protect policies in the ESP loop, the loop's acquire and expire events
// start trap tunnels and rekeys, and config.Tunnel is translated into
// ike.Peer. The daemon runs it as a data-plane hook (daemon.go).

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"swanling/config"
	"swanling/encap"
	"swanling/esp"
	"swanling/hw"
	"swanling/ike"
)

// Start actions of config.Tunnel.Start.
const (
	startStart = "start"
	startTrap  = "trap"
)

// ikeConn is what the glue needs of the outer sockets; *encap.Conn has it.
type ikeConn interface {
	SendIKE(msg []byte, local, remote netip.AddrPort) error
	SetIKEHandler(h encap.IKEHandler)
	SendKeepalive(peer netip.AddrPort) error
}

// espPlane is what the glue needs of the ESP loop; *esp.Loop has it.
type espPlane interface {
	InstallSA(in, out *esp.SA) error
	RemoveSA(spi uint32, dir esp.Direction) error
	SetPolicy(p esp.Policy) error
	RemovePolicy(local, remote netip.Prefix) bool
	ReplaceOutbound(old, new *esp.SA) error
}

// tunnelRoutes adds the routes that send a tunnel's remote selectors into
// the TUN device, and names SA pairs for status; optional.
type tunnelRoutes interface {
	AddTunnelRoute(dst netip.Prefix, local []netip.Prefix) error
	ChildUp(name string, spiIn, spiOut uint32)
	ChildDown(spiIn, spiOut uint32)
	// ESPSource makes ESP to peer leave from local (the address IKE
	// uses); an invalid local gives the choice back to routing.
	ESPSource(peer netip.AddrPort, local netip.Addr)
}

// ikeGlue owns the engine and the translation between it and the data
// plane. Output methods run on the engine goroutine; esp.Events methods
// run on packet goroutines and only queue.
type ikeGlue struct {
	cfg     *config.Config
	log     *Logger
	eng     *ike.Engine
	tunnels map[string]*config.Tunnel
	peers   []ike.Peer

	conn   ikeConn
	plane  espPlane
	routes tunnelRoutes

	mu       sync.Mutex
	children map[uint32]*gluedChild // by inbound SPI
	seq      uint64
}

type gluedChild struct {
	c       ike.ChildSA
	in, out *esp.SA
	seq     uint64 // install order
	active  bool   // the tunnel's policies may point at out
}

// newIKEGlue translates the configuration and builds the engine.
func newIKEGlue(cfg *config.Config, log *Logger) (*ikeGlue, error) {
	g := &ikeGlue{cfg: cfg, log: log, tunnels: map[string]*config.Tunnel{}, children: map[uint32]*gluedChild{}}
	aesFast := hw.Detect().HardwareGCM()
	var key crypto.Signer
	for i := range cfg.Tunnels {
		t := &cfg.Tunnels[i]
		g.tunnels[t.Name] = t
		if t.Auth == config.AuthPubkey && key == nil {
			k, err := ikeLoadPrivateKey(cfg.Local.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("swanling: tunnel %s: %w", t.Name, err)
			}
			key = k
		}
		p, err := peerFromTunnel(cfg, t, key, aesFast)
		if err != nil {
			return nil, fmt.Errorf("swanling: tunnel %s: %w", t.Name, err)
		}
		g.peers = append(g.peers, p)
	}
	eng, err := ike.New(ike.Config{
		Peers:    g.peers,
		IKEPort:  cfg.Listen.IKEPort,
		NATTPort: cfg.Listen.NATTPort,
		Log:      log.With("sub", "ike"),
		Output:   g,
		Timers: ike.Timers{
			RetransmitBase: cfg.Timers.RetransmitBase, RetransmitMax: cfg.Timers.RetransmitMax,
			RetransmitTries: cfg.Timers.RetransmitTries, Keepalive: cfg.Timers.Keepalive,
			DPD: cfg.Timers.DPD, HalfOpenTimeout: cfg.Timers.HalfOpenTimeout,
		},
		Limits: ike.Limits{HalfOpenTotal: cfg.Limits.HalfOpenTotal, HalfOpenPerIP: cfg.Limits.HalfOpenPerIP,
			CookieThreshold: cfg.Limits.CookieThreshold},
	})
	if err != nil {
		return nil, err
	}
	g.eng = eng
	return g, nil
}

// peerFromTunnel translates one configured tunnel.
func peerFromTunnel(cfg *config.Config, t *config.Tunnel, key crypto.Signer, aesFast bool) (ike.Peer, error) {
	p := ike.Peer{Name: t.Name, Auth: t.Auth, LocalTS: t.LocalTS, RemoteTS: t.RemoteTS, Encap: t.Encap, DPD: t.DPD,
		RemotePort: cfg.Listen.IKEPort, Restart: t.Start == startStart}
	if t.Peer != "" && t.Peer != "%any" {
		a, err := netip.ParseAddr(t.Peer)
		if err != nil {
			// A DNS name: resolved once at start.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			as, lerr := lookupPeer(ctx, cfg, t.Peer)
			cancel()
			if lerr != nil || len(as) == 0 {
				return p, fmt.Errorf("cannot resolve peer %s: %v", t.Peer, lerr)
			}
			a = as[0]
		}
		p.Remote = a.Unmap()
	}
	p.Local = localAddrFor(cfg, p.Remote)
	lid := t.LocalID
	if lid == "" {
		lid = cfg.Local.ID
	}
	if lid == "" && p.Local.IsValid() {
		lid = p.Local.String()
	}
	var err error
	if p.LocalID, err = ike.ParseIdentity(lid); err != nil {
		return p, err
	}
	rid := t.RemoteID
	if rid == "" && p.Remote.IsValid() && t.Auth != config.AuthNull {
		rid = p.Remote.String()
	}
	if p.RemoteID, err = ike.ParseIdentity(rid); err != nil {
		return p, err
	}
	switch t.Auth {
	case config.AuthPSK:
		p.PSK = []byte(t.PSK)
	case config.AuthPubkey:
		p.PrivateKey = key
		if p.PeerKey, err = parsePeerPubkey(t.PeerPubkey); err != nil {
			return p, err
		}
	}
	for _, s := range t.IKE {
		pr, err := ike.ParseProposal(ike.ProtoIKE, s)
		if err != nil {
			return p, err
		}
		p.IKE = append(p.IKE, pr)
	}
	if len(p.IKE) == 0 {
		p.IKE = ike.DefaultProposals(ike.ProtoIKE, aesFast)
	}
	for _, s := range t.ESP {
		pr, err := ike.ParseProposal(ike.ProtoESP, s)
		if err != nil {
			return p, err
		}
		p.ESP = append(p.ESP, pr)
	}
	if len(p.ESP) == 0 {
		p.ESP = ike.DefaultProposals(ike.ProtoESP, aesFast)
	}
	r := t.Rekey
	p.Lifetime = ike.Lifetime{SoftTime: r.ChildTime, HardTime: r.LifeTime, SoftBytes: r.ChildBytes, HardBytes: r.LifeBytes,
		SoftPkts: r.ChildPkts, HardPkts: r.LifePkts, IKETime: r.IKETime, Jitter: r.Jitter,
		ReauthTime: r.ReauthTime}
	return p, nil
}

// localAddrFor picks our outer address towards remote: a configured WAN
// address of the same family, else what routing chooses (a UDP "connect"
// sends nothing).
func localAddrFor(cfg *config.Config, remote netip.Addr) netip.Addr {
	for _, a := range cfg.Local.Address {
		if !remote.IsValid() || a.Is4() == remote.Is4() {
			return a
		}
	}
	if !remote.IsValid() {
		return netip.Addr{}
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(remote, 500)))
	if err != nil {
		return netip.Addr{}
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// ikeLoadPrivateKey reads a PEM PKCS#8 private key.
func ikeLoadPrivateKey(path string) (crypto.Signer, error) {
	if path == "" {
		return nil, errors.New("pubkey auth needs local key_file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	der := data
	if b, _ := pem.Decode(data); b != nil {
		der = b.Bytes
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("private key cannot sign")
	}
	return s, nil
}

// parsePeerPubkey reads a peer's public key: a file (PEM or DER
// SubjectPublicKeyInfo) or the base64 SPKI form genkey prints.
func parsePeerPubkey(s string) (crypto.PublicKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("pubkey auth needs peer_pubkey")
	}
	var der []byte
	if data, err := os.ReadFile(s); err == nil {
		der = data
		if b, _ := pem.Decode(data); b != nil {
			der = b.Bytes
		} else if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err == nil {
			der = d
		}
	} else {
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("peer_pubkey is neither a file nor base64: %w", err)
		}
		der = d
	}
	return x509.ParsePKIXPublicKey(der)
}

// attach connects the sockets, the ESP loop and (optionally) routes.
func (g *ikeGlue) attach(conn ikeConn, plane espPlane, routes tunnelRoutes) {
	g.conn, g.plane, g.routes = conn, plane, routes
	conn.SetIKEHandler(func(msg []byte, local, remote netip.AddrPort) {
		g.eng.HandleDatagram(msg, local, remote)
	})
}

// Run runs the engine until ctx ends (then every SA is deleted), after
// setting up trap policies and starting the "start" tunnels.
func (g *ikeGlue) Run(ctx context.Context) error {
	if g.conn == nil || g.plane == nil {
		return errors.New("swanling: IKE not attached to sockets and data plane")
	}
	for _, t := range g.cfg.Tunnels {
		if t.Start == startTrap || t.Start == "" {
			g.setPolicies(&t, esp.Trap, nil)
		}
		if g.routes != nil {
			for _, p := range t.RemoteTS {
				if err := g.routes.AddTunnelRoute(p, t.LocalTS); err != nil {
					g.log.Warn("tunnel route", "tunnel", t.Name, "prefix", p, "err", err)
				}
			}
		}
	}
	done := make(chan error, 1)
	go func() { done <- g.eng.Run(ctx) }()
	go g.watchLocal(ctx)
	for _, t := range g.cfg.Tunnels {
		if t.Start == startStart {
			go func(name string) {
				if err := g.eng.Initiate(name); err != nil {
					g.log.Warn("initiate", "tunnel", name, "err", err)
				}
			}(t.Name)
		}
	}
	return <-done
}

// localCheck is how often the glue asks routing for each tunnel's source
// address, to notice a new WAN address (DHCP, PPPoE reconnect).
const localCheck = 5 * time.Second

// watchLocal re-establishes tunnels whose outer source address changed;
// tunnels with a configured [local] address keep it.
func (g *ikeGlue) watchLocal(ctx context.Context) {
	if len(g.cfg.Local.Address) > 0 {
		return
	}
	last := map[string]netip.Addr{}
	for _, p := range g.peers {
		last[p.Name] = p.Local
	}
	t := time.NewTicker(localCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, p := range g.peers {
			if !p.Remote.IsValid() {
				continue
			}
			a := localAddrFor(g.cfg, p.Remote)
			if a.IsValid() && a != last[p.Name] {
				last[p.Name] = a
				g.eng.SetLocalAddress(p.Name, a)
			}
		}
	}
}

func (g *ikeGlue) setPolicies(t *config.Tunnel, a esp.Action, out *esp.SA) [][2]netip.Prefix {
	var pairs [][2]netip.Prefix
	for _, l := range t.LocalTS {
		for _, r := range t.RemoteTS {
			if l.Addr().Is4() != r.Addr().Is4() {
				continue
			}
			if err := g.plane.SetPolicy(esp.Policy{Local: l, Remote: r, Action: a, SA: out}); err != nil {
				g.log.Warn("policy", "tunnel", t.Name, "err", err)
				continue
			}
			pairs = append(pairs, [2]netip.Prefix{l, r})
		}
	}
	return pairs
}

// SendIKE implements ike.Output.
func (g *ikeGlue) SendIKE(msg []byte, local, remote netip.AddrPort, _ bool) {
	if !local.Addr().IsValid() {
		u := netip.IPv4Unspecified()
		if remote.Addr().Is6() {
			u = netip.IPv6Unspecified()
		}
		local = netip.AddrPortFrom(u, local.Port())
	}
	if err := g.conn.SendIKE(msg, local, remote); err != nil {
		g.log.Debug("send IKE", "to", remote, "err", err)
	}
}

// SendKeepalive implements ike.Output.
func (g *ikeGlue) SendKeepalive(_, remote netip.AddrPort) {
	_ = g.conn.SendKeepalive(remote)
}

// InstallChild implements ike.Output: an inbound and an outbound esp.SA,
// and the tunnel's protect policies (RFC 4301, Section 4.4.1) pointed at
// the outbound one. A Child SA that the peer created to rekey one of ours
// only receives at first: outbound traffic stays on the old SA until the
// old SA is deleted (make-before-break, issue 5).
func (g *ikeGlue) InstallChild(c ike.ChildSA) error {
	suite, err := esp.ParseSuite(c.Suite)
	if err != nil {
		return err
	}
	peer := c.Peer
	if !c.Encap {
		peer = netip.AddrPortFrom(peer.Addr(), 0) // raw ESP
	}
	life := esp.Lifetime{SoftBytes: c.Lifetime.SoftBytes, HardBytes: c.Lifetime.HardBytes,
		SoftPackets: c.Lifetime.SoftPkts, HardPackets: c.Lifetime.HardPkts}
	g.mu.Lock()
	old := g.children[c.SPIIn]
	g.mu.Unlock()
	if old != nil {
		return g.movePeer(old, c, suite, peer, life)
	}
	in, err := esp.NewSA(esp.SAConfig{SPI: c.SPIIn, Dir: esp.Inbound, Suite: suite, Key: c.KeyIn, ESN: c.ESN,
		Peer: peer, Local: c.LocalTS, Remote: c.RemoteTS, Life: life})
	if err != nil {
		return err
	}
	out, err := esp.NewSA(esp.SAConfig{SPI: c.SPIOut, Dir: esp.Outbound, Suite: suite, Key: c.KeyOut, ESN: c.ESN,
		Peer: peer, Local: c.LocalTS, Remote: c.RemoteTS, Life: life})
	if err != nil {
		return err
	}
	if err := g.plane.InstallSA(in, nil); err != nil {
		return err
	}
	g.mu.Lock()
	g.seq++
	gc := &gluedChild{c: c, in: in, out: out, seq: g.seq}
	_, waiting := g.children[c.Rekeys]
	gc.active = !(c.Rekeys != 0 && !c.Initiator && waiting)
	g.children[c.SPIIn] = gc
	g.mu.Unlock()
	if gc.active {
		g.pointPolicies(c.Tunnel, gc)
	}
	if g.routes != nil {
		g.routes.ChildUp(c.Tunnel, c.SPIIn, c.SPIOut)
		if a := c.Local.Addr(); a.IsValid() && !a.IsUnspecified() {
			g.routes.ESPSource(peer, a)
		}
	}
	return nil
}

// movePeer sends an installed Child SA's outbound packets to the peer's
// new address (RFC 7296, Section 2.23: after authenticated traffic from
// there). The outbound SA is rebuilt with the same keys; its sequence
// number jumps ahead of the old one's so that no sequence number, and no
// AEAD nonce, is used twice while packets are still being sealed by the
// old SA during the swap.
func (g *ikeGlue) movePeer(old *gluedChild, c ike.ChildSA, suite esp.Suite, peer netip.AddrPort, life esp.Lifetime) error {
	if old.out.Peer() == peer {
		return nil
	}
	out, err := esp.NewSA(esp.SAConfig{SPI: c.SPIOut, Dir: esp.Outbound, Suite: suite, Key: c.KeyOut, ESN: c.ESN,
		Peer: peer, Local: c.LocalTS, Remote: c.RemoteTS, Life: life})
	if err != nil {
		return err
	}
	out.SetSeq(old.out.Status().Seq + seqSkip)
	if old.active {
		if err := g.plane.ReplaceOutbound(old.out, out); err != nil {
			return err
		}
	}
	g.mu.Lock()
	old.out = out
	old.c = c
	g.mu.Unlock()
	g.log.Info("Child SA follows the peer", "spi_out", fmt.Sprintf("%08x", c.SPIOut), "peer", peer)
	return nil
}

// seqSkip is how far a rebuilt outbound SA's sequence number jumps: more
// packets than can be sealed during the swap.
const seqSkip = 1 << 20

// pointPolicies makes the tunnel's policy for each selector pair of gc
// protect with gc's outbound SA.
func (g *ikeGlue) pointPolicies(tunnel string, gc *gluedChild) {
	for _, l := range gc.c.LocalTS {
		for _, r := range gc.c.RemoteTS {
			if l.Addr().Is4() != r.Addr().Is4() {
				continue
			}
			if err := g.plane.SetPolicy(esp.Policy{Local: l, Remote: r, Action: esp.Protect, SA: gc.out}); err != nil {
				g.log.Warn("policy", "tunnel", tunnel, "err", err)
			}
		}
	}
}

// RemoveChild implements ike.Output. The tunnel's policies move to its
// newest remaining Child SA (activating one that waited for this one to
// go), or go back to trap (trap tunnels, so traffic brings the tunnel up
// again) or away; only then is the outbound SA removed.
func (g *ikeGlue) RemoveChild(c ike.ChildSA) {
	g.mu.Lock()
	gc := g.children[c.SPIIn]
	delete(g.children, c.SPIIn)
	var next *gluedChild
	for _, o := range g.children {
		if o.c.Tunnel != c.Tunnel {
			continue
		}
		if !o.active && o.c.Rekeys == c.SPIIn {
			o.active = true
		}
		if o.active && (next == nil || o.seq > next.seq) {
			next = o
		}
	}
	g.mu.Unlock()
	if gc == nil {
		return
	}
	_ = g.plane.RemoveSA(c.SPIIn, esp.Inbound)
	if next != nil {
		g.pointPolicies(c.Tunnel, next)
	} else {
		t := g.tunnels[c.Tunnel]
		for _, l := range c.LocalTS {
			for _, r := range c.RemoteTS {
				if l.Addr().Is4() != r.Addr().Is4() {
					continue
				}
				if t != nil && (t.Start == startTrap || t.Start == "") {
					_ = g.plane.SetPolicy(esp.Policy{Local: l, Remote: r, Action: esp.Trap})
				} else {
					g.plane.RemovePolicy(l, r)
				}
			}
		}
	}
	_ = g.plane.RemoveSA(c.SPIOut, esp.Outbound)
	if g.routes != nil {
		g.routes.ChildDown(c.SPIIn, c.SPIOut)
		if !g.peerInUse(gc.out.Peer()) {
			g.routes.ESPSource(gc.out.Peer(), netip.Addr{})
		}
	}
}

// peerInUse reports whether a Child SA still sends to peer.
func (g *ikeGlue) peerInUse(peer netip.AddrPort) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, o := range g.children {
		if o.out.Peer() == peer {
			return true
		}
	}
	return false
}

// Acquire implements esp.Events: a packet hit a trap policy. The tunnel
// whose selectors cover it is started.
func (g *ikeGlue) Acquire(src, dst netip.Addr, proto uint8) {
	for _, t := range g.cfg.Tunnels {
		if prefixesContain(t.LocalTS, src) && prefixesContain(t.RemoteTS, dst) {
			g.eng.Acquire(t.Name)
			return
		}
	}
}

// Expire implements esp.Events: a soft lifetime rekeys the Child SA (RFC
// 7296, Section 2.8), a hard one deletes it.
func (g *ikeGlue) Expire(spi uint32, dir esp.Direction, hard bool) {
	g.mu.Lock()
	var spiIn uint32
	for in, gc := range g.children {
		if (dir == esp.Inbound && in == spi) || (dir == esp.Outbound && gc.c.SPIOut == spi) {
			spiIn = in
		}
	}
	g.mu.Unlock()
	if spiIn == 0 {
		return
	}
	go func() {
		var err error
		if hard {
			err = g.eng.DeleteChild(spiIn)
		} else {
			err = g.eng.RekeyChild(spiIn)
		}
		if err != nil {
			g.log.Debug("expire", "spi", spiIn, "hard", hard, "err", err)
		}
	}()
}

func prefixesContain(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ikeStatus converts the engine's snapshot for the control socket; the
// daemon adds the Child SAs with their counters from the data plane.
func (g *ikeGlue) ikeStatus() []IKEStatus {
	now := time.Now()
	var out []IKEStatus
	for _, s := range g.eng.Status() {
		st := IKEStatus{Peer: s.Peer.String(), LocalID: s.LocalID, RemoteID: s.RemoteID,
			Algorithms: s.Algorithms, AgeSeconds: int64(now.Sub(s.Created) / time.Second), State: s.State,
			Generation: s.Generation, RekeyInSeconds: rekeyIn(now, s.RekeyAt)}
		for _, c := range s.Children {
			st.Children = append(st.Children, ChildRekey{SPIIn: c.SPIIn, Generation: c.Generation,
				RekeyInSeconds: rekeyIn(now, c.RekeyAt)})
		}
		out = append(out, st)
	}
	return out
}

// ---- the daemon hook ----

func init() { registerDataplaneHook(runIKE) }

// runIKE runs the IKE engine for the life of the data plane.
func runIKE(ctx context.Context, d *daemon) error {
	if len(d.cfg.Tunnels) == 0 && !oeEnabled(d.cfg) {
		<-ctx.Done()
		return nil
	}
	g, err := newIKEGlue(d.cfg, d.log)
	if err != nil {
		return err
	}
	g.attach(daemonIKEConn{d.ikeTransport(), d}, d.espLoop(), daemonRoutes{d})
	d.setESPEvents(g)
	d.setIKEStatus(g.ikeStatus)
	// One engine serves configured tunnels and OE; a tunnel wins over an
	// OE group for the same destination inside the engine.
	if oeEnabled(d.cfg) {
		o, err := g.enableOE(d)
		if err != nil {
			return err
		}
		defer o.close()
	}
	return g.Run(ctx)
}

type daemonIKEConn struct {
	encap.IKETransport
	d *daemon
}

func (c daemonIKEConn) SendKeepalive(peer netip.AddrPort) error { return c.d.sendKeepalive(peer) }

type daemonRoutes struct{ d *daemon }

func (r daemonRoutes) AddTunnelRoute(dst netip.Prefix, local []netip.Prefix) error {
	return r.d.routeToTunnel(dst, sourceIn(local, dst.Addr().Is4()))
}
func (r daemonRoutes) ChildUp(name string, in, out uint32) { r.d.registerChild(name, in, out) }
func (r daemonRoutes) ChildDown(in, out uint32)            { r.d.unregisterChild(in, out) }
func (r daemonRoutes) ESPSource(peer netip.AddrPort, local netip.Addr) {
	r.d.setESPSource(peer, local)
}
