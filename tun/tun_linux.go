package tun

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultBatch is how many packets one Read tries to collect. Plain TUN has no
// batch system call, so a batch is several read(2) calls that stop when the
// next one would block; the batch still saves the loop a round per packet.
const DefaultBatch = 64

// Counters are the device's drop counters, read with atomic loads.
type Counters struct {
	ReadTooBig atomic.Uint64 // a packet larger than the buffer offered, dropped
	ReadBad    atomic.Uint64 // an offload packet with headers we cannot cut up, dropped
	Segmented  atomic.Uint64 // super-packets cut into segments
	Coalesced  atomic.Uint64 // super-packets written from coalesced segments
	WriteError atomic.Uint64 // a packet the kernel refused (malformed, or no reader above)
}

// Device is an open Linux TUN device (IFF_TUN, IFF_NO_PI). It satisfies the
// esp package's Device interface. Read and Write may be called from
// different goroutines; concurrent Reads (or Writes) are also safe.
type Device struct {
	file  *os.File
	rc    syscall.RawConn
	name  string
	index int
	mtu   atomic.Int32
	batch int

	// With IFF_VNET_HDR and offloads (vnet true): reads go through rbuf,
	// whose super-packets seg cuts up; writes get a zero virtio header.
	vnet bool
	rmu  sync.Mutex
	rbuf []byte
	seg  segmenter
	wmu  sync.Mutex
	whdr [vnetHdrLen]byte
	wiov []unix.Iovec

	Counters Counters
}

// Open creates the TUN device name (or attaches to an existing one owned by
// us) in non-blocking mode, so that reads park in the Go poller instead of
// holding a thread. Where the kernel allows, it turns on segmentation
// offload (IFF_VNET_HDR, TUNSETOFFLOAD with checksum, TSO and USO), so
// that the kernel passes TCP super-packets which Read cuts up. It does not
// bring the device up; see Netlink.SetLink.
func Open(name string) (*Device, error) { return open(name, true) }

// OpenPlain is Open without offloads: one packet per read(2).
func OpenPlain(name string) (*Device, error) { return open(name, false) }

func open(name string, offload bool) (*Device, error) {
	if len(name) == 0 || len(name) >= unix.IFNAMSIZ {
		return nil, errors.New("tun: bad interface name")
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errors.New("tun: open /dev/net/tun: " + err.Error())
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, errors.New("tun: " + err.Error())
	}
	flags := uint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if offload {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, errors.New("tun: TUNSETIFF " + name + ": " + err.Error())
	}
	vnet := false
	if offload {
		// TSO needs checksum offload; USO (Linux 6.2) is optional.
		base := unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6
		if unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, base|unix.TUN_F_USO4|unix.TUN_F_USO6) == nil ||
			unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, base) == nil {
			vnet = true
		} else {
			// Without offloads the header is pure cost: start again
			// without it.
			unix.Close(fd)
			return open(name, false)
		}
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, errors.New("tun: set non-blocking: " + err.Error())
	}
	d := &Device{name: ifr.Name(), batch: DefaultBatch, vnet: vnet}
	if vnet {
		d.rbuf = make([]byte, vnetHdrLen+65535)
		d.wiov = make([]unix.Iovec, 1, 1+maxGROSegs)
		d.wiov[0].Base = &d.whdr[0]
		d.wiov[0].SetLen(vnetHdrLen)
	}
	d.file = os.NewFile(uintptr(fd), "/dev/net/tun")
	d.rc, err = d.file.SyscallConn()
	if err != nil {
		d.file.Close()
		return nil, errors.New("tun: " + err.Error())
	}
	idx, mtu, err := ifInfo(d.name)
	if err != nil {
		d.file.Close()
		return nil, err
	}
	d.index = idx
	d.mtu.Store(int32(mtu))
	return d, nil
}

// ifInfo returns the index and MTU of interface name.
func ifInfo(name string) (index, mtu int, err error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, errors.New("tun: socket: " + err.Error())
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, 0, errors.New("tun: " + err.Error())
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, 0, errors.New("tun: SIOCGIFINDEX " + name + ": " + err.Error())
	}
	index = int(ifr.Uint32())
	ifr, _ = unix.NewIfreq(name)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFMTU, ifr); err != nil {
		return 0, 0, errors.New("tun: SIOCGIFMTU " + name + ": " + err.Error())
	}
	return index, int(ifr.Uint32()), nil
}

