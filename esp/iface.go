package esp

import "net/netip"

// Headroom is the space kept in front of every inner packet so that the ESP
// header and IV (and later a TCP-encapsulation length prefix) are written in
// place, without a copy. Buffers passed to Device.Read and Transport.Recv are
// Headroom + Config.MaxPacket + Tailroom long (by default room for the larger
// of the device MTU and the outer MTU plus the ESP overhead); a packet that
// does not fit is the Device's or Transport's to drop and count. MaxPacket
// bounds every packet.
//
// Layout of a buffer (see SealOffset): buf[0:16] AEAD nonce / ESN AAD
// scratch, buf[16:32] ESP header and IV, buf[32:] the inner packet. A sealed
// packet handed to Transport.Send therefore starts at Off = 16, and the
// transport may write outer framing into buf[:16] after that.
const (
	Headroom  = 32
	Tailroom  = 64 // padding, pad length, next header, ICV
	MaxPacket = 65535
)

// Device is the inner side of the loop: the TUN device, or an in-memory double
// in tests. tun.Device satisfies it.
type Device interface {
	// Read reads up to len(bufs) packets. Packet i is placed at
	// bufs[i][offset:offset+sizes[i]]. It blocks until at least one packet is read.
	Read(bufs [][]byte, sizes []int, offset int) (n int, err error)
	// Write writes the packets bufs[i][offset:]. It returns the number
	// written. The loop never calls Write concurrently with itself; Read
	// runs in one goroutine, concurrently with Write.
	Write(bufs [][]byte, offset int) (n int, err error)
	// BatchSize is the largest useful len(bufs).
	BatchSize() int
	// MTU is the device MTU (largest inner packet).
	MTU() int
}

// Packet is one outer datagram in a batch.
type Packet struct {
	Buf  []byte         // the whole buffer; data is Buf[Off:Off+Len]
	Off  int            // start of the ESP packet (SPI) in Buf
	Len  int            // length of the ESP packet
	Peer netip.AddrPort // remote address: source on Recv, destination on Send; port 0 means raw ESP (IP protocol 50)
}

// Transport is the outer side for ESP packets: UDP-encapsulated ESP on port
// 4500 (RFC 3948) or raw ESP. encap satisfies it. Recv returns only ESP
// packets; IKE messages and NAT keepalives are demultiplexed by the transport
// and never reach the loop.
type Transport interface {
	// Recv fills up to len(pkts) packets. The transport places data at
	// pkts[i].Buf[pkts[i].Off:] (Off is preset by the loop to SealOffset, so
	// that the inner packet ends up at Headroom after decryption without a
	// copy; the transport may move it, at the cost of a copy) and sets Len
	// and Peer. It may reorder the Packet values within pkts (the loop
	// uses each Packet's own Buf). It blocks until at least one arrives. The
	// loop calls Recv from one goroutine per transport.
	Recv(pkts []Packet) (n int, err error)
	// Send sends pkts[i].Buf[Off:Off+Len] to pkts[i].Peer and returns the
	// number sent. The loop serialises its Send calls (never concurrent).
	Send(pkts []Packet) (n int, err error)
	// BatchSize is the largest useful len(pkts).
	BatchSize() int
}
