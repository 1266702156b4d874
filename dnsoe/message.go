package dnsoe

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Type is a resource record type (RFC 1035, Section 3.2.2, and later RFCs).
type Type uint16

// Record types this package knows by name.
const (
	TypeA        Type = 1
	TypeNS       Type = 2
	TypeCNAME    Type = 5
	TypeSOA      Type = 6
	TypePTR      Type = 12
	TypeMX       Type = 15
	TypeTXT      Type = 16
	TypeKEY      Type = 25 // RFC 2535
	TypeAAAA     Type = 28 // RFC 3596
	TypeOPT      Type = 41 // RFC 6891
	TypeDS       Type = 43
	TypeIPSECKEY Type = 45 // RFC 4025
	TypeRRSIG    Type = 46
	TypeNSEC     Type = 47
	TypeDNSKEY   Type = 48
	TypeNSEC3    Type = 50
)

// Class is a resource record class.
type Class uint16

// ClassINET is the Internet class.
const ClassINET Class = 1

// RCode is a response code (RFC 1035, Section 4.1.1).
type RCode uint16

// Response codes.
const (
	RCodeSuccess        RCode = 0
	RCodeFormatError    RCode = 1
	RCodeServerFailure  RCode = 2
	RCodeNameError      RCode = 3 // NXDOMAIN
	RCodeNotImplemented RCode = 4
	RCodeRefused        RCode = 5
)

// Section names a message section.
type Section uint8

// Message sections in wire order.
const (
	SectionQuestions Section = iota
	SectionAnswers
	SectionAuthorities
	SectionAdditionals
)

// Codec errors.
var (
	// ErrTruncated reports that the message ends inside a field.
	ErrTruncated = errors.New("dnsoe: message truncated")
	// ErrSectionDone reports the end of the current section (parser) or a
	// question added after records (builder).
	ErrSectionDone = errors.New("dnsoe: section done")
	// ErrNotStarted reports use of a Parser before Start.
	ErrNotStarted = errors.New("dnsoe: parser not started")
	// ErrSectionOrder reports an attempt to build sections out of wire order.
	ErrSectionOrder = errors.New("dnsoe: sections out of order")
	// ErrTooManyRecords reports more than 65535 entries in a section.
	ErrTooManyRecords = errors.New("dnsoe: too many records in section")
	// ErrRDataLength reports record data whose length does not fit its type.
	ErrRDataLength = errors.New("dnsoe: bad rdata length")
	// ErrWrongType reports a typed accessor used on a record of another type.
	ErrWrongType = errors.New("dnsoe: wrong record type")
	// ErrBadName reports a Name value that is not a well-formed wire name.
	ErrBadName = errors.New("dnsoe: malformed name")
	// ErrRDataTooLong reports record data over 65535 octets.
	ErrRDataTooLong = errors.New("dnsoe: rdata too long")
)

const headerLen = 12

// Header is the fixed message header (RFC 1035, Section 4.1.1) with the AD
// and CD bits of RFC 4035, Section 3.2.
type Header struct {
	ID                 uint16
	Response           bool
	Opcode             uint8 // 4 bits
	Authoritative      bool
	Truncated          bool
	RecursionDesired   bool
	RecursionAvailable bool
	AuthenticData      bool
	CheckingDisabled   bool
	RCode              RCode // low 4 bits; the OPT record extends it
}

func (h Header) bits() uint16 {
	v := uint16(h.Opcode&0xF)<<11 | uint16(h.RCode&0xF)
	if h.Response {
		v |= 1 << 15
	}
	if h.Authoritative {
		v |= 1 << 10
	}
	if h.Truncated {
		v |= 1 << 9
	}
	if h.RecursionDesired {
		v |= 1 << 8
	}
	if h.RecursionAvailable {
		v |= 1 << 7
	}
	if h.AuthenticData {
		v |= 1 << 5
	}
	if h.CheckingDisabled {
		v |= 1 << 4
	}
	return v
}

