package wire

import (
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
)

// NATDetectionHash returns the data of a NAT_DETECTION_SOURCE_IP or
// NAT_DETECTION_DESTINATION_IP notification: SHA-1(SPIi | SPIr | IP address
// | port), with the address as 4 or 16 octets and the port in network order
// (RFC 7296, Section 2.23). spiR is zero in the IKE_SA_INIT request. An
// IPv4-mapped IPv6 address is hashed as IPv4.
func NATDetectionHash(spiI, spiR uint64, ap netip.AddrPort) [sha1.Size]byte {
	var buf [8 + 8 + 16 + 2]byte
	b := binary.BigEndian.AppendUint64(buf[:0], spiI)
	b = binary.BigEndian.AppendUint64(b, spiR)
	a := ap.Addr().Unmap()
	if a.Is4() {
		v := a.As4()
		b = append(b, v[:]...)
	} else {
		v := a.As16()
		b = append(b, v[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, ap.Port())
	return sha1.Sum(b)
}
