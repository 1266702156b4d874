package ike

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"io"
	"net/netip"
	"sync/atomic"
	"time"
)

// Auth methods of a Peer.
const (
	AuthPSK    = "psk"
	AuthPubkey = "pubkey"
	AuthNull   = "null"
)

// Peer is one configured tunnel as the engine sees it. The daemon
// translates config.Tunnel into this; the engine never reads files.
type Peer struct {
	Name       string
	Remote     netip.Addr // invalid: any peer (responder only)
	RemotePort uint16     // default Config.IKEPort
	Local      netip.Addr // invalid: the address the datagram arrived on / routing
	LocalID    Identity
	RemoteID   Identity // zero: any identity (authenticated by key or PSK)
	Auth       string   // AuthPSK, AuthPubkey, AuthNull
	PSK        []byte
	PrivateKey crypto.Signer    // AuthPubkey: our key (ed25519, *ecdsa, *rsa)
	PeerKey    crypto.PublicKey // AuthPubkey: the peer's raw public key; nil asks Config.KeySource
	LocalTS    []netip.Prefix
	RemoteTS   []netip.Prefix
	IKE        []Proposal
	ESP        []Proposal
	Encap      bool          // always UDP-encapsulate ESP (fake NAT detection, RFC 7296, Section 2.23)
	DPD        time.Duration // 0: Config.Timers.DPD
	Lifetime   Lifetime
	// Restart sets the tunnel up again when its IKE SA dies (the peer
	// stopped answering, or refused rekeying four times): for tunnels
	// that are started, not trapped.
	Restart bool

	oe *oeConn // set on the peers OE makes (oe.go)
}

// Lifetime is handed to the data plane with every Child SA (and shapes the
// rekey of issue 5). Zero means unlimited.
type Lifetime struct {
	SoftTime, HardTime   time.Duration
	SoftBytes, HardBytes uint64
	SoftPkts, HardPkts   uint64
	IKETime              time.Duration // IKE SA rekey
	ReauthTime           time.Duration // reauthentication, make-before-break (0: never)
	Jitter               time.Duration // random amount taken off the soft times
}

// Timers are the protocol timers; tests set them short.
type Timers struct {
	RetransmitBase   time.Duration // first retransmission, doubled each time (RFC 7296, Section 2.1)
	RetransmitMax    time.Duration // cap of the doubling
	RetransmitTries  int           // retransmissions before giving up
	Keepalive        time.Duration // NAT keepalive (RFC 3948, Section 4)
	DPD              time.Duration // liveness check after this much silence (Section 2.4); 0 off
	HalfOpenTimeout  time.Duration // responder half-open SA lifetime
	KeyLookupTimeout time.Duration // how long to wait for a KeySource answer
	RekeyGrace       time.Duration // a Child SA the peer rekeyed goes after this if its Delete does not come (issue 5)
}

// Limits bound the responder's half-open state (RFC 7296, Section 2.6).
type Limits struct {
	HalfOpenTotal   int
	HalfOpenPerIP   int
	CookieThreshold int
}

// Clock is the time source; tests inject a fake one.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// ChildSA is a negotiated Child SA handed to the data plane as plain data.
// Keys are the encryption key followed by the salt for AEADs (RFC 4106,
// RFC 7634); Integ keys are set only for CBC suites.
type ChildSA struct {
	Tunnel            string
	SPIIn, SPIOut     uint32
	Suite             string // "aes128gcm16", "aes256gcm16", "chacha20poly1305", "aes128-sha256"...
	KeyIn, KeyOut     []byte
	IntegIn, IntegOut []byte
	ESN               bool
	LocalTS, RemoteTS []netip.Prefix
	Local, Peer       netip.AddrPort // outer addresses; Peer's port is where ESP-in-UDP goes
	Encap             bool           // UDP-encapsulate (RFC 3948)
	Lifetime          Lifetime
	Initiator         bool   // we initiated the exchange that created it
	Rekeys            uint32 // SPIIn of the Child SA this one replaces, 0 if none
}

// Output is what the engine asks its owner to do. Calls come from the
// engine's goroutine and must not block for long.
type Output interface {
	// SendIKE sends an IKE message from local to remote; nonESPMarker asks
	// for the 4-octet zero marker of RFC 3948 (port 4500).
	SendIKE(msg []byte, local, remote netip.AddrPort, nonESPMarker bool)
	// SendKeepalive sends a NAT keepalive (RFC 3948, Section 2.3).
	SendKeepalive(local, remote netip.AddrPort)
	// InstallChild installs (or, for an SPIIn already installed, updates the
	// outer addresses of) a Child SA in the data plane.
	InstallChild(c ChildSA) error
	// RemoveChild removes the Child SA with this inbound SPI.
	RemoveChild(c ChildSA)
}

