package esp

import (
	"sync/atomic"
	"time"
)

// DropReason says why a packet was dropped.
type DropReason uint8

// Drop reasons, counted per SA when the SA is known, per Loop otherwise.
const (
	DropTruncated    DropReason = iota // too short to be ESP or to hold an IP header
	DropUnknownSPI                     // no inbound SA for the SPI
	DropReplay                         // seen before or left of the window
	DropAuth                           // ICV did not verify
	DropPadding                        // pad length or padding bytes wrong
	DropNextHeader                     // neither IPv4 nor IPv6 inside
	DropDummy                          // next header 59: a dummy packet (RFC 4303, Section 2.6)
	DropInner                          // malformed inner IP header
	DropSelector                       // inner addresses outside the SA's selectors
	DropExpired                        // hard lifetime reached
	DropSeqExhausted                   // the sequence number space is used up
	DropTooBig                         // larger than the tunnel MTU
	DropNoPolicy                       // no policy matched
	DropPolicy                         // a drop policy matched
	DropHeld                           // a trap matched but no hold slot was free
	DropNoTransport                    // no transport for the SA's encapsulation
	DropSend                           // the transport or device refused it
	DropHeadroom                       // buffer without the headroom or tailroom needed
	DropWrongDir                       // an outbound SA used to open, or the reverse
	numDropReasons
)

var dropNames = [numDropReasons]string{
	"truncated", "unknown_spi", "replay", "auth", "padding", "next_header",
	"dummy", "inner", "selector", "expired", "seq_exhausted", "too_big",
	"no_policy", "policy", "held", "no_transport", "send", "headroom", "wrong_dir",
}

// String returns the counter name of r.
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// drops counts drops by reason.
type drops [numDropReasons]atomic.Uint64

func (d *drops) add(r DropReason) { d[r].Add(1) }

// snapshot returns the non-zero counters by name.
func (d *drops) snapshot() map[string]uint64 {
	m := make(map[string]uint64)
	for i := range d {
		if v := d[i].Load(); v != 0 {
			m[dropNames[i]] = v
		}
	}
	return m
}

var epoch = time.Now()

// Clock returns monotonic nanoseconds; last-use times and creation times are
// in its units. The loop reads it once per batch. Tests may replace it before
// starting anything.
var Clock = func() int64 { return int64(time.Since(epoch)) }