func headerFromBits(id, v uint16) Header {
	return Header{
		ID:                 id,
		Response:           v&(1<<15) != 0,
		Opcode:             uint8(v>>11) & 0xF,
		Authoritative:      v&(1<<10) != 0,
		Truncated:          v&(1<<9) != 0,
		RecursionDesired:   v&(1<<8) != 0,
		RecursionAvailable: v&(1<<7) != 0,
		AuthenticData:      v&(1<<5) != 0,
		CheckingDisabled:   v&(1<<4) != 0,
		RCode:              RCode(v & 0xF),
	}
}

// Question is one entry of the question section (RFC 1035, Section 4.1.2).
type Question struct {
	Name  Name
	Type  Type
	Class Class
}

// ResourceHeader is the part of a resource record before its data
// (RFC 1035, Section 4.1.3).
type ResourceHeader struct {
	Name   Name
	Type   Type
	Class  Class
	TTL    uint32
	Length uint16 // rdata length; set by the builder
}

// SetEDNS0 fills h as an OPT pseudo-record (RFC 6891, Section 6.1.2): the
// class carries the UDP payload size and the TTL the extended RCODE,
// version and the DO bit (RFC 3225).
func (h *ResourceHeader) SetEDNS0(udpSize uint16, extRCode, version uint8, dnssecOK bool) {
	h.Name = Root
	h.Type = TypeOPT
	h.Class = Class(udpSize)
	h.TTL = uint32(extRCode)<<24 | uint32(version)<<16
	if dnssecOK {
		h.TTL |= 1 << 15
	}
}

// EDNS0 reads the fields SetEDNS0 writes; meaningful only for TypeOPT.
func (h ResourceHeader) EDNS0() (udpSize uint16, extRCode, version uint8, dnssecOK bool) {
	return uint16(h.Class), uint8(h.TTL >> 24), uint8(h.TTL >> 16), h.TTL&(1<<15) != 0
}

// Resource is one parsed record. Its data is a slice of the message, which
// must stay unchanged while the Resource is used; names inside the data may
// be compressed and are decoded by the typed accessors.
type Resource struct {
	Section Section
	Header  ResourceHeader
	msg     []byte
	off     int // offset of the rdata in msg
}

// Data returns the raw record data (names in it may be compressed).
func (r Resource) Data() []byte {
	if r.msg == nil {
		return nil
	}
	return r.msg[r.off : r.off+int(r.Header.Length)]
}

// Parser reads a message section by section without allocating, as
// golang.org/x/net/dns/dnsmessage does.
type Parser struct {
	msg     []byte
	off     int
	started bool
	counts  [4]uint16
	sec     Section
	idx     int // index within sec
}

// Start parses the header and positions the parser at the first question.
func (p *Parser) Start(msg []byte) (Header, error) {
	*p = Parser{}
	if len(msg) < headerLen {
		return Header{}, ErrTruncated
	}
	p.msg = msg
	p.off = headerLen
	p.started = true
	for i := range p.counts {
		p.counts[i] = binary.BigEndian.Uint16(msg[4+2*i:])
	}
	p.sec = SectionQuestions
	return headerFromBits(binary.BigEndian.Uint16(msg), binary.BigEndian.Uint16(msg[2:])), nil
}

// Question returns the next question, or ErrSectionDone after the last.
func (p *Parser) Question() (Question, error) {
	if !p.started {
		return Question{}, ErrNotStarted
	}
	if p.sec != SectionQuestions || p.idx >= int(p.counts[SectionQuestions]) {
		return Question{}, ErrSectionDone
	}
	var q Question
	off, err := unpackName(&q.Name, p.msg, p.off)
	if err != nil {
		return Question{}, err
	}
	if off+4 > len(p.msg) {
		return Question{}, ErrTruncated
	}
	q.Type = Type(binary.BigEndian.Uint16(p.msg[off:]))
	q.Class = Class(binary.BigEndian.Uint16(p.msg[off+2:]))
	p.off = off + 4
	p.idx++
	return q, nil
}