// KeySource answers "which public key belongs to this identity", for
// example from DNS for opportunistic encryption. Lookup must not block:
// it answers later by calling done, from any goroutine.
type KeySource interface {
	LookupKey(ctx context.Context, id Identity, remote netip.Addr, done func(crypto.PublicKey, error))
}

// Config configures an Engine.
type Config struct {
	Peers     []Peer
	Timers    Timers
	Limits    Limits
	IKEPort   uint16 // default 500
	NATTPort  uint16 // default 4500
	Clock     Clock
	Rand      io.Reader
	Log       Logger // default: discard
	KeySource KeySource
	Output    Output
}

// Stats counts what the engine dropped and did.
type Stats struct {
	Dropped        uint64 // malformed, unexpected or unauthenticated messages
	BadSyntax      uint64
	Retransmits    uint64
	CachedReplies  uint64
	CookiesSent    uint64
	HalfOpenLimit  uint64
	IKEUp, IKEDown uint64
	ChildUp        uint64
	ChildDown      uint64
}

// ErrClosed is returned by calls on an engine that has stopped.
var ErrClosed = errors.New("ike: engine stopped")

// event is everything that changes SA state; only the engine goroutine
// runs events.
type event func(e *Engine)

// Engine is the IKEv2 key manager.
type Engine struct {
	cfg    Config
	clock  Clock
	rand   io.Reader
	log    Logger
	out    Output
	events chan event
	done   chan struct{}

	peers map[string]*Peer
	sas   map[uint64]*ikeSA // by our IKE SPI
	// halfOpen finds a responder SA by the initiator's SPI and address
	// so that a retransmitted IKE_SA_INIT gets the same answer.
	halfOpen  map[halfKey]*ikeSA
	halfPerIP map[netip.Addr]int
	childIn   map[uint32]*childSA // by inbound SPI
	cookie    cookieSecret
	// cookieRotate is when the cookie secret changes next (RFC 7296,
	// Section 2.6: "frequently").
	cookieRotate time.Time
	stats        Stats
	stopping     bool
	// queueDrops counts datagrams dropped because the event queue was
	// full; it is written from other goroutines.
	queueDrops atomic.Uint64
	oe         *oeState // opportunistic encryption, nil when off (oe.go)
}

type halfKey struct {
	spiI   uint64
	remote netip.AddrPort
}

// New makes an engine. It does nothing until Run (or, in tests, events are
// run directly).
func New(cfg Config) (*Engine, error) {
	if cfg.Output == nil {
		return nil, errors.New("ike: no output")
	}
	// The engine owns its copy of the peers (it fills defaults and
	// follows address changes in them).
	cfg.Peers = append([]Peer(nil), cfg.Peers...)
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Log == nil {
		cfg.Log = nopLogger{}
	}
	if cfg.IKEPort == 0 {
		cfg.IKEPort = 500
	}
	if cfg.NATTPort == 0 {
		cfg.NATTPort = 4500
	}
	t := &cfg.Timers
	setDur(&t.RetransmitBase, time.Second)
	setDur(&t.RetransmitMax, 30*time.Second)
	if t.RetransmitTries == 0 {
		t.RetransmitTries = 5
	}
	setDur(&t.Keepalive, 20*time.Second)
	setDur(&t.HalfOpenTimeout, 30*time.Second)
	setDur(&t.KeyLookupTimeout, 10*time.Second)
	setDur(&t.RekeyGrace, DefaultRekeyGrace)
	l := &cfg.Limits
	if l.HalfOpenTotal == 0 {
		l.HalfOpenTotal = 1024
	}
	if l.HalfOpenPerIP == 0 {
		l.HalfOpenPerIP = 16
	}
	if l.CookieThreshold == 0 {
		l.CookieThreshold = 64
	}
	e := &Engine{
		cfg: cfg, clock: cfg.Clock, rand: cfg.Rand, log: cfg.Log, out: cfg.Output,
		events: make(chan event, 256), done: make(chan struct{}),
		peers: map[string]*Peer{}, sas: map[uint64]*ikeSA{}, halfOpen: map[halfKey]*ikeSA{},
		halfPerIP: map[netip.Addr]int{}, childIn: map[uint32]*childSA{},
	}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		if err := e.checkPeer(p); err != nil {
			return nil, err
		}
		e.peers[p.Name] = p
	}
	if err := e.cookie.rotate(e.rand); err != nil {
		return nil, err
	}
	return e, nil
}

