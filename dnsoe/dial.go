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
		if control != nil {
			if err := control(network, address, rawFD(fd)); err != nil {
				syscall.Close(fd)
				return nil, err
			}
		}
		// Connect first, then hand the socket to the runtime's poller, as
		// package net does: the poller then sees the socket's state when
		// it is registered, whatever the kernel (or qemu) reports later.
		cerr := syscall.Connect(fd, sa)
		if cerr != nil && !errors.Is(cerr, syscall.EINPROGRESS) {
			syscall.Close(fd)
			return nil, os.NewSyscallError("connect", cerr)
		}
		f := os.NewFile(uintptr(fd), "dnsoe-tcp") // non-blocking: pollable
		defer f.Close()
		if cerr != nil {
			rc, err := f.SyscallConn()
			if err != nil {
				return nil, err
			}
			stop := context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })
			defer stop()
			if d, ok := ctx.Deadline(); ok {
				f.SetDeadline(d)
			}
			werr := rc.Write(func(fd uintptr) bool {
				v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
				switch {
				case err != nil:
					cerr = err
				case v == 0:
					// No error yet: connected once there is a peer,
					// else still in progress.
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
			if cerr != nil {
				return nil, os.NewSyscallError("connect", cerr)
			}
		}
		return net.FileConn(f)
	}
}

// rawFD is a syscall.RawConn over a socket not yet handed to the poller,
// so Control can set options before the connect.
type rawFD int

func (r rawFD) Control(f func(fd uintptr)) error { f(uintptr(r)); return nil }

func (rawFD) Read(func(fd uintptr) bool) error {
	return errors.New("dnsoe: Read on a socket that is not connected yet")
}

func (rawFD) Write(func(fd uintptr) bool) error {
	return errors.New("dnsoe: Write on a socket that is not connected yet")
}
