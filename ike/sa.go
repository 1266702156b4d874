package ike

import (
	"encoding/binary"
	"io"
	"net/netip"
	"time"
)

type saState uint8

const (
	stInitSent    saState = iota // initiator: IKE_SA_INIT request out
	stInitDone                   // responder: IKE_SA_INIT answered, waiting for IKE_AUTH (half-open)
	stAuthSent                   // initiator: IKE_AUTH request out
	stAuthWait                   // waiting for a KeySource answer
	stEstablished                // authenticated
	stDeleting                   // our Delete is out
	stDead
)

func (s saState) String() string {
	return [...]string{"init-sent", "half-open", "auth-sent", "key-lookup", "established", "deleting", "dead"}[s]
}

// ikeSA is one IKE SA and everything that hangs off it.
type ikeSA struct {
	peer       *Peer // nil on a responder before IKE_AUTH
	initiator  bool  // we are the original initiator
	spiI, spiR uint64
	state      saState

	local, remote netip.AddrPort
	natT          bool // IKE on the NAT-T port with the non-ESP marker
	natLocal      bool // we are behind a NAT (RFC 7296, Section 2.23)
	natRemote     bool // the peer is behind a NAT
	encap         bool // UDP-encapsulate ESP

	chosen     Chosen
	keys       *ikeKeys
	ni, nr     []byte
	dh         dhPrivate
	dhGroup    uint16
	cookie     []byte
	initReq    []byte // RealMessage1 (RFC 7296, Section 2.15)
	initResp   []byte // RealMessage2
	remoteID   Identity
	sigHash    bool // peer sent SIGNATURE_HASH_ALGORITHMS (RFC 7427)
	peerHashes []uint16

	// Message-ID window of 1 (RFC 7296, Section 2.3).
	nextID     uint32    // ID of our next request
	out        *request  // our outstanding request
	queue      []queued  // requests waiting for the window
	peerNextID uint32    // ID we expect on the peer's next request
	lastResp   []byte    // our last response, resent on a retransmitted request
	lastRespID uint32    // the Message ID it answered
	lastRecv   time.Time // last authenticated message from the peer
	lastSent   time.Time // for keepalives

	created  time.Time
	deadline time.Time // half-open expiry or key-lookup expiry

	children []*childSA
	// authPending holds a parked IKE_AUTH while the KeySource answers.
	authPending *pendingAuth
	// pendingChild is the Child SA the initiator proposed in IKE_AUTH.
	pendingChild *childSA

	// Rekeying (RFC 7296, Section 2.18; issue 5).
	rekeyAt     time.Time // when to rekey the IKE SA
	retryAt     time.Time // when to retry a refused IKE SA rekey
	rekeyTries  int       // refused IKE SA rekeys in a row
	rekeyingIKE bool      // our IKE SA rekey is in flight
	peerRekeySA *ikeSA    // the peer's replacement, made while ours was in flight
	childOps    int       // our CREATE_CHILD_SA / Child SA Deletes in flight
	restart     bool      // set the tunnel up again when this SA is destroyed
	recovery    bool      // set up by restart: its failure is reported plainly (issue 5)
	generation  int       // rekeys since the tunnel's first IKE SA
	reauthAt    time.Time // when to reauthenticate (original initiator only)
	reauthOf    *ikeSA    // the SA this one reauthenticates
}

// childSA is one Child SA pair.
type childSA struct {
	peer              *Peer
	spiIn, spiOut     uint32
	chosen            Chosen
	keyIn, keyOut     []byte
	integIn, integOut []byte
	localTS, remoteTS []Selector
	created           time.Time
	installed         bool
	initiator         bool
	// Initiator side of a CREATE_CHILD_SA: the nonce and KE we sent.
	ni []byte
	dh dhPrivate
	nr []byte // the responder's nonce, kept for the collision rule

	rekeys     uint32    // SPIIn of the Child SA this one replaces
	rekeyAt    time.Time // soft lifetime: rekey
	hardAt     time.Time // hard lifetime: delete
	retryAt    time.Time // retry of a refused rekey
	rekeyTries int       // refused rekeys in a row
	rekeying   *childSA  // our replacement in flight or done
	peerRekey  *childSA  // the peer's replacement (a collision if rekeying is set too)
	deleting   bool      // our Delete is out
	generation int       // rekeys since the first Child SA of its line
	life       Lifetime  // as handed to the data plane: soft counts with margin and jitter
	graceAt    time.Time // rekeyed by the peer: drop if its Delete has not come by then
	dropAt     time.Time // deleted after our rekey: inbound drains until then
}

