package esp

import (
	"errors"
	"net/netip"
	"slices"
)

var (
	errSADir     = errors.New("esp: InstallSA wants an inbound and an outbound SA")
	errSPIZero   = errors.New("esp: SPI 0 and 1-255 are reserved (RFC 4303, Section 2.1)")
	errPolicy    = errors.New("esp: policy prefixes invalid or of different families")
	errAction    = errors.New("esp: policy action invalid")
	errPolicySA  = errors.New("esp: a protect policy needs an outbound SA")
	errNotFound  = errors.New("esp: no such SA")
	errNotLoaded = errors.New("esp: SA is not installed")
)

// saMTU derives an SA's tunnel MTU from the outer MTU and its encapsulation.
func (l *Loop) saMTU(sa *SA) int32 {
	p := sa.Peer()
	return int32(TunnelMTU(l.cfg.OuterMTU, p.Addr().Is6() && !p.Addr().Is4In6(), p.Port() != 0))
}

func (l *Loop) adopt(sa *SA) {
	k := saKey{sa.spi, sa.dir}
	if l.sas[k] == sa {
		return
	}
	sa.sink = l.cfg.Events
	sa.mtu.Store(l.saMTU(sa))
	l.sas[k] = sa
}

// InstallSA installs an SA pair; either may be nil. The inbound SA goes into
// the SPI table at once (replacing an SA with the same SPI); an inbound SA
// with another SPI keeps working until RemoveSA, which is the rekey overlap.
// The outbound SA is used by the policies that name it (SetPolicy,
// ReplaceOutbound). Held packets are re-evaluated afterwards.
func (l *Loop) InstallSA(in, out *SA) error {
	if (in != nil && in.dir != Inbound) || (out != nil && out.dir != Outbound) {
		return errSADir
	}
	if in != nil && in.spi < 256 {
		// RFC 4303, Section 2.1: 1-255 are reserved by IANA, 0 is local only.
		return errSPIZero
	}
	l.mu.Lock()
	if in != nil {
		if old := l.spis.lookup(in.spi); old != nil {
			delete(l.sas, saKey{old.spi, Inbound})
		}
		l.adopt(in)
		l.spis.update(func(m map[uint32]*SA) { m[in.spi] = in })
	}
	if out != nil {
		l.adopt(out)
	}
	l.mu.Unlock()
	l.resolveHeld()
	return nil
}

// ReplaceOutbound makes every policy that uses old use new instead, in one
// atomic snapshot swap, and forgets old. This is the outbound half of a rekey.
func (l *Loop) ReplaceOutbound(old, new *SA) error {
	if old == nil || new == nil || old.dir != Outbound || new.dir != Outbound {
		return errSADir
	}
	l.mu.Lock()
	if l.sas[saKey{old.spi, Outbound}] != old {
		l.mu.Unlock()
		return errNotLoaded
	}
	delete(l.sas, saKey{old.spi, Outbound})
	l.adopt(new)
	all := slices.Clone(l.pol.Load().all)
	for i := range all {
		if all[i].SA == old {
			all[i].SA = new
		}
	}
	l.pol.Store(buildPolicyTable(all))
	l.mu.Unlock()
	l.resolveHeld()
	return nil
}

// RemoveSA removes an SA. An inbound SA leaves the SPI table; an outbound
// SA is taken out of the policies that used it, which then trap.
func (l *Loop) RemoveSA(spi uint32, dir Direction) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	sa := l.sas[saKey{spi, dir}]
	if sa == nil {
		return errNotFound
	}
	delete(l.sas, saKey{spi, dir})
	if dir == Inbound {
		l.spis.update(func(m map[uint32]*SA) {
			if m[spi] == sa {
				delete(m, spi)
			}
		})
		return nil
	}
	all := slices.Clone(l.pol.Load().all)
	for i := range all {
		if all[i].SA == sa {
			all[i].SA = nil
		}
	}
	l.pol.Store(buildPolicyTable(all))
	return nil
}

