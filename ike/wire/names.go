// String names follow the IANA IKEv2 registries (RFC 7296, Section 3 and its updates).

package wire

import "strconv"

var exchangeTypeNames = map[ExchangeType]string{
	34: "IKE_SA_INIT",
	35: "IKE_AUTH",
	36: "CREATE_CHILD_SA",
	37: "INFORMATIONAL",
	38: "IKE_SESSION_RESUME",
	43: "IKE_INTERMEDIATE",
	44: "IKE_FOLLOWUP_KE",
}

// String returns the IANA name, or ExchangeType(n) for an unnamed value.
func (v ExchangeType) String() string {
	if s, ok := exchangeTypeNames[v]; ok {
		return s
	}
	return "ExchangeType(" + strconv.Itoa(int(v)) + ")"
}

var payloadTypeNames = map[PayloadType]string{
	0:  "NONE",
	33: "SA",
	34: "KE",
	35: "IDi",
	36: "IDr",
	37: "CERT",
	38: "CERTREQ",
	39: "AUTH",
	40: "Nonce",
	41: "N",
	42: "D",
	43: "V",
	44: "TSi",
	45: "TSr",
	46: "SK",
	47: "CP",
	48: "EAP",
	49: "GSPM",
	53: "SKF",
	54: "PS",
}

// String returns the IANA name, or PayloadType(n) for an unnamed value.
func (v PayloadType) String() string {
	if s, ok := payloadTypeNames[v]; ok {
		return s
	}
	return "PayloadType(" + strconv.Itoa(int(v)) + ")"
}

var protocolIDNames = map[ProtocolID]string{
	0: "NONE",
	1: "IKE",
	2: "AH",
	3: "ESP",
}

// String returns the IANA name, or ProtocolID(n) for an unnamed value.
func (v ProtocolID) String() string {
	if s, ok := protocolIDNames[v]; ok {
		return s
	}
	return "ProtocolID(" + strconv.Itoa(int(v)) + ")"
}

var transformTypeNames = map[TransformType]string{
	1:  "ENCR",
	2:  "PRF",
	3:  "INTEG",
	4:  "KE",
	5:  "ESN",
	6:  "ADDKE1",
	7:  "ADDKE2",
	8:  "ADDKE3",
	9:  "ADDKE4",
	10: "ADDKE5",
	11: "ADDKE6",
	12: "ADDKE7",
}

// String returns the IANA name, or TransformType(n) for an unnamed value.
func (v TransformType) String() string {
	if s, ok := transformTypeNames[v]; ok {
		return s
	}
	return "TransformType(" + strconv.Itoa(int(v)) + ")"
}

var encrIDNames = map[EncrID]string{
	2:  "ENCR_DES",
	3:  "ENCR_3DES",
	11: "ENCR_NULL",
	12: "ENCR_AES_CBC",
	13: "ENCR_AES_CTR",
	14: "ENCR_AES_CCM_8",
	15: "ENCR_AES_CCM_12",
	16: "ENCR_AES_CCM_16",
	18: "ENCR_AES_GCM_8",
	19: "ENCR_AES_GCM_12",
	20: "ENCR_AES_GCM_16",
	21: "ENCR_NULL_AUTH_AES_GMAC",
	23: "ENCR_CAMELLIA_CBC",
	28: "ENCR_CHACHA20_POLY1305",
	30: "ENCR_AES_GCM_16_IIV",
	31: "ENCR_CHACHA20_POLY1305_IIV",
}

// String returns the IANA name, or EncrID(n) for an unnamed value.
func (v EncrID) String() string {
	if s, ok := encrIDNames[v]; ok {
		return s
	}
	return "EncrID(" + strconv.Itoa(int(v)) + ")"
}

var pRFIDNames = map[PRFID]string{
	1: "PRF_HMAC_MD5",
	2: "PRF_HMAC_SHA1",
	4: "PRF_AES128_XCBC",
	5: "PRF_HMAC_SHA2_256",
	6: "PRF_HMAC_SHA2_384",
	7: "PRF_HMAC_SHA2_512",
	8: "PRF_AES128_CMAC",
}

