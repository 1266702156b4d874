package esp

// The packet loop, in numbered steps (the wireguard-go layout).
//
// Outbound (one reader goroutine, crypto workers, one sender goroutine):
//  1. Take a free batch; Device.Read fills it with inner packets at Headroom.
//  2. Per packet: parse the inner header, look up the policy by destination
//     and source in the current policy snapshot.
//  3. Protect with an SA: if the packet exceeds the SA's tunnel MTU answer
//     with ICMP Fragmentation Needed / Packet Too Big, else clamp the TCP MSS
//     (optional) and reserve the next sequence number (in order, here).
//     Trap: hold the packet, send Acquire. Pass: Bypass. Drop: count.
//  4. Lock the batch, queue it in order for the sender and for the workers.
//  5. A worker seals every packet of the batch in place and unlocks it.
//  6. The sender waits for the batch, sends it by transport, frees it.
//
// Inbound (one reader goroutine per transport, the same workers, one writer):
//  1. Take a free batch; Transport.Recv fills it with ESP packets.
//  2. Per packet: SPI lookup, sequence number inference and replay pre-check.
//  3. Lock the batch, queue it in order for the writer and for the workers.
//  4. A worker verifies and decrypts in place, checks padding, inner header
//     and selectors, and unlocks the batch.
//  5. The writer updates each SA's replay window (only now that the ICV is
//     verified), counts and checks lifetimes, clamps MSS, writes the batch
//     to the Device and frees it.
//
// Sequence numbers are assigned by a single goroutine per direction and the
// batches leave in the order they were read, so one SA's packets are never
// reordered by the loop while the crypto runs on every core.

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Events receives what the loop reports to the key manager. Its methods are
// called on the packet path, sometimes with loop locks held: they must not
// block and must not call back into the Loop (queue the event and return).
type Events interface {
	// Acquire: a packet from src to dst (IP protocol proto) matched a
	// trap policy, or a protect policy without SA; it is held.
	Acquire(src, dst netip.Addr, proto uint8)
	// Expire: the SA reached its soft (hard=false) or hard lifetime. Each is
	// reported once per SA. Sequence number exhaustion is a hard expiry and
	// 15/16 of the sequence space a soft one.
	Expire(spi uint32, dir Direction, hard bool)
}

// Config configures a Loop.
type Config struct {
	Device Device
	UDP    Transport // ESP in UDP (RFC 3948); nil if unused
	Raw    Transport // raw ESP (IP protocol 50); nil if unused; may be the same value as UDP
	Events Events    // nil: events are only recorded in SA state
	// Bypass, if set, receives packets that a Pass policy lets through in
	// the clear (and held packets released as Pass). It must copy pkt, not
	// block, and not call back into the Loop.
	Bypass func(pkt []byte)
	// OuterMTU is the path MTU towards the peers (default 1500). Each SA's
	// tunnel MTU is derived from it with TunnelMTU.
	OuterMTU int
	MSSClamp bool // clamp the MSS of TCP SYNs to the tunnel MTU, both ways
	Workers  int  // crypto goroutines; default runtime.NumCPU()
	Batches  int  // batches in flight per direction; default 2*Workers+2
	MaxHeld  int  // packets held for acquires; default 64
	// MaxPacket is the largest packet the loop's buffers hold: an inner
	// packet from the Device or an ESP packet from a Transport; larger ones
	// are dropped and counted by the Device or Transport. Buffers are
	// allocated once, at NewLoop. Default: max(Device.MTU(), OuterMTU,
	// 1500) + SealOverhead; set 65535 where reassembled outer fragments or
	// jumbo frames must pass.
	MaxPacket int
	// AcquireRetry: a destination still held after this long gets another
	// Acquire with its next packet; default 10s.
	AcquireRetry time.Duration
	// ICMPSource4 and ICMPSource6 are the sources of the ICMP errors the
	// loop sends; when unset the offending packet's destination is used.
	ICMPSource4, ICMPSource6 netip.Addr
}

// Loop moves packets between a Device and the Transports. Its methods are
// safe for concurrent use.
type Loop struct {
	cfg Config

	spis  spiTable
	pol   atomic.Pointer[policyTable]
	mu    sync.Mutex // guards sas and policy writes
	sas   map[saKey]*SA
	drops drops

	work                 chan *batch
	outFree, outOrder    chan *batch
	inFree, inOrder      chan *batch
	outBatch, inBatch    int
	sendMu, devMu        sync.Mutex
	closing              atomic.Bool
	closeOnce            sync.Once
	icmpBuf              []byte
	icmpOut              [][]byte
	icmpTokens, icmpAt   int64
	held                 heldSet
	readers              []Transport // distinct transports: one inbound reader each
	bufSize              int
	rxPackets, txPackets atomic.Uint64
}

