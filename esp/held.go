package esp

import (
	"net/netip"
	"sync"
)

// heldSet keeps at most one packet per destination while an SA is being
// negotiated. The slots and their buffers are allocated once; a linear scan
// is fine for the few dozen slots and happens only on trapped packets.
type heldSet struct {
	mu    sync.Mutex
	slots []heldSlot
	count int
	send  [1]Packet
}

type heldSlot struct {
	used  bool
	info  innerInfo
	buf   []byte // Headroom + MTU + Tailroom
	n     int
	since int64
}

func (h *heldSet) init(n, size int) {
	h.slots = make([]heldSlot, n)
	for i := range h.slots {
		h.slots[i].buf = make([]byte, size)
	}
}

// hold stores a copy of pkt for its destination and reports an acquire for
// a destination not held yet. A newer packet replaces the held one (the
// displaced packet is counted as DropHeld).
func (l *Loop) hold(pkt []byte, ii innerInfo, now int64) {
	h := &l.held
	h.mu.Lock()
	free := -1
	for i := range h.slots {
		s := &h.slots[i]
		if !s.used {
			if free < 0 {
				free = i
			}
			continue
		}
		if s.info.dst == ii.dst {
			if Headroom+len(pkt)+Tailroom <= len(s.buf) {
				s.n = copy(s.buf[Headroom:], pkt)
				s.info = ii
			}
			// Still unresolved after AcquireRetry: remind the key manager.
			again := now-s.since >= int64(l.cfg.AcquireRetry)
			if again {
				s.since = now
			}
			h.mu.Unlock()
			l.drops.add(DropHeld)
			if ev := l.cfg.Events; again && ev != nil {
				ev.Acquire(ii.src, ii.dst, ii.proto)
			}
			return
		}
	}
	if free < 0 || Headroom+len(pkt)+Tailroom > len(h.slots[free].buf) {
		h.mu.Unlock()
		l.drops.add(DropHeld)
		return
	}
	s := &h.slots[free]
	s.used = true
	s.info = ii
	s.n = copy(s.buf[Headroom:], pkt)
	s.since = now
	h.count++
	h.mu.Unlock()
	if ev := l.cfg.Events; ev != nil {
		ev.Acquire(ii.src, ii.dst, ii.proto)
	}
}

// HeldAction says what ReleaseHeld does with a held packet.
type HeldAction uint8

// Held packet actions.
const (
	HeldSend   HeldAction = iota + 1 // seal with the SA the policy now names (dropped if none)
	HeldBypass                       // hand to Config.Bypass (clear text)
	HeldDrop                         // discard
)

// ReleaseHeld resolves the packet held for dst, if any, with action, and
// reports whether there was one.
func (l *Loop) ReleaseHeld(dst netip.Addr, action HeldAction) bool {
	h := &l.held
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.slots {
		s := &h.slots[i]
		if s.used && s.info.dst == dst {
			l.releaseSlot(s, action)
			return true
		}
	}
	return false
}

// Held returns the destinations with a held packet.
func (l *Loop) Held() []netip.Addr {
	h := &l.held
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []netip.Addr
	for i := range h.slots {
		if h.slots[i].used {
			out = append(out, h.slots[i].info.dst)
		}
	}
	return out
}

// resolveHeld re-evaluates every held packet against the current policies:
// protected by an SA now: sent; pass: bypassed; drop or no policy: dropped;
// still trapped: kept. It runs after every policy or SA change.
func (l *Loop) resolveHeld() {
	h := &l.held
	pt := l.pol.Load()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count == 0 {
		return
	}
	for i := range h.slots {
		s := &h.slots[i]
		if !s.used {
			continue
		}
		p := pt.lookup(s.info.src, s.info.dst)
		switch {
		case p == nil:
			l.releaseSlot(s, HeldDrop)
		case p.Action == Protect && p.SA != nil:
			l.releaseSlot(s, HeldSend)
		case p.Action == Pass:
			l.releaseSlot(s, HeldBypass)
		case p.Action == Drop:
			l.releaseSlot(s, HeldDrop)
		}
	}
}

// releaseSlot empties s; the caller holds h.mu.
func (l *Loop) releaseSlot(s *heldSlot, action HeldAction) {
	h := &l.held
	s.used = false
	h.count--
	pkt := s.buf[Headroom : Headroom+s.n]
	switch action {
	case HeldSend:
		var sa *SA
		if p := l.pol.Load().lookup(s.info.src, s.info.dst); p != nil && p.Action == Protect {
			sa = p.SA
		}
		if sa == nil {
			l.drops.add(DropNoPolicy)
			return
		}
		if s.n > int(sa.mtu.Load()) && (s.info.v6 && s.n > icmp6MaxLen || !s.info.v6 && pkt[6]&0x40 != 0) {
			sa.drops.add(DropTooBig)
			return
		}
		if l.cfg.MSSClamp && s.info.proto == protoTCP {
			clampMSS(pkt, mssFor(int(sa.mtu.Load()), s.info.v6)) // a held packet is often a SYN
		}
		nh := byte(protoIPIP)
		if s.info.v6 {
			nh = protoIPv6
		}
		seq, err := sa.reserve(s.n, Clock())
		if err != nil {
			sa.drops.add(reasonOf(err))
			return
		}
		m := sa.seal(s.buf, s.n, nh, seq)
		peer := sa.Peer()
		h.send[0] = Packet{Buf: s.buf, Off: SealOffset, Len: m, Peer: peer}
		t := l.cfg.UDP
		if peer.Port() == 0 {
			t = l.cfg.Raw
		}
		l.sendMu.Lock()
		l.send(t, h.send[:])
		l.sendMu.Unlock()
		h.send[0] = Packet{}
	case HeldBypass:
		if l.cfg.Bypass != nil {
			l.cfg.Bypass(pkt)
		} else {
			l.drops.add(DropPolicy)
		}
	default:
		l.drops.add(DropPolicy)
	}
}
