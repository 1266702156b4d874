package wire

// ExchangeType is the Exchange Type field of the IKE header
// (RFC 7296, Section 3.1; RFC 9242; RFC 9370).
type ExchangeType uint8

// Exchange types.
const (
	ExchangeIKESAInit        ExchangeType = 34 // RFC 7296
	ExchangeIKEAuth          ExchangeType = 35 // RFC 7296
	ExchangeCreateChildSA    ExchangeType = 36 // RFC 7296
	ExchangeInformational    ExchangeType = 37 // RFC 7296
	ExchangeIKESessionResume ExchangeType = 38 // RFC 5723
	ExchangeIKEIntermediate  ExchangeType = 43 // RFC 9242
	ExchangeIKEFollowupKE    ExchangeType = 44 // RFC 9370
)

// Flags is the Flags octet of the IKE header (RFC 7296, Section 3.1).
type Flags uint8

// Header flags. The other bits MUST be cleared on sending and ignored on
// receipt (RFC 7296, Section 3.1).
const (
	FlagInitiator Flags = 0x08 // I: sent by the original initiator of the IKE SA
	FlagVersion   Flags = 0x10 // V: sender could speak a higher major version
	FlagResponse  Flags = 0x20 // R: this message is a response
)

// Version is the only version this codec speaks: major 2, minor 0.
const Version uint8 = 0x20

// PayloadType is a Next Payload value (RFC 7296, Section 3.2).
type PayloadType uint8

// Payload types.
const (
	PayloadNone     PayloadType = 0
	PayloadSA       PayloadType = 33 // Security Association
	PayloadKE       PayloadType = 34 // Key Exchange
	PayloadIDi      PayloadType = 35 // Identification - Initiator
	PayloadIDr      PayloadType = 36 // Identification - Responder
	PayloadCERT     PayloadType = 37 // Certificate
	PayloadCERTREQ  PayloadType = 38 // Certificate Request
	PayloadAUTH     PayloadType = 39 // Authentication
	PayloadNonce    PayloadType = 40 // Ni, Nr
	PayloadNotify   PayloadType = 41 // N
	PayloadDelete   PayloadType = 42 // D
	PayloadVendorID PayloadType = 43 // V
	PayloadTSi      PayloadType = 44 // Traffic Selector - Initiator
	PayloadTSr      PayloadType = 45 // Traffic Selector - Responder
	PayloadSK       PayloadType = 46 // Encrypted and Authenticated
	PayloadCP       PayloadType = 47 // Configuration
	PayloadEAP      PayloadType = 48 // Extensible Authentication
	PayloadGSPM     PayloadType = 49 // Generic Secure Password Methods, RFC 6467
	PayloadSKF      PayloadType = 53 // Encrypted and Authenticated Fragment, RFC 7383
	PayloadPS       PayloadType = 54 // Puzzle Solution, RFC 8019
)

// ProtocolID identifies the protocol of a proposal, a Notify or a Delete
// (RFC 7296, Section 3.3.1).
type ProtocolID uint8

// Protocol IDs.
const (
	ProtocolNone ProtocolID = 0 // Notify without SPI
	ProtocolIKE  ProtocolID = 1
	ProtocolAH   ProtocolID = 2
	ProtocolESP  ProtocolID = 3
)

// TransformType is the Transform Type of a transform substructure
// (RFC 7296, Section 3.3.2; RFC 9370, Section 2.2.1).
type TransformType uint8

// Transform types.
const (
	TransformENCR   TransformType = 1 // Encryption Algorithm
	TransformPRF    TransformType = 2 // Pseudorandom Function
	TransformINTEG  TransformType = 3 // Integrity Algorithm
	TransformKE     TransformType = 4 // Key Exchange Method (formerly D-H group)
	TransformESN    TransformType = 5 // Extended Sequence Numbers
	TransformADDKE1 TransformType = 6 // Additional Key Exchange 1, RFC 9370
	TransformADDKE2 TransformType = 7
	TransformADDKE3 TransformType = 8
	TransformADDKE4 TransformType = 9
	TransformADDKE5 TransformType = 10
	TransformADDKE6 TransformType = 11
	TransformADDKE7 TransformType = 12
)

// EncrID is a Transform Type 1 (encryption) transform ID.
type EncrID uint16

// Encryption transform IDs (IANA "Transform Type 1").
const (
	EncrDES                 EncrID = 2
	Encr3DES                EncrID = 3
	EncrNull                EncrID = 11
	EncrAESCBC              EncrID = 12 // RFC 3602, Key Length attribute required
	EncrAESCTR              EncrID = 13 // RFC 5930
	EncrAESCCM8             EncrID = 14 // RFC 5282
	EncrAESCCM12            EncrID = 15
	EncrAESCCM16            EncrID = 16
	EncrAESGCM8             EncrID = 18 // RFC 5282
	EncrAESGCM12            EncrID = 19
	EncrAESGCM16            EncrID = 20
	EncrNullAuthAESGMAC     EncrID = 21 // RFC 4543, ESP only
	EncrCamelliaCBC         EncrID = 23 // RFC 5529
	EncrChaCha20Poly1305    EncrID = 28 // RFC 7634
	EncrAESGCM16IIV         EncrID = 30 // RFC 8750, ESP only
	EncrChaCha20Poly1305IIV EncrID = 31 // RFC 8750, ESP only
)

