package esp

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Direction of an SA. ESP SAs are unidirectional (RFC 4301, Section 4.1).
type Direction uint8

// Directions.
const (
	Inbound Direction = iota + 1
	Outbound
)

// String returns "in" or "out".
func (d Direction) String() string {
	switch d {
	case Inbound:
		return "in"
	case Outbound:
		return "out"
	}
	return "unknown"
}

// Lifetime holds byte and packet limits; zero means no limit. Bytes are
// inner (plaintext) packet bytes. Reaching a soft limit reports an Expire
// event once so the owner rekeys; reaching a hard limit stops the SA and
// reports once more (RFC 4301, Section 4.4.2.1).
type Lifetime struct {
	SoftBytes, HardBytes     uint64
	SoftPackets, HardPackets uint64
}

// SAConfig describes an SA as the key manager (or a manual config) hands it over.
type SAConfig struct {
	SPI   uint32
	Dir   Direction
	Suite Suite
	// Key is the cipher key followed by the 4-octet salt, as taken from
	// KEYMAT (RFC 4106, Section 8.1; RFC 7634, Section 4).
	Key []byte
	ESN bool // extended sequence numbers (RFC 4303, Section 2.2.1)
	// Peer is the outer address of the other gateway. Port 0 means raw
	// ESP (IP protocol 50); otherwise ESP in UDP to that port (RFC 3948).
	Peer netip.AddrPort
	// Selectors, as seen from this gateway: Local are the inner addresses
	// behind us, Remote those behind the peer. An inbound packet must come
	// from Remote and go to Local (RFC 4301, Section 5.2). Empty matches
	// nothing.
	Local, Remote []netip.Prefix
	Life          Lifetime
}

// SA is one ESP security association. Its methods are safe for concurrent use.
type SA struct {
	spi           uint32
	dir           Direction
	suite         Suite
	esn           bool
	peer          atomic.Pointer[netip.AddrPort] // replaced whole by SetPeer
	local, remote []netip.Prefix
	local4        []net4 // the IPv4 selectors as masks, for the fast path
	remote4       []net4
	life          Lifetime
	aead          cipher.AEAD
	salt          [saltLen]byte
	seqMax        uint64 // highest sequence number that may be sent
	seqSoft       uint64 // sending this one reports a soft expiry
	created       int64
	sink          Events // set before the SA is published in a Loop's tables
	mtu           atomic.Int32

	// mu guards the per-packet state below. One lock per packet (or per
	// run of packets of a batch, in the loop) replaces several atomic
	// read-modify-writes, and plain fields are safe on 32-bit CPUs.
	mu      sync.Mutex
	seq     uint64 // outbound: last sequence number sent
	replay  Replay // inbound
	packets uint64 // packets sealed or accepted
	bytes   uint64 // their inner bytes
	lastUse int64  // Clock() of the last packet
	state   uint32 // stateSoft | stateHard

	drops drops // atomic: counted on error paths without the lock
}

const (
	stateSoft uint32 = 1 << iota
	stateHard
)

// dropError is a sentinel error that names its counter.
type dropError struct {
	reason DropReason
	msg    string
}

func (e *dropError) Error() string { return e.msg }

// Errors returned by Seal and Open. ReasonOf maps them to a DropReason.
var (
	ErrTruncated    error = &dropError{DropTruncated, "esp: packet truncated"}
	ErrUnknownSPI   error = &dropError{DropUnknownSPI, "esp: unknown SPI"}
	ErrReplay       error = &dropError{DropReplay, "esp: replayed packet"}
	ErrAuth         error = &dropError{DropAuth, "esp: integrity check failed"}
	ErrPadding      error = &dropError{DropPadding, "esp: bad padding"}
	ErrNextHeader   error = &dropError{DropNextHeader, "esp: unsupported next header"}
	ErrDummy        error = &dropError{DropDummy, "esp: dummy packet"}
	ErrInner        error = &dropError{DropInner, "esp: malformed inner packet"}
	ErrSelector     error = &dropError{DropSelector, "esp: inner addresses outside the SA selectors"}
	ErrExpired      error = &dropError{DropExpired, "esp: SA hard lifetime reached"}
	ErrSeqExhausted error = &dropError{DropSeqExhausted, "esp: sequence number space exhausted"}
	ErrHeadroom     error = &dropError{DropHeadroom, "esp: buffer lacks headroom or tailroom"}
	ErrWrongDir     error = &dropError{DropWrongDir, "esp: SA used in the wrong direction"}
)

