// Package encap carries swanling's IKE and ESP packets to and from the
// outside world: UDP sockets on ports 500 and 4500 (IPv4 and IPv6), UDP
// encapsulation of ESP with the non-ESP marker and NAT keepalives
// (RFC 3948, Sections 2.1 to 2.3; RFC 7296, Section 2.23), and raw ESP
// sockets (IP protocol 50, RFC 4303) for peers without a NAT in the path.
//
// ESP packets go to and from the packet loop in batches (recvmmsg and
// sendmmsg, with UDP generic segmentation offload for runs of equal-sized
// packets to one peer); IKE messages go to a handler the owner sets, and the
// owner sends IKE messages through IKETransport, which a TCP transport
// (RFC 8229/9329 framing) can satisfy later. encap tells IKE from ESP by the
// first bytes and parses nothing deeper.
//
// There is no fmt or logging here: drops are counted.
package encap