// PRFID is a Transform Type 2 (pseudorandom function) transform ID.
type PRFID uint16

// PRF transform IDs (IANA "Transform Type 2").
const (
	PRFHMACMD5     PRFID = 1
	PRFHMACSHA1    PRFID = 2
	PRFAES128XCBC  PRFID = 4 // RFC 4434
	PRFHMACSHA2256 PRFID = 5 // RFC 4868
	PRFHMACSHA2384 PRFID = 6
	PRFHMACSHA2512 PRFID = 7
	PRFAES128CMAC  PRFID = 8 // RFC 4615
)

// IntegID is a Transform Type 3 (integrity) transform ID.
type IntegID uint16

// Integrity transform IDs (IANA "Transform Type 3").
const (
	IntegNone           IntegID = 0
	IntegHMACMD596      IntegID = 1
	IntegHMACSHA196     IntegID = 2
	IntegAESXCBC96      IntegID = 5
	IntegAESCMAC96      IntegID = 8
	IntegAES128GMAC     IntegID = 9
	IntegAES192GMAC     IntegID = 10
	IntegAES256GMAC     IntegID = 11
	IntegHMACSHA2256128 IntegID = 12 // RFC 4868
	IntegHMACSHA2384192 IntegID = 13
	IntegHMACSHA2512256 IntegID = 14
)

// KEMethod is a Transform Type 4 (and ADDKE 6..12) key exchange method ID,
// the former Diffie-Hellman group number. It is also the group of a KE
// payload and of the INVALID_KE_PAYLOAD notification data.
type KEMethod uint16

// Key exchange methods (IANA "Transform Type 4").
const (
	KENone         KEMethod = 0
	KEMODP768      KEMethod = 1
	KEMODP1024     KEMethod = 2
	KEMODP1536     KEMethod = 5 // RFC 3526
	KEMODP2048     KEMethod = 14
	KEMODP3072     KEMethod = 15
	KEMODP4096     KEMethod = 16
	KEMODP6144     KEMethod = 17
	KEMODP8192     KEMethod = 18
	KEECP256       KEMethod = 19 // RFC 5903
	KEECP384       KEMethod = 20
	KEECP521       KEMethod = 21
	KEECP192       KEMethod = 25
	KEECP224       KEMethod = 26
	KEBrainpool224 KEMethod = 27 // RFC 6954
	KEBrainpool256 KEMethod = 28
	KEBrainpool384 KEMethod = 29
	KEBrainpool512 KEMethod = 30
	KECurve25519   KEMethod = 31 // RFC 8031
	KECurve448     KEMethod = 32
	KEMLKEM512     KEMethod = 35 // draft-ietf-ipsecme-ikev2-mlkem-08, Section 4
	KEMLKEM768     KEMethod = 36
	KEMLKEM1024    KEMethod = 37
)

// ESNID is a Transform Type 5 (extended sequence numbers) transform ID.
type ESNID uint16

// ESN transform IDs.
const (
	ESNNo  ESNID = 0
	ESNYes ESNID = 1
)

// AttrKeyLength is the only transform attribute type IKEv2 defines: the key
// length in bits, in TV format (RFC 7296, Section 3.3.5).
const AttrKeyLength uint16 = 14

// IDType is the ID Type of an IDi/IDr payload (RFC 7296, Section 3.5).
type IDType uint8

// ID types.
const (
	IDIPv4Addr   IDType = 1
	IDFQDN       IDType = 2
	IDRFC822Addr IDType = 3 // USER_FQDN
	IDIPv6Addr   IDType = 5
	IDDERASN1DN  IDType = 9
	IDDERASN1GN  IDType = 10
	IDKeyID      IDType = 11
	IDFCName     IDType = 12 // RFC 4595
	IDNull       IDType = 13 // RFC 7619, Section 3
)

// AuthMethod is the Auth Method of an AUTH payload (RFC 7296, Section 3.8).
type AuthMethod uint8

// Authentication methods.
const (
	AuthRSASig           AuthMethod = 1
	AuthSharedKeyMIC     AuthMethod = 2
	AuthDSSSig           AuthMethod = 3
	AuthECDSASHA256P256  AuthMethod = 9  // RFC 4754
	AuthECDSASHA384P384  AuthMethod = 10 // RFC 4754
	AuthECDSASHA512P521  AuthMethod = 11 // RFC 4754
	AuthGSPAM            AuthMethod = 12 // RFC 6467
	AuthNull             AuthMethod = 13 // RFC 7619
	AuthDigitalSignature AuthMethod = 14 // RFC 7427
)

