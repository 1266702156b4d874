package config

import (
	"errors"
	"fmt"
	"strings"
)

// Proposal is one IKE or ESP proposal in strongSwan/swanctl notation, parsed
// into its transform keywords. Only canonical keyword strings are kept, no
// protocol numbers: mapping them to transform IDs is the engine's job.
type Proposal struct {
	Encryption []string // aes128gcm16 aes192gcm16 aes256gcm16 chacha20poly1305 aes128 aes192 aes256 (CBC)
	Integrity  []string // sha256 sha384 sha512 (HMAC-SHA2, RFC 4868); empty with AEAD ciphers
	PRF        []string // prfsha256 prfsha384 prfsha512 prfaesxcbc prfaescmac; IKE only
	DH         []string // ecp256 ecp384 x25519 modp2048 modp3072 modp4096 mlkem768; in ESP the PFS groups
	ESN        []bool   // ESP only: true for esn, false for noesn, in the order written; empty when not stated (the engine then offers both)
}

// String writes the proposal back in swanctl notation.
func (p Proposal) String() string {
	var parts []string
	parts = append(parts, p.Encryption...)
	parts = append(parts, p.Integrity...)
	parts = append(parts, p.PRF...)
	parts = append(parts, p.DH...)
	for _, e := range p.ESN {
		if e {
			parts = append(parts, "esn")
		} else {
			parts = append(parts, "noesn")
		}
	}
	return strings.Join(parts, "-")
}

type algClass uint8

const (
	algEnc algClass = iota + 1
	algAEAD
	algInteg
	algPRF
	algDH
	algESN
)

type algorithm struct {
	class algClass
	name  string // canonical
}

// algorithms is the vocabulary, with strongSwan's aliases.
var algorithms = map[string]algorithm{
	"aes128gcm16":      {algAEAD, "aes128gcm16"},
	"aes128gcm":        {algAEAD, "aes128gcm16"},
	"aes192gcm16":      {algAEAD, "aes192gcm16"},
	"aes192gcm":        {algAEAD, "aes192gcm16"},
	"aes256gcm16":      {algAEAD, "aes256gcm16"},
	"aes256gcm":        {algAEAD, "aes256gcm16"},
	"chacha20poly1305": {algAEAD, "chacha20poly1305"},
	"aes128":           {algEnc, "aes128"},
	"aes192":           {algEnc, "aes192"},
	"aes256":           {algEnc, "aes256"},
	"sha256":           {algInteg, "sha256"},
	"sha2_256":         {algInteg, "sha256"},
	"sha384":           {algInteg, "sha384"},
	"sha2_384":         {algInteg, "sha384"},
	"sha512":           {algInteg, "sha512"},
	"sha2_512":         {algInteg, "sha512"},
	"prfsha256":        {algPRF, "prfsha256"},
	"prfsha384":        {algPRF, "prfsha384"},
	"prfsha512":        {algPRF, "prfsha512"},
	"prfaesxcbc":       {algPRF, "prfaesxcbc"},
	"prfaescmac":       {algPRF, "prfaescmac"},
	"ecp256":           {algDH, "ecp256"},
	"ecp384":           {algDH, "ecp384"},
	"x25519":           {algDH, "x25519"},
	"curve25519":       {algDH, "x25519"},
	"modp2048":         {algDH, "modp2048"},
	"modp3072":         {algDH, "modp3072"},
	"modp4096":         {algDH, "modp4096"},
	"mlkem768":         {algDH, "mlkem768"}, // RFC 9370 additional key exchange, for later
	"esn":              {algESN, "esn"},
	"noesn":            {algESN, "noesn"},
}

// weak names algorithms admins may still have in old configs.
var weak = map[string]bool{
	"3des": true, "des": true, "md5": true, "sha1": true, "prfsha1": true, "prfmd5": true,
	"modp768": true, "modp1024": true, "modp1536": true, "aes128gcm8": true, "aes256gcm8": true,
}

