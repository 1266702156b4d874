package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"swanling/config"
	"swanling/encap"
	"swanling/esp"
	"swanling/tun"
)

// The daemon wires the data plane together:
//
//	config -> TUN device (name, MTU, routes for the remote selectors into the
//	          tunnel table, the "not fwmark" policy rule)
//	       -> encap sockets (UDP 500/4500, raw ESP), all carrying the fwmark
//	       -> the esp.Loop between them, with the manual SAs installed
//
// and leaves a hook for the IKE engine (ike_glue.go registers one with
// registerDataplaneHook), which installs negotiated SAs through the same
// loop. Everything is set up in Run and torn down before Run returns.

// rulePriority is the priority of the policy rule "not fwmark M lookup T".
// It must come before the main table's rule (32766).
const rulePriority = 5157

// defaultOuterMTU works behind PPPoE (1500 - 8).
const defaultOuterMTU = 1492

// daemon owns the running data plane and key manager. main.go (commands,
// signals, control socket) drives it through these four methods only.
type daemon struct {
	cfg *config.Config
	log *Logger

	mu       sync.Mutex
	started  time.Time
	dev      *tun.Device
	nl       *tun.Netlink
	conn     *encap.Conn
	loop     *esp.Loop
	mtu      int
	routes   []tun.Route
	rules    []tun.Rule
	children []childRef    // SA pairs with a name, for Status
	manual   []manualPair  // installed manual SAs
	events   forwardEvents // esp events, forwarded to the IKE engine once it is there
	ikeStat  atomic.Pointer[func() []IKEStatus]
	oeStat   atomic.Pointer[func() *OEStatus]
}

// childRef names an SA pair for Status.
type childRef struct {
	name          string
	spiIn, spiOut uint32
}

type manualPair struct {
	cfg     config.ManualSA
	in, out *esp.SA
}

func newDaemon(cfg *config.Config, log *Logger) (*daemon, error) {
	for _, m := range cfg.Manual {
		// RFC 4106, Section 2: manual keys with GCM repeat IVs across
		// restarts; the config must say these are throw-away test keys.
		if !m.Insecure {
			return nil, fmt.Errorf("swanling: manual SA %q: manual keys need insecure = true (RFC 4106, Section 2)", m.Name)
		}
	}
	return &daemon{cfg: cfg, log: log}, nil
}

// Run sets up the data plane, runs until ctx is cancelled, then deletes
// every SA, route and rule it made and returns.
func (d *daemon) Run(ctx context.Context) error {
	if err := d.setup(); err != nil {
		d.teardown()
		return err
	}
	loopDone := make(chan error, 1)
	go func() { loopDone <- d.loop.Run() }()

	hookCtx, cancelHooks := context.WithCancel(ctx)
	var hooks sync.WaitGroup
	hookErr := make(chan error, len(dataplaneHooks))
	for _, h := range dataplaneHooks {
		hooks.Add(1)
		go func() {
			defer hooks.Done()
			if err := h(hookCtx, d); err != nil {
				hookErr <- err
			}
		}()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-loopDone:
		if err != nil {
			err = fmt.Errorf("swanling: data plane stopped: %w", err)
		}
		loopDone = nil
	case err = <-hookErr:
	}
	cancelHooks()
	hooks.Wait()
	d.loop.Close()
	if loopDone != nil {
		<-loopDone
	}
	d.teardown()
	return err
}