// HashAlgorithm is a value of the SIGNATURE_HASH_ALGORITHMS notification
// (RFC 7427, Section 4; RFC 8420, Section 2).
type HashAlgorithm uint16

// Hash algorithms.
const (
	HashSHA1     HashAlgorithm = 1
	HashSHA2256  HashAlgorithm = 2
	HashSHA2384  HashAlgorithm = 3
	HashSHA2512  HashAlgorithm = 4
	HashIdentity HashAlgorithm = 5 // RFC 8420
)

// CertEncoding is the Cert Encoding of CERT and CERTREQ (RFC 7296, Section 3.6).
type CertEncoding uint8

// Certificate encodings.
const (
	CertPKCS7         CertEncoding = 1
	CertPGP           CertEncoding = 2
	CertDNSSignedKey  CertEncoding = 3
	CertX509Signature CertEncoding = 4
	CertKerberos      CertEncoding = 6
	CertCRL           CertEncoding = 7
	CertARL           CertEncoding = 8
	CertSPKI          CertEncoding = 9
	CertX509Attribute CertEncoding = 10
	CertRawRSAKey     CertEncoding = 11
	CertHashURLX509   CertEncoding = 12
	CertHashURLBundle CertEncoding = 13
	CertOCSPContent   CertEncoding = 14 // RFC 4806
	CertRawPublicKey  CertEncoding = 15 // RFC 7670
)

// TSType is the TS Type of a traffic selector (RFC 7296, Section 3.13.1).
type TSType uint8

// Traffic selector types.
const (
	TSIPv4AddrRange TSType = 7
	TSIPv6AddrRange TSType = 8
	TSFCAddrRange   TSType = 9  // RFC 4595
	TSSecLabel      TSType = 10 // RFC 9478
)

// CPType is the CFG Type of a Configuration payload (RFC 7296, Section 3.15).
type CPType uint8

// Configuration payload types.
const (
	CPRequest CPType = 1
	CPReply   CPType = 2
	CPSet     CPType = 3
	CPAck     CPType = 4
)

// CPAttrType is a configuration attribute type (RFC 7296, Section 3.15.1).
type CPAttrType uint16

// Configuration attribute types.
const (
	CPInternalIP4Address CPAttrType = 1
	CPInternalIP4Netmask CPAttrType = 2
	CPInternalIP4DNS     CPAttrType = 3
	CPInternalIP4NBNS    CPAttrType = 4
	CPInternalIP4DHCP    CPAttrType = 6
	CPApplicationVersion CPAttrType = 7
	CPInternalIP6Address CPAttrType = 8
	CPInternalIP6DNS     CPAttrType = 10
	CPInternalIP6DHCP    CPAttrType = 12
	CPInternalIP4Subnet  CPAttrType = 13
	CPSupportedAttrs     CPAttrType = 14
	CPInternalIP6Subnet  CPAttrType = 15
)

// NotifyType is the Notify Message Type of a Notify payload
// (RFC 7296, Section 3.10.1). Values below 16384 are errors.
type NotifyType uint16

// Error notifications.
const (
	NotifyUnsupportedCriticalPayload NotifyType = 1
	NotifyInvalidIKESPI              NotifyType = 4
	NotifyInvalidMajorVersion        NotifyType = 5
	NotifyInvalidSyntax              NotifyType = 7
	NotifyInvalidMessageID           NotifyType = 9
	NotifyInvalidSPI                 NotifyType = 11
	NotifyNoProposalChosen           NotifyType = 14
	NotifyInvalidKEPayload           NotifyType = 17
	NotifyAuthenticationFailed       NotifyType = 24
	NotifySinglePairRequired         NotifyType = 34
	NotifyNoAdditionalSAs            NotifyType = 35
	NotifyInternalAddressFailure     NotifyType = 36
	NotifyFailedCPRequired           NotifyType = 37
	NotifyTSUnacceptable             NotifyType = 38
	NotifyInvalidSelectors           NotifyType = 39
	NotifyUnacceptableAddresses      NotifyType = 40 // RFC 4555
	NotifyUnexpectedNATDetected      NotifyType = 41 // RFC 4555
	NotifyUseAssignedHoA             NotifyType = 42 // RFC 5026
	NotifyTemporaryFailure           NotifyType = 43
	NotifyChildSANotFound            NotifyType = 44
	NotifyInvalidGroupID             NotifyType = 45 // RFC 6407
	NotifyAuthorizationFailed        NotifyType = 46 // RFC 6407
	NotifyStateNotFound              NotifyType = 47 // RFC 9370
)

