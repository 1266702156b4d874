package encap

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrClosed is returned after Close. It is net.ErrClosed, so callers can
// treat every closed transport alike with errors.Is.
var ErrClosed = net.ErrClosed

// Defaults.
const (
	DefaultBatch        = 64
	DefaultSocketBuffer = 4 << 20 // per ESP socket and direction; inside a namespace the default (208 KiB) overflows at Gbit/s
)

const (
	ctrlLen     = 64    // room for IPV6_PKTINFO (40 octets) and UDP_SEGMENT or UDP_GRO (24)
	maxGSOSegs  = 64    // UDP_MAX_SEGMENTS is 64 on older kernels, 128 on newer
	maxGSOBytes = 65000 // a UDP datagram's payload, with room for the headers
	groMsgs     = 8     // coalesced datagrams per recvmmsg with UDP GRO
	groBufLen   = 65536 // the largest UDP payload, rounded up
)

// Config says which sockets Listen opens.
type Config struct {
	Addresses    []netip.Addr // local addresses to bind; empty: 0.0.0.0 and ::
	IKEPort      uint16       // IKE without marker (500); 0: none
	NATTPort     uint16       // IKE with marker and ESP in UDP (4500); 0: none
	RawESP       bool         // raw IP protocol 50 sockets for ESP without UDP
	FwMark       uint32       // SO_MARK on every socket (0: none), so policy routing keeps them out of the tunnel
	SocketBuffer int          // receive and send buffer of each ESP socket; 0: DefaultSocketBuffer
	BatchSize    int          // 0: DefaultBatch
}

type sockKind uint8

const (
	kindIKE sockKind = iota
	kindNATT
	kindRaw
)

type sock struct {
	fd      int
	kind    sockKind
	v6      bool
	local   netip.AddrPort // bound address; the port is 0 for raw sockets
	gso     atomic.Bool
	gro     *groState // UDP GRO on receive; nil where the kernel refused it
	bufSize int       // buffer size asked for, per direction
}

// groState is the receive side of a NAT-T socket with UDP GRO (Linux
// 5.0): the kernel hands runs of equal-sized datagrams of one flow over as
// one buffer with the segment size in a UDP_GRO control message (a GSO
// train from the peer is not even cut up). One recvmmsg takes up to groMsgs
// such buffers; Recv cuts them into packets, copying each into the caller's
// buffer, and keeps what does not fit for the next call. A copy in user
// space is much cheaper than a socket buffer, queueing and a recvmmsg
// entry per datagram in the kernel.
type groState struct {
	mu    sync.Mutex
	buf   []byte // groMsgs * groBufLen, touched only as far as used
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	ctrl  []byte
	lens  []int       // received length of each message
	segs  []int       // segment size of each message
	n     int         // messages received
	j     int         // message being cut
	off   int         // next segment in message j
	left  atomic.Bool // j < n: segments wait for the next Recv
}

// Counters count what went through and what was dropped; read them with
// atomic loads.
type Counters struct {
	RxESP, RxIKE, RxKeepalive atomic.Uint64
	TxESP, TxIKE, TxKeepalive atomic.Uint64
	GSOSends                  atomic.Uint64 // sendmmsg messages carrying several ESP packets
	GROReceives               atomic.Uint64 // received buffers carrying several datagrams (UDP GRO)

	DropInvalid   atomic.Uint64 // neither IKE, ESP nor keepalive; raw packet with a bad IP header
	DropTruncated atomic.Uint64 // larger than the buffer offered
	DropNoHandler atomic.Uint64 // IKE message with no handler set
	DropNoSocket  atomic.Uint64 // no socket for the peer's address family or kind
	DropSend      atomic.Uint64 // the kernel refused to send (no route, for example)
	GSOFailures   atomic.Uint64 // segmentation offload refused: turned off for that socket
}

// scratch is the per-call state of Recv and Send; it lives on a free list
// so that the steady state does not allocate.
type scratch struct {
	hdrs   []unix.Mmsghdr
	iovs   []unix.Iovec
	names  []unix.RawSockaddrInet6 // large enough for sockaddr_in too
	ctrl   []byte
	segs   []int // packets in each message (Send)
	events []unix.EpollEvent
}

