package ikecrypto

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"slices"
)

// SigAlg is a signature algorithm of RFC 7427 authentication (method 14),
// identified on the wire by its ASN.1 AlgorithmIdentifier.
type SigAlg uint8

// The signature algorithms this package signs and verifies.
const (
	SigUnknown      SigAlg = iota
	SigEd25519             // id-Ed25519 (RFC 8420), no pre-hash
	SigECDSASHA256         // ecdsa-with-SHA256, DER ECDSA-Sig-Value
	SigECDSASHA384         // ecdsa-with-SHA384
	SigECDSASHA512         // ecdsa-with-SHA512
	SigRSAPSSSHA256        // RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32
	SigRSAPSSSHA384        // RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48
	SigRSAPSSSHA512        // RSASSA-PSS, SHA-512, MGF1-SHA-512, salt 64
)

var sigNames = [...]string{"unknown", "ed25519", "ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512", "rsa-pss-sha256", "rsa-pss-sha384", "rsa-pss-sha512"}

func (a SigAlg) String() string {
	if int(a) < len(sigNames) {
		return sigNames[a]
	}
	return sigNames[0]
}

var (
	oidEd25519   = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidECDSA256  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSA384  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSA512  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSAPSS    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA256    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	asn1NullTLV  = []byte{5, 0}
	errSigFormat = errors.New("ikecrypto: malformed signature authentication data")
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// pssParameters is RSASSA-PSS-params of RFC 4055, Section 3.1.
type pssParameters struct {
	Hash         algorithmIdentifier `asn1:"explicit,tag:0,optional"`
	MGF          algorithmIdentifier `asn1:"explicit,tag:1,optional"`
	SaltLength   int                 `asn1:"explicit,tag:2,optional,default:20"`
	TrailerField int                 `asn1:"explicit,tag:3,optional,default:1"`
}

func (a SigAlg) hash() (crypto.Hash, asn1.ObjectIdentifier) {
	switch a {
	case SigECDSASHA256, SigRSAPSSSHA256:
		return crypto.SHA256, oidSHA256
	case SigECDSASHA384, SigRSAPSSSHA384:
		return crypto.SHA384, oidSHA384
	case SigECDSASHA512, SigRSAPSSSHA512:
		return crypto.SHA512, oidSHA512
	}
	return 0, nil
}

// HashAlgorithm is the SIGNATURE_HASH_ALGORITHMS value (RFC 7427 Section 4,
// RFC 8420 Section 2) that both peers must have announced for this
// algorithm.
func (a SigAlg) HashAlgorithm() uint16 {
	switch h, _ := a.hash(); h {
	case crypto.SHA256:
		return HashSHA2_256
	case crypto.SHA384:
		return HashSHA2_384
	case crypto.SHA512:
		return HashSHA2_512
	}
	if a == SigEd25519 {
		return HashIdentity
	}
	return 0
}

// AlgorithmIdentifier returns the DER AlgorithmIdentifier sent for the
// algorithm: RFC 8420 Section 2 for Ed25519 (no parameters), RFC 7427
// Appendix A.3 for ECDSA (no parameters), and for RSASSA-PSS explicit
// parameters with trailerField as in RFC 7427 Appendix A.4.3.
func (a SigAlg) AlgorithmIdentifier() []byte {
	var id algorithmIdentifier
	switch a {
	case SigEd25519:
		id.Algorithm = oidEd25519
	case SigECDSASHA256:
		id.Algorithm = oidECDSA256
	case SigECDSASHA384:
		id.Algorithm = oidECDSA384
	case SigECDSASHA512:
		id.Algorithm = oidECDSA512
	case SigRSAPSSSHA256, SigRSAPSSSHA384, SigRSAPSSSHA512:
		h, hoid := a.hash()
		hashID := algorithmIdentifier{Algorithm: hoid, Parameters: asn1.RawValue{FullBytes: asn1NullTLV}}
		hb, _ := asn1.Marshal(hashID)
		params, _ := asn1.Marshal(struct {
			Hash         algorithmIdentifier `asn1:"explicit,tag:0"`
			MGF          algorithmIdentifier `asn1:"explicit,tag:1"`
			SaltLength   int                 `asn1:"explicit,tag:2"`
			TrailerField int                 `asn1:"explicit,tag:3"`
		}{hashID, algorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: hb}}, h.Size(), 1})
		id = algorithmIdentifier{Algorithm: oidRSAPSS, Parameters: asn1.RawValue{FullBytes: params}}
	default:
		return nil
	}
	b, _ := asn1.Marshal(id)
	return b
}