// SetPeer changes the outer peer address of an installed SA, for instance
// when the peer's NAT mapping changed (RFC 7296, Section 2.23) or MOBIKE
// moved it (RFC 4555), and derives its tunnel MTU again.
func (l *Loop) SetPeer(sa *SA, peer netip.AddrPort) {
	p := peer
	sa.peer.Store(&p)
	sa.mtu.Store(l.saMTU(sa))
}

// Lookup returns the installed SA with that SPI and direction, or nil.
func (l *Loop) Lookup(spi uint32, dir Direction) *SA {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sas[saKey{spi, dir}]
}

// SetPolicy adds p, or replaces the policy with the same (Local, Remote),
// and then re-evaluates held packets (so installing the SA's protect policy
// releases the packet that triggered the acquire). A protect policy's SA is
// installed (InstallSA) if it is not yet.
func (l *Loop) SetPolicy(p Policy) error {
	if !p.Local.IsValid() || !p.Remote.IsValid() || p.Local.Addr().Is4() != p.Remote.Addr().Is4() {
		return errPolicy
	}
	if p.Action < Protect || p.Action > Drop {
		return errAction
	}
	if p.SA != nil && (p.SA.dir != Outbound || p.Action != Protect) {
		return errPolicySA
	}
	p.Local, p.Remote = p.Local.Masked(), p.Remote.Masked()
	l.mu.Lock()
	if p.SA != nil && l.sas[saKey{p.SA.spi, Outbound}] != p.SA {
		l.adopt(p.SA)
	}
	all := slices.Clone(l.pol.Load().all)
	i := slices.IndexFunc(all, func(q Policy) bool { return q.Local == p.Local && q.Remote == p.Remote })
	if i >= 0 {
		all[i] = p
	} else {
		all = append(all, p)
	}
	l.pol.Store(buildPolicyTable(all))
	l.mu.Unlock()
	l.resolveHeld()
	return nil
}

// RemovePolicy removes the policy for (local, remote) and reports whether
// there was one. Held packets are re-evaluated.
func (l *Loop) RemovePolicy(local, remote netip.Prefix) bool {
	local, remote = local.Masked(), remote.Masked()
	l.mu.Lock()
	all := slices.Clone(l.pol.Load().all)
	n := len(all)
	all = slices.DeleteFunc(all, func(q Policy) bool { return q.Local == local && q.Remote == remote })
	changed := len(all) != n
	if changed {
		l.pol.Store(buildPolicyTable(all))
	}
	l.mu.Unlock()
	if changed {
		l.resolveHeld()
	}
	return changed
}

// Policies returns a copy of the current policies.
func (l *Loop) Policies() []Policy {
	return slices.Clone(l.pol.Load().all)
}

// LookupPolicy returns the policy an outbound packet from src to dst would
// match (false if none).
func (l *Loop) LookupPolicy(src, dst netip.Addr) (Policy, bool) {
	if p := l.pol.Load().lookup(src, dst); p != nil {
		return *p, true
	}
	return Policy{}, false
}

// ManualSA describes a manually keyed SA pair (`ip xfrm state` style).
// RFC 4106, Section 2 forbids manual keys with GCM outside tests: the
// caller must have checked the config's "insecure test keys" flag.
type ManualSA struct {
	SPIIn, SPIOut uint32
	Algorithm     string // "aes128gcm16", "aes192gcm16", "aes256gcm16", "chacha20poly1305"
	KeyIn, KeyOut []byte // cipher key || 4-octet salt
	ESN           bool
	Local, Remote []netip.Prefix // inner selectors: ours, theirs
	Peer          netip.AddrPort // port 0: raw ESP
	Life          Lifetime
}

