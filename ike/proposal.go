package ike

import (
	"errors"
	"strings"
)

// Transform types, RFC 7296, Section 3.3.2.
const (
	TransENCR  uint8 = 1
	TransPRF   uint8 = 2
	TransINTEG uint8 = 3
	TransKE    uint8 = 4
	TransESN   uint8 = 5
)

// Security protocol IDs, RFC 7296, Section 3.3.1.
const (
	ProtoIKE uint8 = 1
	ProtoAH  uint8 = 2
	ProtoESP uint8 = 3
)

// Transform IDs used here (IANA "IKEv2 Parameters").
const (
	EncrAESCBC   uint16 = 12
	EncrAESGCM8  uint16 = 18
	EncrAESGCM12 uint16 = 19
	EncrAESGCM16 uint16 = 20
	EncrChaCha   uint16 = 28

	PRFSHA1     uint16 = 2
	PRFAESXCBC  uint16 = 4
	PRFSHA256   uint16 = 5
	PRFSHA384   uint16 = 6
	PRFSHA512   uint16 = 7
	PRFAESCMAC  uint16 = 8
	IntegSHA1   uint16 = 2
	IntegXCBC   uint16 = 5
	IntegSHA256 uint16 = 12
	IntegSHA384 uint16 = 13
	IntegSHA512 uint16 = 14

	GroupMODP2048 uint16 = 14
	GroupMODP3072 uint16 = 15
	GroupMODP4096 uint16 = 16
	GroupECP256   uint16 = 19
	GroupECP384   uint16 = 20
	GroupX25519   uint16 = 31
	GroupMLKEM768 uint16 = 36

	ESNNo  uint16 = 0
	ESNYes uint16 = 1
)

// Alg is one transform: its ID and, for ciphers with a variable key, the
// Key Length attribute in bits (RFC 7296, Section 3.3.5).
type Alg struct {
	ID     uint16
	KeyLen uint16
}

// Proposal is one configured proposal: the acceptable algorithms of each
// transform type, most preferred first. For ESP, DH is used only for PFS in
// CREATE_CHILD_SA (RFC 7296, Section 1.3.1); the Child SA of IKE_AUTH never
// carries a KE payload.
type Proposal struct {
	Protocol uint8
	Encr     []Alg
	Integ    []uint16
	PRF      []uint16
	DH       []uint16
	ESN      []uint16
}

// Chosen is a negotiated proposal: exactly one algorithm per type (0 where
// the type is absent, Integ for AEADs and DH without PFS).
type Chosen struct {
	Protocol uint8
	Num      uint8 // proposal number of the accepted proposal
	SPI      []byte
	Encr     Alg
	Integ    uint16
	PRF      uint16
	DH       uint16
	ESN      bool
}

var encrWords = map[string]Alg{
	"aes128gcm16": {EncrAESGCM16, 128}, "aes128gcm128": {EncrAESGCM16, 128},
	"aes192gcm16": {EncrAESGCM16, 192}, "aes192gcm128": {EncrAESGCM16, 192},
	"aes256gcm16": {EncrAESGCM16, 256}, "aes256gcm128": {EncrAESGCM16, 256},
	"chacha20poly1305": {EncrChaCha, 0},
	"aes128":           {EncrAESCBC, 128}, "aes192": {EncrAESCBC, 192}, "aes256": {EncrAESCBC, 256},
}

var integWords = map[string]uint16{
	"sha256": IntegSHA256, "sha2_256": IntegSHA256,
	"sha384": IntegSHA384, "sha2_384": IntegSHA384,
	"sha512": IntegSHA512, "sha2_512": IntegSHA512,
	"sha1": IntegSHA1, "aesxcbc": IntegXCBC,
}

var prfWords = map[string]uint16{
	"prfsha256": PRFSHA256, "prfsha384": PRFSHA384, "prfsha512": PRFSHA512,
	"prfsha1": PRFSHA1, "prfaesxcbc": PRFAESXCBC, "prfaescmac": PRFAESCMAC,
}

var dhWords = map[string]uint16{
	"modp2048": GroupMODP2048, "modp3072": GroupMODP3072, "modp4096": GroupMODP4096,
	"ecp256": GroupECP256, "ecp384": GroupECP384,
	"x25519": GroupX25519, "curve25519": GroupX25519,
	"mlkem768": GroupMLKEM768,
}

