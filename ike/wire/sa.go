package wire

import (
	"encoding/binary"
	"strconv"
)

// SA is the Security Association payload (RFC 7296, Section 3.3).
type SA struct {
	Proposals []Proposal
}

// Proposal is a Proposal substructure (RFC 7296, Section 3.3.1).
type Proposal struct {
	Number     uint8      // Proposal Num
	Protocol   ProtocolID // IKE, AH or ESP
	SPI        []byte     // 0, 4 or 8 octets
	Transforms []Transform
}

// Transform is a Transform substructure (RFC 7296, Section 3.3.2).
//
// A Key Length attribute that comes first is decoded into KeyLength; any
// other attribute, including a Key Length in another position, is kept in
// Attrs in wire order. RFC 7296, Section 3.3.6 asks a responder to reject a
// transform with attributes it does not understand, so an engine treats
// len(Attrs) != 0 as unacceptable.
type Transform struct {
	Type      TransformType
	ID        uint16      // EncrID, PRFID, IntegID, KEMethod or ESNID, depending on Type
	KeyLength uint16      // Key Length attribute in bits; 0 when absent
	Attrs     []Attribute // further attributes, encoded after Key Length
}

// Attribute is a Data Attribute of a transform (RFC 7296, Section 3.3.5).
type Attribute struct {
	Type  uint16 // Attribute Type without the AF bit
	TV    bool   // AF=1: Value is the 2-octet value itself; AF=0: TLV
	Value []byte
}

// Type implements Payload.
func (p *SA) Type() PayloadType { return PayloadSA }

// Substructure headers (RFC 7296, Sections 3.3.1 and 3.3.2).
const (
	proposalHdrLen  = 8
	transformHdrLen = 8
	lastProposal    = 0
	moreProposals   = 2
	lastTransform   = 0
	moreTransforms  = 3
	afBit           = 0x8000
)

func parseSA(b []byte) (*SA, error) {
	// Count first so that one allocation holds every proposal.
	n, err := countSubstructs(b, proposalHdrLen, moreProposals)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ErrSyntax
	}
	sa := &SA{Proposals: make([]Proposal, 0, n)}
	for off := 0; off < len(b); {
		plen := int(binary.BigEndian.Uint16(b[off+2:]))
		p, err := parseProposal(b[off : off+plen])
		if err != nil {
			return nil, err
		}
		sa.Proposals = append(sa.Proposals, p)
		off += plen
	}
	return sa, nil
}

// countSubstructs checks the Last Substruc and Length fields of a sequence
// of proposals or transforms and counts them. RFC 7296, Section 3.3.1 and
// 3.3.2: Last Substruc is 0 for the last one and 2 (proposals) or 3
// (transforms) otherwise.
func countSubstructs(b []byte, minLen int, more byte) (int, error) {
	n := 0
	for off := 0; off < len(b); {
		if len(b)-off < minLen {
			return 0, ErrShort
		}
		l := int(binary.BigEndian.Uint16(b[off+2:]))
		if l < minLen || l > len(b)-off {
			return 0, ErrLength
		}
		n++
		last := off+l == len(b)
		switch b[off] {
		case 0:
			if !last {
				return 0, ErrSyntax
			}
		case more:
			if last {
				return 0, ErrSyntax
			}
		default:
			return 0, ErrSyntax
		}
		off += l
	}
	return n, nil
}

func parseProposal(b []byte) (Proposal, error) {
	p := Proposal{Number: b[4], Protocol: ProtocolID(b[5])}
	spiSize := int(b[6])
	nt := int(b[7])
	// The SPI is empty in the first IKE_SA_INIT, 8 octets when rekeying
	// an IKE SA and 4 for AH and ESP (RFC 7296, Section 3.3.1).
	if spiSize != 0 && spiSize != 4 && spiSize != 8 {
		return p, ErrSyntax
	}
	if len(b) < proposalHdrLen+spiSize {
		return p, ErrLength
	}
	p.SPI = b[proposalHdrLen : proposalHdrLen+spiSize]
	tb := b[proposalHdrLen+spiSize:]
	n, err := countSubstructs(tb, transformHdrLen, moreTransforms)
	if err != nil {
		return p, err
	}
	// RFC 7296, Section 3.3.1: # Transforms is the number of transforms
	// in this proposal.
	if n != nt {
		return p, ErrSyntax
	}
	p.Transforms = make([]Transform, 0, n)
	for off := 0; off < len(tb); {
		tlen := int(binary.BigEndian.Uint16(tb[off+2:]))
		t, err := parseTransform(tb[off : off+tlen])
		if err != nil {
			return p, err
		}
		p.Transforms = append(p.Transforms, t)
		off += tlen
	}
	return p, nil
}

