package esp

// The anti-replay window is a ring of 64-bit blocks in the style of RFC 6479:
// advancing the window clears whole blocks instead of shifting a bitmap, so
// both check and update are O(1) whatever the window size.
const (
	replayBlockBits = 64
	replayBlocks    = 64 // ring size; a power of two
	// ReplayWindow is the number of sequence numbers behind the highest one
	// received that are still accepted (RFC 4303, Section 3.4.3 asks for at
	// least 32, and 64 by default; RFC 6479 wants one block of slack).
	ReplayWindow = (replayBlocks - 1) * replayBlockBits
)

// Replay is an anti-replay window over 64-bit sequence numbers. Its zero
// value is an empty window. It is not safe for concurrent use.
type Replay struct {
	top  uint64 // highest sequence number accepted so far; 0: none yet
	ring [replayBlocks]uint64
}

// Top returns the highest sequence number accepted so far.
func (r *Replay) Top() uint64 { return r.top }

// Reset empties the window.
func (r *Replay) Reset() { *r = Replay{} }

// Check reports whether seq would be accepted now: it is not zero, not
// older than the window and not yet seen. It changes nothing; the receiver
// calls it before the integrity check (RFC 4303, Section 3.4.3).
func (r *Replay) Check(seq uint64) bool {
	if seq == 0 {
		// RFC 4303, Section 2.2: the first packet sent has sequence number 1.
		return false
	}
	if seq > r.top {
		return true
	}
	if r.top-seq >= ReplayWindow {
		return false
	}
	blk := (seq / replayBlockBits) % replayBlocks
	bit := uint64(1) << (seq % replayBlockBits)
	return r.ring[blk]&bit == 0
}

// Update marks seq as received and slides the window; it reports false (and
// changes nothing) if seq is a replay or too old. Call it only after the
// packet's ICV verified (RFC 4303, Section 3.4.3).
func (r *Replay) Update(seq uint64) bool {
	if seq == 0 {
		return false
	}
	if seq > r.top {
		// Clear the blocks the window slides over (RFC 6479, Section 2).
		idx := seq / replayBlockBits
		top := r.top / replayBlockBits
		diff := idx - top
		if diff > replayBlocks {
			diff = replayBlocks
		}
		for i := uint64(1); i <= diff; i++ {
			r.ring[(top+i)%replayBlocks] = 0
		}
		r.top = seq
	} else if r.top-seq >= ReplayWindow {
		return false
	}
	blk := (seq / replayBlockBits) % replayBlocks
	bit := uint64(1) << (seq % replayBlockBits)
	if r.ring[blk]&bit != 0 {
		return false
	}
	r.ring[blk] |= bit
	return true
}

// Infer reconstructs the full 64-bit sequence number of a packet that
// carries only the low 32 bits, as RFC 4303, Appendix A2.2 describes, with
// W = ReplayWindow. It reports false when the high half would fall below
// zero: such a packet cannot be valid.
func (r *Replay) Infer(lo uint32) (uint64, bool) {
	const w = ReplayWindow
	tl := uint32(r.top)
	th := uint32(r.top >> 32)
	var hi uint32
	if tl >= w-1 {
		// Case A: the window lies within one sequence number subspace.
		if lo >= tl-w+1 {
			hi = th
		} else {
			if th == ^uint32(0) {
				return 0, false // 2^64 would be the next subspace
			}
			hi = th + 1
		}
	} else {
		// Case B: the window spans two subspaces.
		if lo >= tl-w+1 { // mod 2^32 by uint32 arithmetic
			if th == 0 {
				return 0, false
			}
			hi = th - 1
		} else {
			hi = th
		}
	}
	return uint64(hi)<<32 | uint64(lo), true
}