// NewManualPair builds the inbound and outbound SA of m.
func NewManualPair(m ManualSA) (in, out *SA, err error) {
	s, err := ParseSuite(m.Algorithm)
	if err != nil {
		return nil, nil, err
	}
	c := SAConfig{Suite: s, ESN: m.ESN, Peer: m.Peer, Local: m.Local, Remote: m.Remote, Life: m.Life}
	c.SPI, c.Dir, c.Key = m.SPIIn, Inbound, m.KeyIn
	if in, err = NewSA(c); err != nil {
		return nil, nil, err
	}
	c.SPI, c.Dir, c.Key = m.SPIOut, Outbound, m.KeyOut
	if out, err = NewSA(c); err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// AddManual builds m's SA pair, installs it, and adds a protect policy for
// every (Local, Remote) selector pair of the same family.
func (l *Loop) AddManual(m ManualSA) (in, out *SA, err error) {
	in, out, err = NewManualPair(m)
	if err != nil {
		return nil, nil, err
	}
	if err = l.InstallSA(in, out); err != nil {
		return nil, nil, err
	}
	for _, lp := range m.Local {
		for _, rp := range m.Remote {
			if lp.Addr().Is4() != rp.Addr().Is4() {
				continue
			}
			if err = l.SetPolicy(Policy{Local: lp, Remote: rp, Action: Protect, SA: out}); err != nil {
				return nil, nil, err
			}
		}
	}
	return in, out, nil
}

// SAStatus is a snapshot of one SA for `swanling status`.
type SAStatus struct {
	SPI        uint32
	Dir        Direction
	Suite      Suite
	ESN        bool
	Peer       netip.AddrPort
	Local      []netip.Prefix
	Remote     []netip.Prefix
	Packets    uint64            // sealed (out) or accepted (in)
	Bytes      uint64            // inner bytes
	Drops      map[string]uint64 // non-zero drop counters by reason
	Seq        uint64            // last sequence number sent (out) or highest received (in)
	MTU        int               // tunnel MTU for inner packets
	Created    int64             // Clock() at NewSA
	LastUse    int64             // Clock() of the last packet, 0 if none
	Soft, Hard bool              // lifetimes reached
}

// Status returns a snapshot of sa.
func (sa *SA) Status() SAStatus {
	st := SAStatus{
		SPI: sa.spi, Dir: sa.dir, Suite: sa.suite, ESN: sa.esn, Peer: sa.Peer(),
		Local: slices.Clone(sa.local), Remote: slices.Clone(sa.remote),
		Drops: sa.drops.snapshot(), MTU: int(sa.mtu.Load()), Created: sa.created,
	}
	sa.mu.Lock()
	st.Packets, st.Bytes, st.LastUse = sa.packets, sa.bytes, sa.lastUse
	st.Soft, st.Hard = sa.state&stateSoft != 0, sa.state&stateHard != 0
	st.Seq = sa.seq
	if sa.dir == Inbound {
		st.Seq = sa.replay.Top()
	}
	sa.mu.Unlock()
	return st
}

// LoopStatus is a snapshot of a Loop.
type LoopStatus struct {
	SAs       []SAStatus // sorted by direction, then SPI
	Policies  int
	Held      int               // packets held for acquires
	Drops     map[string]uint64 // drops not attributable to an SA
	RxPackets uint64            // ESP packets received from the transports
	TxPackets uint64            // ESP packets the transports accepted
}

// Status returns a snapshot for `swanling status`.
func (l *Loop) Status() LoopStatus {
	l.mu.Lock()
	sas := make([]*SA, 0, len(l.sas))
	for _, sa := range l.sas {
		sas = append(sas, sa)
	}
	l.mu.Unlock()
	slices.SortFunc(sas, func(a, b *SA) int {
		if a.dir != b.dir {
			return int(a.dir) - int(b.dir)
		}
		if a.spi < b.spi {
			return -1
		}
		if a.spi > b.spi {
			return 1
		}
		return 0
	})
	st := LoopStatus{
		Policies:  len(l.pol.Load().all),
		Drops:     l.drops.snapshot(),
		RxPackets: l.rxPackets.Load(),
		TxPackets: l.txPackets.Load(),
	}
	for _, sa := range sas {
		st.SAs = append(st.SAs, sa.Status())
	}
	l.held.mu.Lock()
	st.Held = l.held.count
	l.held.mu.Unlock()
	return st
}