// ReasonOf returns the drop reason carried by an error from this package, or
// false for other errors.
func ReasonOf(err error) (DropReason, bool) {
	var de *dropError
	if errors.As(err, &de) {
		return de.reason, true
	}
	return 0, false
}

func reasonOf(err error) DropReason {
	if de, ok := err.(*dropError); ok {
		return de.reason
	}
	return DropInner
}

var (
	errDirection = errors.New("esp: SA direction must be Inbound or Outbound")
	errKeyLen    = errors.New("esp: key length does not match the algorithm (key || 4-octet salt)")
	errSelector  = errors.New("esp: invalid selector prefix")
)

// NewSA builds an SA from c. It copies what it keeps.
func NewSA(c SAConfig) (*SA, error) {
	if c.Dir != Inbound && c.Dir != Outbound {
		return nil, errDirection
	}
	kl := c.Suite.KeyLen()
	if kl == 0 {
		return nil, errUnknownSuite
	}
	if len(c.Key) != kl {
		return nil, errKeyLen
	}
	aead, err := c.Suite.newAEAD(c.Key[:kl-saltLen])
	if err != nil {
		return nil, err
	}
	sa := &SA{
		spi:     c.SPI,
		dir:     c.Dir,
		suite:   c.Suite,
		esn:     c.ESN,
		life:    c.Life,
		aead:    aead,
		created: Clock(),
	}
	for _, p := range c.Local {
		if !p.IsValid() {
			return nil, errSelector
		}
		sa.local = append(sa.local, p.Masked())
	}
	for _, p := range c.Remote {
		if !p.IsValid() {
			return nil, errSelector
		}
		sa.remote = append(sa.remote, p.Masked())
	}
	peer := c.Peer
	sa.peer.Store(&peer)
	sa.local4, sa.remote4 = nets4(sa.local), nets4(sa.remote)
	copy(sa.salt[:], c.Key[kl-saltLen:])
	// RFC 4303, Section 3.3.3: the counter never cycles; with ESN the full
	// 64 bits are used (Section 2.2.1).
	sa.seqMax = 1<<32 - 1
	if c.ESN {
		sa.seqMax = 1<<64 - 1
	}
	// Ask for a rekey with 1/16 of the sequence space left.
	sa.seqSoft = sa.seqMax - sa.seqMax/16
	sa.mtu.Store(MaxPacket)
	return sa, nil
}

// SPI returns the SA's SPI.
func (sa *SA) SPI() uint32 { return sa.spi }

// Dir returns the SA's direction.
func (sa *SA) Dir() Direction { return sa.dir }

// Suite returns the SA's transform.
func (sa *SA) Suite() Suite { return sa.suite }

// Peer returns the outer peer address (port 0: raw ESP).
func (sa *SA) Peer() netip.AddrPort { return *sa.peer.Load() }

// Expired reports whether the soft and the hard lifetime have been reached.
func (sa *SA) Expired() (soft, hard bool) {
	sa.mu.Lock()
	s := sa.state
	sa.mu.Unlock()
	return s&stateSoft != 0, s&stateHard != 0
}

// SetSeq sets the last sequence number sent (outbound) or the top of the
// replay window (inbound). It is meant for tests and for restoring state.
func (sa *SA) SetSeq(seq uint64) {
	sa.mu.Lock()
	defer sa.mu.Unlock()
	if sa.dir == Outbound {
		sa.seq = seq
		return
	}
	sa.replay.Reset()
	if seq != 0 {
		sa.replay.Update(seq)
	}
}

// markLocked records a lifetime state and returns its bit if it is new, to
// be passed to fire once the lock is released. The caller holds sa.mu.
func (sa *SA) markLocked(bit uint32) uint32 {
	if sa.state&bit != 0 {
		return 0
	}
	sa.state |= bit
	return bit
}

// fire reports newly reached lifetimes to the sink, once each; the caller
// does not hold sa.mu.
func (sa *SA) fire(ev uint32) {
	if ev == 0 || sa.sink == nil {
		return
	}
	if ev&stateSoft != 0 {
		sa.sink.Expire(sa.spi, sa.dir, false)
	}
	if ev&stateHard != 0 {
		sa.sink.Expire(sa.spi, sa.dir, true)
	}
}

