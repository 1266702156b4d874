// Package ikecrypto holds the cryptography of IKEv2 (RFC 7296): the PRFs and
// prf+ (Section 2.13), SKEYSEED and the SK_* keys (Sections 2.14 and 2.18),
// Child SA KEYMAT (Section 2.17), protection of the Encrypted payload
// (Section 3.14; AES-GCM per RFC 5282, ChaCha20-Poly1305 per RFC 7634,
// AES-CBC per RFC 3602 with HMAC-SHA2 per RFC 4868), the key exchange methods
// (MODP groups of RFC 3526, ECP groups of RFC 5903, Curve25519 of RFC 8031,
// ML-KEM-768 of draft-ietf-ipsecme-ikev2-mlkem with the key update of
// RFC 9370) with the checks of RFC 6989 on received public values, and
// authentication (Section 2.15 shared keys, RFC 7619 NULL authentication,
// RFC 7427 digital signatures with Ed25519 per RFC 8420, ECDSA and
// RSASSA-PSS). The AES-XCBC and AES-CMAC PRFs follow RFC 4434 (RFC 3566)
// and RFC 4615 (RFC 4493).
//
// The package knows transforms only by their IANA numbers (plain uint16) and
// imports nothing else of swanling, so the wire codec and the engine can use
// it without cycles. Nothing here keeps state across messages except the
// IV counter of a Cipher.
package ikecrypto