type saKey struct {
	spi uint32
	dir Direction
}

// batch is one unit of work. bufs are allocated once, at NewLoop.
type batch struct {
	in    bool
	n     int
	now   int64
	bufs  [][]byte
	sizes []int
	pkts  []Packet
	sa    []*SA
	seq   []uint64
	nh    []byte
	res   []int // outbound: ESP length; inbound: inner length
	ioff  []int // inbound: inner offset
	ready sync.Mutex
	udp   []Packet
	raw   []Packet
	wbufs [][]byte
}

func newBatch(size, bufSize int, in bool) *batch {
	b := &batch{
		in:    in,
		bufs:  make([][]byte, size),
		sizes: make([]int, size),
		pkts:  make([]Packet, size),
		sa:    make([]*SA, size),
		seq:   make([]uint64, size),
		nh:    make([]byte, size),
		res:   make([]int, size),
		ioff:  make([]int, size),
		udp:   make([]Packet, 0, size),
		raw:   make([]Packet, 0, size),
		wbufs: make([][]byte, 0, size),
	}
	slab := make([]byte, size*bufSize)
	for i := range b.bufs {
		b.bufs[i] = slab[i*bufSize : (i+1)*bufSize : (i+1)*bufSize]
	}
	return b
}

var errNoDevice = errors.New("esp: Config.Device is nil")

