package wire

import "errors"

// ErrFragmentDropped: RFC 7383, Section 2.6 says to discard this fragment
// silently (a replay, or fewer Total Fragments than already announced).
var ErrFragmentDropped = errors.New("wire: fragment discarded")

// DefaultMaxFragments bounds a Reassembler whose MaxFragments is zero.
const DefaultMaxFragments = 64

// Reassembler collects the fragments of one fragmented message (RFC 7383,
// Section 2.6); the engine keeps one per Message ID and feeds it each
// fragment after its ICV verified and its padding was stripped. The zero
// value is ready to use. It copies what it keeps.
type Reassembler struct {
	MaxFragments int // largest Total Fragments accepted; 0 means DefaultMaxFragments

	total uint16
	first PayloadType
	have  int
	parts [][]byte
}

// Add stores fragment number of total, whose SKF Next Payload was next and
// whose decrypted content (padding stripped) is content. When every
// fragment is in, it returns done, the type of the first inner payload (the
// Next Payload of fragment 1) and the joined inner chain, and resets itself.
//
// Following RFC 7383, Section 2.6: a fragment with a zero or too large
// number is ErrSyntax; a fragment whose number is already stored, or whose
// Total Fragments is below the one stored, is ErrFragmentDropped; a larger
// Total Fragments discards what was stored and starts over with this
// fragment. A Total Fragments above MaxFragments is ErrTooLong.
func (r *Reassembler) Add(number, total uint16, next PayloadType, content []byte) (done bool, first PayloadType, inner []byte, err error) {
	if err := checkFragment(number, total); err != nil {
		return false, PayloadNone, nil, err
	}
	max := r.MaxFragments
	if max <= 0 {
		max = DefaultMaxFragments
	}
	if int(total) > max {
		return false, PayloadNone, nil, ErrTooLong
	}
	switch {
	case r.total == 0 || total > r.total:
		r.start(total)
	case total < r.total:
		return false, PayloadNone, nil, ErrFragmentDropped
	}
	if r.parts[number-1] != nil {
		return false, PayloadNone, nil, ErrFragmentDropped
	}
	r.parts[number-1] = append(make([]byte, 0, len(content)+1), content...)
	if number == 1 {
		r.first = next
	}
	r.have++
	if r.have < int(r.total) {
		return false, PayloadNone, nil, nil
	}
	n := 0
	for _, p := range r.parts {
		n += len(p)
	}
	inner = make([]byte, 0, n)
	for _, p := range r.parts {
		inner = append(inner, p...)
	}
	first = r.first
	r.Reset()
	return true, first, inner, nil
}

// Pending reports how many fragments are stored and the Total Fragments
// they belong to.
func (r *Reassembler) Pending() (have, total int) { return r.have, int(r.total) }

// Reset discards every stored fragment.
func (r *Reassembler) Reset() {
	r.total, r.first, r.have, r.parts = 0, PayloadNone, 0, nil
}

func (r *Reassembler) start(total uint16) {
	r.total, r.first, r.have = total, PayloadNone, 0
	r.parts = make([][]byte, total)
}