// Resource returns the next record of the answer, authority and additional
// sections in turn (skipping any unread questions), or ErrSectionDone after
// the last record of the message.
func (p *Parser) Resource() (Resource, error) {
	if !p.started {
		return Resource{}, ErrNotStarted
	}
	for p.sec == SectionQuestions {
		if _, err := p.Question(); err == ErrSectionDone {
			p.sec, p.idx = SectionAnswers, 0
		} else if err != nil {
			return Resource{}, err
		}
	}
	for p.idx >= int(p.counts[p.sec]) {
		if p.sec == SectionAdditionals {
			return Resource{}, ErrSectionDone
		}
		p.sec++
		p.idx = 0
	}
	r := Resource{Section: p.sec, msg: p.msg}
	off, err := unpackName(&r.Header.Name, p.msg, p.off)
	if err != nil {
		return Resource{}, err
	}
	if off+10 > len(p.msg) {
		return Resource{}, ErrTruncated
	}
	b := p.msg[off:]
	r.Header.Type = Type(binary.BigEndian.Uint16(b))
	r.Header.Class = Class(binary.BigEndian.Uint16(b[2:]))
	r.Header.TTL = binary.BigEndian.Uint32(b[4:])
	r.Header.Length = binary.BigEndian.Uint16(b[8:])
	r.off = off + 10
	if r.off+int(r.Header.Length) > len(p.msg) {
		return Resource{}, ErrTruncated
	}
	p.off = r.off + int(r.Header.Length)
	p.idx++
	return r, nil
}

// Message is a fully parsed message; ParseMessage allocates its slices.
type Message struct {
	Header      Header
	Questions   []Question
	Answers     []Resource
	Authorities []Resource
	Additionals []Resource
}

// ParseMessage parses a whole message. The Resources refer to msg.
func ParseMessage(msg []byte) (Message, error) {
	var p Parser
	var m Message
	var err error
	if m.Header, err = p.Start(msg); err != nil {
		return Message{}, err
	}
	for {
		q, err := p.Question()
		if err == ErrSectionDone {
			break
		}
		if err != nil {
			return Message{}, err
		}
		m.Questions = append(m.Questions, q)
	}
	for {
		r, err := p.Resource()
		if err == ErrSectionDone {
			break
		}
		if err != nil {
			return Message{}, err
		}
		switch r.Section {
		case SectionAnswers:
			m.Answers = append(m.Answers, r)
		case SectionAuthorities:
			m.Authorities = append(m.Authorities, r)
		default:
			m.Additionals = append(m.Additionals, r)
		}
	}
	return m, nil
}

// RData is the data of one record for the Builder.
type RData interface {
	// RRType is the record type this data belongs to.
	RRType() Type
	// AppendRData appends the wire form, without the length prefix.
	AppendRData(b []byte) ([]byte, error)
}

// Builder appends a message to a buffer. Names are written uncompressed,
// which every receiver accepts. Sections must be filled in wire order.
type Builder struct {
	msg    []byte
	start  int
	sec    Section
	counts [4]uint16
	err    error
}

// NewBuilder starts a message with header h at the end of buf.
func NewBuilder(buf []byte, h Header) *Builder {
	b := &Builder{start: len(buf)}
	b.msg = binary.BigEndian.AppendUint16(buf, h.ID)
	b.msg = binary.BigEndian.AppendUint16(b.msg, h.bits())
	b.msg = append(b.msg, 0, 0, 0, 0, 0, 0, 0, 0)
	return b
}

func (b *Builder) count(s Section) error {
	if b.err != nil {
		return b.err
	}
	if s < b.sec {
		return ErrSectionOrder
	}
	if b.counts[s] == 0xFFFF {
		return ErrTooManyRecords
	}
	b.sec = s
	return nil
}