// String returns the IANA name, or PRFID(n) for an unnamed value.
func (v PRFID) String() string {
	if s, ok := pRFIDNames[v]; ok {
		return s
	}
	return "PRFID(" + strconv.Itoa(int(v)) + ")"
}

var integIDNames = map[IntegID]string{
	0:  "NONE",
	1:  "AUTH_HMAC_MD5_96",
	2:  "AUTH_HMAC_SHA1_96",
	5:  "AUTH_AES_XCBC_96",
	8:  "AUTH_AES_CMAC_96",
	9:  "AUTH_AES_128_GMAC",
	10: "AUTH_AES_192_GMAC",
	11: "AUTH_AES_256_GMAC",
	12: "AUTH_HMAC_SHA2_256_128",
	13: "AUTH_HMAC_SHA2_384_192",
	14: "AUTH_HMAC_SHA2_512_256",
}

// String returns the IANA name, or IntegID(n) for an unnamed value.
func (v IntegID) String() string {
	if s, ok := integIDNames[v]; ok {
		return s
	}
	return "IntegID(" + strconv.Itoa(int(v)) + ")"
}

var kEMethodNames = map[KEMethod]string{
	0:  "NONE",
	1:  "MODP_768",
	2:  "MODP_1024",
	5:  "MODP_1536",
	14: "MODP_2048",
	15: "MODP_3072",
	16: "MODP_4096",
	17: "MODP_6144",
	18: "MODP_8192",
	19: "ECP_256",
	20: "ECP_384",
	21: "ECP_521",
	25: "ECP_192",
	26: "ECP_224",
	27: "BRAINPOOL_P224",
	28: "BRAINPOOL_P256",
	29: "BRAINPOOL_P384",
	30: "BRAINPOOL_P512",
	31: "CURVE25519",
	32: "CURVE448",
	35: "ML_KEM_512",
	36: "ML_KEM_768",
	37: "ML_KEM_1024",
}

// String returns the IANA name, or KEMethod(n) for an unnamed value.
func (v KEMethod) String() string {
	if s, ok := kEMethodNames[v]; ok {
		return s
	}
	return "KEMethod(" + strconv.Itoa(int(v)) + ")"
}

var eSNIDNames = map[ESNID]string{
	0: "NO_ESN",
	1: "ESN",
}

// String returns the IANA name, or ESNID(n) for an unnamed value.
func (v ESNID) String() string {
	if s, ok := eSNIDNames[v]; ok {
		return s
	}
	return "ESNID(" + strconv.Itoa(int(v)) + ")"
}

var iDTypeNames = map[IDType]string{
	1:  "ID_IPV4_ADDR",
	2:  "ID_FQDN",
	3:  "ID_RFC822_ADDR",
	5:  "ID_IPV6_ADDR",
	9:  "ID_DER_ASN1_DN",
	10: "ID_DER_ASN1_GN",
	11: "ID_KEY_ID",
	12: "ID_FC_NAME",
	13: "ID_NULL",
}

// String returns the IANA name, or IDType(n) for an unnamed value.
func (v IDType) String() string {
	if s, ok := iDTypeNames[v]; ok {
		return s
	}
	return "IDType(" + strconv.Itoa(int(v)) + ")"
}

var authMethodNames = map[AuthMethod]string{
	1:  "RSA_SIG",
	2:  "SHARED_KEY_MIC",
	3:  "DSS_SIG",
	9:  "ECDSA_SHA256_P256",
	10: "ECDSA_SHA384_P384",
	11: "ECDSA_SHA512_P521",
	12: "GSPAM",
	13: "NULL_AUTH",
	14: "DIGITAL_SIGNATURE",
}

// String returns the IANA name, or AuthMethod(n) for an unnamed value.
func (v AuthMethod) String() string {
	if s, ok := authMethodNames[v]; ok {
		return s
	}
	return "AuthMethod(" + strconv.Itoa(int(v)) + ")"
}