// Conn is the set of UDP and raw sockets of one daemon. Its Recv and Send
// have the shape of the esp package's Transport (with Packet for
// esp.Packet); it satisfies IKETransport. All methods are safe for
// concurrent use.
type Conn struct {
	socks   []*sock
	natt    [2]*sock // by family: [0] IPv4, [1] IPv6
	raw     [2]*sock
	ike     [2]*sock
	epfd    int
	evfd    int
	batch   int
	nattPrt uint16
	ikePrt  uint16

	mu      sync.RWMutex // held shared by every call using the descriptors, exclusively by Close
	closed  atomic.Bool
	handler atomic.Pointer[IKEHandler]
	srcs    atomic.Pointer[srcMap] // ESP source addresses by peer (SetSource)
	srcMu   sync.Mutex
	last    atomic.Int32 // socket found readable last
	calls   atomic.Uint32
	free    chan *scratch

	Counters Counters
}

// Listen opens the sockets cfg asks for. IPv6 sockets that cannot be opened
// because the host has no IPv6 are left out when no addresses are given.
func Listen(cfg Config) (*Conn, error) {
	c := &Conn{batch: cfg.BatchSize, nattPrt: cfg.NATTPort, ikePrt: cfg.IKEPort, epfd: -1, evfd: -1}
	if c.batch <= 0 {
		c.batch = DefaultBatch
	}
	c.free = make(chan *scratch, 16)
	bufSize := cfg.SocketBuffer
	if bufSize <= 0 {
		bufSize = DefaultSocketBuffer
	}
	addrs := cfg.Addresses
	wildcard := len(addrs) == 0
	if wildcard {
		addrs = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	}
	fail := func(err error) (*Conn, error) {
		c.closeFDs()
		return nil, err
	}
	for _, a := range addrs {
		a = a.Unmap()
		for _, sp := range []struct {
			kind sockKind
			port uint16
			buf  int
		}{{kindIKE, cfg.IKEPort, 0}, {kindNATT, cfg.NATTPort, bufSize}} {
			if sp.port == 0 {
				continue
			}
			s, err := openUDP(netip.AddrPortFrom(a, sp.port), sp.kind, cfg.FwMark, sp.buf)
			if err != nil {
				if wildcard && a.Is6() && errors.Is(err, unix.EAFNOSUPPORT) {
					break
				}
				return fail(err)
			}
			c.add(s)
		}
	}
	if cfg.RawESP {
		for _, v6 := range []bool{false, true} {
			s, err := openRaw(v6, cfg.FwMark, bufSize)
			if err != nil {
				if v6 && errors.Is(err, unix.EAFNOSUPPORT) {
					continue
				}
				return fail(err)
			}
			c.add(s)
		}
	}
	if len(c.socks) == 0 {
		return nil, errors.New("encap: no sockets to open")
	}
	var err error
	if c.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fail(errors.New("encap: epoll: " + err.Error()))
	}
	if c.evfd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fail(errors.New("encap: eventfd: " + err.Error()))
	}
	if err := unix.EpollCtl(c.epfd, unix.EPOLL_CTL_ADD, c.evfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1}); err != nil {
		return fail(errors.New("encap: epoll: " + err.Error()))
	}
	for i, s := range c.socks {
		if err := unix.EpollCtl(c.epfd, unix.EPOLL_CTL_ADD, s.fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}); err != nil {
			return fail(errors.New("encap: epoll: " + err.Error()))
		}
	}
	c.last.Store(-1)
	return c, nil
}

func (c *Conn) add(s *sock) {
	c.socks = append(c.socks, s)
	f := 0
	if s.v6 {
		f = 1
	}
	var slot *[2]*sock
	switch s.kind {
	case kindIKE:
		slot = &c.ike
	case kindNATT:
		slot = &c.natt
	default:
		slot = &c.raw
	}
	if slot[f] == nil || (!slot[f].local.Addr().IsUnspecified() && s.local.Addr().IsUnspecified()) {
		slot[f] = s // prefer the wildcard socket: the kernel picks the source
	}
}

func setMarkAndBuffers(fd int, mark uint32, size int) error {
	if mark != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(mark)); err != nil {
			return errors.New("encap: SO_MARK: " + err.Error())
		}
	}
	if size > 0 {
		// The FORCE variants pass the system limit (net.core.rmem_max)
		// and need CAP_NET_ADMIN; without it take what the limit allows.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size)
		}
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, size) != nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, size)
		}
	}
	return nil
}

