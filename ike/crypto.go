package ike

import (
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"net/netip"

	"swanling/ike/ikecrypto"
)

// dhPrivate is our side of one key exchange.
type dhPrivate = ikecrypto.KE

// ikeKeys are an IKE SA's derived secrets (RFC 7296, Section 2.14) and the
// SK payload ciphers for each direction.
type ikeKeys struct {
	suite      ikecrypto.Suite
	prf        ikecrypto.PRF
	d, pi, pr  []byte
	send, recv *ikecrypto.Cipher
}

func suiteOf(c Chosen) ikecrypto.Suite {
	return ikecrypto.Suite{Encr: c.Encr.ID, EncrKeyBits: int(c.Encr.KeyLen), Integ: c.Integ, PRF: c.PRF, Group: c.DH}
}

// deriveIKE computes SKEYSEED and the SK_* keys (RFC 7296, Section 2.14)
// and sets up the ciphers for our role.
func (e *Engine) deriveIKE(sa *ikeSA, gir []byte) error {
	prf, err := ikecrypto.NewPRF(sa.chosen.PRF)
	if err != nil {
		return err
	}
	return e.deriveIKEFromSeed(sa, ikecrypto.SKEYSEED(prf, sa.ni, sa.nr, gir))
}

// deriveIKEFromSeed derives the SK_* keys from SKEYSEED: the one of
// IKE_SA_INIT or, for a rekeyed IKE SA, prf(SK_d (old), g^ir (new) | Ni |
// Nr) (RFC 7296, Section 2.18).
func (e *Engine) deriveIKEFromSeed(sa *ikeSA, seed []byte) error {
	s := suiteOf(sa.chosen)
	if err := s.CheckIKE(); err != nil {
		return err
	}
	prf, err := ikecrypto.NewPRF(s.PRF)
	if err != nil {
		return err
	}
	var spii, spir [8]byte
	binary.BigEndian.PutUint64(spii[:], sa.spiI)
	binary.BigEndian.PutUint64(spir[:], sa.spiR)
	k, err := ikecrypto.DeriveIKEKeys(s, seed, sa.ni, sa.nr, spii[:], spir[:])
	if err != nil {
		return err
	}
	ci, err := ikecrypto.NewCipher(s, k.SKei, k.SKai, e.rand)
	if err != nil {
		return err
	}
	cr, err := ikecrypto.NewCipher(s, k.SKer, k.SKar, e.rand)
	if err != nil {
		return err
	}
	keys := &ikeKeys{suite: s, prf: prf, d: k.SKd, pi: k.SKpi, pr: k.SKpr, send: ci, recv: cr}
	if !sa.initiator {
		keys.send, keys.recv = cr, ci
	}
	sa.keys = keys
	return nil
}

// deriveChild computes KEYMAT (RFC 7296, Section 2.17) for a Child SA.
// initiator means we initiated the exchange that created it: the first
// keys taken are for the initiator-to-responder direction.
func (e *Engine) deriveChild(sa *ikeSA, c *childSA, gir, ni, nr []byte) error {
	s := suiteOf(c.chosen)
	if err := s.CheckESP(); err != nil {
		return err
	}
	el, err := s.EncrKeyLen()
	if err != nil {
		return err
	}
	il, err := s.IntegKeyLen()
	if err != nil {
		return err
	}
	k, err := ikecrypto.DeriveChildKeys(sa.keys.prf, sa.keys.d, gir, ni, nr, el, il)
	if err != nil {
		return err
	}
	if c.initiator {
		c.keyOut, c.integOut, c.keyIn, c.integIn = k.EncrI, k.IntegI, k.EncrR, k.IntegR
	} else {
		c.keyOut, c.integOut, c.keyIn, c.integIn = k.EncrR, k.IntegR, k.EncrI, k.IntegI
	}
	return nil
}