// parseAlgorithmIdentifier maps a received AlgorithmIdentifier to a SigAlg.
// Ed25519 and ECDSA identifiers must match the known encodings exactly
// (RFC 7427 Section 3 lets them be compared as blobs); RSASSA-PSS parameters
// are decoded and must name SHA-2 for both the hash and MGF1 with a salt of
// at least the hash length (RFC 7427 Section 6 / RFC 8247 guidance).
func parseAlgorithmIdentifier(der []byte) (SigAlg, int, error) {
	for _, a := range []SigAlg{SigEd25519, SigECDSASHA256, SigECDSASHA384, SigECDSASHA512} {
		id := a.AlgorithmIdentifier()
		if bytes.Equal(der, id) {
			return a, 0, nil
		}
		// RFC 7427 Section 3: parameters are "either NULL or missing";
		// ECDSA identifiers with explicit NULL parameters are accepted
		// too (never Ed25519: RFC 8410 Section 3 says absent).
		if a != SigEd25519 && len(der) == len(id)+2 && der[1] == id[1]+2 &&
			bytes.Equal(der[2:len(id)], id[2:]) && bytes.Equal(der[len(id):], asn1NullTLV) {
			return a, 0, nil
		}
	}
	var id algorithmIdentifier
	rest, err := asn1.Unmarshal(der, &id)
	if err != nil || len(rest) != 0 || !id.Algorithm.Equal(oidRSAPSS) {
		return SigUnknown, 0, ErrUnsupported
	}
	var p pssParameters
	rest, err = asn1.Unmarshal(id.Parameters.FullBytes, &p)
	if err != nil || len(rest) != 0 || p.TrailerField != 1 {
		return SigUnknown, 0, ErrUnsupported
	}
	for _, a := range []SigAlg{SigRSAPSSSHA256, SigRSAPSSSHA384, SigRSAPSSSHA512} {
		h, hoid := a.hash()
		if !p.Hash.Algorithm.Equal(hoid) || !p.MGF.Algorithm.Equal(oidMGF1) {
			continue
		}
		var mgfHash algorithmIdentifier
		if rest, err := asn1.Unmarshal(p.MGF.Parameters.FullBytes, &mgfHash); err != nil || len(rest) != 0 || !mgfHash.Algorithm.Equal(hoid) {
			return SigUnknown, 0, ErrUnsupported
		}
		if p.SaltLength < h.Size() || p.SaltLength > 1024 {
			return SigUnknown, 0, ErrUnsupported
		}
		return a, p.SaltLength, nil
	}
	return SigUnknown, 0, ErrUnsupported
}

// ParseSignatureAuth splits RFC 7427 Section 3 authentication data: a
// one-octet length, the AlgorithmIdentifier of that length, the signature.
// It returns the algorithm (SigUnknown with ErrUnsupported for identifiers
// it does not know) and the signature value.
func ParseSignatureAuth(authData []byte) (SigAlg, []byte, error) {
	if len(authData) < 2 {
		return SigUnknown, nil, errSigFormat
	}
	n := int(authData[0])
	if n == 0 || len(authData) < 1+n+1 {
		return SigUnknown, nil, errSigFormat
	}
	alg, _, err := parseAlgorithmIdentifier(authData[1 : 1+n])
	if err != nil {
		return SigUnknown, nil, err
	}
	return alg, authData[1+n:], nil
}

// AppendSignatureAuth builds RFC 7427 authentication data from an algorithm
// and a signature value: length octet, AlgorithmIdentifier, signature.
func AppendSignatureAuth(dst []byte, alg SigAlg, sig []byte) []byte {
	id := alg.AlgorithmIdentifier()
	dst = append(dst, byte(len(id)))
	return append(append(dst, id...), sig...)
}

// SigAlgsFor lists the algorithms usable with a public key, preferred first.
func SigAlgsFor(pub crypto.PublicKey) []SigAlg {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return []SigAlg{SigEd25519}
	case *ecdsa.PublicKey:
		// RFC 7427 leaves the hash free; the curve's own hash first.
		switch k.Curve {
		case elliptic.P256():
			return []SigAlg{SigECDSASHA256, SigECDSASHA384, SigECDSASHA512}
		case elliptic.P384():
			return []SigAlg{SigECDSASHA384, SigECDSASHA512, SigECDSASHA256}
		case elliptic.P521():
			return []SigAlg{SigECDSASHA512, SigECDSASHA384, SigECDSASHA256}
		}
	case *rsa.PublicKey:
		return []SigAlg{SigRSAPSSSHA256, SigRSAPSSSHA384, SigRSAPSSSHA512}
	}
	return nil
}

