package wire

import "encoding/binary"

// KE is the Key Exchange payload (RFC 7296, Section 3.4).
type KE struct {
	Group KEMethod // Diffie-Hellman Group Num / key exchange method
	Data  []byte   // Key Exchange Data
}

// ID is the Identification payload, IDi or IDr (RFC 7296, Section 3.5).
type ID struct {
	Responder bool // IDr rather than IDi
	IDType    IDType
	Reserved  [3]byte // kept so that AppendBody reproduces the octets the peer MACed
	Data      []byte  // Identification Data
}

// Cert is the Certificate payload (RFC 7296, Section 3.6), kept raw.
type Cert struct {
	Encoding CertEncoding
	Data     []byte
}

// CertReq is the Certificate Request payload (RFC 7296, Section 3.7), kept raw.
type CertReq struct {
	Encoding CertEncoding
	Data     []byte // Certification Authority
}

// Auth is the Authentication payload (RFC 7296, Section 3.8).
type Auth struct {
	Method AuthMethod
	Data   []byte // Authentication Data
}

// Nonce is the Nonce payload (RFC 7296, Section 3.9).
type Nonce struct {
	Data []byte // 16..256 octets
}

// Nonce sizes (RFC 7296, Section 3.9).
const (
	MinNonceLen = 16
	MaxNonceLen = 256
)

// Notify is the Notify payload (RFC 7296, Section 3.10).
type Notify struct {
	Protocol   ProtocolID // 0 when SPI is empty
	SPI        []byte
	NotifyType NotifyType
	Data       []byte // Notification Data
}

// Delete is the Delete payload (RFC 7296, Section 3.11). For Protocol IKE
// there are no SPIs (the IKE SA is the one the message belongs to); for AH
// and ESP each SPI is 4 octets.
type Delete struct {
	Protocol ProtocolID
	SPIs     []uint32
}

// VendorID is the Vendor ID payload (RFC 7296, Section 3.12).
type VendorID struct {
	Data []byte
}

// Config is the Configuration payload (RFC 7296, Section 3.15).
type Config struct {
	CfgType CPType
	Attrs   []CPAttr
}

// CPAttr is a configuration attribute (RFC 7296, Section 3.15.1).
type CPAttr struct {
	Type  CPAttrType // without the reserved top bit
	Value []byte
}

// EAP is the EAP payload (RFC 7296, Section 3.16), kept raw: swanling does
// not implement EAP.
type EAP struct {
	Data []byte
}

// Type implements Payload.
func (p *KE) Type() PayloadType { return PayloadKE }

// Type implements Payload.
func (p *ID) Type() PayloadType {
	if p.Responder {
		return PayloadIDr
	}
	return PayloadIDi
}

// Type implements Payload.
func (p *Cert) Type() PayloadType { return PayloadCERT }

// Type implements Payload.
func (p *CertReq) Type() PayloadType { return PayloadCERTREQ }

// Type implements Payload.
func (p *Auth) Type() PayloadType { return PayloadAUTH }

// Type implements Payload.
func (p *Nonce) Type() PayloadType { return PayloadNonce }

// Type implements Payload.
func (p *Notify) Type() PayloadType { return PayloadNotify }

// Type implements Payload.
func (p *Delete) Type() PayloadType { return PayloadDelete }

// Type implements Payload.
func (p *VendorID) Type() PayloadType { return PayloadVendorID }

// Type implements Payload.
func (p *Config) Type() PayloadType { return PayloadCP }

// Type implements Payload.
func (p *EAP) Type() PayloadType { return PayloadEAP }

func parseKE(b []byte) (*KE, error) {
	if len(b) < 4 {
		return nil, ErrShort
	}
	return &KE{Group: KEMethod(binary.BigEndian.Uint16(b)), Data: b[4:]}, nil
}

func (p *KE) appendBody(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(p.Group))
	return append(append(b, 0, 0), p.Data...), nil
}

func parseID(resp bool, b []byte) (*ID, error) {
	if len(b) < 4 {
		return nil, ErrShort
	}
	return &ID{Responder: resp, IDType: IDType(b[0]), Reserved: [3]byte{b[1], b[2], b[3]}, Data: b[4:]}, nil
}

// AppendBody appends the payload body, ID Type | RESERVED | Identification
// Data: the RestOfInitIDPayload / RestOfRespIDPayload that AUTH covers
// (RFC 7296, Section 2.15).
func (p *ID) AppendBody(b []byte) []byte {
	b = append(b, byte(p.IDType), p.Reserved[0], p.Reserved[1], p.Reserved[2])
	return append(b, p.Data...)
}

func (p *ID) appendBody(b []byte) ([]byte, error) { return p.AppendBody(b), nil }

func (p *Cert) appendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Encoding)), p.Data...), nil
}

func (p *CertReq) appendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Encoding)), p.Data...), nil
}

