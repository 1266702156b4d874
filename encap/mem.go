package encap

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// Mem is one end of an in-memory transport pair for tests: what one end
// Sends, the other Recvs, with the sender's address as Peer. Packets are
// copied through recycled buffers, so the steady state does not allocate.
// Drop, if set, is asked about every packet sent and may discard it (to
// simulate loss) or alter it in place (to forge one).
type Mem struct {
	addr  netip.AddrPort
	peer  *Mem
	q     chan memPkt
	free  chan []byte
	batch int
	done  chan struct{}
	once  *sync.Once

	Drop func(pkt []byte) bool

	Sent, Received, Dropped atomic.Uint64
}

type memPkt struct {
	b    []byte
	from netip.AddrPort
}

// NewMemPair returns two connected in-memory transports at addresses a and
// b; each queue holds up to queue packets. Closing either closes both.
func NewMemPair(a, b netip.AddrPort, queue int) (*Mem, *Mem) {
	if queue < 1 {
		queue = 1
	}
	done := make(chan struct{})
	once := new(sync.Once)
	ma := &Mem{addr: a, q: make(chan memPkt, queue), free: make(chan []byte, queue+DefaultBatch), batch: DefaultBatch, done: done, once: once}
	mb := &Mem{addr: b, q: make(chan memPkt, queue), free: make(chan []byte, queue+DefaultBatch), batch: DefaultBatch, done: done, once: once}
	ma.peer, mb.peer = mb, ma
	return ma, mb
}

// BatchSize is the largest useful batch.
func (m *Mem) BatchSize() int { return m.batch }

// Send copies each packet to the other end's queue, blocking while it is full.
func (m *Mem) Send(pkts []Packet) (int, error) {
	for i := range pkts {
		p := &pkts[i]
		data := p.Buf[p.Off : p.Off+p.Len]
		var b []byte
		select {
		case b = <-m.peer.free:
		default:
		}
		if cap(b) < len(data) {
			b = make([]byte, len(data), len(data)+256)
		}
		b = b[:len(data)]
		copy(b, data)
		if m.Drop != nil && m.Drop(b) {
			m.Dropped.Add(1)
			continue
		}
		select {
		case m.peer.q <- memPkt{b, m.addr}:
			m.Sent.Add(1)
		case <-m.done:
			return i, ErrClosed
		}
	}
	return len(pkts), nil
}

// Recv blocks for one packet and then takes what else is queued.
func (m *Mem) Recv(pkts []Packet) (int, error) {
	if len(pkts) == 0 {
		return 0, nil
	}
	var p memPkt
	select {
	case p = <-m.q:
	case <-m.done:
		return 0, ErrClosed
	}
	n := 0
	for {
		pkts[n].Len = copy(pkts[n].Buf[pkts[n].Off:], p.b)
		pkts[n].Peer = p.from
		select {
		case m.free <- p.b:
		default:
		}
		n++
		m.Received.Add(1)
		if n == len(pkts) {
			return n, nil
		}
		select {
		case p = <-m.q:
		default:
			return n, nil
		}
	}
}

// Close closes both ends.
func (m *Mem) Close() error {
	m.once.Do(func() { close(m.done) })
	return nil
}