// NewLoop builds a loop and allocates all its buffers.
func NewLoop(cfg Config) (*Loop, error) {
	if cfg.Device == nil {
		return nil, errNoDevice
	}
	if cfg.OuterMTU <= 0 {
		cfg.OuterMTU = 1500
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Batches <= 0 {
		cfg.Batches = 2*cfg.Workers + 2
	}
	if cfg.AcquireRetry <= 0 {
		cfg.AcquireRetry = 10 * time.Second
	}
	if cfg.MaxHeld <= 0 {
		cfg.MaxHeld = 64
	}
	if cfg.MaxPacket <= 0 {
		cfg.MaxPacket = max(cfg.Device.MTU(), cfg.OuterMTU, 1500) + SealOverhead
	}
	cfg.MaxPacket = min(cfg.MaxPacket, MaxPacket)
	l := &Loop{cfg: cfg, sas: make(map[saKey]*SA), bufSize: Headroom + cfg.MaxPacket + Tailroom}
	l.pol.Store(buildPolicyTable(nil))
	l.outBatch = max(1, cfg.Device.BatchSize())
	l.inBatch = 1
	l.readers = l.readers[:0]
	for _, t := range []Transport{cfg.UDP, cfg.Raw} {
		if t != nil && (len(l.readers) == 0 || !same(l.readers[0], t)) {
			l.readers = append(l.readers, t)
			l.inBatch = max(l.inBatch, t.BatchSize())
		}
	}
	nIn := cfg.Batches * max(1, len(l.readers))
	total := cfg.Batches + nIn
	l.work = make(chan *batch, total)
	l.outFree = make(chan *batch, cfg.Batches)
	l.outOrder = make(chan *batch, cfg.Batches+1)
	l.inFree = make(chan *batch, nIn)
	l.inOrder = make(chan *batch, nIn+1)
	for i := 0; i < cfg.Batches; i++ {
		l.outFree <- newBatch(l.outBatch, l.bufSize, false)
	}
	for i := 0; i < nIn; i++ {
		l.inFree <- newBatch(l.inBatch, l.bufSize, true)
	}
	l.icmpBuf = make([]byte, Headroom+icmp6MaxLen+Tailroom)
	l.icmpOut = make([][]byte, 1)
	l.icmpTokens = icmpBurst
	l.held.init(cfg.MaxHeld, l.bufSize)
	return l, nil
}

// Run moves packets until Close is called or a device or transport fails
// for good; it returns that failure, or nil after Close. Call it once.
func (l *Loop) Run() error {
	var workers, sinks, readers sync.WaitGroup
	for i := 0; i < l.cfg.Workers; i++ {
		workers.Add(1)
		go func() { defer workers.Done(); l.worker() }()
	}
	sinks.Add(2)
	go func() { defer sinks.Done(); l.sendOutbound() }()
	go func() { defer sinks.Done(); l.writeInbound() }()

	var errMu sync.Mutex
	var first error
	reader := func(f func() error) {
		readers.Add(1)
		go func() {
			defer readers.Done()
			if err := f(); err != nil {
				errMu.Lock()
				if first == nil {
					first = err
				}
				errMu.Unlock()
			}
			// One side gone stops the others.
			l.Close()
		}()
	}
	reader(l.readOutbound)
	for _, t := range l.readers {
		reader(func() error { return l.readInbound(t) })
	}
	readers.Wait()
	l.outOrder <- nil
	l.inOrder <- nil
	sinks.Wait()
	close(l.work)
	workers.Wait()
	return first
}

// same reports whether two transports are the same value (one transport
// may serve both UDP and raw ESP); incomparable values are different.
func same(a, b Transport) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// Close stops Run: it closes the Device and Transports that implement io.Closer.
func (l *Loop) Close() error {
	l.closeOnce.Do(func() {
		l.closing.Store(true)
		if c, ok := l.cfg.Device.(io.Closer); ok {
			c.Close()
		}
		for _, t := range l.readers {
			if c, ok := t.(io.Closer); ok {
				c.Close()
			}
		}
	})
	return nil
}

// ioError decides whether a read error ends the loop.
func (l *Loop) ioError(err error, streak *int) error {
	if l.closing.Load() {
		return errStop
	}
	if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || errors.Is(err, io.EOF) {
		return err
	}
	*streak++
	if *streak > 100 {
		return err
	}
	time.Sleep(time.Millisecond)
	return nil
}

var errStop = errors.New("esp: loop closed")

func stopErr(err error) error {
	if err == errStop {
		return nil
	}
	return err
}

func (l *Loop) worker() {
	for b := range l.work {
		if b.in {
			l.openBatch(b)
		} else {
			l.sealBatch(b)
		}
		b.ready.Unlock()
	}
}

// ---- outbound ----

func (l *Loop) readOutbound() error {
	streak := 0
	for {
		b := <-l.outFree
		n, err := l.cfg.Device.Read(b.bufs, b.sizes, Headroom)
		if n > 0 {
			streak = 0
			now := Clock()
			pt := l.pol.Load()
			for i := 0; i < n; i++ {
				l.classify(b, i, pt, now)
			}
			reserveBatch(b, n, now)
		}
		b.n = n
		b.ready.Lock()
		l.outOrder <- b
		l.work <- b
		if err != nil {
			if err = l.ioError(err, &streak); err != nil {
				return stopErr(err)
			}
		}
	}
}

// innerInfo is what the loop needs from an inner IP header.
type innerInfo struct {
	src, dst netip.Addr
	proto    uint8
	v6       bool
}

// parseInner reads the addresses and protocol of an inner packet.
func parseInner(p []byte) (innerInfo, bool) {
	if len(p) < 1 {
		return innerInfo{}, false
	}
	switch p[0] >> 4 {
	case 4:
		if len(p) < 20 || p[0]&0xf < 5 {
			return innerInfo{}, false
		}
		return innerInfo{
			src:   netip.AddrFrom4([4]byte(p[12:16])),
			dst:   netip.AddrFrom4([4]byte(p[16:20])),
			proto: p[9],
		}, true
	case 6:
		if len(p) < 40 {
			return innerInfo{}, false
		}
		return innerInfo{
			src:   netip.AddrFrom16([16]byte(p[8:24])),
			dst:   netip.AddrFrom16([16]byte(p[24:40])),
			proto: p[6],
			v6:    true,
		}, true
	}
	return innerInfo{}, false
}

func (l *Loop) classify(b *batch, i int, pt *policyTable, now int64) {
	b.sa[i] = nil
	sz := b.sizes[i]
	buf := b.bufs[i]
	if sz <= 0 || sz > MaxPacket || Headroom+sz+Tailroom > len(buf) {
		l.drops.add(DropTruncated)
		return
	}
	pkt := buf[Headroom : Headroom+sz]
	ii, ok := parseInner(pkt)
	if !ok {
		l.drops.add(DropInner)
		return
	}
	p := pt.lookup(ii.src, ii.dst)
	if p == nil {
		// RFC 4301, Section 5.1: no matching SPD entry: discard.
		l.drops.add(DropNoPolicy)
		return
	}
	switch {
	case p.Action == Protect && p.SA != nil:
		sa := p.SA
		if mtu := int(sa.mtu.Load()); sz > mtu {
			if n := l.tooBig(pkt, mtu, ii.v6, now); n != 0 {
				sa.drops.add(DropTooBig)
				return
			}
		}
		if l.cfg.MSSClamp && ii.proto == protoTCP {
			clampMSS(pkt, mssFor(int(sa.mtu.Load()), ii.v6))
		}
		b.sa[i] = sa // the sequence number is assigned by reserveBatch
		b.nh[i] = protoIPIP
		if ii.v6 {
			b.nh[i] = protoIPv6
		}
	case p.Action == Protect || p.Action == Trap:
		l.hold(pkt, ii, now)
	case p.Action == Pass:
		if l.cfg.Bypass != nil {
			l.cfg.Bypass(pkt)
		} else {
			l.drops.add(DropPolicy)
		}
	default:
		l.drops.add(DropPolicy)
	}
}

const (
	icmpBurst = 20
	icmpRate  = 100 // per second; RFC 4443, Section 2.4 (f) asks for a limit
)

// tooBig answers an oversized packet with an ICMP error if one is due and
// allowed; it returns 0 if the packet should be sent anyway (IPv4 without
// DF, IPv6 up to 1280 bytes: the outer packet is fragmented instead).
func (l *Loop) tooBig(pkt []byte, mtu int, v6 bool, now int64) int {
	if v6 {
		if len(pkt) <= icmp6MaxLen {
			return 0
		}
	} else if pkt[6]&0x40 == 0 {
		return 0
	}
	// Token bucket, refilled from the batch clock.
	if add := (now - l.icmpAt) * icmpRate / int64(time.Second); add > 0 {
		l.icmpTokens = min(icmpBurst, l.icmpTokens+add)
		l.icmpAt = now
	}
	src := l.cfg.ICMPSource4
	if v6 {
		src = l.cfg.ICMPSource6
	}
	n := -1 // drop even when no ICMP may be sent
	if l.icmpTokens > 0 {
		if m := buildTooBig(l.icmpBuf[Headroom:], pkt, mtu, src); m > 0 {
			l.icmpTokens--
			l.icmpOut[0] = l.icmpBuf[:Headroom+m]
			l.devMu.Lock()
			l.cfg.Device.Write(l.icmpOut, Headroom)
			l.devMu.Unlock()
			n = m
		}
	}
	return n
}

// runLock holds one SA's lock across consecutive packets of a batch and
// fires the lifetime events collected meanwhile once it lets go.
type runLock struct {
	sa *SA
	ev uint32
}

func (r *runLock) hold(sa *SA) {
	if r.sa == sa {
		return
	}
	r.release()
	r.sa = sa
	sa.mu.Lock()
}

func (r *runLock) release() {
	if sa := r.sa; sa != nil {
		ev := r.ev
		r.sa, r.ev = nil, 0
		sa.mu.Unlock()
		sa.fire(ev)
	}
}

// reserveBatch assigns sequence numbers, in order, to the packets classify
// gave an SA, and counts them.
func reserveBatch(b *batch, n int, now int64) {
	var r runLock
	for i := 0; i < n; i++ {
		sa := b.sa[i]
		if sa == nil {
			continue
		}
		r.hold(sa)
		seq, ev, err := sa.reserveLocked(b.sizes[i], now)
		r.ev |= ev
		if err != nil {
			sa.drops.add(reasonOf(err))
			b.sa[i] = nil
			continue
		}
		b.seq[i] = seq
	}
	r.release()
}

func (l *Loop) sealBatch(b *batch) {
	for i := 0; i < b.n; i++ {
		if sa := b.sa[i]; sa != nil {
			b.res[i] = sa.seal(b.bufs[i], b.sizes[i], b.nh[i], b.seq[i])
		}
	}
}

func (l *Loop) sendOutbound() {
	for b := range l.outOrder {
		if b == nil {
			return
		}
		b.ready.Lock()
		b.ready.Unlock()
		udp, raw := b.udp[:0], b.raw[:0]
		for i := 0; i < b.n; i++ {
			sa := b.sa[i]
			if sa == nil {
				continue
			}
			p := Packet{Buf: b.bufs[i], Off: SealOffset, Len: b.res[i], Peer: *sa.peer.Load()}
			if p.Peer.Port() == 0 {
				raw = append(raw, p)
			} else {
				udp = append(udp, p)
			}
			b.sa[i] = nil
		}
		l.sendMu.Lock()
		l.send(l.cfg.UDP, udp)
		l.send(l.cfg.Raw, raw)
		l.sendMu.Unlock()
		clear(udp)
		clear(raw)
		l.outFree <- b
	}
}

// send sends pkts on t; the caller holds sendMu.
func (l *Loop) send(t Transport, pkts []Packet) {
	if len(pkts) == 0 {
		return
	}
	if t == nil {
		l.drops[DropNoTransport].Add(uint64(len(pkts)))
		return
	}
	n, _ := t.Send(pkts)
	if n < len(pkts) {
		l.drops[DropSend].Add(uint64(len(pkts) - max(n, 0)))
	}
	l.txPackets.Add(uint64(max(n, 0)))
}

// ---- inbound ----

const minESP = espHdrLen + ivLen + 2 + icvLen

func (l *Loop) readInbound(t Transport) error {
	streak := 0
	for {
		b := <-l.inFree
		for i := range b.pkts {
			b.pkts[i] = Packet{Buf: b.bufs[i], Off: SealOffset}
		}
		n, err := t.Recv(b.pkts)
		n = min(max(n, 0), len(b.pkts))
		if n > 0 {
			streak = 0
			l.rxPackets.Add(uint64(n))
		}
		b.now = Clock()
		for i := 0; i < n; i++ {
			l.lookupSPI(b, i)
		}
		precheckBatch(b, n)
		b.n = n
		b.ready.Lock()
		l.inOrder <- b
		l.work <- b
		if err != nil {
			if err = l.ioError(err, &streak); err != nil {
				return stopErr(err)
			}
		}
	}
}

// lookupSPI validates packet i of an inbound batch and finds its SA.
func (l *Loop) lookupSPI(b *batch, i int) {
	b.sa[i] = nil
	p := &b.pkts[i]
	if p.Off < 0 || p.Len < 0 || p.Off+p.Len > len(p.Buf) {
		l.drops.add(DropHeadroom)
		return
	}
	if p.Len < minESP {
		l.drops.add(DropTruncated)
		return
	}
	if p.Off < SealOffset {
		// Open needs scratch space in front of the packet.
		if SealOffset+p.Len > len(p.Buf) {
			l.drops.add(DropHeadroom)
			return
		}
		copy(p.Buf[SealOffset:], p.Buf[p.Off:p.Off+p.Len])
		p.Off = SealOffset
	}
	// RFC 4303, Section 3.4.2: the SA is found by SPI.
	sa := l.spis.lookup(binary.BigEndian.Uint32(p.Buf[p.Off:]))
	if sa == nil {
		l.drops.add(DropUnknownSPI)
		return
	}
	b.sa[i] = sa
}

// precheckBatch infers sequence numbers and runs the replay pre-check for
// the packets lookupSPI found an SA for.
func precheckBatch(b *batch, n int) {
	var r runLock
	for i := 0; i < n; i++ {
		sa := b.sa[i]
		if sa == nil {
			continue
		}
		r.hold(sa)
		seq, err := sa.precheckLocked(binary.BigEndian.Uint32(b.pkts[i].Buf[b.pkts[i].Off+4:]))
		if err != nil {
			sa.drops.add(reasonOf(err))
			b.sa[i] = nil
			continue
		}
		b.seq[i] = seq
	}
	r.release()
}

func (l *Loop) openBatch(b *batch) {
	for i := 0; i < b.n; i++ {
		sa := b.sa[i]
		if sa == nil {
			continue
		}
		p := &b.pkts[i]
		inner, n, _, err := sa.decrypt(p.Buf, p.Off, p.Len, b.seq[i])
		if err != nil {
			sa.drops.add(reasonOf(err))
			b.sa[i] = nil
			continue
		}
		b.ioff[i] = inner
		b.res[i] = n
	}
}

func (l *Loop) writeInbound() {
	for b := range l.inOrder {
		if b == nil {
			return
		}
		b.ready.Lock()
		b.ready.Unlock()
		w := b.wbufs[:0]
		var r runLock
		for i := 0; i < b.n; i++ {
			sa := b.sa[i]
			if sa == nil {
				continue
			}
			b.sa[i] = nil
			n := b.res[i]
			r.hold(sa)
			ev, err := sa.acceptLocked(b.seq[i], n, b.now)
			r.ev |= ev
			if err != nil {
				sa.drops.add(reasonOf(err))
				continue
			}
			buf := b.pkts[i].Buf
			if off := b.ioff[i]; off != Headroom {
				copy(buf[Headroom:], buf[off:off+n])
			}
			pkt := buf[Headroom : Headroom+n]
			if l.cfg.MSSClamp {
				clampMSS(pkt, mssFor(int(sa.mtu.Load()), pkt[0]>>4 == 6))
			}
			w = append(w, buf[:Headroom+n])
		}
		r.release()
		if len(w) > 0 {
			l.devMu.Lock()
			m, _ := l.cfg.Device.Write(w, Headroom)
			l.devMu.Unlock()
			if m < len(w) {
				l.drops[DropSend].Add(uint64(len(w) - max(m, 0)))
			}
		}
		clear(w)
		l.inFree <- b
	}
}