var hashAlgorithmNames = map[HashAlgorithm]string{
	1: "SHA1",
	2: "SHA2_256",
	3: "SHA2_384",
	4: "SHA2_512",
	5: "IDENTITY",
}

// String returns the IANA name, or HashAlgorithm(n) for an unnamed value.
func (v HashAlgorithm) String() string {
	if s, ok := hashAlgorithmNames[v]; ok {
		return s
	}
	return "HashAlgorithm(" + strconv.Itoa(int(v)) + ")"
}

var certEncodingNames = map[CertEncoding]string{
	1:  "PKCS7_X509",
	2:  "PGP",
	3:  "DNS_SIGNED_KEY",
	4:  "X509_SIGNATURE",
	6:  "KERBEROS_TOKEN",
	7:  "CRL",
	8:  "ARL",
	9:  "SPKI",
	10: "X509_ATTRIBUTE",
	11: "RAW_RSA_KEY",
	12: "HASH_URL_X509_CERT",
	13: "HASH_URL_X509_BUNDLE",
	14: "OCSP_CONTENT",
	15: "RAW_PUBLIC_KEY",
}

// String returns the IANA name, or CertEncoding(n) for an unnamed value.
func (v CertEncoding) String() string {
	if s, ok := certEncodingNames[v]; ok {
		return s
	}
	return "CertEncoding(" + strconv.Itoa(int(v)) + ")"
}

var tSTypeNames = map[TSType]string{
	7:  "TS_IPV4_ADDR_RANGE",
	8:  "TS_IPV6_ADDR_RANGE",
	9:  "TS_FC_ADDR_RANGE",
	10: "TS_SECLABEL",
}

// String returns the IANA name, or TSType(n) for an unnamed value.
func (v TSType) String() string {
	if s, ok := tSTypeNames[v]; ok {
		return s
	}
	return "TSType(" + strconv.Itoa(int(v)) + ")"
}

var cPTypeNames = map[CPType]string{
	1: "CFG_REQUEST",
	2: "CFG_REPLY",
	3: "CFG_SET",
	4: "CFG_ACK",
}

// String returns the IANA name, or CPType(n) for an unnamed value.
func (v CPType) String() string {
	if s, ok := cPTypeNames[v]; ok {
		return s
	}
	return "CPType(" + strconv.Itoa(int(v)) + ")"
}

var cPAttrTypeNames = map[CPAttrType]string{
	1:  "INTERNAL_IP4_ADDRESS",
	2:  "INTERNAL_IP4_NETMASK",
	3:  "INTERNAL_IP4_DNS",
	4:  "INTERNAL_IP4_NBNS",
	6:  "INTERNAL_IP4_DHCP",
	7:  "APPLICATION_VERSION",
	8:  "INTERNAL_IP6_ADDRESS",
	10: "INTERNAL_IP6_DNS",
	12: "INTERNAL_IP6_DHCP",
	13: "INTERNAL_IP4_SUBNET",
	14: "SUPPORTED_ATTRIBUTES",
	15: "INTERNAL_IP6_SUBNET",
}

// String returns the IANA name, or CPAttrType(n) for an unnamed value.
func (v CPAttrType) String() string {
	if s, ok := cPAttrTypeNames[v]; ok {
		return s
	}
	return "CPAttrType(" + strconv.Itoa(int(v)) + ")"
}

