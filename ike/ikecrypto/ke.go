package ikecrypto

import (
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"io"
	"math/big"
)

// KE is one side of a key exchange method (RFC 7296 Section 1.2, RFC 9370
// Section 2 for KEMs). A KE is used for one exchange only.
type KE interface {
	// Group is the IANA key exchange method number.
	Group() uint16
	// PublicKey is the Key Exchange Data of the KE payload: ECP x | y
	// without the 0x04 prefix (RFC 5903 Section 7), the 32-octet X25519
	// value (RFC 8031 Section 2), g^x zero-padded to the modulus length
	// (RFC 7296 Section 3.4), the ML-KEM-768 encapsulation key (initiator)
	// or ciphertext (responder).
	PublicKey() []byte
	// SharedSecret checks the peer's Key Exchange Data (RFC 6989) and
	// returns the shared secret: the ECP x coordinate (RFC 5903 Section
	// 7), the X25519 output, g^xy zero-padded to the modulus length (RFC
	// 7296 Section 2.14), or the ML-KEM shared key. For a KEM responder
	// (from Respond) the secret is already known and peer is ignored.
	SharedSecret(peer []byte) ([]byte, error)
}

// ErrBadPublic reports peer Key Exchange Data that fails the checks of
// RFC 6989 (or RFC 8031, FIPS 203); the engine answers INVALID_SYNTAX.
var ErrBadPublic = errors.New("ikecrypto: invalid key exchange data")

// KnownGroup reports whether this package implements the key exchange
// method; GroupNone (no key exchange) counts as known.
func KnownGroup(g uint16) bool {
	switch g {
	case GroupNone, GroupMODP2048, GroupMODP3072, GroupMODP4096, GroupECP256,
		GroupECP384, GroupCurve25519, GroupMLKEM768:
		return true
	}
	return false
}

// IsKEM reports whether the group is a key encapsulation mechanism, where
// the responder's public value depends on the initiator's (Respond).
func IsKEM(g uint16) bool { return g == GroupMLKEM768 }

// PublicKeyLen returns the length of the Key Exchange Data of a group. For
// ML-KEM-768 initiator is the encapsulation key and !initiator the
// ciphertext (draft-ietf-ipsecme-ikev2-mlkem-08, Section 2.1).
func PublicKeyLen(g uint16, initiator bool) (int, error) {
	switch g {
	case GroupMODP2048:
		return 256, nil
	case GroupMODP3072:
		return 384, nil
	case GroupMODP4096:
		return 512, nil
	case GroupECP256:
		return 64, nil
	case GroupECP384:
		return 96, nil
	case GroupCurve25519:
		return 32, nil
	case GroupMLKEM768:
		if initiator {
			return mlkem.EncapsulationKeySize768, nil
		}
		return mlkem.CiphertextSize768, nil
	}
	return 0, ErrUnsupported
}

// NewKE starts a key exchange with a fresh private value drawn from rnd (nil
// means crypto/rand). For ML-KEM-768 this is the initiator side: PublicKey
// is the encapsulation key and SharedSecret decapsulates the responder's
// ciphertext. Responders should use Respond, which works for every group.
func NewKE(group uint16, rnd io.Reader) (KE, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch group {
	case GroupECP256, GroupECP384, GroupCurve25519:
		return newECDHKE(group, rnd)
	case GroupMODP2048, GroupMODP3072, GroupMODP4096:
		return newMODPKE(group, rnd)
	case GroupMLKEM768:
		var seed [mlkem.SeedSize]byte
		if _, err := io.ReadFull(rnd, seed[:]); err != nil {
			return nil, err
		}
		dk, err := mlkem.NewDecapsulationKey768(seed[:])
		if err != nil {
			return nil, err
		}
		return &mlkemInitiator{dk: dk}, nil
	}
	return nil, ErrUnsupported
}