// Question appends a question; questions must come before any record.
func (b *Builder) Question(q Question) error {
	if err := b.count(SectionQuestions); err != nil {
		return err
	}
	msg, err := appendName(b.msg, q.Name)
	if err != nil {
		return err
	}
	msg = binary.BigEndian.AppendUint16(msg, uint16(q.Type))
	b.msg = binary.BigEndian.AppendUint16(msg, uint16(q.Class))
	b.counts[SectionQuestions]++
	return nil
}

// Answer appends a record to the answer section; h.Type and h.Length are
// taken from d.
func (b *Builder) Answer(h ResourceHeader, d RData) error {
	return b.Resource(SectionAnswers, h, d)
}

// Authority appends a record to the authority section.
func (b *Builder) Authority(h ResourceHeader, d RData) error {
	return b.Resource(SectionAuthorities, h, d)
}

// Additional appends a record to the additional section.
func (b *Builder) Additional(h ResourceHeader, d RData) error {
	return b.Resource(SectionAdditionals, h, d)
}

// Resource appends a record to section s (not SectionQuestions).
func (b *Builder) Resource(s Section, h ResourceHeader, d RData) error {
	if s == SectionQuestions || s > SectionAdditionals {
		return ErrSectionOrder
	}
	if err := b.count(s); err != nil {
		return err
	}
	msg, err := appendName(b.msg, h.Name)
	if err != nil {
		return err
	}
	msg = binary.BigEndian.AppendUint16(msg, uint16(d.RRType()))
	msg = binary.BigEndian.AppendUint16(msg, uint16(h.Class))
	msg = binary.BigEndian.AppendUint32(msg, h.TTL)
	lenOff := len(msg)
	msg = append(msg, 0, 0)
	msg, err = d.AppendRData(msg)
	if err != nil {
		return err
	}
	n := len(msg) - lenOff - 2
	if n > 0xFFFF {
		return ErrRDataTooLong
	}
	// Back-patch the length once the data is written.
	binary.BigEndian.PutUint16(msg[lenOff:], uint16(n))
	b.msg = msg
	b.counts[s]++
	return nil
}

// Finish writes the section counts and returns the whole buffer.
func (b *Builder) Finish() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	for i, c := range b.counts {
		binary.BigEndian.PutUint16(b.msg[b.start+4+2*i:], c)
	}
	b.err = ErrSectionDone // a Builder is single-use
	return b.msg, nil
}

// A is the data of an A record.
type A struct{ Addr netip.Addr }

// RRType implements RData.
func (A) RRType() Type { return TypeA }

// AppendRData implements RData.
func (r A) AppendRData(b []byte) ([]byte, error) {
	if !r.Addr.Is4() {
		return b, ErrRDataLength
	}
	a := r.Addr.As4()
	return append(b, a[:]...), nil
}

// AAAA is the data of an AAAA record (RFC 3596, Section 2.2).
type AAAA struct{ Addr netip.Addr }

// RRType implements RData.
func (AAAA) RRType() Type { return TypeAAAA }

// AppendRData implements RData.
func (r AAAA) AppendRData(b []byte) ([]byte, error) {
	if !r.Addr.Is6() || r.Addr.Zone() != "" {
		return b, ErrRDataLength
	}
	a := r.Addr.As16()
	return append(b, a[:]...), nil
}

// NameData is the data of the single-name records CNAME, PTR and NS.
type NameData struct {
	T      Type
	Target Name
}

// RRType implements RData.
func (r NameData) RRType() Type { return r.T }

// AppendRData implements RData.
func (r NameData) AppendRData(b []byte) ([]byte, error) { return appendName(b, r.Target) }

// MX is the data of an MX record.
type MX struct {
	Preference uint16
	Exchange   Name
}

// RRType implements RData.
func (MX) RRType() Type { return TypeMX }

// AppendRData implements RData.
func (r MX) AppendRData(b []byte) ([]byte, error) {
	return appendName(binary.BigEndian.AppendUint16(b, r.Preference), r.Exchange)
}

// SOA is the data of an SOA record (RFC 1035, Section 3.3.13).
type SOA struct {
	MName, RName                   Name
	Serial, Refresh, Retry, Expire uint32
	Minimum                        uint32 // the negative-caching TTL, RFC 2308 Section 4
}

