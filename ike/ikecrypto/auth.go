package ikecrypto

import (
	"crypto/hmac"
	"errors"
)

// keyPad is the constant of RFC 7296, Section 2.15.
const keyPad = "Key Pad for IKEv2"

// ErrAuthFailed reports AUTH data that does not verify; the engine answers
// AUTHENTICATION_FAILED.
var ErrAuthFailed = errors.New("ikecrypto: authentication failed")

// MACedID returns prf(SK_p, RestOfIDPayload) of RFC 7296, Section 2.15:
// SK_pi with the initiator's ID payload body (ID Type, 3 reserved octets,
// Identification Data), SK_pr with the responder's.
func MACedID(prf PRF, skp, restOfIDPayload []byte) []byte {
	return prf.Sum(skp, restOfIDPayload, nil)
}

// SignedOctets returns InitiatorSignedOctets = RealMessage1 | NonceRData |
// MACedIDForI, or ResponderSignedOctets = RealMessage2 | NonceIData |
// MACedIDForR (RFC 7296, Section 2.15). realMessage is the whole IKE_SA_INIT
// message this side sent, from the IKE header on; nonce is the PEER's nonce
// data; skp is this side's SK_pi or SK_pr.
func SignedOctets(prf PRF, realMessage, nonce, skp, restOfIDPayload []byte) []byte {
	out := make([]byte, 0, len(realMessage)+len(nonce)+prf.Size())
	out = append(append(out, realMessage...), nonce...)
	return prf.Sum(skp, restOfIDPayload, out)
}

// PSKAuth returns AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"),
// <SignedOctets>) of RFC 7296, Section 2.15 (Authentication Method 2).
func PSKAuth(prf PRF, secret, signedOctets []byte) []byte {
	return prf.Sum(prf.Sum(secret, []byte(keyPad), nil), signedOctets, nil)
}

// VerifyPSKAuth checks received Shared Key MIC data in constant time.
func VerifyPSKAuth(prf PRF, secret, signedOctets, authData []byte) error {
	if !hmac.Equal(PSKAuth(prf, secret, signedOctets), authData) {
		return ErrAuthFailed
	}
	return nil
}

// NullAuth returns the AUTH data of NULL authentication (method 13): RFC
// 7619, Section 2.1 computes it like a shared key MIC with the sender's
// SK_pi (initiator) or SK_pr (responder) as the shared secret.
func NullAuth(prf PRF, skp, signedOctets []byte) []byte {
	return PSKAuth(prf, skp, signedOctets)
}

// VerifyNullAuth checks received NULL authentication data; skp is the
// SENDER's SK_pi or SK_pr (RFC 7619, Section 2.1).
func VerifyNullAuth(prf PRF, skp, signedOctets, authData []byte) error {
	return VerifyPSKAuth(prf, skp, signedOctets, authData)
}