func parseAuth(b []byte) (*Auth, error) {
	if len(b) < 4 {
		return nil, ErrShort
	}
	return &Auth{Method: AuthMethod(b[0]), Data: b[4:]}, nil
}

func (p *Auth) appendBody(b []byte) ([]byte, error) {
	return append(append(b, byte(p.Method), 0, 0, 0), p.Data...), nil
}

func parseNonce(b []byte) (*Nonce, error) {
	// RFC 7296, Section 3.9: the Nonce Data MUST be between 16 and 256
	// octets, inclusive.
	if len(b) < MinNonceLen || len(b) > MaxNonceLen {
		return nil, ErrNonceSize
	}
	return &Nonce{Data: b}, nil
}

func (p *Nonce) appendBody(b []byte) ([]byte, error) {
	if len(p.Data) < MinNonceLen || len(p.Data) > MaxNonceLen {
		return b, ErrNonceSize
	}
	return append(b, p.Data...), nil
}

func parseNotify(b []byte) (*Notify, error) {
	if len(b) < 4 {
		return nil, ErrShort
	}
	spiSize := int(b[1])
	if len(b) < 4+spiSize {
		return nil, ErrLength
	}
	return &Notify{
		Protocol:   ProtocolID(b[0]),
		SPI:        b[4 : 4+spiSize],
		NotifyType: NotifyType(binary.BigEndian.Uint16(b[2:])),
		Data:       b[4+spiSize:],
	}, nil
}

func (p *Notify) appendBody(b []byte) ([]byte, error) {
	if len(p.SPI) > 255 {
		return b, ErrTooLong
	}
	b = append(b, byte(p.Protocol), byte(len(p.SPI)))
	b = binary.BigEndian.AppendUint16(b, uint16(p.NotifyType))
	return append(append(b, p.SPI...), p.Data...), nil
}

func parseDelete(b []byte) (*Delete, error) {
	if len(b) < 4 {
		return nil, ErrShort
	}
	d := &Delete{Protocol: ProtocolID(b[0])}
	spiSize := int(b[1])
	n := int(binary.BigEndian.Uint16(b[2:]))
	// RFC 7296, Section 3.11: the SPI Size is zero for IKE (and no SPIs
	// follow) and 4 for AH and ESP.
	switch d.Protocol {
	case ProtocolIKE:
		if spiSize != 0 || n != 0 {
			return nil, ErrSyntax
		}
	case ProtocolAH, ProtocolESP:
		if spiSize != 4 {
			return nil, ErrSyntax
		}
	default:
		return nil, ErrSyntax
	}
	if len(b)-4 != n*spiSize {
		return nil, ErrLength
	}
	if n > 0 {
		d.SPIs = make([]uint32, n)
		for i := range d.SPIs {
			d.SPIs[i] = binary.BigEndian.Uint32(b[4+4*i:])
		}
	}
	return d, nil
}

func (p *Delete) appendBody(b []byte) ([]byte, error) {
	spiSize := byte(4)
	switch p.Protocol {
	case ProtocolIKE:
		if len(p.SPIs) != 0 {
			return b, ErrSyntax
		}
		spiSize = 0
	case ProtocolAH, ProtocolESP:
	default:
		return b, ErrSyntax
	}
	if len(p.SPIs) > 0xffff {
		return b, ErrTooLong
	}
	b = append(b, byte(p.Protocol), spiSize)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.SPIs)))
	for _, s := range p.SPIs {
		b = binary.BigEndian.AppendUint32(b, s)
	}
	return b, nil
}

func (p *VendorID) appendBody(b []byte) ([]byte, error) { return append(b, p.Data...), nil }

func parseConfig(b []byte) (*Config, error) {
	if len(b) < 4 {
		return nil, ErrShort
	}
	c := &Config{CfgType: CPType(b[0])}
	ab := b[4:]
	for off := 0; off < len(ab); {
		if len(ab)-off < 4 {
			return nil, ErrShort
		}
		t := binary.BigEndian.Uint16(ab[off:]) & 0x7fff // R bit ignored, Section 3.15.1
		l := int(binary.BigEndian.Uint16(ab[off+2:]))
		if l > len(ab)-off-4 {
			return nil, ErrLength
		}
		c.Attrs = append(c.Attrs, CPAttr{Type: CPAttrType(t), Value: ab[off+4 : off+4+l]})
		off += 4 + l
	}
	return c, nil
}

func (p *Config) appendBody(b []byte) ([]byte, error) {
	b = append(b, byte(p.CfgType), 0, 0, 0)
	for _, a := range p.Attrs {
		if a.Type > 0x7fff {
			return b, ErrSyntax
		}
		if len(a.Value) > 0xffff {
			return b, ErrTooLong
		}
		b = binary.BigEndian.AppendUint16(b, uint16(a.Type))
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.Value)))
		b = append(b, a.Value...)
	}
	return b, nil
}

func (p *EAP) appendBody(b []byte) ([]byte, error) { return append(b, p.Data...), nil }