// prfForInteg is the PRF strongSwan and swanctl derive from an integrity
// algorithm when a proposal names no PRF.
var prfForInteg = map[uint16]uint16{
	IntegSHA256: PRFSHA256, IntegSHA384: PRFSHA384, IntegSHA512: PRFSHA512,
	IntegSHA1: PRFSHA1, IntegXCBC: PRFAESXCBC,
}

// IsAEAD reports whether an encryption transform is an AEAD (no INTEG).
func IsAEAD(id uint16) bool {
	return id == EncrAESGCM16 || id == EncrAESGCM12 || id == EncrAESGCM8 || id == EncrChaCha
}

// ParseProposal reads one proposal in swanctl notation, for example
// "aes128gcm16-prfsha256-x25519" (protocol ProtoIKE) or
// "chacha20poly1305-esn-noesn" (ProtoESP). Unknown keywords are errors.
func ParseProposal(protocol uint8, s string) (Proposal, error) {
	p := Proposal{Protocol: protocol}
	for _, w := range strings.Split(strings.ToLower(strings.TrimSpace(s)), "-") {
		if a, ok := encrWords[w]; ok {
			p.Encr = append(p.Encr, a)
		} else if v, ok := integWords[w]; ok {
			p.Integ = append(p.Integ, v)
		} else if v, ok := prfWords[w]; ok {
			p.PRF = append(p.PRF, v)
		} else if v, ok := dhWords[w]; ok {
			p.DH = append(p.DH, v)
		} else if w == "esn" {
			p.ESN = append(p.ESN, ESNYes)
		} else if w == "noesn" {
			p.ESN = append(p.ESN, ESNNo)
		} else {
			return p, errors.New("ike: unknown algorithm keyword " + w + " in " + s)
		}
	}
	return p, p.complete()
}

// ProposalFromParts builds a proposal from keyword lists, as the config
// package splits them.
func ProposalFromParts(protocol uint8, encr, integ, prf, dh []string, esn []bool) (Proposal, error) {
	var words []string
	words = append(words, encr...)
	words = append(words, integ...)
	words = append(words, prf...)
	words = append(words, dh...)
	for _, e := range esn {
		if e {
			words = append(words, "esn")
		} else {
			words = append(words, "noesn")
		}
	}
	return ParseProposal(protocol, strings.Join(words, "-"))
}

// complete fills derived transforms and checks that the proposal is usable.
func (p *Proposal) complete() error {
	if len(p.Encr) == 0 {
		return errors.New("ike: proposal without encryption algorithm")
	}
	aead, plain := 0, 0
	for _, e := range p.Encr {
		if IsAEAD(e.ID) {
			aead++
		} else {
			plain++
		}
	}
	// RFC 7296, Section 3.3: combined-mode ciphers and integrity
	// algorithms go in separate proposals.
	if aead > 0 && (plain > 0 || len(p.Integ) > 0) {
		return errors.New("ike: AEAD and non-AEAD algorithms in one proposal")
	}
	if plain > 0 && len(p.Integ) == 0 {
		return errors.New("ike: CBC encryption without integrity algorithm")
	}
	switch p.Protocol {
	case ProtoIKE:
		if len(p.PRF) == 0 {
			for _, i := range p.Integ {
				if f, ok := prfForInteg[i]; ok {
					p.PRF = append(p.PRF, f)
				}
			}
			if len(p.PRF) == 0 {
				p.PRF = []uint16{PRFSHA256}
			}
		}
		if len(p.DH) == 0 {
			return errors.New("ike: IKE proposal without key exchange group")
		}
		if len(p.ESN) > 0 {
			return errors.New("ike: ESN in an IKE proposal")
		}
	case ProtoESP:
		if len(p.PRF) > 0 {
			return errors.New("ike: PRF in an ESP proposal")
		}
		if len(p.ESN) == 0 {
			// Offer both, no ESN first: strongSwan's kernel-libipsec
			// refuses ESN.
			p.ESN = []uint16{ESNNo, ESNYes}
		}
	}
	return nil
}

