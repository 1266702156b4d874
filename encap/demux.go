package encap

import "net/netip"

// Kind is what a datagram received on the NAT-T port is.
type Kind uint8

// Datagram kinds on the NAT-T port.
const (
	KindInvalid   Kind = iota // too short, or an SPI of zero without a full marker
	KindESP                   // an ESP packet, starting with its SPI
	KindIKE                   // an IKE message after the 4-octet non-ESP marker
	KindKeepalive             // a NAT keepalive (one 0xFF octet)
)

// MarkerLen is the length of the non-ESP marker.
const MarkerLen = 4

// minESP is the smallest ESP packet worth passing on: SPI and sequence
// number (RFC 4303, Section 2).
const minESP = 8

// Classify tells what a datagram received on the NAT-T port is.
//
// RFC 3948, Section 2.3: a NAT-keepalive packet is one octet 0xFF; the
// receiver ignores it. RFC 3948, Section 2.2 (and RFC 7296, Section 2.23):
// IKE messages on this port carry a non-ESP marker of four zero octets where
// ESP has its SPI; an SPI of zero is reserved (RFC 4303, Section 2.1), so a
// nonzero first word is ESP.
func Classify(b []byte) Kind {
	switch {
	case len(b) == 1 && b[0] == 0xFF:
		return KindKeepalive
	case len(b) < MarkerLen:
		return KindInvalid
	case b[0]|b[1]|b[2]|b[3] == 0:
		if len(b) == MarkerLen {
			return KindInvalid // a marker with no message
		}
		return KindIKE
	case len(b) < minESP:
		return KindInvalid
	default:
		return KindESP
	}
}

// Packet is one outer ESP datagram in a batch. It has exactly the layout of
// esp.Packet (encap may not import esp), so the two convert into each other:
// data is Buf[Off:Off+Len]; Peer is the remote address, port 0 for raw ESP.
type Packet struct {
	Buf  []byte
	Off  int
	Len  int
	Peer netip.AddrPort
}

// IKEHandler receives one IKE message (without the non-ESP marker) with the
// local address and port it arrived on and the peer's. msg is a copy the
// handler keeps. It is called on a packet-loop goroutine: it must hand the
// message off quickly (to a channel, say) and not block.
type IKEHandler func(msg []byte, local, remote netip.AddrPort)

// IKETransport is what the IKE engine sends and receives through: the UDP
// sockets here, and later a TCP (RFC 8229) transport.
type IKETransport interface {
	// SendIKE sends msg from local (whose port picks the socket: on the
	// NAT-T port the non-ESP marker is prepended; the address may be
	// unspecified, leaving the source to routing) to remote.
	SendIKE(msg []byte, local, remote netip.AddrPort) error
	// SetIKEHandler sets the function that receives IKE messages.
	SetIKEHandler(h IKEHandler)
}

// AppendMarker appends the non-ESP marker and msg to b (RFC 3948, Section 2.2).
func AppendMarker(b, msg []byte) []byte {
	b = append(b, 0, 0, 0, 0)
	return append(b, msg...)
}

// rawESPOffset returns where the ESP packet starts in a datagram from a raw
// IP protocol 50 socket: an IPv4 raw socket delivers the IP header too (its
// length from the IHL field, RFC 791), an IPv6 one does not. It reports
// false for a bad header or an ESP packet shorter than SPI and sequence
// number.
func rawESPOffset(b []byte, v6 bool) (int, bool) {
	skip := 0
	if !v6 {
		if len(b) < 20 || b[0]>>4 != 4 {
			return 0, false
		}
		skip = int(b[0]&0x0f) * 4
		if skip < 20 {
			return 0, false
		}
	}
	if len(b)-skip < minESP {
		return 0, false
	}
	return skip, true
}
