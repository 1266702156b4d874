package ikecrypto

// IANA "Transform Type 1 - Encryption Algorithm Transform IDs".
const (
	EncrAESCBC           uint16 = 12 // RFC 3602; Key Length attribute required
	EncrAESGCM16         uint16 = 20 // RFC 5282 (IKE), RFC 4106 (ESP); 16-octet ICV
	EncrChaCha20Poly1305 uint16 = 28 // RFC 7634; no Key Length attribute
)

// IANA "Transform Type 2 - Pseudorandom Function Transform IDs".
const (
	PRFAES128XCBC uint16 = 4 // RFC 4434
	PRFHMACSHA256 uint16 = 5 // RFC 4868
	PRFHMACSHA384 uint16 = 6 // RFC 4868
	PRFHMACSHA512 uint16 = 7 // RFC 4868
	PRFAES128CMAC uint16 = 8 // RFC 4615
)

// IANA "Transform Type 3 - Integrity Algorithm Transform IDs".
const (
	IntegNone           uint16 = 0  // with AEAD ciphers
	IntegHMACSHA256_128 uint16 = 12 // RFC 4868
	IntegHMACSHA384_192 uint16 = 13 // RFC 4868
	IntegHMACSHA512_256 uint16 = 14 // RFC 4868
)

// IANA "Transform Type 4 - Key Exchange Method Transform IDs".
const (
	GroupNone       uint16 = 0
	GroupMODP2048   uint16 = 14 // RFC 3526
	GroupMODP3072   uint16 = 15 // RFC 3526
	GroupMODP4096   uint16 = 16 // RFC 3526
	GroupECP256     uint16 = 19 // RFC 5903
	GroupECP384     uint16 = 20 // RFC 5903
	GroupCurve25519 uint16 = 31 // RFC 8031
	// GroupMLKEM768 is ml-kem-768 as assigned in
	// draft-ietf-ipsecme-ikev2-mlkem-08, Section 4 (35 is ml-kem-512).
	GroupMLKEM768 uint16 = 36
)

// IKEv2 Authentication Method values (RFC 7296 Section 3.8, RFC 7619,
// RFC 7427).
const (
	AuthSharedKey        uint8 = 2  // Shared Key Message Integrity Code
	AuthNull             uint8 = 13 // RFC 7619
	AuthDigitalSignature uint8 = 14 // RFC 7427
)

// SIGNATURE_HASH_ALGORITHMS values (RFC 7427 Section 7, RFC 8420 Section 2).
const (
	HashSHA1     uint16 = 1
	HashSHA2_256 uint16 = 2
	HashSHA2_384 uint16 = 3
	HashSHA2_512 uint16 = 4
	HashIdentity uint16 = 5 // RFC 8420: the signature scheme hashes itself (Ed25519)
)