// request is our outstanding request (RFC 7296, Section 2.1).
type request struct {
	id        uint32
	exch      uint8
	data      []byte
	natT      bool
	tries     int
	next      time.Time
	onResp    func(sa *ikeSA, m *msg)
	onTimeout func(sa *ikeSA)
}

// queued is a request waiting for the window to open.
type queued struct {
	exch   uint8
	build  func(sa *ikeSA) *msg
	onResp func(sa *ikeSA, m *msg)
}

func (sa *ikeSA) localSPI() uint64 {
	if sa.initiator {
		return sa.spiI
	}
	return sa.spiR
}

func (sa *ikeSA) localID() Identity {
	if sa.peer == nil {
		return Identity{}
	}
	return sa.peer.LocalID
}

func (e *Engine) randomSPI() uint64 {
	var b [8]byte
	for {
		if _, err := io.ReadFull(e.rand, b[:]); err != nil {
			return 0
		}
		s := binary.BigEndian.Uint64(b[:])
		if s != 0 && e.sas[s] == nil {
			return s
		}
	}
}

// randomChildSPI picks an inbound ESP SPI not in use; 1-255 are reserved
// (RFC 4303, Section 2.1).
func (e *Engine) randomChildSPI() uint32 {
	var b [4]byte
	for {
		if _, err := io.ReadFull(e.rand, b[:]); err != nil {
			return 0
		}
		s := binary.BigEndian.Uint32(b[:])
		if s > 255 && e.childIn[s] == nil {
			return s
		}
	}
}

func (e *Engine) nonce() []byte {
	// RFC 7296, Section 2.10: at least 128 bits and at least half the PRF
	// key size; 32 octets covers every PRF we offer.
	n := make([]byte, 32)
	if _, err := io.ReadFull(e.rand, n); err != nil {
		return nil
	}
	return n
}

// send transmits an IKE message on the SA's current path.
func (e *Engine) send(sa *ikeSA, data []byte, natT bool) {
	local, remote := sa.local, sa.remote
	if natT {
		local = netip.AddrPortFrom(local.Addr(), e.cfg.NATTPort)
		remote = netip.AddrPortFrom(remote.Addr(), remote.Port())
	}
	sa.lastSent = e.clock.Now()
	e.out.SendIKE(data, local, remote, natT)
}

// sendRequest sends a request now if the window is open, or queues it.
func (e *Engine) sendRequest(sa *ikeSA, exch uint8, build func(sa *ikeSA) *msg, onResp func(sa *ikeSA, m *msg)) {
	if sa.out != nil || sa.state == stDead {
		sa.queue = append(sa.queue, queued{exch, build, onResp})
		return
	}
	m := build(sa)
	if m == nil {
		return
	}
	m.Exch = exch
	m.ID = sa.nextID
	m.SPIi, m.SPIr = sa.spiI, sa.spiR
	m.Initiator = sa.initiator
	data, err := e.encode(sa, m)
	if err != nil {
		e.log.Error("encode request", "err", err)
		return
	}
	sa.nextID++
	now := e.clock.Now()
	sa.out = &request{id: m.ID, exch: exch, data: data, natT: sa.natT, next: now.Add(e.cfg.Timers.RetransmitBase), onResp: onResp}
	e.send(sa, data, sa.natT)
}