// Respond is the responder's side of a key exchange: it checks the
// initiator's Key Exchange Data and returns the responder's KE payload data
// and the shared secret. For Diffie-Hellman groups it draws a private value
// from rnd; for ML-KEM-768 it encapsulates to the initiator's key (the
// encapsulation randomness always comes from crypto/rand, as crypto/mlkem
// does not take a reader).
func Respond(group uint16, rnd io.Reader, peer []byte) (public, secret []byte, err error) {
	if group == GroupMLKEM768 {
		// draft-ietf-ipsecme-ikev2-mlkem-08, Section 2.2: the responder
		// MUST run the FIPS 203 Section 7.2 checks on the key before
		// Encaps; NewEncapsulationKey768 does so.
		if len(peer) != mlkem.EncapsulationKeySize768 {
			return nil, nil, ErrBadPublic
		}
		ek, err := mlkem.NewEncapsulationKey768(peer)
		if err != nil {
			return nil, nil, ErrBadPublic
		}
		secret, ct := ek.Encapsulate()
		return ct, secret, nil
	}
	ke, err := NewKE(group, rnd)
	if err != nil {
		return nil, nil, err
	}
	secret, err = ke.SharedSecret(peer)
	if err != nil {
		return nil, nil, err
	}
	return ke.PublicKey(), secret, nil
}

type ecdhKE struct {
	group uint16
	curve ecdh.Curve
	priv  *ecdh.PrivateKey
}

func curveOf(group uint16) (ecdh.Curve, int) {
	switch group {
	case GroupECP256:
		return ecdh.P256(), 32
	case GroupECP384:
		return ecdh.P384(), 48
	}
	return ecdh.X25519(), 32
}

func newECDHKE(group uint16, rnd io.Reader) (*ecdhKE, error) {
	_, n := curveOf(group)
	// The scalar is read from rnd directly (crypto/ecdh ignores its reader
	// since Go 1.26) so that tests can inject the random source. For the
	// NIST curves NewPrivateKey rejects zero and values >= the order; a
	// retry keeps the scalar uniform.
	buf := make([]byte, n)
	for range 100 {
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return nil, err
		}
		if k, err := newECDHKEFromPrivate(group, buf); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("ikecrypto: random source gives no valid scalar")
}

// newECDHKEFromPrivate builds an ECDH KE from a fixed private scalar (tests
// with RFC 5903 and RFC 7748 vectors).
func newECDHKEFromPrivate(group uint16, priv []byte) (*ecdhKE, error) {
	curve, _ := curveOf(group)
	k, err := curve.NewPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return &ecdhKE{group: group, curve: curve, priv: k}, nil
}

func (k *ecdhKE) Group() uint16 { return k.group }

func (k *ecdhKE) PublicKey() []byte {
	b := k.priv.PublicKey().Bytes()
	if k.group == GroupCurve25519 {
		return b
	}
	// RFC 5903, Section 7: x | y without the SEC 1 0x04 prefix.
	return b[1:]
}

func (k *ecdhKE) SharedSecret(peer []byte) ([]byte, error) {
	want, _ := PublicKeyLen(k.group, true)
	// RFC 6989, Section 2.3 (and RFC 5903 Section 7 lengths): the length
	// must match the group.
	if len(peer) != want {
		return nil, ErrBadPublic
	}
	enc := peer
	if k.group != GroupCurve25519 {
		enc = append([]byte{4}, peer...)
	}
	// RFC 6989, Section 2.3: an ECP point MUST be checked to be on the
	// curve; crypto/ecdh's NewPublicKey does exactly that (and rejects
	// the point at infinity).
	pub, err := k.curve.NewPublicKey(enc)
	if err != nil {
		return nil, ErrBadPublic
	}
	s, err := k.priv.ECDH(pub)
	if err != nil {
		return nil, ErrBadPublic
	}
	// RFC 8031, Section 2.2: the receiver MUST check that the result is
	// not all zeros (crypto/ecdh checks too; this keeps the MUST visible).
	if k.group == GroupCurve25519 && subtle.ConstantTimeCompare(s, make([]byte, len(s))) == 1 {
		return nil, ErrBadPublic
	}
	return s, nil
}