// DefaultProposals returns the hardware-derived default proposals: AES-GCM
// first when AES has hardware support, ChaCha20-Poly1305 first otherwise.
func DefaultProposals(protocol uint8, aesFast bool) []Proposal {
	gcm := []Alg{{EncrAESGCM16, 128}, {EncrAESGCM16, 256}}
	cc := []Alg{{EncrChaCha, 0}}
	var encr []Alg
	if aesFast {
		encr = append(gcm, cc...)
	} else {
		encr = append(cc, gcm...)
	}
	p := Proposal{Protocol: protocol, Encr: encr}
	if protocol == ProtoIKE {
		p.PRF = []uint16{PRFSHA256, PRFSHA384, PRFSHA512}
		p.DH = []uint16{GroupX25519, GroupECP256, GroupECP384, GroupMODP3072, GroupMODP2048}
	} else {
		p.ESN = []uint16{ESNNo, ESNYes}
	}
	ps := []Proposal{p}
	if protocol == ProtoIKE {
		// A CBC/HMAC proposal for older peers.
		ps = append(ps, Proposal{Protocol: ProtoIKE, Encr: []Alg{{EncrAESCBC, 128}, {EncrAESCBC, 256}},
			Integ: []uint16{IntegSHA256, IntegSHA384, IntegSHA512},
			PRF:   []uint16{PRFSHA256, PRFSHA384, PRFSHA512},
			DH:    []uint16{GroupX25519, GroupECP256, GroupECP384, GroupMODP3072, GroupMODP2048}})
	}
	return ps
}

// Offer is one received proposal, as read from an SA payload.
type Offer struct {
	Num        uint8
	Protocol   uint8
	SPI        []byte
	Transforms []Transform
}

// Transform is one received transform.
type Transform struct {
	Type   uint8
	ID     uint16
	KeyLen uint16 // 0 when no Key Length attribute
	// Unknown is set when the transform carries an attribute we do not
	// understand; RFC 7296, Section 3.3.6 says to reject such a transform.
	Unknown bool
}

// has reports whether the offer lists transform (t, id, keyLen).
func (o *Offer) has(t uint8, id, keyLen uint16) bool {
	for _, tr := range o.Transforms {
		if tr.Type == t && tr.ID == id && tr.KeyLen == keyLen && !tr.Unknown {
			return true
		}
	}
	return false
}

func (o *Offer) hasType(t uint8) bool {
	for _, tr := range o.Transforms {
		if tr.Type == t {
			return true
		}
	}
	return false
}

// selectProposal picks the first of our proposals, in our order of
// preference, that one of the peer's offers satisfies completely (RFC 7296,
// Section 2.7: one transform of each type the offer lists, and nothing the
// offer does not list). wantDH false ignores KE transforms (the IKE_AUTH
// Child SA, Section 1.2). It returns ok false for NO_PROPOSAL_CHOSEN.
func selectProposal(ours []Proposal, offers []Offer, wantDH bool) (Chosen, bool) {
	for _, p := range ours {
		for i := range offers {
			o := &offers[i]
			if o.Protocol != p.Protocol {
				continue
			}
			c := Chosen{Protocol: p.Protocol, Num: o.Num, SPI: o.SPI}
			ok := false
			for _, e := range p.Encr {
				if o.has(TransENCR, e.ID, e.KeyLen) {
					c.Encr, ok = e, true
					break
				}
			}
			if !ok {
				continue
			}
			if !pickOne(o, TransINTEG, p.Integ, &c.Integ) || !pickOne(o, TransPRF, p.PRF, &c.PRF) {
				continue
			}
			if p.Protocol == ProtoIKE || wantDH {
				if !pickOne(o, TransKE, p.DH, &c.DH) {
					continue
				}
			}
			if p.Protocol == ProtoESP {
				var esn uint16
				if !pickOne(o, TransESN, p.ESN, &esn) {
					continue
				}
				c.ESN = esn == ESNYes
			}
			if p.Protocol == ProtoIKE && (c.PRF == 0 || c.DH == 0) {
				continue
			}
			return c, true
		}
	}
	return Chosen{}, false
}

// pickOne chooses our first algorithm of type t that the offer lists. An
// offer without type t matches only when we want none of that type (or may
// go without: NONE for KE, no ESN); an offer that lists only NONE (ID 0)
// matches when we want none.
func pickOne(o *Offer, t uint8, ours []uint16, out *uint16) bool {
	*out = 0
	if !o.hasType(t) {
		return len(ours) == 0 || containsU16(ours, 0)
	}
	for _, v := range ours {
		if o.has(t, v, 0) {
			*out = v
			return true
		}
	}
	return len(ours) == 0 && o.has(t, 0, 0)
}