// ChooseSigAlg picks the first algorithm for the key whose hash the peer
// announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 Section 4). A nil
// peerHashes means the peer's list is unknown: the key's first choice.
func ChooseSigAlg(pub crypto.PublicKey, peerHashes []uint16) (SigAlg, error) {
	algs := SigAlgsFor(pub)
	for _, a := range algs {
		if peerHashes == nil || slices.Contains(peerHashes, a.HashAlgorithm()) {
			return a, nil
		}
	}
	return SigUnknown, ErrUnsupported
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA256:
		s := sha256.Sum256(msg)
		return s[:]
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		return s[:]
	}
	s := sha512.Sum512(msg)
	return s[:]
}

// SignAuth returns the AUTH data of method 14 (RFC 7427 Section 3) over the
// signed octets of RFC 7296 Section 2.15. alg SigUnknown picks the key's
// preferred algorithm. Ed25519 signs the octets themselves (RFC 8420
// Section 2); ECDSA signatures are DER ECDSA-Sig-Value (RFC 7427 Section 3);
// RSASSA-PSS uses the hash's length as salt. The private key may be any
// crypto.Signer (a hardware key, for example).
func SignAuth(priv crypto.Signer, alg SigAlg, signedOctets []byte) ([]byte, error) {
	if alg == SigUnknown {
		algs := SigAlgsFor(priv.Public())
		if len(algs) == 0 {
			return nil, ErrUnsupported
		}
		alg = algs[0]
	}
	if !slices.Contains(SigAlgsFor(priv.Public()), alg) {
		return nil, errors.New("ikecrypto: signature algorithm does not fit the key")
	}
	var sig []byte
	var err error
	switch h, _ := alg.hash(); alg {
	case SigEd25519:
		sig, err = priv.Sign(rand.Reader, signedOctets, crypto.Hash(0))
	case SigECDSASHA256, SigECDSASHA384, SigECDSASHA512:
		// crypto.Signer for ECDSA returns the ASN.1 DER form.
		sig, err = priv.Sign(rand.Reader, digest(h, signedOctets), h)
	default:
		sig, err = priv.Sign(rand.Reader, digest(h, signedOctets), &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
	}
	if err != nil {
		return nil, err
	}
	return AppendSignatureAuth(nil, alg, sig), nil
}

// VerifySignatureAuth checks method 14 AUTH data against the peer's public
// key and the signed octets. The AlgorithmIdentifier must be known and fit
// the key type (an ECDSA identifier with an RSA key fails, for example).
// allowedHashes, when not nil, are the SIGNATURE_HASH_ALGORITHMS values this
// side announced; an algorithm outside them is refused.
func VerifySignatureAuth(pub crypto.PublicKey, authData, signedOctets []byte, allowedHashes []uint16) (SigAlg, error) {
	if len(authData) < 2 || int(authData[0]) == 0 || len(authData) < 2+int(authData[0]) {
		return SigUnknown, errSigFormat
	}
	alg, salt, err := parseAlgorithmIdentifier(authData[1 : 1+int(authData[0])])
	if err != nil {
		return SigUnknown, err
	}
	sig := authData[1+int(authData[0]):]
	if !slices.Contains(SigAlgsFor(pub), alg) {
		return alg, errors.New("ikecrypto: signature algorithm does not fit the peer's key")
	}
	if allowedHashes != nil && !slices.Contains(allowedHashes, alg.HashAlgorithm()) {
		return alg, errors.New("ikecrypto: signature hash was not announced")
	}
	h, _ := alg.hash()
	ok := false
	switch k := pub.(type) {
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, signedOctets, sig)
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, digest(h, signedOctets), sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPSS(k, h, digest(h, signedOctets), sig, &rsa.PSSOptions{SaltLength: salt, Hash: h}) == nil
	}
	if !ok {
		return alg, ErrAuthFailed
	}
	return alg, nil
}

// ParseSignatureHashAlgorithms decodes the Notification Data of
// SIGNATURE_HASH_ALGORITHMS (RFC 7427 Section 4): a list of 16-bit values.
func ParseSignatureHashAlgorithms(data []byte) ([]uint16, error) {
	if len(data)%2 != 0 {
		return nil, errors.New("ikecrypto: odd SIGNATURE_HASH_ALGORITHMS length")
	}
	out := make([]uint16, 0, len(data)/2)
	for i := 0; i < len(data); i += 2 {
		out = append(out, uint16(data[i])<<8|uint16(data[i+1]))
	}
	return out, nil
}

// AppendSignatureHashAlgorithms encodes a SIGNATURE_HASH_ALGORITHMS list.
func AppendSignatureHashAlgorithms(dst []byte, hashes []uint16) []byte {
	for _, h := range hashes {
		dst = append(dst, byte(h>>8), byte(h))
	}
	return dst
}

// SupportedHashAlgorithms is what this package verifies, to announce in
// SIGNATURE_HASH_ALGORITHMS.
var SupportedHashAlgorithms = []uint16{HashSHA2_256, HashSHA2_384, HashSHA2_512, HashIdentity}