// Status notifications.
const (
	NotifyInitialContact                  NotifyType = 16384
	NotifySetWindowSize                   NotifyType = 16385
	NotifyAdditionalTSPossible            NotifyType = 16386
	NotifyIPCompSupported                 NotifyType = 16387
	NotifyNATDetectionSourceIP            NotifyType = 16388
	NotifyNATDetectionDestinationIP       NotifyType = 16389
	NotifyCookie                          NotifyType = 16390
	NotifyUseTransportMode                NotifyType = 16391
	NotifyHTTPCertLookupSupported         NotifyType = 16392
	NotifyRekeySA                         NotifyType = 16393
	NotifyESPTFCPaddingNotSupported       NotifyType = 16394
	NotifyNonFirstFragmentsAlso           NotifyType = 16395
	NotifyMobikeSupported                 NotifyType = 16396 // RFC 4555
	NotifyAdditionalIP4Address            NotifyType = 16397 // RFC 4555
	NotifyAdditionalIP6Address            NotifyType = 16398 // RFC 4555
	NotifyNoAdditionalAddresses           NotifyType = 16399 // RFC 4555
	NotifyUpdateSAAddresses               NotifyType = 16400 // RFC 4555
	NotifyCookie2                         NotifyType = 16401 // RFC 4555
	NotifyNoNATsAllowed                   NotifyType = 16402 // RFC 4555
	NotifyAuthLifetime                    NotifyType = 16403 // RFC 4478
	NotifyMultipleAuthSupported           NotifyType = 16404 // RFC 4739
	NotifyAnotherAuthFollows              NotifyType = 16405 // RFC 4739
	NotifyRedirectSupported               NotifyType = 16406 // RFC 5685
	NotifyRedirect                        NotifyType = 16407 // RFC 5685
	NotifyRedirectedFrom                  NotifyType = 16408 // RFC 5685
	NotifyTicketLTOpaque                  NotifyType = 16409 // RFC 5723
	NotifyTicketRequest                   NotifyType = 16410
	NotifyTicketAck                       NotifyType = 16411
	NotifyTicketNack                      NotifyType = 16412
	NotifyTicketOpaque                    NotifyType = 16413
	NotifyLinkID                          NotifyType = 16414 // RFC 5739
	NotifyUseWESPMode                     NotifyType = 16415 // RFC 5840
	NotifyROHCSupported                   NotifyType = 16416 // RFC 5857
	NotifyEAPOnlyAuthentication           NotifyType = 16417 // RFC 5998
	NotifyChildlessIKEv2Supported         NotifyType = 16418 // RFC 6023
	NotifyQuickCrashDetection             NotifyType = 16419 // RFC 6290
	NotifyIKEv2MessageIDSyncSupported     NotifyType = 16420 // RFC 6311
	NotifyIPsecReplayCounterSyncSupported NotifyType = 16421 // RFC 6311
	NotifyIKEv2MessageIDSync              NotifyType = 16422 // RFC 6311
	NotifyIPsecReplayCounterSync          NotifyType = 16423 // RFC 6311
	NotifySecurePasswordMethods           NotifyType = 16424 // RFC 6467
	NotifyPSKPersist                      NotifyType = 16425 // RFC 6631
	NotifyPSKConfirm                      NotifyType = 16426 // RFC 6631
	NotifyERXSupported                    NotifyType = 16427 // RFC 6867
	NotifyIFOMCapability                  NotifyType = 16428
	NotifySenderRequestID                 NotifyType = 16429
	NotifyIKEv2FragmentationSupported     NotifyType = 16430 // RFC 7383
	NotifySignatureHashAlgorithms         NotifyType = 16431 // RFC 7427
	NotifyCloneIKESASupported             NotifyType = 16432 // RFC 7791
	NotifyCloneIKESA                      NotifyType = 16433 // RFC 7791
	NotifyPuzzle                          NotifyType = 16434 // RFC 8019
	NotifyUsePPK                          NotifyType = 16435 // RFC 8784
	NotifyPPKIdentity                     NotifyType = 16436 // RFC 8784
	NotifyNoPPKAuth                       NotifyType = 16437 // RFC 8784
	NotifyIntermediateExchangeSupported   NotifyType = 16438 // RFC 9242
	NotifyIP4Allowed                      NotifyType = 16439 // RFC 8983
	NotifyIP6Allowed                      NotifyType = 16440 // RFC 8983
	NotifyAdditionalKeyExchange           NotifyType = 16441 // RFC 9370
	NotifyUseAggfrag                      NotifyType = 16442 // RFC 9347
	NotifySupportedAuthMethods            NotifyType = 16443 // RFC 9593
)

// IsError reports whether t is an error notification (RFC 7296, Section
// 3.10.1: types below 16384).
func (t NotifyType) IsError() bool { return t < 16384 }