func openUDP(local netip.AddrPort, kind sockKind, mark uint32, bufSize int) (*sock, error) {
	v6 := local.Addr().Is6()
	fam := unix.AF_INET
	if v6 {
		fam = unix.AF_INET6
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, errors.New("encap: socket: " + err.Error())
	}
	s := &sock{fd: fd, kind: kind, v6: v6, local: local, bufSize: bufSize}
	fail := func(what string, err error) (*sock, error) {
		unix.Close(fd)
		return nil, errors.New("encap: " + what + " " + local.String() + ": " + err.Error())
	}
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return fail("IPV6_V6ONLY", err)
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1); err != nil {
			return fail("IPV6_RECVPKTINFO", err)
		}
	} else if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1); err != nil {
		return fail("IP_PKTINFO", err)
	}
	if err := setMarkAndBuffers(fd, mark, bufSize); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := unix.Bind(fd, sockaddr(local)); err != nil {
		if errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EADDRNOTAVAIL) && v6 && local.Addr().IsUnspecified() {
			unix.Close(fd)
			return nil, unix.EAFNOSUPPORT
		}
		return fail("bind", err)
	}
	if kind == kindNATT {
		// UDP generic segmentation offload (Linux 4.18): probe with a
		// getsockopt; an old kernel answers ENOPROTOOPT.
		if _, err := unix.GetsockoptInt(fd, unix.SOL_UDP, unix.UDP_SEGMENT); err == nil {
			s.gso.Store(true)
		}
		// UDP GRO (Linux 5.0); without it every datagram costs a socket
		// buffer and a recvmmsg entry.
		if unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_GRO, 1) == nil {
			s.gro = newGRO()
		}
	}
	return s, nil
}

func openRaw(v6 bool, mark uint32, bufSize int) (*sock, error) {
	fam, addr := unix.AF_INET, netip.IPv4Unspecified()
	if v6 {
		fam, addr = unix.AF_INET6, netip.IPv6Unspecified()
	}
	fd, err := unix.Socket(fam, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ESP)
	if err != nil {
		if errors.Is(err, unix.EAFNOSUPPORT) {
			return nil, unix.EAFNOSUPPORT
		}
		return nil, errors.New("encap: raw ESP socket: " + err.Error())
	}
	if err := setMarkAndBuffers(fd, mark, bufSize); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &sock{fd: fd, kind: kindRaw, v6: v6, local: netip.AddrPortFrom(addr, 0), bufSize: bufSize}, nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: int(ap.Port())}
}

// putName writes ap as a raw sockaddr and returns its length.
func putName(n *unix.RawSockaddrInet6, ap netip.AddrPort) uint32 {
	a := ap.Addr().Unmap()
	p := (*[2]byte)(unsafe.Pointer(&n.Port))
	binary.BigEndian.PutUint16(p[:], ap.Port())
	if a.Is4() {
		n4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(n))
		n4.Family = unix.AF_INET
		n4.Addr = a.As4()
		n4.Zero = [8]byte{}
		return unix.SizeofSockaddrInet4
	}
	n.Family = unix.AF_INET6
	n.Flowinfo = 0
	n.Addr = a.As16()
	n.Scope_id = 0
	return unix.SizeofSockaddrInet6
}

// getName reads a raw sockaddr written by the kernel.
func getName(n *unix.RawSockaddrInet6) netip.AddrPort {
	p := (*[2]byte)(unsafe.Pointer(&n.Port))
	port := binary.BigEndian.Uint16(p[:])
	if n.Family == unix.AF_INET {
		n4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(n))
		return netip.AddrPortFrom(netip.AddrFrom4(n4.Addr), port)
	}
	return netip.AddrPortFrom(netip.AddrFrom16(n.Addr).Unmap(), port)
}

func (c *Conn) get() *scratch {
	select {
	case s := <-c.free:
		return s
	default:
	}
	return &scratch{
		hdrs:   make([]unix.Mmsghdr, c.batch),
		iovs:   make([]unix.Iovec, c.batch),
		names:  make([]unix.RawSockaddrInet6, c.batch),
		ctrl:   make([]byte, c.batch*ctrlLen),
		segs:   make([]int, c.batch),
		events: make([]unix.EpollEvent, len(c.socks)+1),
	}
}

func (c *Conn) put(s *scratch) {
	select {
	case c.free <- s:
	default:
	}
}

// BatchSize is the largest useful number of packets per Recv or Send.
func (c *Conn) BatchSize() int { return c.batch }

// SetIKEHandler sets the function that receives IKE messages; nil drops them.
func (c *Conn) SetIKEHandler(h IKEHandler) {
	if h == nil {
		c.handler.Store(nil)
		return
	}
	c.handler.Store(&h)
}

// SocketBufferBytes is the kernel buffer memory the sockets asked for, both
// directions of every socket added up.
func (c *Conn) SocketBufferBytes() int {
	t := 0
	for _, s := range c.socks {
		t += 2 * s.bufSize
	}
	return t
}