// unknownWhat guesses what an unknown token was meant to be, for the message.
func unknownWhat(tok string) string {
	has := func(p ...string) bool {
		for _, x := range p {
			if strings.HasPrefix(tok, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("prf"):
		return "prf"
	case has("sha", "md5", "aesxcbc", "aescmac", "hmac"):
		return "integrity algorithm"
	case has("aes", "chacha", "3des", "des", "camellia", "blowfish", "cast", "serpent", "twofish", "null"):
		return "cipher"
	case has("ecp", "modp", "curve", "x25", "x44", "mlkem", "ke", "brainpool", "ntru", "ecdh", "dh"):
		return "DH group"
	}
	return "algorithm"
}

// parseProposal returns a reason without the proposal; ike tells which rules apply.
func parseProposal(s string, ike bool) (Proposal, error) {
	var p Proposal
	if s == "" {
		return p, errors.New("empty")
	}
	toks := strings.Split(s, "-")
	single := len(toks) == 1
	seen := map[string]bool{}
	aead, plain := 0, 0
	for _, tok := range toks {
		if tok == "" {
			return p, errors.New("empty algorithm between '-'")
		}
		a, ok := algorithms[tok]
		if !ok {
			what := unknownWhat(tok)
			switch {
			case weak[tok] && single:
				return p, fmt.Errorf("%s too weak, not supported", what)
			case weak[tok]:
				return p, fmt.Errorf("%s %q too weak, not supported", what, tok)
			case single:
				return p, fmt.Errorf("unknown %s", what)
			}
			return p, fmt.Errorf("unknown %s %q", what, tok)
		}
		if seen[a.name] {
			return p, fmt.Errorf("%s listed twice", a.name)
		}
		seen[a.name] = true
		switch a.class {
		case algAEAD:
			aead++
			p.Encryption = append(p.Encryption, a.name)
		case algEnc:
			plain++
			p.Encryption = append(p.Encryption, a.name)
		case algInteg:
			p.Integrity = append(p.Integrity, a.name)
		case algPRF:
			if !ike {
				return p, fmt.Errorf("%s: ESP has no prf", a.name)
			}
			p.PRF = append(p.PRF, a.name)
		case algDH:
			p.DH = append(p.DH, a.name)
		case algESN:
			if ike {
				return p, fmt.Errorf("%s: applies to ESP only", a.name)
			}
			p.ESN = append(p.ESN, a.name == "esn")
		}
	}
	switch {
	case aead == 0 && plain == 0:
		return p, errors.New("no cipher")
	case aead > 0 && plain > 0:
		// RFC 7296, Section 3.3: combined-mode and normal ciphers need two proposals.
		return p, errors.New("mixes AEAD and non-AEAD ciphers: write two proposals")
	case aead > 0 && len(p.Integrity) > 0:
		// RFC 5282, Section 8: an all-AEAD proposal MUST NOT propose integrity.
		return p, fmt.Errorf("AEAD cipher %s takes no integrity algorithm", p.Encryption[0])
	case plain > 0 && len(p.Integrity) == 0:
		return p, fmt.Errorf("CBC cipher %s needs an integrity algorithm (like sha256)", p.Encryption[0])
	case plain > 0 && !ike:
		// The ESP data plane (package esp) implements the AEAD suites only:
		// an ESP proposal it cannot install would fail at negotiation time.
		return p, fmt.Errorf("CBC cipher %s: swanling's ESP has AEAD ciphers only (aes128gcm16, aes192gcm16, aes256gcm16, chacha20poly1305)", p.Encryption[0])
	}
	if ike {
		if len(p.PRF) == 0 {
			if aead > 0 {
				return p, errors.New("AEAD proposal needs a prf (like prfsha256)")
			}
			// As strongSwan: without a prf, the HMAC of each integrity algorithm.
			for _, i := range p.Integrity {
				p.PRF = append(p.PRF, "prf"+i)
			}
		}
		// RFC 7296, Section 3.3.3: IKE proposals MUST include a D-H group.
		if len(p.DH) == 0 {
			return p, errors.New("needs a DH group (like x25519)")
		}
	}
	return p, nil
}

// ParseIKEProposal parses an IKE proposal such as "aes128gcm16-prfsha256-x25519"
// or "aes256-sha256-modp2048" (the prf then follows the integrity algorithm).
func ParseIKEProposal(s string) (Proposal, error) {
	p, err := parseProposal(s, true)
	if err != nil {
		return Proposal{}, fmt.Errorf("config: ike proposal %q: %w", s, err)
	}
	return p, nil
}

// ParseESPProposal parses an ESP proposal such as "aes128gcm16",
// "chacha20poly1305-esn-noesn" or "aes256gcm16-x25519" (with a PFS group).
func ParseESPProposal(s string) (Proposal, error) {
	p, err := parseProposal(s, false)
	if err != nil {
		return Proposal{}, fmt.Errorf("config: esp proposal %q: %w", s, err)
	}
	return p, nil
}

// aeadKeyLen is the key||salt length of the manual SA algorithms:
// RFC 4106, Section 8.1 (AES-GCM: key plus 4-octet salt) and RFC 7634,
// Section 2 (ChaCha20-Poly1305: 32-octet key plus 4-octet salt).
var aeadKeyLen = map[string]int{
	"aes128gcm16":      16 + 4,
	"aes192gcm16":      24 + 4,
	"aes256gcm16":      32 + 4,
	"chacha20poly1305": 32 + 4,
}

func manualAlgorithm(s string) (string, bool) {
	a, ok := algorithms[s]
	if !ok || a.class != algAEAD {
		return "", false
	}
	_, ok = aeadKeyLen[a.name]
	return a.name, ok
}
