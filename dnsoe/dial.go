package dnsoe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// The default sockets of a Resolver. net.ListenConfig and net.Dialer take
// the address as a string and so go through net's own DNS resolver, which
// links about 200 KB into the router binary for addresses that are always
// literals here. These take netip addresses and run Config.Control on the
// socket before it sends anything.

// listenUDP opens the UDP socket of one query on a random port.
func listenUDP(control func(network, address string, c syscall.RawConn) error) func(context.Context, string, string) (net.PacketConn, error) {
	return func(_ context.Context, network, address string) (net.PacketConn, error) {
		laddr, err := netip.ParseAddrPort(address)
		if err != nil {
			return nil, err
		}
		c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(laddr))
		if err != nil {
			return nil, err
		}
		if control != nil {
			// After the bind, unlike net.ListenConfig, but before any
			// send: socket options like SO_MARK still apply to every
			// query.
			rc, err := c.SyscallConn()
			if err == nil {
				err = control(network, address, rc)
			}
			if err != nil {
				c.Close()
				return nil, err
			}
		}
		return c, nil
	}
}

// dialTCP connects to a literal address:port for a truncated answer,
// running control before the connect so the SYN is already marked.
func dialTCP(control func(network, address string, c syscall.RawConn) error) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, _, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return nil, err
		}
		a := ap.Addr().Unmap()
		network, family := "tcp6", syscall.AF_INET6
		var sa syscall.Sockaddr
		if a.Is4() {
			network, family = "tcp4", syscall.AF_INET
			sa = &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
		} else {
			s6 := &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
			if z := a.Zone(); z != "" {
				if n, err := strconv.Atoi(z); err == nil {
					s6.ZoneId = uint32(n)
				} else if ifi, err := net.InterfaceByName(z); err == nil {
					s6.ZoneId = uint32(ifi.Index)
				} else {
					return nil, err
				}
			}
			sa = s6
		}
		fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_TCP)
		if err != nil {
			return nil, os.NewSyscallError("socket", err)
		}
		// Non-blocking, so the File waits in the runtime's poller.
		f := os.NewFile(uintptr(fd), "dnsoe-tcp")
		defer f.Close()
		rc, err := f.SyscallConn()
		if err != nil {
			return nil, err
		}
		if control != nil {
			if err := control(network, address, rc); err != nil {
				return nil, err
			}
		}
		var cerr error
		if err := rc.Control(func(fd uintptr) { cerr = syscall.Connect(int(fd), sa) }); err != nil {
			return nil, err
		}
		if errors.Is(cerr, syscall.EINPROGRESS) {
			stop := context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })
			defer stop()
			if d, ok := ctx.Deadline(); ok {
				f.SetDeadline(d)
			}
			first := true
			werr := rc.Write(func(fd uintptr) bool {
				if first { // wait until the socket is writable
					first = false
					return false
				}
				v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
				switch {
				case err != nil:
					cerr = err
				case v == 0:
					// Writable and no error may still be a spurious
					// wakeup: connected only once there is a peer.
					if _, err := syscall.Getpeername(int(fd)); err != nil {
						return false
					}
					cerr = nil
				case syscall.Errno(v) == syscall.EINPROGRESS || syscall.Errno(v) == syscall.EALREADY || syscall.Errno(v) == syscall.EINTR:
					return false
				default:
					cerr = syscall.Errno(v)
				}
				return true
			})
			if werr != nil {
				return nil, werr
			}
		}
		if cerr != nil {
			return nil, os.NewSyscallError("connect", cerr)
		}
		return net.FileConn(f)
	}
}