// GSO reports whether UDP segmentation offload is in use for IPv4 and IPv6.
func (c *Conn) GSO() (v4, v6 bool) {
	if c.natt[0] != nil {
		v4 = c.natt[0].gso.Load()
	}
	if c.natt[1] != nil {
		v6 = c.natt[1].gso.Load()
	}
	return
}

// Recv receives up to len(pkts) ESP packets, placing each at
// pkts[i].Buf[pkts[i].Off:] and setting Len and Peer (port 0: raw ESP; for
// raw IPv4 the IP header is skipped by advancing Off). IKE messages and NAT
// keepalives met on the way are handed to the IKE handler or dropped. It
// blocks until at least one ESP packet arrives. To keep the packets it
// returns in front, Recv may reorder the Packet values within pkts: every
// buffer stays in the slice, but not necessarily at its index.
func (c *Conn) Recv(pkts []Packet) (int, error) {
	if len(pkts) == 0 {
		return 0, nil
	}
	if len(pkts) > c.batch {
		pkts = pkts[:c.batch]
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	s := c.get()
	defer c.put(s)
	// Try the socket that was busy last time without asking epoll, but
	// every so often go through epoll so the others are not starved.
	idx := int(c.last.Load())
	if c.calls.Add(1)%16 == 0 {
		idx = -1
	}
	for {
		if c.closed.Load() {
			return 0, ErrClosed
		}
		if idx >= 0 {
			n, err := c.recvSock(c.socks[idx], pkts, s)
			if n > 0 || err != nil {
				return n, err
			}
		}
		// Segments left from a coalesced datagram do not wake epoll.
		for _, sk := range c.natt {
			if sk != nil && sk.gro != nil && sk.gro.left.Load() {
				if n, err := c.recvSock(sk, pkts, s); n > 0 || err != nil {
					return n, err
				}
			}
		}
		ne, err := unix.EpollWait(c.epfd, s.events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return 0, errors.New("encap: epoll_wait: " + err.Error())
		}
		idx = -1
		for _, ev := range s.events[:ne] {
			if ev.Fd < 0 {
				return 0, ErrClosed
			}
			i := int(ev.Fd)
			n, err := c.recvSock(c.socks[i], pkts, s)
			if n > 0 || err != nil {
				c.last.Store(int32(i))
				return n, err
			}
		}
	}
}

// recvSock reads one batch from s without blocking and returns the number
// of ESP packets, moved to the front of pkts.
func (c *Conn) recvSock(sk *sock, pkts []Packet, s *scratch) (int, error) {
	if sk.gro != nil {
		return c.recvGRO(sk, pkts)
	}
	n := len(pkts)
	for i := 0; i < n; i++ {
		b := pkts[i].Buf[pkts[i].Off:]
		if len(b) == 0 {
			n = i
			break
		}
		s.iovs[i].Base = &b[0]
		s.iovs[i].SetLen(len(b))
		h := &s.hdrs[i]
		h.Hdr.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		h.Hdr.Namelen = unix.SizeofSockaddrInet6
		h.Hdr.Iov = &s.iovs[i]
		h.Hdr.SetIovlen(1)
		h.Hdr.Control = &s.ctrl[i*ctrlLen]
		h.Hdr.SetControllen(ctrlLen)
		h.Hdr.Flags = 0
		h.Len = 0
	}
	if n == 0 {
		return 0, nil
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(sk.fd), uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(n), unix.MSG_DONTWAIT, 0, 0)
	switch e {
	case 0:
	case unix.EAGAIN, unix.EINTR:
		return 0, nil
	case unix.EBADF, unix.ENOTSOCK:
		return 0, ErrClosed
	default:
		// A queued ICMP error (ECONNREFUSED and the like) is reported
		// once and consumed; nothing is lost.
		return 0, nil
	}
	m := int(r)
	w := 0
	for i := 0; i < m; i++ {
		l := int(s.hdrs[i].Len)
		if s.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
			c.Counters.DropTruncated.Add(1)
			continue
		}
		off := pkts[i].Off
		data := pkts[i].Buf[off : off+l]
		peer := getName(&s.names[i])
		keep := false
		switch sk.kind {
		case kindRaw:
			skip, ok := rawESPOffset(data, sk.v6)
			if !ok {
				c.Counters.DropInvalid.Add(1)
				continue
			}
			pkts[i].Off = off + skip
			pkts[i].Len = l - skip
			pkts[i].Peer = netip.AddrPortFrom(peer.Addr(), 0)
			keep = true
		case kindNATT:
			switch Classify(data) {
			case KindESP:
				pkts[i].Len = l
				pkts[i].Peer = peer
				keep = true
			case KindIKE:
				c.deliverIKE(data[MarkerLen:], sk, s.ctrl[i*ctrlLen:i*ctrlLen+int(s.hdrs[i].Hdr.Controllen)], peer)
			case KindKeepalive:
				// RFC 3948, Section 2.3: ignored by the receiver.
				c.Counters.RxKeepalive.Add(1)
			default:
				c.Counters.DropInvalid.Add(1)
			}
		case kindIKE:
			if l == 0 {
				c.Counters.DropInvalid.Add(1)
				continue
			}
			c.deliverIKE(data, sk, s.ctrl[i*ctrlLen:i*ctrlLen+int(s.hdrs[i].Hdr.Controllen)], peer)
		}
		if keep {
			if i != w {
				pkts[w], pkts[i] = pkts[i], pkts[w]
			}
			w++
		}
	}
	c.Counters.RxESP.Add(uint64(w))
	return w, nil
}