func (d *daemon) setup() error {
	cfg := d.cfg
	ln := cfg.Listen
	name := ln.Interface
	if name == "" {
		name = "swl0"
	}
	outer := ln.OuterMTU
	if outer == 0 {
		outer = defaultOuterMTU
	}
	mtu := ln.MTU
	if mtu == 0 {
		// The worst case: outer IPv6 and UDP encapsulation. The loop
		// derives each SA's own limit from the outer MTU and answers
		// larger packets with ICMP, so a larger Listen.MTU also works.
		mtu = esp.TunnelMTU(outer, true, true)
	}

	nl, err := tun.DialNetlink()
	if err != nil {
		return err
	}
	dev, err := tun.Open(name)
	if err != nil {
		nl.Close()
		return err
	}
	d.mu.Lock()
	d.nl, d.dev, d.mtu, d.started = nl, dev, mtu, time.Now()
	d.mu.Unlock()
	if err := nl.NoLinkLocal(dev.Index()); err != nil {
		d.log.Warn("IPv6 link-local address left on", "interface", dev.Name(), "err", err)
	}
	if err := dev.SetMTU(nl, mtu); err != nil {
		return err
	}

	conn, err := encap.Listen(encap.Config{
		Addresses: ln.Addresses,
		IKEPort:   ln.IKEPort,
		NATTPort:  ln.NATTPort,
		RawESP:    true,
		FwMark:    ln.FwMark,
	})
	if err != nil {
		// Raw sockets may be refused (no CAP_NET_RAW): UDP alone still
		// serves every peer that encapsulates.
		var err2 error
		conn, err2 = encap.Listen(encap.Config{
			Addresses: ln.Addresses, IKEPort: ln.IKEPort, NATTPort: ln.NATTPort, FwMark: ln.FwMark,
		})
		if err2 != nil {
			return err2
		}
		d.log.Warn("raw ESP sockets unavailable; only ESP in UDP", "err", err)
	}
	d.mu.Lock()
	d.conn = conn
	d.mu.Unlock()
	v4gso, v6gso := conn.GSO()
	d.log.Info("data plane", "interface", dev.Name(), "mtu", mtu, "outer_mtu", outer, "tun_offload", dev.Offload(),
		"fwmark", fmt.Sprintf("%#x", ln.FwMark), "table", ln.Table,
		"udp_gso_v4", v4gso, "udp_gso_v6", v6gso, "socket_buffers", conn.SocketBufferBytes())

	t := espTransport{conn}
	loop, err := esp.NewLoop(esp.Config{
		Device:   dev,
		UDP:      t,
		Raw:      t,
		Events:   &d.events,
		OuterMTU: outer,
		MSSClamp: ln.MSSClamp,
		// OE: a held packet whose destination falls back to clear
		// leaves on the marked raw socket, outside the tunnel table.
		Bypass:  bypassPacket,
		MaxHeld: cfg.OE.MaxHeld,
	})
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.loop = loop
	d.mu.Unlock()

	// Marked packets (our own IKE, ESP and DNS sockets) skip the tunnel
	// table, so they can never be routed back into the TUN device.
	for _, v6 := range []bool{false, true} {
		r := tun.Rule{IPv6: v6, Priority: rulePriority, Mark: ln.FwMark, Invert: true, Table: ln.Table}
		if err := nl.AddRule(r); err != nil {
			return err
		}
		d.mu.Lock()
		d.rules = append(d.rules, r)
		d.mu.Unlock()
	}

	for _, m := range cfg.Manual {
		if err := d.addManual(m); err != nil {
			return err
		}
	}
	return nil
}

func (d *daemon) addManual(m config.ManualSA) error {
	d.log.Warn("manual SA with insecure test keys: never use manual keys in production (RFC 4106, Section 2)",
		"sa", m.Name, "peer", m.Peer.String(), "algorithm", m.Algorithm)
	in, out, err := d.loop.AddManual(esp.ManualSA{
		SPIIn:     m.SPIIn,
		SPIOut:    m.SPIOut,
		Algorithm: m.Algorithm,
		KeyIn:     m.KeyIn,
		KeyOut:    m.KeyOut,
		ESN:       m.ESN,
		Local:     m.LocalTS,
		Remote:    m.RemoteTS,
		Peer:      m.Peer,
	})
	if err != nil {
		return fmt.Errorf("swanling: manual SA %q: %w", m.Name, err)
	}
	if m.Local.IsValid() {
		d.conn.SetSource(m.Peer, m.Local)
	}
	d.mu.Lock()
	d.manual = append(d.manual, manualPair{cfg: m, in: in, out: out})
	d.children = append(d.children, childRef{m.Name, m.SPIIn, m.SPIOut})
	d.mu.Unlock()
	for _, dst := range m.RemoteTS {
		if err := d.routeToTunnel(dst, sourceIn(m.LocalTS, dst.Addr().Is4())); err != nil {
			return fmt.Errorf("swanling: manual SA %q: %w", m.Name, err)
		}
	}
	return nil
}

func (d *daemon) removeManual(name string) {
	d.mu.Lock()
	i := slices.IndexFunc(d.manual, func(p manualPair) bool { return p.cfg.Name == name })
	if i < 0 {
		d.mu.Unlock()
		return
	}
	p := d.manual[i]
	d.manual = slices.Delete(d.manual, i, i+1)
	d.children = slices.DeleteFunc(d.children, func(c childRef) bool { return c.name == name })
	d.mu.Unlock()
	for _, l := range p.cfg.LocalTS {
		for _, r := range p.cfg.RemoteTS {
			if l.Addr().Is4() == r.Addr().Is4() {
				d.loop.RemovePolicy(l, r)
			}
		}
	}
	d.loop.RemoveSA(p.cfg.SPIIn, esp.Inbound)
	d.loop.RemoveSA(p.cfg.SPIOut, esp.Outbound)
	if p.cfg.Local.IsValid() {
		d.conn.SetSource(p.cfg.Peer, netip.Addr{})
	}
	for _, dst := range p.cfg.RemoteTS {
		d.unrouteTunnel(dst)
	}
}