// accountLocked adds one packet of n bytes and checks the lifetimes
// (RFC 4301, Section 4.4.2.1). The caller holds sa.mu.
func (sa *SA) accountLocked(n int, now int64) (uint32, error) {
	p, b := sa.packets+1, sa.bytes+uint64(n)
	l := &sa.life
	if (l.HardPackets != 0 && p > l.HardPackets) || (l.HardBytes != 0 && b > l.HardBytes) {
		return sa.markLocked(stateHard), ErrExpired
	}
	sa.packets, sa.bytes, sa.lastUse = p, b, now
	if (l.SoftPackets != 0 && p >= l.SoftPackets) || (l.SoftBytes != 0 && b >= l.SoftBytes) {
		return sa.markLocked(stateSoft), nil
	}
	return 0, nil
}

// reserveLocked assigns the next sequence number to an outbound packet of n
// bytes and counts it. The caller holds sa.mu and assigns in sending order.
func (sa *SA) reserveLocked(n int, now int64) (uint64, uint32, error) {
	if sa.state&stateHard != 0 {
		if sa.seq >= sa.seqMax {
			return 0, 0, ErrSeqExhausted
		}
		return 0, 0, ErrExpired
	}
	if sa.seq >= sa.seqMax {
		// RFC 4303, Section 3.3.3: the sender MUST NOT let the counter
		// cycle; the SA is done.
		return 0, sa.markLocked(stateHard), ErrSeqExhausted
	}
	ev, err := sa.accountLocked(n, now)
	if err != nil {
		return 0, ev, err
	}
	sa.seq++
	if sa.seq >= sa.seqSoft {
		ev |= sa.markLocked(stateSoft)
	}
	return sa.seq, ev, nil
}

// reserve is reserveLocked for a single packet.
func (sa *SA) reserve(n int, now int64) (uint64, error) {
	if sa.dir != Outbound {
		return 0, ErrWrongDir
	}
	sa.mu.Lock()
	seq, ev, err := sa.reserveLocked(n, now)
	sa.mu.Unlock()
	sa.fire(ev)
	return seq, err
}

// SealOffset is where Seal puts the ESP packet in the buffer: the ESP header
// and IV take the 16 bytes in front of the inner packet at Headroom.
const SealOffset = Headroom - espHdrLen - ivLen

// SealOverhead is the most Seal adds to an inner packet: ESP header, IV,
// up to 3 octets of padding, pad length, next header and ICV.
const SealOverhead = espHdrLen + ivLen + 3 + 2 + icvLen

// Seal encrypts the inner IPv4 or IPv6 packet at buf[Headroom:Headroom+n] in
// place into an ESP packet at buf[SealOffset:SealOffset+length]; buf must have
// Tailroom bytes after the packet. buf[:SealOffset] is used as scratch.
func (sa *SA) Seal(buf []byte, n int) (length int, err error) {
	return sa.SealAt(buf, n, Clock())
}

// SealAt is Seal with the caller's Clock() reading, for callers that read
// the clock once per batch of packets.
func (sa *SA) SealAt(buf []byte, n int, now int64) (length int, err error) {
	nh, err := sealCheck(buf, n)
	if err != nil {
		sa.drops.add(reasonOf(err))
		return 0, err
	}
	seq, err := sa.reserve(n, now)
	if err != nil {
		sa.drops.add(reasonOf(err))
		return 0, err
	}
	return sa.seal(buf, n, nh, seq), nil
}

// sealCheck validates the buffer and picks the next header from the IP version.
func sealCheck(buf []byte, n int) (byte, error) {
	if n < 1 || n > MaxPacket || len(buf) < Headroom+n+Tailroom {
		return 0, ErrHeadroom
	}
	switch buf[Headroom] >> 4 {
	case 4:
		return protoIPIP, nil
	case 6:
		return protoIPv6, nil
	}
	return 0, ErrInner
}

// IP protocol numbers used as ESP next header (RFC 4303, Section 2.6).
const (
	protoIPIP   = 4
	protoTCP    = 6
	protoIPv6   = 41
	protoICMP   = 1
	protoICMPv6 = 58
	protoNoNext = 59
)