func setDur(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (e *Engine) checkPeer(p *Peer) error {
	if p.Name == "" {
		return errors.New("ike: peer without name")
	}
	if _, dup := e.peers[p.Name]; dup {
		return errors.New("ike: duplicate peer " + p.Name)
	}
	if p.RemotePort == 0 {
		p.RemotePort = e.cfg.IKEPort
	}
	switch p.Auth {
	case AuthPSK:
		if len(p.PSK) == 0 {
			return errors.New("ike: peer " + p.Name + ": psk auth without key")
		}
	case AuthPubkey:
		if p.PrivateKey == nil {
			return errors.New("ike: peer " + p.Name + ": pubkey auth without private key")
		}
		if p.PeerKey == nil && e.cfg.KeySource == nil {
			return errors.New("ike: peer " + p.Name + ": pubkey auth without peer key or key source")
		}
	case AuthNull:
		// RFC 7619, Section 3: we present ID_NULL; the peer's identity is
		// unauthenticated whatever it says, so any is accepted.
		p.LocalID = Identity{Type: IDNull}
		p.RemoteID = Identity{}
	default:
		return errors.New("ike: peer " + p.Name + ": unknown auth " + p.Auth)
	}
	if len(p.IKE) == 0 {
		p.IKE = DefaultProposals(ProtoIKE, true)
	}
	if len(p.ESP) == 0 {
		p.ESP = DefaultProposals(ProtoESP, true)
	}
	if len(p.LocalTS) == 0 || len(p.RemoteTS) == 0 {
		return errors.New("ike: peer " + p.Name + ": no traffic selectors")
	}
	return nil
}

// enqueue hands an event to the engine goroutine.
func (e *Engine) enqueue(ev event) error {
	select {
	case e.events <- ev:
		return nil
	case <-e.done:
		return ErrClosed
	}
}

// call runs f on the engine goroutine and waits for it. It returns
// ErrClosed when the engine stops first (f may then not have run).
func (e *Engine) call(f func(e *Engine)) error {
	select {
	case <-e.done:
		return ErrClosed
	default:
	}
	finished := make(chan struct{})
	if err := e.enqueue(func(e *Engine) { f(e); close(finished) }); err != nil {
		return err
	}
	select {
	case <-finished:
		return nil
	case <-e.done:
		select {
		case <-finished:
			return nil
		default:
			return ErrClosed
		}
	}
}

// Run owns all SA state until ctx ends; then it deletes every SA (RFC 7296,
// Section 1.4.1), waits briefly for the Deletes to go out and returns.
func (e *Engine) Run(ctx context.Context) error {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		e.resetTimer(timer)
		select {
		case ev := <-e.events:
			ev(e)
		case <-timer.C:
			e.tick()
		case <-ctx.Done():
			e.shutdown()
			return nil
		}
	}
}

func (e *Engine) resetTimer(t *time.Timer) {
	next, ok := e.nextDeadline()
	d := time.Hour
	if ok {
		d = next.Sub(e.clock.Now())
		if d < 0 {
			d = 0
		}
	}
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	t.Reset(d)
}

// HandleDatagram queues a received UDP payload: an IKE message, with or
// without the non-ESP marker (local's port tells whether it came on the
// NAT-T port). It never blocks: when the queue is full the datagram is
// dropped (the peer retransmits), so a flood cannot stall the sockets.
func (e *Engine) HandleDatagram(b []byte, local, remote netip.AddrPort) {
	c := append([]byte(nil), b...)
	select {
	case e.events <- func(e *Engine) { e.receive(c, local, remote) }:
	default:
		e.queueDrops.Add(1)
	}
}

// Initiate starts the named tunnel if it has no IKE SA yet.
func (e *Engine) Initiate(name string) error {
	var err error
	if cerr := e.call(func(e *Engine) {
		if e.saForPeer(name) == nil {
			err = e.initiate(name)
		}
	}); cerr != nil {
		return cerr
	}
	return err
}

// Acquire reports a packet that matched the tunnel's policy with no SA
// (a trap); it starts the tunnel unless a negotiation is under way.
func (e *Engine) Acquire(name string) {
	ev := func(e *Engine) {
		if e.saForPeer(name) == nil {
			if err := e.initiate(name); err != nil {
				e.log.Warn("acquire failed", "tunnel", name, "err", err)
			}
		}
	}
	// Called on the packet path: never block it.
	select {
	case e.events <- ev:
	default:
		go func() { _ = e.enqueue(ev) }()
	}
}

// Terminate deletes the named tunnel's IKE SA (and its Child SAs).
func (e *Engine) Terminate(name string) error {
	var err error
	if cerr := e.call(func(e *Engine) { err = e.terminate(name) }); cerr != nil {
		return cerr
	}
	return err
}