// deliverIKE hands a copy of an IKE message to the handler; ctrl holds the
// message's control messages (IP_PKTINFO for the local address).
func newGRO() *groState {
	return &groState{
		buf:   make([]byte, groMsgs*groBufLen),
		hdrs:  make([]unix.Mmsghdr, groMsgs),
		iovs:  make([]unix.Iovec, groMsgs),
		names: make([]unix.RawSockaddrInet6, groMsgs),
		ctrl:  make([]byte, groMsgs*ctrlLen),
		lens:  make([]int, groMsgs),
		segs:  make([]int, groMsgs),
	}
}

// recvGRO fills pkts from a UDP GRO socket: first the segments left from
// the last call, then one recvmmsg without waiting, cut into packets.
// Packets of every kind are classified as recvSock does.
func (c *Conn) recvGRO(sk *sock, pkts []Packet) (int, error) {
	g := sk.gro
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.cut(c, sk, pkts, 0)
	if w == len(pkts) {
		return w, nil
	}
	for i := range g.hdrs {
		g.iovs[i].Base = &g.buf[i*groBufLen]
		g.iovs[i].SetLen(groBufLen)
		h := &g.hdrs[i]
		h.Hdr.Name = (*byte)(unsafe.Pointer(&g.names[i]))
		h.Hdr.Namelen = unix.SizeofSockaddrInet6
		h.Hdr.Iov = &g.iovs[i]
		h.Hdr.SetIovlen(1)
		h.Hdr.Control = &g.ctrl[i*ctrlLen]
		h.Hdr.SetControllen(ctrlLen)
		h.Hdr.Flags = 0
		h.Len = 0
	}
	r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(sk.fd), uintptr(unsafe.Pointer(&g.hdrs[0])), groMsgs, unix.MSG_DONTWAIT, 0, 0)
	switch e {
	case 0:
	case unix.EBADF, unix.ENOTSOCK:
		return w, ErrClosed
	default:
		// EAGAIN, EINTR, or a queued ICMP error reported once.
		return w, nil
	}
	g.n, g.j, g.off = 0, 0, 0
	for i := 0; i < int(r); i++ {
		l := int(g.hdrs[i].Len)
		if g.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
			c.Counters.DropTruncated.Add(1)
			l = 0
		}
		seg := groSegment(g.ctrl[i*ctrlLen : i*ctrlLen+int(g.hdrs[i].Hdr.Controllen)])
		if seg <= 0 || seg >= l {
			seg = l
		} else {
			c.Counters.GROReceives.Add(1)
		}
		g.lens[i], g.segs[i] = l, seg
	}
	g.n = int(r)
	return g.cut(c, sk, pkts, w), nil
}

// cut copies the waiting segments into pkts[w:] (ESP) or hands them on
// (IKE, keepalives) and returns the new number of packets in pkts.
func (g *groState) cut(c *Conn, sk *sock, pkts []Packet, w int) int {
	esp := 0
	for w < len(pkts) && g.j < g.n {
		j := g.j
		l, seg := g.lens[j], g.segs[j]
		if g.off >= l {
			g.j++
			g.off = 0
			continue
		}
		msg := g.buf[j*groBufLen : j*groBufLen+l]
		data := msg[g.off:min(g.off+seg, l)]
		g.off += seg
		peer := getName(&g.names[j])
		switch Classify(data) {
		case KindESP:
			p := &pkts[w]
			if p.Off < 0 || p.Off > len(p.Buf) || len(data) > len(p.Buf)-p.Off {
				c.Counters.DropTruncated.Add(1)
				continue
			}
			p.Len = copy(p.Buf[p.Off:], data)
			p.Peer = peer
			w++
			esp++
		case KindIKE:
			c.deliverIKE(data[MarkerLen:], sk, g.ctrl[j*ctrlLen:j*ctrlLen+int(g.hdrs[j].Hdr.Controllen)], peer)
		case KindKeepalive:
			// RFC 3948, Section 2.3: ignored by the receiver.
			c.Counters.RxKeepalive.Add(1)
		default:
			c.Counters.DropInvalid.Add(1)
		}
	}
	for g.j < g.n && g.off >= g.lens[g.j] {
		g.j++
		g.off = 0
	}
	g.left.Store(g.j < g.n)
	c.Counters.RxESP.Add(uint64(esp))
	return w
}