// Name is the kernel's name for the device.
func (d *Device) Name() string { return d.name }

// Index is the interface index.
func (d *Device) Index() int { return d.index }

// MTU is the MTU last set through SetMTU (or found at Open).
func (d *Device) MTU() int { return int(d.mtu.Load()) }

// BatchSize is the largest useful number of buffers for Read and Write.
func (d *Device) BatchSize() int { return d.batch }

// Offload reports whether segmentation offload is on.
func (d *Device) Offload() bool { return d.vnet }

// SetMTU sets the device MTU through netlink and remembers it.
func (d *Device) SetMTU(nl *Netlink, mtu int) error {
	if err := nl.SetLink(d.index, mtu, true); err != nil {
		return err
	}
	d.mtu.Store(int32(mtu))
	return nil
}

// read1's outcomes for the batch loops in Read and readVnet.
const (
	readOK    = iota // a packet of m bytes is in b
	readRetry        // interrupted, or a packet too big for b was consumed and counted: read again
	readEmpty        // nothing queued (EAGAIN): wait for readiness only if the batch is empty
	readStop         // a real error, stored in *rerr
)

// read1 is one read(2) on the non-blocking TUN descriptor.
func (d *Device) read1(fd uintptr, b []byte, rerr *error) (int, int) {
	m, _, e := unix.Syscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	switch e {
	case 0:
		return int(m), readOK
	case unix.EAGAIN:
		return 0, readEmpty
	case unix.EINTR:
		return 0, readRetry
	case unix.EFAULT, unix.EINVAL, unix.EMSGSIZE:
		// The packet did not fit the buffer; the kernel has consumed it.
		d.Counters.ReadTooBig.Add(1)
		return 0, readRetry
	}
	*rerr = e
	return 0, readStop
}

// Read reads up to len(bufs) packets, packet i into bufs[i][offset:], its
// length into sizes[i]. It blocks until at least one packet is there and then
// takes whatever else is queued without blocking again.
func (d *Device) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	if len(bufs) == 0 {
		return 0, nil
	}
	if d.vnet {
		return d.readVnet(bufs, sizes, offset)
	}
	n := 0
	var rerr error
	err := d.rc.Read(func(fd uintptr) bool {
		for n < len(bufs) && n < len(sizes) {
			m, st := d.read1(fd, bufs[n][offset:], &rerr)
			if st == readRetry {
				continue
			}
			if st != readOK {
				return st == readStop || n > 0
			}
			sizes[n] = m
			n++
		}
		return true
	})
	if n > 0 {
		return n, nil
	}
	if err != nil {
		return 0, &opError{"read", err}
	}
	if rerr != nil {
		return 0, &opError{"read", rerr}
	}
	return n, nil
}

