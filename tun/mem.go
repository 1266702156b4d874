package tun

import (
	"os"
	"sync"
)

// ErrClosed is returned by a closed in-memory device (os.ErrClosed, so that
// errors.Is finds it as it does for a closed TUN device).
var ErrClosed = os.ErrClosed

// Mem is an in-memory TUN device for tests: two queues. The host side calls
// Send to put a packet into the tunnel (the loop Reads it) and Recv to take a
// packet the loop has Written. Packets are copied in and out of recycled
// buffers, so a steady-state exchange does not allocate. Mem satisfies the
// esp package's Device interface.
type Mem struct {
	mtu    int
	batch  int
	in     chan []byte // host -> loop
	out    chan []byte // loop -> host
	free   chan []byte
	closed chan struct{}
	once   sync.Once
}

// NewMem returns an in-memory device with the given MTU whose two queues
// each hold up to queue packets.
func NewMem(mtu, queue int) *Mem {
	if queue < 1 {
		queue = 1
	}
	return &Mem{
		mtu:    mtu,
		batch:  DefaultBatch,
		in:     make(chan []byte, queue),
		out:    make(chan []byte, queue),
		free:   make(chan []byte, 2*queue+2*DefaultBatch),
		closed: make(chan struct{}),
	}
}

func (m *Mem) get(n int) []byte {
	select {
	case b := <-m.free:
		if cap(b) >= n {
			return b[:n]
		}
	default:
	}
	c := m.mtu
	if c < n {
		c = n
	}
	return make([]byte, n, c)
}

func (m *Mem) put(b []byte) {
	select {
	case m.free <- b:
	default:
	}
}

// MTU is the device MTU.
func (m *Mem) MTU() int { return m.mtu }

// BatchSize is the largest useful batch.
func (m *Mem) BatchSize() int { return m.batch }

// Send queues a copy of pkt as if the host had routed it into the tunnel. It
// blocks while the queue is full.
func (m *Mem) Send(pkt []byte) error {
	select {
	case <-m.closed:
		return ErrClosed
	default:
	}
	b := m.get(len(pkt))
	copy(b, pkt)
	select {
	case m.in <- b:
		return nil
	case <-m.closed:
		return ErrClosed
	}
}

// Recv copies the next packet the loop wrote into buf and returns its
// length. It blocks until there is one.
func (m *Mem) Recv(buf []byte) (int, error) {
	select {
	case b := <-m.out:
		n := copy(buf, b)
		m.put(b)
		return n, nil
	case <-m.closed:
		return 0, ErrClosed
	}
}

// Read implements the device side: it blocks for the first packet and then
// takes what else is queued.
func (m *Mem) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	var b []byte
	select {
	case b = <-m.in:
	case <-m.closed:
		return 0, ErrClosed
	}
	n := 0
	for {
		sizes[n] = copy(bufs[n][offset:], b)
		m.put(b)
		n++
		if n == len(bufs) || n == len(sizes) {
			return n, nil
		}
		select {
		case b = <-m.in:
		default:
			return n, nil
		}
	}
}

// Write copies each packet bufs[i][offset:] to the host queue, blocking
// while it is full.
func (m *Mem) Write(bufs [][]byte, offset int) (int, error) {
	for i, p := range bufs {
		b := m.get(len(p) - offset)
		copy(b, p[offset:])
		select {
		case m.out <- b:
		case <-m.closed:
			return i, ErrClosed
		}
	}
	return len(bufs), nil
}

// Close unblocks every waiting call; later calls return ErrClosed.
func (m *Mem) Close() error {
	m.once.Do(func() { close(m.closed) })
	return nil
}