func (e *Engine) terminate(name string) error {
	sa := e.saForPeer(name)
	if sa == nil {
		return errors.New("ike: no SA for " + name)
	}
	e.deleteIKE(sa, "terminated")
	return nil
}

// Stats returns a copy of the counters.
func (e *Engine) Stats() Stats {
	var s Stats
	_ = e.call(func(e *Engine) { s = e.stats })
	s.Dropped += e.queueDrops.Load()
	return s
}

// Status returns a snapshot of every SA.
func (e *Engine) Status() []IKEStatus {
	var st []IKEStatus
	_ = e.call(func(e *Engine) { st = e.status() })
	return st
}

// IKEStatus describes one IKE SA and its Child SAs.
type IKEStatus struct {
	Tunnel     string
	Peer       netip.AddrPort
	Local      netip.AddrPort
	LocalID    string
	RemoteID   string
	Algorithms string
	State      string
	Initiator  bool
	SPIi, SPIr uint64
	Created    time.Time
	NAT        bool
	Generation int       // 0 for the first IKE SA, +1 per rekey
	RekeyAt    time.Time // next rekey (zero: none planned)
	Children   []ChildStatus
}

// ChildStatus describes one Child SA.
type ChildStatus struct {
	SPIIn, SPIOut     uint32
	Suite             string
	ESN               bool
	LocalTS, RemoteTS []netip.Prefix
	Created           time.Time
	Generation        int       // 0 for the first Child SA, +1 per rekey
	RekeyAt           time.Time // next rekey by time (zero: none planned)
}

func (e *Engine) status() []IKEStatus {
	var out []IKEStatus
	for _, sa := range e.sas {
		s := IKEStatus{Peer: sa.remote, Local: sa.local, State: sa.state.String(), Initiator: sa.initiator,
			SPIi: sa.spiI, SPIr: sa.spiR, Created: sa.created, NAT: sa.natT, LocalID: sa.localID().String(),
			RemoteID: sa.remoteID.String(), Algorithms: ikeSuiteName(sa.chosen), Generation: sa.generation,
			RekeyAt: firstOf(sa.rekeyAt, sa.retryAt)}
		if sa.peer != nil {
			s.Tunnel = sa.peer.Name
		}
		for _, c := range sa.children {
			s.Children = append(s.Children, ChildStatus{SPIIn: c.spiIn, SPIOut: c.spiOut, Suite: suiteName(c.chosen),
				ESN: c.chosen.ESN, LocalTS: Prefixes(c.localTS), RemoteTS: Prefixes(c.remoteTS), Created: c.created,
				Generation: c.generation, RekeyAt: firstOf(c.rekeyAt, c.retryAt)})
		}
		out = append(out, s)
	}
	return out
}

// firstOf is the earlier of two optional times.
func firstOf(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// shutdown sends a Delete for every established IKE SA (which deletes its
// Child SAs, RFC 7296, Section 1.4.1) and removes everything from the data
// plane. The Deletes are not retransmitted: the daemon is going away.
func (e *Engine) shutdown() {
	e.stopping = true
	for _, sa := range e.sas {
		if sa.state == stEstablished {
			e.sendDeleteIKEOnce(sa)
		}
		e.destroy(sa, "shutdown")
	}
}

func (e *Engine) saForPeer(name string) *ikeSA {
	for _, sa := range e.sas {
		if sa.peer != nil && sa.peer.Name == name && sa.state != stDead {
			return sa
		}
	}
	return nil
}

// SetLocalAddress tells the engine that the tunnel's own outer address is
// now a (the WAN address changed). IKE SAs bound to the old address cannot
// work any more: they are dropped and the tunnel is set up again from the
// new address (issue 4, peer lifecycle).
func (e *Engine) SetLocalAddress(name string, a netip.Addr) {
	_ = e.enqueue(func(e *Engine) { e.setLocalAddress(name, a) })
}

func (e *Engine) setLocalAddress(name string, a netip.Addr) {
	p := e.peers[name]
	if p == nil || p.Local == a {
		return
	}
	e.log.Info("local address changed", "tunnel", name, "from", p.Local, "to", a)
	p.Local = a
	var restart bool
	for _, sa := range e.sas {
		if sa.peer == p && sa.local.Addr() != a {
			restart = restart || sa.state == stEstablished || sa.initiator
			// The old path is gone: no Delete can reach the peer from it.
			e.destroy(sa, "local address changed")
		}
	}
	if restart && p.Remote.IsValid() && e.saForPeer(name) == nil {
		if err := e.initiate(name); err != nil {
			e.log.Warn("re-establishing from the new address", "tunnel", name, "err", err)
		}
	}
}