// sourceIn picks the preferred source for routes into the tunnel: an
// address of this host inside the local selectors, so that traffic the
// gateway itself sends matches the SA. None: the kernel chooses.
func sourceIn(local []netip.Prefix, v4 bool) netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	for _, p := range local {
		if p.Addr().Is4() != v4 {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if ok && p.Contains(ip.Unmap()) {
				return ip.Unmap()
			}
		}
	}
	return netip.Addr{}
}

// routeToTunnel sends dst into the TUN device through the tunnel table,
// with src as preferred source if valid.
func (d *daemon) routeToTunnel(dst netip.Prefix, src netip.Addr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := tun.Route{Dst: dst.Masked(), Index: d.dev.Index(), Table: d.cfg.Listen.Table, Src: src}
	if err := d.nl.AddRoute(r); err != nil {
		return err
	}
	if !slices.ContainsFunc(d.routes, func(x tun.Route) bool { return x.Dst == r.Dst }) {
		d.routes = append(d.routes, r)
	}
	return nil
}

// unrouteTunnel removes the tunnel route for dst.
func (d *daemon) unrouteTunnel(dst netip.Prefix) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.routes, func(x tun.Route) bool { return x.Dst == dst.Masked() })
	if i < 0 {
		return
	}
	if err := d.nl.DelRoute(d.routes[i]); err != nil {
		d.log.Warn("route removal failed", "dst", dst.String(), "err", err)
	}
	d.routes = slices.Delete(d.routes, i, i+1)
}

// teardown removes what setup made. Routes through the device go with it
// when it closes; rules live on and must be deleted.
func (d *daemon) teardown() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loop != nil {
		d.loop.Close() // closes the device and the sockets; idempotent
	} else {
		if d.conn != nil {
			d.conn.Close()
		}
		if d.dev != nil {
			d.dev.Close()
		}
	}
	if d.nl != nil {
		for _, r := range d.rules {
			if err := d.nl.DelRule(r); err != nil {
				d.log.Warn("rule removal failed", "err", err)
			}
		}
		d.nl.Close()
	}
	d.rules, d.routes, d.manual, d.children = nil, nil, nil, nil
}