// natHash is the NAT_DETECTION_*_IP data, RFC 7296, Section 2.23:
// SHA-1(SPIi | SPIr | IP | Port).
func natHash(spiI, spiR uint64, ap netip.AddrPort) []byte {
	h := sha1.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], spiI)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], spiR)
	h.Write(b[:])
	h.Write(ap.Addr().Unmap().AsSlice())
	binary.BigEndian.PutUint16(b[:2], ap.Port())
	h.Write(b[:2])
	return h.Sum(nil)
}

// authOctets is the signed octets for one side (RFC 7296, Section 2.15).
// fromInitiator selects InitiatorSignedOctets (RealMessage1, Nr, SK_pi) or
// ResponderSignedOctets (RealMessage2, Ni, SK_pr).
func (sa *ikeSA) authOctets(fromInitiator bool, idBody []byte) []byte {
	if fromInitiator {
		return ikecrypto.SignedOctets(sa.keys.prf, sa.initReq, sa.nr, sa.keys.pi, idBody)
	}
	return ikecrypto.SignedOctets(sa.keys.prf, sa.initResp, sa.ni, sa.keys.pr, idBody)
}

// makeAuth builds our AUTH payload.
func (e *Engine) makeAuth(sa *ikeSA, p *Peer, idb []byte) (*authData, error) {
	oct := sa.authOctets(sa.initiator, idb)
	switch p.Auth {
	case AuthPSK:
		return &authData{Method: ikecrypto.AuthSharedKey, Data: ikecrypto.PSKAuth(sa.keys.prf, p.PSK, oct)}, nil
	case AuthNull:
		skp := sa.keys.pr
		if sa.initiator {
			skp = sa.keys.pi
		}
		return &authData{Method: ikecrypto.AuthNull, Data: ikecrypto.NullAuth(sa.keys.prf, skp, oct)}, nil
	case AuthPubkey:
		var peerHashes []uint16
		if sa.sigHash {
			peerHashes = sa.peerHashes
		}
		alg, err := ikecrypto.ChooseSigAlg(p.PrivateKey.Public(), peerHashes)
		if err != nil {
			// Without the peer's list (RFC 7427, Section 4), use the
			// key's preferred algorithm.
			alg = ikecrypto.SigUnknown
		}
		d, err := ikecrypto.SignAuth(p.PrivateKey, alg, oct)
		if err != nil {
			return nil, err
		}
		return &authData{Method: ikecrypto.AuthDigitalSignature, Data: d}, nil
	}
	return nil, errors.New("ike: unknown auth method")
}

// verifyAuth checks the peer's AUTH payload against peer config p.
// RFC 7296, Section 2.15; RFC 7619, Section 2.1; RFC 7427, Section 3.
func (e *Engine) verifyAuth(sa *ikeSA, p *Peer, a *authData, idb []byte, key any) error {
	oct := sa.authOctets(!sa.initiator, idb)
	switch p.Auth {
	case AuthPSK:
		if a.Method != ikecrypto.AuthSharedKey {
			return errors.New("ike: peer used auth method " + itoa(int(a.Method)) + ", want PSK")
		}
		return ikecrypto.VerifyPSKAuth(sa.keys.prf, p.PSK, oct, a.Data)
	case AuthNull:
		if a.Method != ikecrypto.AuthNull {
			return errors.New("ike: peer did not use NULL auth")
		}
		skp := sa.keys.pi
		if sa.initiator {
			skp = sa.keys.pr
		}
		return ikecrypto.VerifyNullAuth(sa.keys.prf, skp, oct, a.Data)
	case AuthPubkey:
		if a.Method != ikecrypto.AuthDigitalSignature {
			return errors.New("ike: peer used auth method " + itoa(int(a.Method)) + ", want digital signature")
		}
		if key == nil {
			return errors.New("ike: no public key for peer")
		}
		_, err := ikecrypto.VerifySignatureAuth(key, a.Data, oct, ikecrypto.SupportedHashAlgorithms)
		return err
	}
	return errors.New("ike: unknown auth method")
}