// pump sends the next queued request once the window is free.
func (e *Engine) pump(sa *ikeSA) {
	for sa.out == nil && len(sa.queue) > 0 && sa.state != stDead {
		q := sa.queue[0]
		sa.queue = sa.queue[1:]
		e.sendRequest(sa, q.exch, q.build, q.onResp)
	}
}

// retransmitDelay is base * 2^tries, capped (RFC 7296, Section 2.1).
func (e *Engine) retransmitDelay(tries int) time.Duration {
	d := e.cfg.Timers.RetransmitBase
	for i := 0; i < tries && d < e.cfg.Timers.RetransmitMax; i++ {
		d *= 2
	}
	return min(d, e.cfg.Timers.RetransmitMax)
}

// cookieLifetime is how long a cookie secret is used; the previous one
// stays valid for as long again.
const cookieLifetime = 10 * time.Minute

// nextDeadline is the earliest timer of any SA.
func (e *Engine) nextDeadline() (time.Time, bool) {
	var best time.Time
	ok := false
	take := func(t time.Time) {
		if !t.IsZero() && (!ok || t.Before(best)) {
			best, ok = t, true
		}
	}
	take(e.cookieRotate)
	if t, ok := e.oeNext(); ok {
		take(t)
	}
	for _, sa := range e.sas {
		if sa.out != nil {
			take(sa.out.next)
		}
		take(sa.deadline)
		if sa.state == stEstablished {
			take(e.dpdDue(sa))
			take(e.keepaliveDue(sa))
			take(sa.rekeyAt)
			take(sa.retryAt)
			take(sa.reauthAt)
			for _, c := range sa.children {
				take(c.rekeyAt)
				take(c.hardAt)
				take(c.retryAt)
			}
		}
	}
	return best, ok
}

func (e *Engine) dpdInterval(sa *ikeSA) time.Duration {
	if sa.peer != nil && sa.peer.DPD != 0 {
		return sa.peer.DPD
	}
	return e.cfg.Timers.DPD
}

// dpdDue is when a liveness check falls due: DPD after silence, and only
// when no request is outstanding (the retransmissions already check).
func (e *Engine) dpdDue(sa *ikeSA) time.Time {
	d := e.dpdInterval(sa)
	if d <= 0 || sa.out != nil {
		return time.Time{}
	}
	return sa.lastRecv.Add(d)
}

// keepaliveDue: only the side behind a NAT sends keepalives (RFC 3948,
// Section 4), and only when it has sent nothing else for a while.
func (e *Engine) keepaliveDue(sa *ikeSA) time.Time {
	if !sa.natLocal || e.cfg.Timers.Keepalive <= 0 {
		return time.Time{}
	}
	return sa.lastSent.Add(e.cfg.Timers.Keepalive)
}

// tick runs every timer that has fallen due.
func (e *Engine) tick() {
	now := e.clock.Now()
	if !now.Before(e.cookieRotate) {
		if e.cookieRotate.IsZero() || e.cookie.rotate(e.rand) == nil {
			e.cookieRotate = now.Add(cookieLifetime)
		}
	}
	for _, sa := range e.sas {
		if sa.state == stDead {
			continue
		}
		if r := sa.out; r != nil && !now.Before(r.next) {
			if r.tries >= e.cfg.Timers.RetransmitTries {
				// RFC 7296, Section 2.1: give up and delete the SA
				// without sending anything.
				e.log.Info("peer not responding", "peer", sa.remote, "exchange", r.exch, "id", r.id)
				if r.onTimeout != nil {
					r.onTimeout(sa)
				}
				// Issue 5: an unanswered request ends the IKE SA and
				// recovery starts at once.
				sa.restart = sa.state == stEstablished || sa.state == stDeleting && sa.restart
				e.destroy(sa, "retransmission limit")
				continue
			}
			r.tries++
			r.next = now.Add(e.retransmitDelay(r.tries))
			e.stats.Retransmits++
			e.send(sa, r.data, r.natT)
		}
		if !sa.deadline.IsZero() && !now.Before(sa.deadline) {
			switch sa.state {
			case stInitDone:
				e.destroy(sa, "half-open timeout")
			case stAuthWait:
				e.authLookupTimeout(sa)
			default:
				sa.deadline = time.Time{}
			}
			continue
		}
		if sa.state == stEstablished {
			e.rekeyTimers(sa, now)
			if sa.state != stEstablished {
				continue
			}
			if t := e.dpdDue(sa); !t.IsZero() && !now.Before(t) {
				e.sendDPD(sa)
			}
			if t := e.keepaliveDue(sa); !t.IsZero() && !now.Before(t) {
				sa.lastSent = now
				e.out.SendKeepalive(netip.AddrPortFrom(sa.local.Addr(), e.cfg.NATTPort), sa.remote)
			}
		}
	}
	for spi, sa := range e.sas {
		if sa.state == stDead {
			delete(e.sas, spi)
		}
	}
	e.oeTick(now)
}