// Reload applies a new, already validated configuration without touching the
// SAs of tunnels it leaves unchanged. Manual SAs are compared by name:
// removed or changed ones are taken down, new or changed ones installed.
// Listen settings (interface, ports, marks, MTU) need a restart.
func (d *daemon) Reload(cfg *config.Config) error {
	for _, m := range cfg.Manual {
		if !m.Insecure {
			return fmt.Errorf("swanling: manual SA %q: manual keys need insecure = true (RFC 4106, Section 2)", m.Name)
		}
	}
	d.mu.Lock()
	running := d.loop != nil
	old := d.cfg
	d.mu.Unlock()
	if !running {
		d.mu.Lock()
		d.cfg = cfg
		d.mu.Unlock()
		return nil
	}
	if !listenEqual(old.Listen, cfg.Listen) {
		return errors.New("swanling: [listen] changed: restart the daemon to apply it")
	}
	byName := func(ms []config.ManualSA, name string) (config.ManualSA, bool) {
		i := slices.IndexFunc(ms, func(m config.ManualSA) bool { return m.Name == name })
		if i < 0 {
			return config.ManualSA{}, false
		}
		return ms[i], true
	}
	for _, m := range old.Manual {
		if n, ok := byName(cfg.Manual, m.Name); !ok || !manualEqual(m, n) {
			d.removeManual(m.Name)
		}
	}
	for _, m := range cfg.Manual {
		if o, ok := byName(old.Manual, m.Name); ok && manualEqual(o, m) {
			continue
		}
		if err := d.addManual(m); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.cfg = cfg
	d.mu.Unlock()
	for _, h := range reloadHooks {
		if err := h(cfg); err != nil {
			return err
		}
	}
	return nil
}

// A reloadHook sees every configuration Reload accepts while the data
// plane runs (after the manual SAs are updated); the IKE glue registers one
// to apply changed tunnels. An error is reported as a failed reload.
type reloadHook func(cfg *config.Config) error

var reloadHooks []reloadHook

// registerReloadHook adds h; call it from an init function.
func registerReloadHook(h reloadHook) { reloadHooks = append(reloadHooks, h) }

func listenEqual(a, b config.Listen) bool {
	return slices.Equal(a.Addresses, b.Addresses) && a.IKEPort == b.IKEPort && a.NATTPort == b.NATTPort &&
		a.TCPPort == b.TCPPort && a.Interface == b.Interface && a.MTU == b.MTU && a.OuterMTU == b.OuterMTU &&
		a.FwMark == b.FwMark && a.Table == b.Table && a.MSSClamp == b.MSSClamp
}

func manualEqual(a, b config.ManualSA) bool {
	return a.Peer == b.Peer && a.Local == b.Local && a.SPIIn == b.SPIIn && a.SPIOut == b.SPIOut &&
		a.Algorithm == b.Algorithm && string(a.KeyIn) == string(b.KeyIn) && string(a.KeyOut) == string(b.KeyOut) &&
		a.ESN == b.ESN && slices.Equal(a.LocalTS, b.LocalTS) && slices.Equal(a.RemoteTS, b.RemoteTS)
}

// Status is what `swanling status` prints; it is encoded as JSON on the
// control socket.
type Status struct {
	IKE       []IKEStatus      `json:"ike_sas"`
	Child     []ChildStatus    `json:"child_sas"`
	Dataplane *DataplaneStatus `json:"dataplane,omitempty"`
	OE        *OEStatus        `json:"oe,omitempty"` // oe_glue.go
}

// IKEStatus describes one IKE SA.
type IKEStatus struct {
	Peer       string `json:"peer"`
	LocalID    string `json:"local_id"`
	RemoteID   string `json:"remote_id"`
	Algorithms string `json:"algorithms"`
	AgeSeconds int64  `json:"age_seconds"`
	State      string `json:"state"`
	// Generation counts rekeys: 0 for the first IKE SA (issue 5).
	Generation int `json:"generation"`
	// RekeyInSeconds is the time left until the next rekey or
	// reauthentication; -1 when none is planned.
	RekeyInSeconds int64 `json:"rekey_in_seconds"`
	// Children carries the engine's rekey data of this IKE SA's Child
	// SAs; Status copies it into the matching ChildStatus rows.
	Children []ChildRekey `json:"-"`
}

// ChildRekey is the rekey state the IKE engine keeps for one Child SA.
type ChildRekey struct {
	SPIIn          uint32
	Generation     int
	RekeyInSeconds int64 // -1: no rekey by time planned
}

// ChildStatus describes one Child SA.
type ChildStatus struct {
	Tunnel     string            `json:"tunnel"`
	Peer       string            `json:"peer"`
	SPIIn      string            `json:"spi_in"`
	SPIOut     string            `json:"spi_out"`
	Algorithms string            `json:"algorithms"`
	AgeSeconds int64             `json:"age_seconds"`
	BytesIn    uint64            `json:"bytes_in"`
	BytesOut   uint64            `json:"bytes_out"`
	PacketsIn  uint64            `json:"packets_in"`
	PacketsOut uint64            `json:"packets_out"`
	Drops      map[string]uint64 `json:"drops,omitempty"`
	// Generation counts rekeys: 0 for the first Child SA (issue 5).
	Generation int `json:"generation"`
	// RekeyInSeconds is the time left until the next rekey by time; -1
	// when none is planned or unknown (manual SAs).
	RekeyInSeconds int64 `json:"rekey_in_seconds"`
}

// DataplaneStatus is the state of the TUN device, the sockets and the loop.
type DataplaneStatus struct {
	Interface         string            `json:"interface"`
	MTU               int               `json:"mtu"`
	RxPackets         uint64            `json:"rx_packets"` // ESP packets received
	TxPackets         uint64            `json:"tx_packets"` // ESP packets sent
	Policies          int               `json:"policies"`
	Held              int               `json:"held"`
	Drops             map[string]uint64 `json:"drops,omitempty"` // loop, socket and device drops
	SocketBufferBytes int               `json:"socket_buffer_bytes"`
	UDPGSO            bool              `json:"udp_gso"`
	UDPGSOSends       uint64            `json:"udp_gso_sends"` // sendmmsg messages carrying several packets
	TUNOffload        bool              `json:"tun_offload"`   // TSO/USO on the TUN device
	TUNSegmented      uint64            `json:"tun_segmented"` // super-packets read and cut up
	TUNCoalesced      uint64            `json:"tun_coalesced"` // super-packets written from coalesced segments
}

// Status returns a snapshot for the control socket.
func (d *daemon) Status() Status {
	d.mu.Lock()
	loop, conn, dev, children := d.loop, d.conn, d.dev, slices.Clone(d.children)
	d.mu.Unlock()
	var st Status
	if f := d.ikeStat.Load(); f != nil {
		st.IKE = (*f)()
	}
	if f := d.oeStat.Load(); f != nil {
		st.OE = (*f)()
	}
	if loop == nil {
		return st
	}
	ls := loop.Status()
	now := esp.Clock()
	find := func(spi uint32, dir esp.Direction) *esp.SAStatus {
		for i := range ls.SAs {
			if ls.SAs[i].SPI == spi && ls.SAs[i].Dir == dir {
				return &ls.SAs[i]
			}
		}
		return nil
	}
	rekey := map[uint32]ChildRekey{}
	for _, s := range st.IKE {
		for _, c := range s.Children {
			rekey[c.SPIIn] = c
		}
	}
	used := map[*esp.SAStatus]bool{}
	add := func(name string, in, out *esp.SAStatus) {
		c := ChildStatus{Tunnel: name, RekeyInSeconds: -1}
		var created int64
		for _, s := range []*esp.SAStatus{in, out} {
			if s == nil {
				continue
			}
			used[s] = true
			c.Peer = s.Peer.String()
			c.Algorithms = s.Suite.String()
			if s.ESN {
				c.Algorithms += "-esn"
			}
			if created == 0 || s.Created < created {
				created = s.Created
			}
			for k, v := range s.Drops {
				if c.Drops == nil {
					c.Drops = map[string]uint64{}
				}
				c.Drops[s.Dir.String()+"_"+k] += v
			}
		}
		if in != nil {
			if r, ok := rekey[in.SPI]; ok {
				c.Generation, c.RekeyInSeconds = r.Generation, r.RekeyInSeconds
			}
			c.SPIIn = fmt.Sprintf("%08x", in.SPI)
			c.BytesIn, c.PacketsIn = in.Bytes, in.Packets
		}
		if out != nil {
			c.SPIOut = fmt.Sprintf("%08x", out.SPI)
			c.BytesOut, c.PacketsOut = out.Bytes, out.Packets
		}
		c.AgeSeconds = (now - created) / int64(time.Second)
		st.Child = append(st.Child, c)
	}
	for _, c := range children {
		add(c.name, find(c.spiIn, esp.Inbound), find(c.spiOut, esp.Outbound))
	}
	for i := range ls.SAs {
		if s := &ls.SAs[i]; !used[s] {
			if s.Dir == esp.Inbound {
				add("", s, nil)
			} else {
				add("", nil, s)
			}
		}
	}
	dp := &DataplaneStatus{
		Interface: dev.Name(), MTU: dev.MTU(),
		RxPackets: ls.RxPackets, TxPackets: ls.TxPackets,
		Policies: ls.Policies, Held: ls.Held,
		Drops:             map[string]uint64{},
		SocketBufferBytes: conn.SocketBufferBytes(),
	}
	dp.UDPGSO, _ = conn.GSO()
	dp.UDPGSOSends = conn.Counters.GSOSends.Load()
	dp.TUNOffload = dev.Offload()
	dp.TUNSegmented = dev.Counters.Segmented.Load()
	dp.TUNCoalesced = dev.Counters.Coalesced.Load()
	for k, v := range ls.Drops {
		dp.Drops[k] += v
	}
	cc := &conn.Counters
	for k, v := range map[string]uint64{
		"socket_invalid":    cc.DropInvalid.Load(),
		"socket_truncated":  cc.DropTruncated.Load(),
		"socket_no_handler": cc.DropNoHandler.Load(),
		"socket_no_socket":  cc.DropNoSocket.Load(),
		"socket_send":       cc.DropSend.Load(),
		"tun_read_too_big":  dev.Counters.ReadTooBig.Load(),
		"tun_write_error":   dev.Counters.WriteError.Load(),
		"tun_read_bad":      dev.Counters.ReadBad.Load(),
	} {
		if v != 0 {
			dp.Drops[k] = v
		}
	}
	st.Dataplane = dp
	return st
}

// ---- the hook for the IKE engine ----

// A dataplaneHook runs for the life of the data plane: Run starts every
// registered hook once the TUN device, the sockets and the ESP loop are up,
// cancels ctx at shutdown and waits for the hooks to return before it tears
// the data plane down. A hook that returns an error stops the daemon.
//
// ike_glue.go registers the IKE engine from an init function. Through the
// daemon it reaches:
//   - d.ikeTransport(): send IKE messages from port 500 or 4500 (marker
//     added) and SetIKEHandler to receive them (data, local, remote);
//   - d.sendKeepalive(peer): NAT keepalives, on the engine's timer;
//   - d.setESPSource(peer, local): ESP to peer leaves from local (the
//     address IKE uses), on gateways with several addresses;
//   - d.espLoop(): InstallSA, SetPolicy, ReplaceOutbound, RemoveSA,
//     ReleaseHeld, Lookup (esp.NewSA builds SAs from negotiated keys);
//   - d.setESPEvents(ev): acquire and expire events from the loop;
//   - d.routeToTunnel / d.unrouteTunnel: routes into the tunnel table;
//   - d.registerChild / d.unregisterChild: names of SA pairs for Status;
//   - d.setIKEStatus(f): the IKE SAs Status reports.
type dataplaneHook func(ctx context.Context, d *daemon) error

var dataplaneHooks []dataplaneHook

// registerDataplaneHook adds h; call it from an init function.
func registerDataplaneHook(h dataplaneHook) { dataplaneHooks = append(dataplaneHooks, h) }

func (d *daemon) ikeTransport() encap.IKETransport { return d.conn }
func (d *daemon) espLoop() *esp.Loop               { return d.loop }

func (d *daemon) sendKeepalive(peer netip.AddrPort) error { return d.conn.SendKeepalive(peer) }

func (d *daemon) setESPEvents(ev esp.Events) { d.events.set(ev) }

func (d *daemon) setESPSource(peer netip.AddrPort, local netip.Addr) { d.conn.SetSource(peer, local) }

func (d *daemon) setIKEStatus(f func() []IKEStatus) { d.ikeStat.Store(&f) }

func (d *daemon) setOEStatus(f func() *OEStatus) { d.oeStat.Store(&f) }

func (d *daemon) registerChild(name string, spiIn, spiOut uint32) {
	d.mu.Lock()
	d.children = append(d.children, childRef{name, spiIn, spiOut})
	d.mu.Unlock()
}

func (d *daemon) unregisterChild(spiIn, spiOut uint32) {
	d.mu.Lock()
	d.children = slices.DeleteFunc(d.children, func(c childRef) bool { return c.spiIn == spiIn && c.spiOut == spiOut })
	d.mu.Unlock()
}

// forwardEvents passes the loop's events to whoever set a receiver; until
// then (and with manual keys only) they are only recorded in SA state.
type forwardEvents struct {
	to atomic.Pointer[esp.Events]
}

func (f *forwardEvents) set(ev esp.Events) { f.to.Store(&ev) }

func (f *forwardEvents) Acquire(src, dst netip.Addr, proto uint8) {
	if p := f.to.Load(); p != nil {
		(*p).Acquire(src, dst, proto)
	}
}

func (f *forwardEvents) Expire(spi uint32, dir esp.Direction, hard bool) {
	if p := f.to.Load(); p != nil {
		(*p).Expire(spi, dir, hard)
	}
}

// ---- encap.Conn as esp.Transport ----

// encap may not import esp, so encap.Packet mirrors esp.Packet. This
// conversion compiles only while the two structs are identical, field for
// field, which makes the slice reinterpretation below safe.
var _ = encap.Packet(esp.Packet{})

func asEncap(p []esp.Packet) []encap.Packet {
	return unsafe.Slice((*encap.Packet)(unsafe.Pointer(unsafe.SliceData(p))), len(p))
}

// espTransport adapts an encap.Conn to esp.Transport without copying.
type espTransport struct{ c *encap.Conn }

func (t espTransport) Recv(p []esp.Packet) (int, error) { return t.c.Recv(asEncap(p)) }
func (t espTransport) Send(p []esp.Packet) (int, error) { return t.c.Send(asEncap(p)) }
func (t espTransport) BatchSize() int                   { return t.c.BatchSize() }
func (t espTransport) Close() error                     { return t.c.Close() }

// rekeyIn is the whole seconds from now until at, for the RekeyInSeconds
// fields: -1 when at is zero (no rekey planned), 0 when it is past.
func rekeyIn(now, at time.Time) int64 {
	if at.IsZero() {
		return -1
	}
	return max(0, int64(at.Sub(now)/time.Second))
}
