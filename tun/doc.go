// Package tun opens and configures swanling's inner interface: a Linux TUN
// device read and written in batches at an offset (so the ESP header can be
// written in front of a packet without a copy), the device's MTU, addresses,
// routes and the policy-routing rule that keeps swanling's own marked sockets
// out of the tunnel, all through rtnetlink (RFC 3549 describes the netlink
// protocol; the message layouts are Linux's rtnetlink.h and fib_rules.h). An
// in-memory device (Mem) stands in for the kernel in tests.
//
// There is no fmt or logging here: the packet path reports through counters.
package tun