// seal builds the ESP packet for a sequence number already reserved. It is
// the part that runs in parallel; buf was checked by sealCheck.
func (sa *SA) seal(buf []byte, n int, nh byte, seq uint64) int {
	end := Headroom + n
	// RFC 4303, Section 2.4: pad so that the ciphertext ends on a 4-byte
	// boundary (both AEADs are stream-like, RFC 4106 Section 3.2 / RFC 7634
	// Section 2), with the default monotonic padding 1, 2, 3, ...
	pad := (4 - (n+2)&3) & 3
	for i := 0; i < pad; i++ {
		buf[end+i] = byte(i + 1)
	}
	buf[end+pad] = byte(pad)
	buf[end+pad+1] = nh
	ptEnd := end + pad + 2

	const off = SealOffset
	binary.BigEndian.PutUint32(buf[off:], sa.spi)
	binary.BigEndian.PutUint32(buf[off+4:], uint32(seq)) // low 32 bits only on the wire, RFC 4303 Section 2.2.1
	// The IV is the 64-bit sequence number: unique for the key, as RFC 4106
	// Section 3.1 and RFC 7634 Section 2 require, and never repeated because
	// the counter never cycles.
	binary.BigEndian.PutUint64(buf[off+8:], seq)

	nonce := buf[off-16 : off-4] // salt || IV: RFC 4106 Section 4, RFC 7634 Section 2
	copy(nonce, sa.salt[:])
	copy(nonce[saltLen:], buf[off+8:off+16])
	var aad []byte
	if sa.esn {
		// RFC 4106 Section 5 and RFC 7634 Section 2.1: with ESN the AAD is
		// SPI || seq high || seq low. Build it in place over the header and
		// put the SPI back afterwards.
		binary.BigEndian.PutUint32(buf[off-4:], sa.spi)
		binary.BigEndian.PutUint32(buf[off:], uint32(seq>>32))
		aad = buf[off-4 : off+8]
	} else {
		aad = buf[off : off+8] // SPI || seq
	}
	sa.aead.Seal(buf[Headroom:Headroom], nonce, buf[Headroom:ptEnd], aad)
	if sa.esn {
		binary.BigEndian.PutUint32(buf[off:], sa.spi)
	}
	return ptEnd + icvLen - off
}

// Open verifies and decrypts the ESP packet at buf[off:off+n] in place. It
// needs 16 bytes of scratch in front of off (buf[off-16:off]). On success
// the inner packet is buf[inner:inner+innerLen] and nh is 4 (IPv4) or 41
// (IPv6). Open checks the anti-replay window before and updates it after the
// ICV check, checks the padding, the inner header and the SA selectors.
func (sa *SA) Open(buf []byte, off, n int) (inner, innerLen int, nh byte, err error) {
	return sa.OpenAt(buf, off, n, Clock())
}

// OpenAt is Open with the caller's Clock() reading, for callers that read
// the clock once per batch of packets.
func (sa *SA) OpenAt(buf []byte, off, n int, now int64) (inner, innerLen int, nh byte, err error) {
	inner, innerLen, nh, err = sa.open(buf, off, n, now)
	if err != nil {
		sa.drops.add(reasonOf(err))
	}
	return
}

// open runs the whole inbound sequence under the SA lock; the loop splits
// it instead (precheck, decrypt in parallel, accept in order).
func (sa *SA) open(buf []byte, off, n int, now int64) (inner, innerLen int, nh byte, err error) {
	if off < 16 || off+n > len(buf) {
		return 0, 0, 0, ErrHeadroom
	}
	if n < espHdrLen+ivLen+2+icvLen {
		return 0, 0, 0, ErrTruncated
	}
	if sa.dir != Inbound {
		return 0, 0, 0, ErrWrongDir
	}
	sa.mu.Lock()
	seq, err := sa.precheckLocked(binary.BigEndian.Uint32(buf[off+4:]))
	if err != nil {
		sa.mu.Unlock()
		return 0, 0, 0, err
	}
	var ev uint32
	inner, innerLen, nh, err = sa.decrypt(buf, off, n, seq)
	if err == nil {
		ev, err = sa.acceptLocked(seq, innerLen, now)
	}
	sa.mu.Unlock()
	sa.fire(ev)
	if err != nil {
		return 0, 0, 0, err
	}
	return inner, innerLen, nh, nil
}

// inferCheck infers the full sequence number and checks the window; the
// caller holds sa.mu.
func (sa *SA) inferCheck(lo uint32) (uint64, bool) {
	seq, ok := uint64(lo), true
	if sa.esn {
		seq, ok = sa.replay.Infer(lo)
	}
	return seq, ok && sa.replay.Check(seq)
}

// precheckLocked infers the full sequence number (RFC 4303, Appendix A2.2)
// and rejects replays before the costly integrity check (RFC 4303, Section
// 3.4.3). The caller holds sa.mu.
func (sa *SA) precheckLocked(lo uint32) (uint64, error) {
	if sa.state&stateHard != 0 {
		return 0, ErrExpired
	}
	seq, ok := sa.inferCheck(lo)
	if !ok {
		return 0, ErrReplay
	}
	return seq, nil
}