// groSegment returns the segment size from a UDP_GRO control message, or 0.
func groSegment(ctrl []byte) int {
	for len(ctrl) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
		cl := int(h.Len)
		if cl < unix.SizeofCmsghdr || cl > len(ctrl) {
			return 0
		}
		if h.Level == unix.SOL_UDP && h.Type == unix.UDP_GRO && cl >= unix.SizeofCmsghdr+4 {
			return int(*(*int32)(unsafe.Pointer(&ctrl[unix.SizeofCmsghdr])))
		}
		ctrl = ctrl[min(unix.CmsgSpace(cl-unix.SizeofCmsghdr), len(ctrl)):]
	}
	return 0
}

func (c *Conn) deliverIKE(msg []byte, sk *sock, ctrl []byte, peer netip.AddrPort) {
	hp := c.handler.Load()
	if hp == nil {
		c.Counters.DropNoHandler.Add(1)
		return
	}
	c.Counters.RxIKE.Add(1)
	local := sk.local
	if a, ok := pktinfoAddr(ctrl); ok {
		local = netip.AddrPortFrom(a, sk.local.Port())
	}
	(*hp)(append([]byte(nil), msg...), local, peer)
}

// putPktinfo writes an IP_PKTINFO or IPV6_PKTINFO control message asking
// for source address src into b and returns its length.
func putPktinfo(b []byte, src netip.Addr) int {
	clear(b)
	cm := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	data := b[unix.CmsgLen(0):]
	if src.Is4() {
		cm.Level, cm.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
		cm.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
		info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
		info.Spec_dst = src.As4()
		return unix.CmsgSpace(unix.SizeofInet4Pktinfo)
	}
	cm.Level, cm.Type = unix.IPPROTO_IPV6, unix.IPV6_PKTINFO
	cm.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
	info := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
	info.Addr = src.As16()
	return unix.CmsgSpace(unix.SizeofInet6Pktinfo)
}

// pktinfoAddr finds the local (destination) address in IP_PKTINFO or
// IPV6_PKTINFO control data.
func pktinfoAddr(ctrl []byte) (netip.Addr, bool) {
	msgs, err := unix.ParseSocketControlMessage(ctrl)
	if err != nil {
		return netip.Addr{}, false
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_PKTINFO && len(m.Data) >= unix.SizeofInet4Pktinfo:
			info := (*unix.Inet4Pktinfo)(unsafe.Pointer(&m.Data[0]))
			return netip.AddrFrom4(info.Addr), true
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= unix.SizeofInet6Pktinfo:
			info := (*unix.Inet6Pktinfo)(unsafe.Pointer(&m.Data[0]))
			return netip.AddrFrom16(info.Addr), true
		}
	}
	return netip.Addr{}, false
}

func family(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 0
	}
	return 1
}

// espSock picks the socket for ESP to peer and, when a source address was
// set for peer (SetSource) and no socket is bound to it, the address to ask
// for with IP_PKTINFO.
func (c *Conn) espSock(peer netip.AddrPort, srcs *srcMap) (*sock, netip.Addr) {
	kind, slot := kindNATT, &c.natt
	if peer.Port() == 0 {
		kind, slot = kindRaw, &c.raw
	}
	sk := slot[family(peer.Addr())]
	if srcs == nil {
		return sk, netip.Addr{}
	}
	src, ok := (*srcs)[peer]
	if !ok || src.Is4() != peer.Addr().Unmap().Is4() {
		return sk, netip.Addr{}
	}
	for _, s := range c.socks {
		if s.kind == kind && s.local.Addr() == src {
			return s, netip.Addr{}
		}
	}
	if sk != nil && sk.local.Addr().IsUnspecified() {
		return sk, src
	}
	return sk, netip.Addr{}
}