var notifyTypeNames = map[NotifyType]string{
	1:     "UNSUPPORTED_CRITICAL_PAYLOAD",
	4:     "INVALID_IKE_SPI",
	5:     "INVALID_MAJOR_VERSION",
	7:     "INVALID_SYNTAX",
	9:     "INVALID_MESSAGE_ID",
	11:    "INVALID_SPI",
	14:    "NO_PROPOSAL_CHOSEN",
	17:    "INVALID_KE_PAYLOAD",
	24:    "AUTHENTICATION_FAILED",
	34:    "SINGLE_PAIR_REQUIRED",
	35:    "NO_ADDITIONAL_SAS",
	36:    "INTERNAL_ADDRESS_FAILURE",
	37:    "FAILED_CP_REQUIRED",
	38:    "TS_UNACCEPTABLE",
	39:    "INVALID_SELECTORS",
	40:    "UNACCEPTABLE_ADDRESSES",
	41:    "UNEXPECTED_NAT_DETECTED",
	42:    "USE_ASSIGNED_HoA",
	43:    "TEMPORARY_FAILURE",
	44:    "CHILD_SA_NOT_FOUND",
	45:    "INVALID_GROUP_ID",
	46:    "AUTHORIZATION_FAILED",
	47:    "STATE_NOT_FOUND",
	16384: "INITIAL_CONTACT",
	16385: "SET_WINDOW_SIZE",
	16386: "ADDITIONAL_TS_POSSIBLE",
	16387: "IPCOMP_SUPPORTED",
	16388: "NAT_DETECTION_SOURCE_IP",
	16389: "NAT_DETECTION_DESTINATION_IP",
	16390: "COOKIE",
	16391: "USE_TRANSPORT_MODE",
	16392: "HTTP_CERT_LOOKUP_SUPPORTED",
	16393: "REKEY_SA",
	16394: "ESP_TFC_PADDING_NOT_SUPPORTED",
	16395: "NON_FIRST_FRAGMENTS_ALSO",
	16396: "MOBIKE_SUPPORTED",
	16397: "ADDITIONAL_IP4_ADDRESS",
	16398: "ADDITIONAL_IP6_ADDRESS",
	16399: "NO_ADDITIONAL_ADDRESSES",
	16400: "UPDATE_SA_ADDRESSES",
	16401: "COOKIE2",
	16402: "NO_NATS_ALLOWED",
	16403: "AUTH_LIFETIME",
	16404: "MULTIPLE_AUTH_SUPPORTED",
	16405: "ANOTHER_AUTH_FOLLOWS",
	16406: "REDIRECT_SUPPORTED",
	16407: "REDIRECT",
	16408: "REDIRECTED_FROM",
	16409: "TICKET_LT_OPAQUE",
	16410: "TICKET_REQUEST",
	16411: "TICKET_ACK",
	16412: "TICKET_NACK",
	16413: "TICKET_OPAQUE",
	16414: "LINK_ID",
	16415: "USE_WESP_MODE",
	16416: "ROHC_SUPPORTED",
	16417: "EAP_ONLY_AUTHENTICATION",
	16418: "CHILDLESS_IKEV2_SUPPORTED",
	16419: "QUICK_CRASH_DETECTION",
	16420: "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
	16421: "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED",
	16422: "IKEV2_MESSAGE_ID_SYNC",
	16423: "IPSEC_REPLAY_COUNTER_SYNC",
	16424: "SECURE_PASSWORD_METHODS",
	16425: "PSK_PERSIST",
	16426: "PSK_CONFIRM",
	16427: "ERX_SUPPORTED",
	16428: "IFOM_CAPABILITY",
	16429: "SENDER_REQUEST_ID",
	16430: "IKEV2_FRAGMENTATION_SUPPORTED",
	16431: "SIGNATURE_HASH_ALGORITHMS",
	16432: "CLONE_IKE_SA_SUPPORTED",
	16433: "CLONE_IKE_SA",
	16434: "PUZZLE",
	16435: "USE_PPK",
	16436: "PPK_IDENTITY",
	16437: "NO_PPK_AUTH",
	16438: "INTERMEDIATE_EXCHANGE_SUPPORTED",
	16439: "IP4_ALLOWED",
	16440: "IP6_ALLOWED",
	16441: "ADDITIONAL_KEY_EXCHANGE",
	16442: "USE_AGGFRAG",
	16443: "SUPPORTED_AUTH_METHODS",
}

// String returns the IANA name, or NotifyType(n) for an unnamed value.
func (v NotifyType) String() string {
	if s, ok := notifyTypeNames[v]; ok {
		return s
	}
	return "NotifyType(" + strconv.Itoa(int(v)) + ")"
}