func parseTransform(b []byte) (Transform, error) {
	t := Transform{Type: TransformType(b[4]), ID: binary.BigEndian.Uint16(b[6:])}
	ab := b[transformHdrLen:]
	for off := 0; off < len(ab); {
		if len(ab)-off < 4 {
			return t, ErrShort
		}
		at := binary.BigEndian.Uint16(ab[off:])
		a := Attribute{Type: at &^ afBit, TV: at&afBit != 0}
		if a.TV {
			a.Value = ab[off+2 : off+4]
			off += 4
		} else {
			l := int(binary.BigEndian.Uint16(ab[off+2:]))
			if l > len(ab)-off-4 {
				return t, ErrLength
			}
			a.Value = ab[off+4 : off+4+l]
			off += 4 + l
		}
		if a.TV && a.Type == AttrKeyLength && len(t.Attrs) == 0 && t.KeyLength == 0 {
			if kl := binary.BigEndian.Uint16(a.Value); kl != 0 {
				t.KeyLength = kl
				continue
			}
		}
		t.Attrs = append(t.Attrs, a)
	}
	return t, nil
}

func (p *SA) appendBody(b []byte) ([]byte, error) {
	if len(p.Proposals) == 0 {
		return b, ErrSyntax
	}
	for i := range p.Proposals {
		var err error
		b, err = p.Proposals[i].append(b, i == len(p.Proposals)-1)
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

func (p *Proposal) append(b []byte, last bool) ([]byte, error) {
	if s := len(p.SPI); s != 0 && s != 4 && s != 8 {
		return b, ErrSyntax
	}
	if len(p.Transforms) > 255 {
		return b, ErrTooLong
	}
	start := len(b)
	lc := byte(moreProposals)
	if last {
		lc = lastProposal
	}
	b = append(b, lc, 0, 0, 0, p.Number, byte(p.Protocol), byte(len(p.SPI)), byte(len(p.Transforms)))
	b = append(b, p.SPI...)
	for i := range p.Transforms {
		var err error
		b, err = p.Transforms[i].append(b, i == len(p.Transforms)-1)
		if err != nil {
			return b, err
		}
	}
	return putLen16(b, start)
}

func (t *Transform) append(b []byte, last bool) ([]byte, error) {
	start := len(b)
	lc := byte(moreTransforms)
	if last {
		lc = lastTransform
	}
	b = append(b, lc, 0, 0, 0, byte(t.Type), 0)
	b = binary.BigEndian.AppendUint16(b, t.ID)
	if t.KeyLength != 0 {
		b = binary.BigEndian.AppendUint16(b, afBit|AttrKeyLength)
		b = binary.BigEndian.AppendUint16(b, t.KeyLength)
	}
	for _, a := range t.Attrs {
		if a.Type&afBit != 0 {
			return b, ErrSyntax
		}
		if a.TV {
			if len(a.Value) != 2 {
				return b, ErrSyntax
			}
			b = binary.BigEndian.AppendUint16(b, afBit|a.Type)
			b = append(b, a.Value...)
			continue
		}
		if len(a.Value) > 0xffff {
			return b, ErrTooLong
		}
		b = binary.BigEndian.AppendUint16(b, a.Type)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.Value)))
		b = append(b, a.Value...)
	}
	return putLen16(b, start)
}

// putLen16 back-patches the 16-bit length at b[start+2:] with the length of
// the structure that starts at start.
func putLen16(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if n > 0xffff {
		return b, ErrTooLong
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// Find returns the first transform of type t, or nil.
func (p *Proposal) Find(t TransformType) *Transform {
	for i := range p.Transforms {
		if p.Transforms[i].Type == t {
			return &p.Transforms[i]
		}
	}
	return nil
}

// CheckNumbers checks the Proposal Num fields of an SA payload sent as a
// request: the first proposal is number 1 and each next one is one more
// (RFC 7296, Section 3.3.1). A response carries one proposal with the
// number of the accepted one, which CheckNumbers does not apply to.
func (p *SA) CheckNumbers() error {
	for i := range p.Proposals {
		if int(p.Proposals[i].Number) != i+1 {
			return ErrSyntax
		}
	}
	return nil
}

// IDName returns the name of the transform ID for its type, e.g.
// "ENCR_AES_GCM_16" or "ECP_256".
func (t *Transform) IDName() string {
	switch t.Type {
	case TransformENCR:
		return EncrID(t.ID).String()
	case TransformPRF:
		return PRFID(t.ID).String()
	case TransformINTEG:
		return IntegID(t.ID).String()
	case TransformKE, TransformADDKE1, TransformADDKE2, TransformADDKE3,
		TransformADDKE4, TransformADDKE5, TransformADDKE6, TransformADDKE7:
		return KEMethod(t.ID).String()
	case TransformESN:
		return ESNID(t.ID).String()
	}
	return t.Type.String() + ":" + strconv.Itoa(int(t.ID))
}

// String names the transform for logs, with the key length: "ENCR_AES_CBC/256".
func (t *Transform) String() string {
	s := t.IDName()
	if t.KeyLength != 0 {
		s += "/" + strconv.Itoa(int(t.KeyLength))
	}
	if len(t.Attrs) != 0 {
		s += "+attrs"
	}
	return s
}

// String names the proposal for logs: "ESP:ENCR_AES_GCM_16/128,NO_ESN".
func (p *Proposal) String() string {
	s := p.Protocol.String() + ":"
	for i := range p.Transforms {
		if i > 0 {
			s += ","
		}
		s += p.Transforms[i].String()
	}
	return s
}
