package esp

import (
	"encoding/binary"
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

// policyTable is an immutable snapshot: exact host entries in a map, other
// prefixes in one map per prefix length, probed longest first. IPv4 keys
// are integers, which hash faster than netip values.
type policyTable struct {
	hosts4 map[uint32][]Policy
	nets4  map[uint64][]Policy // bits<<32 | masked address
	hosts6 map[netip.Addr][]Policy
	nets6  map[netip.Prefix][]Policy
	bits4  []int // prefix lengths in nets4, longest first
	bits6  []int
	all    []Policy
}

func v4key(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func mask4(bits int) uint32 { return ^uint32(0) << (32 - bits) }

func buildPolicyTable(all []Policy) *policyTable {
	t := &policyTable{
		hosts4: make(map[uint32][]Policy),
		nets4:  make(map[uint64][]Policy),
		hosts6: make(map[netip.Addr][]Policy),
		nets6:  make(map[netip.Prefix][]Policy),
		all:    all,
	}
	for _, p := range all {
		r := p.Remote
		switch {
		case r.Addr().Is4() && r.Bits() == 32:
			k := v4key(r.Addr())
			t.hosts4[k] = append(t.hosts4[k], p)
		case r.Addr().Is4():
			k := uint64(r.Bits())<<32 | uint64(v4key(r.Addr())&mask4(r.Bits()))
			t.nets4[k] = append(t.nets4[k], p)
			t.bits4 = append(t.bits4, r.Bits())
		case r.IsSingleIP():
			t.hosts6[r.Addr()] = append(t.hosts6[r.Addr()], p)
		default:
			t.nets6[r] = append(t.nets6[r], p)
			t.bits6 = append(t.bits6, r.Bits())
		}
	}
	desc := func(a, b int) int { return b - a }
	slices.SortFunc(t.bits4, desc)
	t.bits4 = slices.Compact(t.bits4)
	slices.SortFunc(t.bits6, desc)
	t.bits6 = slices.Compact(t.bits6)
	byLocal := func(a, b Policy) int { return b.Local.Bits() - a.Local.Bits() }
	for _, l := range t.hosts4 {
		slices.SortStableFunc(l, byLocal)
	}
	for _, l := range t.nets4 {
		slices.SortStableFunc(l, byLocal)
	}
	for _, l := range t.hosts6 {
		slices.SortStableFunc(l, byLocal)
	}
	for _, l := range t.nets6 {
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
	if dst.Is4() {
		a := v4key(dst)
		if l, ok := t.hosts4[a]; ok {
			if p := pickLocal(l, src); p != nil {
				return p
			}
		}
		for _, b := range t.bits4 {
			if l, ok := t.nets4[uint64(b)<<32|uint64(a&mask4(b))]; ok {
				if p := pickLocal(l, src); p != nil {
					return p
				}
			}
		}
		return nil
	}
	if l, ok := t.hosts6[dst]; ok {
		if p := pickLocal(l, src); p != nil {
			return p
		}
	}
	for _, b := range t.bits6 {
		k, _ := dst.Prefix(b)
		if l, ok := t.nets6[k]; ok {
			if p := pickLocal(l, src); p != nil {
				return p
			}
		}
	}
	return nil
}