// destroy forgets an IKE SA and removes its Child SAs from the data plane.
func (e *Engine) destroy(sa *ikeSA, why string) {
	if sa.state == stDead {
		return
	}
	if sa.state == stEstablished || sa.state == stDeleting {
		e.stats.IKEDown++
	}
	e.log.Info("IKE SA down", "tunnel", peerName(sa.peer), "peer", sa.remote, "reason", why)
	if sa.recovery && sa.state != stEstablished && sa.state != stDeleting {
		// Issue 5: say plainly why the tunnel stays down.
		what := "peer refusing"
		if why == "retransmission limit" {
			what = "peer unreachable"
		}
		e.log.Warn("tunnel recovery failed: "+what, "tunnel", peerName(sa.peer), "peer", sa.remote, "reason", why)
	}
	for _, c := range sa.children {
		e.removeChild(c)
	}
	sa.children = nil
	if sa.pendingChild != nil {
		delete(e.childIn, sa.pendingChild.spiIn)
		sa.pendingChild = nil
	}
	if !sa.initiator {
		if e.halfOpen[halfKey{sa.spiI, sa.remote}] == sa {
			delete(e.halfOpen, halfKey{sa.spiI, sa.remote})
		}
		if sa.state == stInitDone {
			e.halfDone(sa)
		}
	}
	if old := sa.reauthOf; old != nil && old.state == stEstablished {
		// The reauthentication failed: the old SA carries on and tries
		// again later.
		old.reauthAt = e.clock.Now().Add(retryBase << 2)
	}
	sa.state = stDead
	sa.out = nil
	sa.queue = nil
	sa.keys = nil
	delete(e.sas, sa.localSPI())
	if sa.peer != nil && sa.peer.oe != nil && e.oe != nil {
		e.oeSADown(sa, why)
	}
	if sa.restart && sa.peer != nil && sa.peer.Restart && !e.stopping && e.saForPeer(sa.peer.Name) == nil {
		e.log.Info("setting the tunnel up again", "tunnel", sa.peer.Name)
		if err := e.initiate(sa.peer.Name); err != nil {
			e.log.Warn("restart failed", "tunnel", sa.peer.Name, "err", err)
		}
		for _, n := range e.sas {
			if n.peer == sa.peer && n.state == stInitSent {
				n.recovery = true
			}
		}
	}
}

// halfDone releases a responder's half-open accounting.
func (e *Engine) halfDone(sa *ikeSA) {
	a := sa.remote.Addr()
	if n := e.halfPerIP[a]; n <= 1 {
		delete(e.halfPerIP, a)
	} else {
		e.halfPerIP[a] = n - 1
	}
}

func (e *Engine) halfOpenTotal() int {
	n := 0
	for _, v := range e.halfPerIP {
		n += v
	}
	return n
}

func (e *Engine) removeChild(c *childSA) {
	if c.installed {
		e.out.RemoveChild(e.childData(c, nil))
		c.installed = false
		e.stats.ChildDown++
	}
	delete(e.childIn, c.spiIn)
}

func peerName(p *Peer) string {
	if p == nil {
		return ""
	}
	return p.Name
}