func containsU16(s []uint16, v uint16) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// offerFromProposals turns our proposals into offers to put in an SA
// payload, numbered from 1 (RFC 7296, Section 3.3.1).
func offerFromProposals(ps []Proposal, spi []byte, withDH bool) []Offer {
	var out []Offer
	for i, p := range ps {
		o := Offer{Num: uint8(i + 1), Protocol: p.Protocol, SPI: spi}
		for _, e := range p.Encr {
			o.Transforms = append(o.Transforms, Transform{Type: TransENCR, ID: e.ID, KeyLen: e.KeyLen})
		}
		for _, v := range p.PRF {
			o.Transforms = append(o.Transforms, Transform{Type: TransPRF, ID: v})
		}
		for _, v := range p.Integ {
			o.Transforms = append(o.Transforms, Transform{Type: TransINTEG, ID: v})
		}
		if withDH {
			for _, v := range p.DH {
				o.Transforms = append(o.Transforms, Transform{Type: TransKE, ID: v})
			}
		}
		for _, v := range p.ESN {
			o.Transforms = append(o.Transforms, Transform{Type: TransESN, ID: v})
		}
		out = append(out, o)
	}
	return out
}

// chosenOffer is the single-proposal SA payload content of a response.
func chosenOffer(c Chosen, spi []byte) Offer {
	o := Offer{Num: c.Num, Protocol: c.Protocol, SPI: spi}
	o.Transforms = append(o.Transforms, Transform{Type: TransENCR, ID: c.Encr.ID, KeyLen: c.Encr.KeyLen})
	if c.PRF != 0 {
		o.Transforms = append(o.Transforms, Transform{Type: TransPRF, ID: c.PRF})
	}
	if c.Integ != 0 {
		o.Transforms = append(o.Transforms, Transform{Type: TransINTEG, ID: c.Integ})
	}
	if c.DH != 0 {
		o.Transforms = append(o.Transforms, Transform{Type: TransKE, ID: c.DH})
	}
	if c.Protocol == ProtoESP {
		esn := ESNNo
		if c.ESN {
			esn = ESNYes
		}
		o.Transforms = append(o.Transforms, Transform{Type: TransESN, ID: esn})
	}
	return o
}

// acceptResponse checks that a responder's SA payload holds exactly one
// proposal that is a subset of what we offered (RFC 7296, Section 2.7,
// 3.3.6) and turns it into a Chosen.
func acceptResponse(ours []Proposal, offers []Offer, protocol uint8, wantDH bool) (Chosen, bool) {
	if len(offers) != 1 || offers[0].Protocol != protocol {
		return Chosen{}, false
	}
	o := offers[0]
	// Each type must appear at most once in the answer.
	seen := map[uint8]bool{}
	for _, t := range o.Transforms {
		if seen[t.Type] || t.Unknown {
			return Chosen{}, false
		}
		seen[t.Type] = true
	}
	c, ok := selectProposal(ours, offers, wantDH)
	if !ok {
		return c, false
	}
	return c, true
}

// suiteName is the data-plane suite keyword of an ESP Chosen.
func suiteName(c Chosen) string {
	switch c.Encr.ID {
	case EncrAESGCM16:
		switch c.Encr.KeyLen {
		case 128:
			return "aes128gcm16"
		case 192:
			return "aes192gcm16"
		case 256:
			return "aes256gcm16"
		}
	case EncrChaCha:
		return "chacha20poly1305"
	case EncrAESCBC:
		s := "aes" + itoa(int(c.Encr.KeyLen))
		switch c.Integ {
		case IntegSHA256:
			return s + "-sha256"
		case IntegSHA384:
			return s + "-sha384"
		case IntegSHA512:
			return s + "-sha512"
		}
	}
	return "unknown"
}

// ikeSuiteName renders a negotiated IKE proposal for status and logs, in
// swanctl notation.
func ikeSuiteName(c Chosen) string {
	var names []string
	switch c.Encr.ID {
	case EncrAESGCM16:
		names = append(names, "aes"+itoa(int(c.Encr.KeyLen))+"gcm16")
	case EncrChaCha:
		names = append(names, "chacha20poly1305")
	case EncrAESCBC:
		names = append(names, "aes"+itoa(int(c.Encr.KeyLen)))
	}
	names = append(names, nameOf(integWords, c.Integ, "sha1", "sha256", "sha384", "sha512", "aesxcbc")...)
	names = append(names, nameOf(prfWords, c.PRF, "prfsha1", "prfsha256", "prfsha384", "prfsha512", "prfaesxcbc", "prfaescmac")...)
	names = append(names, nameOf(dhWords, c.DH, "modp2048", "modp3072", "modp4096", "ecp256", "ecp384", "x25519", "mlkem768")...)
	return strings.Join(names, "-")
}

func nameOf(m map[string]uint16, v uint16, words ...string) []string {
	for _, w := range words {
		if v != 0 && m[w] == v {
			return []string{w}
		}
	}
	return nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
