package esp

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// In-memory doubles for the Device and Transport interfaces. Every packet
// travels in a preallocated slot, so the doubles allocate nothing in steady
// state and the loop's allocations can be measured through them.

type memSlot struct {
	b    []byte
	n    int
	peer netip.AddrPort
}

type memQueue struct {
	free chan *memSlot
	ch   chan *memSlot
}

func newMemQueue(slots, size int) *memQueue {
	q := &memQueue{free: make(chan *memSlot, slots), ch: make(chan *memSlot, slots)}
	for i := 0; i < slots; i++ {
		q.free <- &memSlot{b: make([]byte, size)}
	}
	return q
}

// put copies p into a free slot and queues it; false if the queue is full.
func (q *memQueue) put(p []byte, peer netip.AddrPort) bool {
	select {
	case s := <-q.free:
		s.n = copy(s.b, p)
		s.peer = peer
		q.ch <- s
		return true
	default:
		return false
	}
}

// putWait is put with backpressure: it waits for a free slot unless done
// is closed first.
func (q *memQueue) putWait(p []byte, peer netip.AddrPort, done chan struct{}) bool {
	select {
	case s := <-q.free:
		s.n = copy(s.b, p)
		s.peer = peer
		q.ch <- s
		return true
	case <-done:
		return false
	}
}

// get waits for a packet and copies it into dst.
func (q *memQueue) get(dst []byte) (int, netip.AddrPort) {
	s := <-q.ch
	n := copy(dst, s.b[:s.n])
	peer := s.peer
	q.free <- s
	return n, peer
}

// memDevice is an in-memory TUN: inject() feeds Read, Write feeds recv().
type memDevice struct {
	mtu     int
	batch   int
	toLoop  *memQueue
	fromLop *memQueue
	closed  chan struct{}
	once    sync.Once
	dropped atomic.Uint64
}

func newMemDevice(mtu, batch int) *memDevice {
	return &memDevice{
		mtu: mtu, batch: batch,
		toLoop:  newMemQueue(256, mtu),
		fromLop: newMemQueue(256, 65535),
		closed:  make(chan struct{}),
	}
}

func (d *memDevice) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	var s *memSlot
	select {
	case s = <-d.toLoop.ch:
	case <-d.closed:
		return 0, net.ErrClosed
	}
	n := 0
	for {
		sizes[n] = copy(bufs[n][offset:], s.b[:s.n])
		d.toLoop.free <- s
		n++
		if n == len(bufs) {
			return n, nil
		}
		select {
		case s = <-d.toLoop.ch:
		default:
			return n, nil
		}
	}
}

func (d *memDevice) Write(bufs [][]byte, offset int) (int, error) {
	for _, b := range bufs {
		if !d.fromLop.putWait(b[offset:], netip.AddrPort{}, d.closed) {
			d.dropped.Add(1)
		}
	}
	return len(bufs), nil
}

func (d *memDevice) BatchSize() int { return d.batch }
func (d *memDevice) MTU() int       { return d.mtu }
func (d *memDevice) Close() error {
	d.once.Do(func() { close(d.closed) })
	return nil
}

func (d *memDevice) inject(p []byte) bool { return d.toLoop.put(p, netip.AddrPort{}) }
func (d *memDevice) recv(dst []byte) int  { n, _ := d.fromLop.get(dst); return n }
func (d *memDevice) pending() int         { return len(d.fromLop.ch) }
func (d *memDevice) tryRecv(dst []byte) (int, bool) {
	select {
	case s := <-d.fromLop.ch:
		n := copy(dst, s.b[:s.n])
		d.fromLop.free <- s
		return n, true
	default:
		return 0, false
	}
}

// memTransport is one end of an in-memory link. What one end sends, the
// other receives, with the sender's address as Peer.
type memTransport struct {
	addr   netip.AddrPort
	rx, tx *memQueue
	batch  int
	closed chan struct{}
	once   sync.Once
	// swapBufs makes Recv fill the buffers of the last Packets and move
	// them to the front, as a transport that reorders pkts may.
	swapBufs bool
	// tap, if set, sees every packet sent (tests copy what they need).
	tap func(p []byte, to netip.AddrPort)
}

func newMemLink(a, b netip.AddrPort) (*memTransport, *memTransport) {
	qa, qb := newMemQueue(512, 65535), newMemQueue(512, 65535)
	ta := &memTransport{addr: a, rx: qa, tx: qb, batch: 32, closed: make(chan struct{})}
	tb := &memTransport{addr: b, rx: qb, tx: qa, batch: 32, closed: make(chan struct{})}
	return ta, tb
}

func (t *memTransport) Send(pkts []Packet) (int, error) {
	for i := range pkts {
		p := &pkts[i]
		data := p.Buf[p.Off : p.Off+p.Len]
		if t.tap != nil {
			t.tap(data, p.Peer)
		}
		t.tx.putWait(data, t.addr, t.closed)
	}
	return len(pkts), nil
}

func (t *memTransport) Recv(pkts []Packet) (int, error) {
	var s *memSlot
	select {
	case s = <-t.rx.ch:
	case <-t.closed:
		return 0, net.ErrClosed
	}
	n := 0
	for {
		if j := len(pkts) - 1 - n; t.swapBufs && j > n {
			pkts[n], pkts[j] = pkts[j], pkts[n]
		}
		p := &pkts[n]
		p.Len = copy(p.Buf[p.Off:], s.b[:s.n])
		p.Peer = s.peer
		t.rx.free <- s
		n++
		if n == len(pkts) {
			return n, nil
		}
		select {
		case s = <-t.rx.ch:
		default:
			return n, nil
		}
	}
}

func (t *memTransport) BatchSize() int { return t.batch }
func (t *memTransport) Close() error {
	t.once.Do(func() { close(t.closed) })
	return nil
}

// inject delivers raw bytes to this end as if the peer had sent them.
func (t *memTransport) inject(p []byte, from netip.AddrPort) bool { return t.rx.put(p, from) }