// srcMap maps ESP peers to the local address their packets leave from.
type srcMap map[netip.AddrPort]netip.Addr

// SetSource makes ESP packets to peer leave from local address src (a
// socket bound to it, or IP_PKTINFO on the wildcard socket); an invalid
// src goes back to the kernel's choice. It is for gateways with several
// addresses, where a peer (or a NAT's mapping) expects ESP from the address
// IKE used. The map is copied on write: Send reads it without a lock.
func (c *Conn) SetSource(peer netip.AddrPort, src netip.Addr) {
	c.srcMu.Lock()
	defer c.srcMu.Unlock()
	m := srcMap{}
	if old := c.srcs.Load(); old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	if src.IsValid() {
		m[peer] = src.Unmap()
	} else {
		delete(m, peer)
	}
	if len(m) == 0 {
		c.srcs.Store(nil)
		return
	}
	c.srcs.Store(&m)
}

// Send sends pkts[i].Buf[Off:Off+Len] to pkts[i].Peer: UDP-encapsulated
// from the NAT-T socket, or raw ESP when the peer's port is 0. Runs of
// equal-sized packets to one peer go out as one UDP GSO message where the
// kernel supports it. A packet the kernel refuses is counted and skipped;
// Send returns an error only when the transport is closed.
func (c *Conn) Send(pkts []Packet) (int, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed.Load() {
		return 0, ErrClosed
	}
	s := c.get()
	defer c.put(s)
	srcs := c.srcs.Load()
	i := 0
	for i < len(pkts) {
		sk, src := c.espSock(pkts[i].Peer, srcs)
		if sk == nil {
			c.Counters.DropNoSocket.Add(1)
			i++
			continue
		}
		gso := sk.gso.Load()
		nm, niov := 0, 0
		j := i
		for j < len(pkts) && niov < c.batch {
			if j > i {
				if s2, src2 := c.espSock(pkts[j].Peer, srcs); s2 != sk || src2 != src {
					break
				}
			}
			k := j + 1
			if gso {
				size, total := pkts[j].Len, pkts[j].Len
				for k < len(pkts) && k-j < maxGSOSegs && niov+(k-j) < c.batch &&
					pkts[k].Peer == pkts[j].Peer && pkts[k].Len <= size && total+pkts[k].Len <= maxGSOBytes {
					total += pkts[k].Len
					k++
					if pkts[k-1].Len < size {
						break // only the last segment may be shorter
					}
				}
			}
			h := &s.hdrs[nm]
			for x := j; x < k; x++ {
				p := &pkts[x]
				s.iovs[niov+x-j].Base = &p.Buf[p.Off]
				s.iovs[niov+x-j].SetLen(p.Len)
			}
			h.Hdr.Name = (*byte)(unsafe.Pointer(&s.names[nm]))
			h.Hdr.Namelen = putName(&s.names[nm], pkts[j].Peer)
			h.Hdr.Iov = &s.iovs[niov]
			h.Hdr.SetIovlen(k - j)
			h.Hdr.Flags = 0
			h.Len = 0
			cl := 0
			cb := s.ctrl[nm*ctrlLen : (nm+1)*ctrlLen]
			if k-j > 1 {
				cm := (*unix.Cmsghdr)(unsafe.Pointer(&cb[0]))
				cm.Level = unix.SOL_UDP
				cm.Type = unix.UDP_SEGMENT
				cm.SetLen(unix.CmsgLen(2))
				binary.NativeEndian.PutUint16(cb[unix.CmsgLen(0):], uint16(pkts[j].Len))
				cl = unix.CmsgSpace(2)
			}
			if src.IsValid() {
				cl += putPktinfo(cb[cl:], src)
			}
			if cl > 0 {
				h.Hdr.Control = &cb[0]
				h.Hdr.SetControllen(cl)
			} else {
				h.Hdr.Control = nil
				h.Hdr.SetControllen(0)
			}
			s.segs[nm] = k - j
			niov += k - j
			nm++
			j = k
		}
		if err := c.sendmmsg(sk, s, nm); err != nil {
			return i, err
		}
		i = j
	}
	return len(pkts), nil
}