// decrypt verifies and decrypts; it is the part that runs in parallel. It
// also checks padding, next header, the inner IP header and the selectors.
func (sa *SA) decrypt(buf []byte, off, n int, seq uint64) (inner, innerLen int, nh byte, err error) {
	nonce := buf[off-16 : off-4]
	copy(nonce, sa.salt[:])
	copy(nonce[saltLen:], buf[off+8:off+16])
	var aad []byte
	if sa.esn {
		// RFC 4303 Section 2.2.1: the high 32 bits are not sent but are
		// covered by the ICV; RFC 4106 Section 5 / RFC 7634 Section 2.1.
		binary.BigEndian.PutUint32(buf[off-4:], sa.spi)
		binary.BigEndian.PutUint32(buf[off:], uint32(seq>>32))
		aad = buf[off-4 : off+8]
	} else {
		aad = buf[off : off+8]
	}
	inner = off + espHdrLen + ivLen
	ct := buf[inner : off+n]
	pt, aerr := sa.aead.Open(ct[:0], nonce, ct, aad)
	if aerr != nil {
		// RFC 4303, Section 3.4.4.1: discard, count as an auditable event.
		return 0, 0, 0, ErrAuth
	}
	// RFC 4303, Section 2.4 and 2.5: pad length and next header end the
	// plaintext; the padding holds 1, 2, 3, ... which the receiver SHOULD check.
	pl := int(pt[len(pt)-2])
	nh = pt[len(pt)-1]
	if pl+2 > len(pt) {
		return 0, 0, 0, ErrPadding
	}
	innerLen = len(pt) - 2 - pl
	for i := 0; i < pl; i++ {
		if pt[innerLen+i] != byte(i+1) {
			return 0, 0, 0, ErrPadding
		}
	}
	innerLen, err = sa.checkInner(pt[:innerLen], nh)
	if err != nil {
		return 0, 0, 0, err
	}
	return inner, innerLen, nh, nil
}

// checkInner validates the inner IP header against next header and the
// selectors and returns the IP packet length (any TFC padding trimmed,
// RFC 4303 Section 2.7).
func (sa *SA) checkInner(p []byte, nh byte) (int, error) {
	var src, dst netip.Addr
	var n int
	switch nh {
	case protoIPIP:
		if len(p) < 20 || p[0]>>4 != 4 {
			return 0, ErrInner
		}
		ihl := int(p[0]&0xf) * 4
		n = int(binary.BigEndian.Uint16(p[2:]))
		if ihl < 20 || n < ihl || n > len(p) {
			return 0, ErrInner
		}
		// RFC 4301, Section 5.2, step 4, for IPv4 with precomputed masks.
		if !match4(sa.remote4, binary.BigEndian.Uint32(p[12:])) || !match4(sa.local4, binary.BigEndian.Uint32(p[16:])) {
			return 0, ErrSelector
		}
		return n, nil
	case protoIPv6:
		if len(p) < 40 || p[0]>>4 != 6 {
			return 0, ErrInner
		}
		n = 40 + int(binary.BigEndian.Uint16(p[4:]))
		if n > len(p) {
			return 0, ErrInner
		}
		src = netip.AddrFrom16([16]byte(p[8:24]))
		dst = netip.AddrFrom16([16]byte(p[24:40]))
	case protoNoNext:
		// RFC 4303, Section 2.6: a dummy packet is discarded silently.
		return 0, ErrDummy
	default:
		return 0, ErrNextHeader
	}
	// RFC 4301, Section 5.2, step 4: tunnel mode inner addresses must match
	// the SA's selectors.
	if !matchAny(sa.remote, src) || !matchAny(sa.local, dst) {
		return 0, ErrSelector
	}
	return n, nil
}

// net4 is an IPv4 prefix as address and mask.
type net4 struct{ addr, mask uint32 }

func nets4(ps []netip.Prefix) []net4 {
	var out []net4
	for _, p := range ps {
		if p.Addr().Is4() {
			a := p.Addr().As4()
			out = append(out, net4{binary.BigEndian.Uint32(a[:]), ^uint32(0) << (32 - p.Bits())})
		}
	}
	return out
}

func match4(ns []net4, a uint32) bool {
	for _, n := range ns {
		if a&n.mask == n.addr {
			return true
		}
	}
	return false
}

func matchAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// acceptLocked updates the replay window now that the ICV verified
// (RFC 4303, Section 3.4.3) and counts the packet. The caller holds sa.mu.
func (sa *SA) acceptLocked(seq uint64, n int, now int64) (uint32, error) {
	if !sa.replay.Update(seq) {
		return 0, ErrReplay
	}
	return sa.accountLocked(n, now)
}
