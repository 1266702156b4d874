package esp

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
)

// spiTable maps SPIs to inbound SAs. Readers load an immutable map through
// an atomic pointer and never lock; writers copy it (installs are rare).
type spiTable struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[uint32]*SA]
}

func (t *spiTable) lookup(spi uint32) *SA {
	m := t.m.Load()
	if m == nil {
		return nil
	}
	return (*m)[spi]
}

// update applies f to a copy of the map and publishes it.
func (t *spiTable) update(f func(map[uint32]*SA)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m.Load()
	n := make(map[uint32]*SA)
	if old != nil {
		for k, v := range *old {
			n[k] = v
		}
	}
	f(n)
	t.m.Store(&n)
}

// Action is what an outbound policy does with a matching packet.
type Action uint8

// Policy actions.
const (
	// Protect sends the packet through the policy's SA. Without an SA it
	// behaves like Trap.
	Protect Action = iota + 1
	// Trap holds the packet (one per destination) and reports an Acquire
	// event; the held packet leaves as soon as a policy change resolves it.
	Trap
	// Pass hands the packet to the Loop's Bypass function (clear text).
	Pass
	// Drop discards the packet.
	Drop
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case Protect:
		return "protect"
	case Trap:
		return "trap"
	case Pass:
		return "pass"
	case Drop:
		return "drop"
	}
	return "unknown"
}

// Policy is one outbound security policy: packets from Local to Remote get
// Action. Lookup picks the longest Remote prefix that contains the
// destination and, under it, the longest Local prefix that contains the
// source. A policy is identified by its (Local, Remote) pair.
type Policy struct {
	Local, Remote netip.Prefix
	Action        Action
	SA            *SA // outbound SA for Protect
}

// policyTable is an immutable snapshot: exact host routes in a map, other
// prefixes in one map per prefix length, probed longest first.
type policyTable struct {
	hosts  map[netip.Addr][]Policy
	nets   map[netip.Prefix][]Policy
	bits4  []int // prefix lengths in nets for IPv4, longest first
	bits6  []int
	all    []Policy
	nTraps int
}

func buildPolicyTable(all []Policy) *policyTable {
	t := &policyTable{
		hosts: make(map[netip.Addr][]Policy),
		nets:  make(map[netip.Prefix][]Policy),
		all:   all,
	}
	for _, p := range all {
		if p.Remote.IsSingleIP() {
			t.hosts[p.Remote.Addr()] = append(t.hosts[p.Remote.Addr()], p)
			continue
		}
		k := p.Remote
		if _, ok := t.nets[k]; !ok {
			if k.Addr().Is4() {
				t.bits4 = append(t.bits4, k.Bits())
			} else {
				t.bits6 = append(t.bits6, k.Bits())
			}
		}
		t.nets[k] = append(t.nets[k], p)
	}
	desc := func(a, b int) int { return b - a }
	slices.SortFunc(t.bits4, desc)
	t.bits4 = slices.Compact(t.bits4)
	slices.SortFunc(t.bits6, desc)
	t.bits6 = slices.Compact(t.bits6)
	byLocal := func(a, b Policy) int { return b.Local.Bits() - a.Local.Bits() }
	for _, l := range t.hosts {
		slices.SortStableFunc(l, byLocal)
	}
	for _, l := range t.nets {
		slices.SortStableFunc(l, byLocal)
	}
	return t
}

func pickLocal(l []Policy, src netip.Addr) *Policy {
	for i := range l {
		if l[i].Local.Contains(src) {
			return &l[i]
		}
	}
	return nil
}

// lookup finds the policy for an outbound packet, or nil.
func (t *policyTable) lookup(src, dst netip.Addr) *Policy {
	if l, ok := t.hosts[dst]; ok {
		if p := pickLocal(l, src); p != nil {
			return p
		}
	}
	bits := t.bits4
	if dst.Is6() {
		bits = t.bits6
	}
	for _, b := range bits {
		k, _ := dst.Prefix(b)
		if l, ok := t.nets[k]; ok {
			if p := pickLocal(l, src); p != nil {
				return p
			}
		}
	}
	return nil
}