// RRType implements RData.
func (SOA) RRType() Type { return TypeSOA }

// AppendRData implements RData.
func (r SOA) AppendRData(b []byte) ([]byte, error) {
	b, err := appendName(b, r.MName)
	if err != nil {
		return b, err
	}
	if b, err = appendName(b, r.RName); err != nil {
		return b, err
	}
	for _, v := range [...]uint32{r.Serial, r.Refresh, r.Retry, r.Expire, r.Minimum} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b, nil
}

// TXT is the data of a TXT record: one or more character-strings of at most
// 255 octets each (RFC 1035, Section 3.3.14).
type TXT struct{ Strings []string }

// RRType implements RData.
func (TXT) RRType() Type { return TypeTXT }

// AppendRData implements RData.
func (r TXT) AppendRData(b []byte) ([]byte, error) {
	if len(r.Strings) == 0 {
		return b, ErrRDataLength
	}
	for _, s := range r.Strings {
		if len(s) > 255 {
			return b, ErrRDataLength
		}
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

// Option is one EDNS0 option (RFC 6891, Section 6.1.2).
type Option struct {
	Code uint16
	Data []byte
}

// OPT is the data of the OPT pseudo-record; its header carries the rest
// (see ResourceHeader.SetEDNS0).
type OPT struct{ Options []Option }

// RRType implements RData.
func (OPT) RRType() Type { return TypeOPT }

// AppendRData implements RData.
func (r OPT) AppendRData(b []byte) ([]byte, error) {
	for _, o := range r.Options {
		if len(o.Data) > 0xFFFF {
			return b, ErrRDataTooLong
		}
		b = binary.BigEndian.AppendUint16(b, o.Code)
		b = binary.BigEndian.AppendUint16(b, uint16(len(o.Data)))
		b = append(b, o.Data...)
	}
	return b, nil
}

// Raw is record data kept as octets: RRSIG, NSEC, DNSKEY and any type this
// package does not decode (RFC 3597).
type Raw struct {
	T    Type
	Data []byte
}

// RRType implements RData.
func (r Raw) RRType() Type { return r.T }

// AppendRData implements RData.
func (r Raw) AppendRData(b []byte) ([]byte, error) { return append(b, r.Data...), nil }

// A returns the address of an A record.
func (r Resource) A() (netip.Addr, error) {
	if r.Header.Type != TypeA {
		return netip.Addr{}, ErrWrongType
	}
	d := r.Data()
	if len(d) != 4 {
		return netip.Addr{}, ErrRDataLength
	}
	return netip.AddrFrom4([4]byte(d)), nil
}

// AAAA returns the address of an AAAA record.
func (r Resource) AAAA() (netip.Addr, error) {
	if r.Header.Type != TypeAAAA {
		return netip.Addr{}, ErrWrongType
	}
	d := r.Data()
	if len(d) != 16 {
		return netip.Addr{}, ErrRDataLength
	}
	return netip.AddrFrom16([16]byte(d)), nil
}

// Target returns the name in a CNAME, PTR or NS record, decompressed.
func (r Resource) Target() (Name, error) {
	switch r.Header.Type {
	case TypeCNAME, TypePTR, TypeNS:
	default:
		return Name{}, ErrWrongType
	}
	var n Name
	end, err := r.nameAt(&n, r.off)
	if err != nil {
		return Name{}, err
	}
	if end != r.off+int(r.Header.Length) {
		return Name{}, ErrRDataLength
	}
	return n, nil
}

// nameAt decodes a name that must lie within this record's data.
func (r Resource) nameAt(n *Name, off int) (int, error) {
	lim := r.off + int(r.Header.Length)
	if off >= lim {
		return 0, ErrRDataLength
	}
	// Pointers only go backwards, so cutting the message at the end of
	// the rdata keeps the name's own octets inside the record.
	end, err := unpackName(n, r.msg[:lim], off)
	if err == ErrTruncated {
		return 0, ErrRDataLength
	}
	return end, err
}

// MX returns the data of an MX record.
func (r Resource) MX() (MX, error) {
	if r.Header.Type != TypeMX {
		return MX{}, ErrWrongType
	}
	if r.Header.Length < 3 {
		return MX{}, ErrRDataLength
	}
	m := MX{Preference: binary.BigEndian.Uint16(r.msg[r.off:])}
	end, err := r.nameAt(&m.Exchange, r.off+2)
	if err != nil {
		return MX{}, err
	}
	if end != r.off+int(r.Header.Length) {
		return MX{}, ErrRDataLength
	}
	return m, nil
}

// SOA returns the data of an SOA record.
func (r Resource) SOA() (SOA, error) {
	if r.Header.Type != TypeSOA {
		return SOA{}, ErrWrongType
	}
	var s SOA
	off, err := r.nameAt(&s.MName, r.off)
	if err != nil {
		return SOA{}, err
	}
	if off, err = r.nameAt(&s.RName, off); err != nil {
		return SOA{}, err
	}
	if off+20 != r.off+int(r.Header.Length) {
		return SOA{}, ErrRDataLength
	}
	b := r.msg[off:]
	s.Serial = binary.BigEndian.Uint32(b)
	s.Refresh = binary.BigEndian.Uint32(b[4:])
	s.Retry = binary.BigEndian.Uint32(b[8:])
	s.Expire = binary.BigEndian.Uint32(b[12:])
	s.Minimum = binary.BigEndian.Uint32(b[16:])
	return s, nil
}

// TXT returns the character-strings of a TXT record.
func (r Resource) TXT() (TXT, error) {
	if r.Header.Type != TypeTXT {
		return TXT{}, ErrWrongType
	}
	ss, err := parseCharacterStrings(r.Data())
	return TXT{Strings: ss}, err
}

func parseCharacterStrings(d []byte) ([]string, error) {
	if len(d) == 0 {
		return nil, ErrRDataLength
	}
	var ss []string
	for len(d) > 0 {
		l := int(d[0])
		if 1+l > len(d) {
			return nil, ErrRDataLength
		}
		ss = append(ss, string(d[1:1+l]))
		d = d[1+l:]
	}
	return ss, nil
}

// OPT returns the options of an OPT record.
func (r Resource) OPT() (OPT, error) {
	if r.Header.Type != TypeOPT {
		return OPT{}, ErrWrongType
	}
	d := r.Data()
	var o OPT
	for len(d) > 0 {
		if len(d) < 4 {
			return OPT{}, ErrRDataLength
		}
		l := int(binary.BigEndian.Uint16(d[2:]))
		if 4+l > len(d) {
			return OPT{}, ErrRDataLength
		}
		o.Options = append(o.Options, Option{Code: binary.BigEndian.Uint16(d), Data: d[4 : 4+l]})
		d = d[4+l:]
	}
	return o, nil
}

// RData decodes the record into its typed form: A, AAAA, NameData (CNAME,
// PTR, NS), MX, SOA, TXT, OPT, KEY, IPSECKEY, or Raw for anything else.
// Names come out decompressed, so the result can be written with a Builder.
func (r Resource) RData() (RData, error) {
	switch r.Header.Type {
	case TypeA:
		a, err := r.A()
		return A{a}, err
	case TypeAAAA:
		a, err := r.AAAA()
		return AAAA{a}, err
	case TypeCNAME, TypePTR, TypeNS:
		n, err := r.Target()
		return NameData{T: r.Header.Type, Target: n}, err
	case TypeMX:
		return r.MX()
	case TypeSOA:
		return r.SOA()
	case TypeTXT:
		return r.TXT()
	case TypeOPT:
		return r.OPT()
	case TypeKEY:
		return ParseKEY(r.Data())
	case TypeIPSECKEY:
		return ParseIPSECKEY(r.Data())
	}
	return Raw{T: r.Header.Type, Data: r.Data()}, nil
}