// Write writes the packets bufs[i][offset:]. A packet the kernel refuses
// (EINVAL for a malformed header, for example) is counted and skipped, so
// one bad packet cannot stop the loop; Write returns an error only when the
// device itself fails.
func (d *Device) Write(bufs [][]byte, offset int) (int, error) {
	if d.vnet {
		return d.writeVnet(bufs, offset)
	}
	i := 0
	var werr error
	err := d.rc.Write(func(fd uintptr) bool {
		for i < len(bufs) {
			b := bufs[i][offset:]
			if len(b) == 0 {
				i++
				continue
			}
			_, _, e := unix.Syscall(unix.SYS_WRITE, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
			switch e {
			case 0:
			case unix.EAGAIN:
				return false
			case unix.EINTR:
				continue
			case unix.EBADF, unix.EBADFD:
				werr = e
				return true
			default:
				d.Counters.WriteError.Add(1)
			}
			i++
		}
		return true
	})
	if err != nil {
		return i, &opError{"write", err}
	}
	if werr != nil {
		return i, &opError{"write", werr}
	}
	return i, nil
}

// Close closes the device; a blocked Read returns an error. The kernel
// removes a non-persistent TUN device, with its addresses and routes, when
// the last descriptor closes.
func (d *Device) Close() error { return d.file.Close() }

// opError keeps the cause (os.ErrClosed after Close, for one) visible to
// errors.Is.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return "tun: " + e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// readVnet reads through the offload path: each read(2) goes into rbuf, and
// its packet, or the segments of its super-packet, are copied into bufs.
// Reading into one private buffer keeps the caller's buffers from being
// touched beyond the first pages, which keeps the resident size small.
func (d *Device) readVnet(bufs [][]byte, sizes []int, offset int) (int, error) {
	d.rmu.Lock()
	defer d.rmu.Unlock()
	n := 0
	// Segments left from the last call first.
	if !d.seg.done() {
		k, _ := d.seg.emit(bufs, sizes, offset)
		n += k
		if !d.seg.done() {
			return n, nil
		}
	}
	var rerr error
	err := d.rc.Read(func(fd uintptr) bool {
		for n < len(bufs) && n < len(sizes) {
			m, st := d.read1(fd, d.rbuf, &rerr)
			if st == readRetry {
				continue
			}
			if st != readOK {
				return st == readStop || n > 0
			}
			if m <= vnetHdrLen {
				d.Counters.ReadBad.Add(1)
				continue
			}
			h := parseVnetHdr(d.rbuf)
			pkt := d.rbuf[vnetHdrLen:m]
			if h.gsoType == gsoNone {
				if h.flags&vnetFlagNeedsCsum != 0 && finishCsum(pkt, h) != nil {
					d.Counters.ReadBad.Add(1)
					continue
				}
				if len(pkt) > len(bufs[n])-offset {
					d.Counters.ReadTooBig.Add(1)
					continue
				}
				sizes[n] = copy(bufs[n][offset:], pkt)
				n++
				continue
			}
			if d.seg.init(pkt, h) != nil {
				d.Counters.ReadBad.Add(1)
				continue
			}
			d.Counters.Segmented.Add(1)
			k, err := d.seg.emit(bufs[n:], sizes[n:], offset)
			n += k
			if err != nil {
				d.seg = segmenter{}
				d.Counters.ReadTooBig.Add(1)
				continue
			}
			if !d.seg.done() {
				return true // the rest waits in rbuf for the next call
			}
		}
		return true
	})
	if n > 0 {
		return n, nil
	}
	if err != nil {
		return 0, &opError{"read", err}
	}
	if rerr != nil {
		return 0, &opError{"read", rerr}
	}
	return 0, nil
}

// writeVnet writes the batch through the offload path: runs of TCP
// segments of one flow go out as one coalesced super-packet (gro.go), the
// rest one by one behind a zero virtio header; writev points at the
// packets, so the caller's headroom is left alone and nothing is copied.
func (d *Device) writeVnet(bufs [][]byte, offset int) (int, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	i := 0
	var werr error
	err := d.rc.Write(func(fd uintptr) bool {
		for i < len(bufs) {
			b := bufs[i][offset:]
			if len(b) == 0 {
				i++
				continue
			}
			var h vnetHdr
			j := groPlan(bufs, offset, i, &h)
			putVnetHdr(d.whdr[:], h)
			d.wiov = d.wiov[:1]
			d.wiov = append(d.wiov, unix.Iovec{Base: &b[0]})
			d.wiov[1].SetLen(len(b))
			for k := i + 1; k < j; k++ {
				p := bufs[k][offset+int(h.hdrLen):]
				v := unix.Iovec{Base: &p[0]}
				v.SetLen(len(p))
				d.wiov = append(d.wiov, v)
			}
			_, _, e := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&d.wiov[0])), uintptr(len(d.wiov)))
			switch e {
			case 0:
				if j-i > 1 {
					d.Counters.Coalesced.Add(1)
				}
			case unix.EAGAIN:
				return false
			case unix.EINTR:
				continue
			case unix.EBADF, unix.EBADFD:
				werr = e
				return true
			default:
				d.Counters.WriteError.Add(uint64(j - i))
			}
			i = j
		}
		return true
	})
	for k := 1; k < len(d.wiov); k++ {
		d.wiov[k].Base = nil // do not keep the caller's buffers alive
	}
	if err != nil {
		return i, &opError{"write", err}
	}
	if werr != nil {
		return i, &opError{"write", werr}
	}
	return i, nil
}
