package wire

import (
	"encoding/binary"
	"strconv"
)

// HeaderLen is the length of the IKE header (RFC 7296, Section 3.1).
const HeaderLen = 28

// Header is the fixed IKE header (RFC 7296, Section 3.1).
type Header struct {
	SPIi        uint64       // Initiator's SPI
	SPIr        uint64       // Responder's SPI, zero in the first IKE_SA_INIT request
	NextPayload PayloadType  // type of the first payload; set by the builders
	Version     uint8        // major<<4 | minor; 0 means Version (0x20) when building
	Exchange    ExchangeType // Exchange Type
	Flags       Flags        // I, V, R
	MessageID   uint32       // Message ID
	Length      uint32       // total message length; set by the builders
}

// IsResponse reports whether the R flag is set.
func (h *Header) IsResponse() bool { return h.Flags&FlagResponse != 0 }

// IsInitiator reports whether the I flag is set (the sender is the original
// initiator of the IKE SA).
func (h *Header) IsInitiator() bool { return h.Flags&FlagInitiator != 0 }

// MajorVersion returns the major version (2 for IKEv2).
func (h *Header) MajorVersion() uint8 { return h.Version >> 4 }

// ParseHeader decodes the IKE header at the start of b, where b is the whole
// message. It checks that the Length field equals len(b) (RFC 7296, Section
// 3.1) and that the major version is 2. On ErrMajorVersion the returned
// header is complete, so that the engine can answer with
// INVALID_MAJOR_VERSION (RFC 7296, Section 2.5).
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen {
		return h, ErrShort
	}
	h.SPIi = binary.BigEndian.Uint64(b[0:8])
	h.SPIr = binary.BigEndian.Uint64(b[8:16])
	h.NextPayload = PayloadType(b[16])
	h.Version = b[17]
	h.Exchange = ExchangeType(b[18])
	h.Flags = Flags(b[19])
	h.MessageID = binary.BigEndian.Uint32(b[20:24])
	h.Length = binary.BigEndian.Uint32(b[24:28])
	// RFC 7296, Section 3.1: implementations of this version MUST set the
	// major version to 2; another one is rejected (Section 2.5). Checked
	// first: the rest of another version's message may be laid out
	// differently.
	if h.MajorVersion() != 2 {
		return h, ErrMajorVersion
	}
	// RFC 7296, Section 3.1: Length is the total message length.
	if h.Length < HeaderLen || uint64(h.Length) != uint64(len(b)) {
		return h, ErrLength
	}
	return h, nil
}

// AppendHeader appends the 28-octet header. Length and NextPayload are
// written as given: the message builders back-patch them.
func AppendHeader(dst []byte, h Header) []byte {
	v := h.Version
	if v == 0 {
		v = Version
	}
	dst = binary.BigEndian.AppendUint64(dst, h.SPIi)
	dst = binary.BigEndian.AppendUint64(dst, h.SPIr)
	dst = append(dst, byte(h.NextPayload), v, byte(h.Exchange), byte(h.Flags))
	dst = binary.BigEndian.AppendUint32(dst, h.MessageID)
	dst = binary.BigEndian.AppendUint32(dst, h.Length)
	return dst
}

// String summarizes the header for logs, e.g.
// "IKE_AUTH request 1 i=8b71435e23dab6ba r=5ee99eee42be6251".
func (h *Header) String() string {
	b := make([]byte, 0, 80)
	b = append(b, h.Exchange.String()...)
	if h.IsResponse() {
		b = append(b, " response "...)
	} else {
		b = append(b, " request "...)
	}
	b = strconv.AppendUint(b, uint64(h.MessageID), 10)
	b = append(b, " i="...)
	b = appendHex64(b, h.SPIi)
	b = append(b, " r="...)
	b = appendHex64(b, h.SPIr)
	return string(b)
}

func appendHex64(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, digits[v>>uint(i)&0xf])
	}
	return b
}