func (c *Conn) sendmmsg(sk *sock, s *scratch, nm int) error {
	off := 0
	for off < nm {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(sk.fd), uintptr(unsafe.Pointer(&s.hdrs[off])), uintptr(nm-off), 0, 0, 0)
		switch e {
		case 0:
			for x := off; x < off+int(r); x++ {
				c.Counters.TxESP.Add(uint64(s.segs[x]))
				if s.segs[x] > 1 {
					c.Counters.GSOSends.Add(1)
				}
			}
			off += int(r)
			continue
		case unix.EINTR:
			continue
		case unix.EBADF, unix.ENOTSOCK:
			return ErrClosed
		case unix.EIO, unix.EINVAL:
			if s.segs[off] > 1 {
				// The device cannot segment (no checksum offload, or
				// a kernel without UDP_SEGMENT on this path): stop
				// asking. These packets are lost; the next batch goes
				// out one datagram each.
				if sk.gso.Swap(false) {
					c.Counters.GSOFailures.Add(1)
				}
			}
		}
		// The first message failed (EHOSTUNREACH, EMSGSIZE, ...): drop
		// it and go on with the rest.
		c.Counters.DropSend.Add(uint64(s.segs[off]))
		off++
	}
	return nil
}

func (c *Conn) pickSock(kind sockKind, local, remote netip.AddrPort) *sock {
	f := family(remote.Addr())
	la := local.Addr().Unmap()
	if la.IsValid() && !la.IsUnspecified() {
		for _, s := range c.socks {
			if s.kind == kind && s.local.Addr() == la {
				return s
			}
		}
	}
	switch kind {
	case kindNATT:
		return c.natt[f]
	case kindIKE:
		return c.ike[f]
	}
	return nil
}

// SendIKE sends an IKE message from local to remote. local's port must be
// the IKE port or the NAT-T port; on the NAT-T port the non-ESP marker is
// prepended (RFC 3948, Section 2.2; RFC 7296, Section 2.23). If local has a
// specific address and the socket is bound to the wildcard, that address
// becomes the source (IP_PKTINFO), so replies leave from where the request
// arrived.
func (c *Conn) SendIKE(msg []byte, local, remote netip.AddrPort) error {
	var kind sockKind
	switch local.Port() {
	case c.nattPrt:
		kind = kindNATT
	case c.ikePrt:
		kind = kindIKE
	default:
		return errors.New("encap: no IKE socket on port " + itoa(int(local.Port())))
	}
	if c.nattPrt == 0 && kind == kindNATT || c.ikePrt == 0 && kind == kindIKE {
		return errors.New("encap: no IKE socket on port " + itoa(int(local.Port())))
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed.Load() {
		return ErrClosed
	}
	sk := c.pickSock(kind, local, remote)
	if sk == nil {
		c.Counters.DropNoSocket.Add(1)
		return errors.New("encap: no socket for " + remote.String())
	}
	bufs := [][]byte{msg}
	if kind == kindNATT {
		bufs = [][]byte{make([]byte, MarkerLen), msg}
	}
	var oob []byte
	if la := local.Addr().Unmap(); la.IsValid() && !la.IsUnspecified() && sk.local.Addr().IsUnspecified() && la.Is4() == !sk.v6 {
		if sk.v6 {
			oob = unix.PktInfo6(&unix.Inet6Pktinfo{Addr: la.As16()})
		} else {
			oob = unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: la.As4()})
		}
	}
	if _, err := unix.SendmsgBuffers(sk.fd, bufs, oob, sockaddr(remote), 0); err != nil {
		c.Counters.DropSend.Add(1)
		return errors.New("encap: send IKE to " + remote.String() + ": " + err.Error())
	}
	c.Counters.TxIKE.Add(1)
	return nil
}

// SendKeepalive sends one NAT keepalive (a single 0xFF octet, RFC 3948,
// Section 2.3) from the NAT-T port to peer. The caller runs the timer.
func (c *Conn) SendKeepalive(peer netip.AddrPort) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed.Load() {
		return ErrClosed
	}
	sk := c.natt[family(peer.Addr())]
	if sk == nil {
		c.Counters.DropNoSocket.Add(1)
		return errors.New("encap: no NAT-T socket for " + peer.String())
	}
	if err := unix.Sendto(sk.fd, []byte{0xFF}, 0, sockaddr(peer)); err != nil {
		c.Counters.DropSend.Add(1)
		return errors.New("encap: keepalive to " + peer.String() + ": " + err.Error())
	}
	c.Counters.TxKeepalive.Add(1)
	return nil
}

// Close wakes every blocked Recv, waits for calls in progress and closes
// the sockets.
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(c.evfd, one[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeFDs()
	return nil
}

func (c *Conn) closeFDs() {
	for _, s := range c.socks {
		unix.Close(s.fd)
	}
	if c.epfd >= 0 {
		unix.Close(c.epfd)
	}
	if c.evfd >= 0 {
		unix.Close(c.evfd)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}