// MODP groups use math/big, which is not constant time: timing may leak
// information about the ephemeral exponent. Ephemeral keys limit the damage;
// prefer Curve25519 or ECP where the peer allows.
type modpKE struct {
	group uint16
	p     *big.Int
	x     *big.Int
	size  int
}

var modpPrimes = map[uint16]*big.Int{}

func init() {
	for g, h := range map[uint16]string{GroupMODP2048: modp2048Hex, GroupMODP3072: modp3072Hex, GroupMODP4096: modp4096Hex} {
		p, _ := new(big.Int).SetString(h, 16)
		modpPrimes[g] = p
	}
}

// modpExponentBits is the private exponent size. RFC 3526 Section 8 puts the
// groups at 110 to 240 bits of strength and asks for exponents of at least
// twice that; 512 bits meets it for all three groups while an exponentiation
// costs a quarter of a full-size one, which matters on small routers.
const modpExponentBits = 512

func newMODPKE(group uint16, rnd io.Reader) (*modpKE, error) {
	var buf [modpExponentBits / 8]byte
	if _, err := io.ReadFull(rnd, buf[:]); err != nil {
		return nil, err
	}
	x := new(big.Int).SetBytes(buf[:])
	x.SetBit(x, modpExponentBits-1, 1) // full size, never 0 or 1
	return newMODPKEFromPrivate(group, x), nil
}

func newMODPKEFromPrivate(group uint16, x *big.Int) *modpKE {
	p := modpPrimes[group]
	return &modpKE{group: group, p: p, x: x, size: (p.BitLen() + 7) / 8}
}

func (k *modpKE) Group() uint16 { return k.group }

func (k *modpKE) PublicKey() []byte {
	y := new(big.Int).Exp(big.NewInt(2), k.x, k.p)
	return y.FillBytes(make([]byte, k.size))
}

func (k *modpKE) SharedSecret(peer []byte) ([]byte, error) {
	// RFC 7296, Section 3.4: the value is zero-padded to the modulus length.
	if len(peer) != k.size {
		return nil, ErrBadPublic
	}
	y := new(big.Int).SetBytes(peer)
	// RFC 6989, Section 2.1: MUST check 1 < y < p-1. The RFC 3526 groups
	// are safe primes, so this is all that is needed (Section 2.2).
	pm1 := new(big.Int).Sub(k.p, big.NewInt(1))
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(pm1) >= 0 {
		return nil, ErrBadPublic
	}
	s := new(big.Int).Exp(y, k.x, k.p)
	if s.Cmp(big.NewInt(1)) <= 0 || s.Cmp(pm1) >= 0 {
		return nil, ErrBadPublic
	}
	// RFC 7296, Section 2.14: g^ir is zero-padded to the modulus length.
	return s.FillBytes(make([]byte, k.size)), nil
}

type mlkemInitiator struct {
	dk *mlkem.DecapsulationKey768
}

func (k *mlkemInitiator) Group() uint16     { return GroupMLKEM768 }
func (k *mlkemInitiator) PublicKey() []byte { return k.dk.EncapsulationKey().Bytes() }

func (k *mlkemInitiator) SharedSecret(ct []byte) ([]byte, error) {
	// draft-ietf-ipsecme-ikev2-mlkem-08, Section 2.2: the initiator MUST
	// run the ciphertext type check (FIPS 203 Section 7.3): its length.
	if len(ct) != mlkem.CiphertextSize768 {
		return nil, ErrBadPublic
	}
	s, err := k.dk.Decapsulate(ct)
	if err != nil {
		return nil, ErrBadPublic
	}
	return s, nil
}
