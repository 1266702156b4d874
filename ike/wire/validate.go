package wire

// Which payloads each exchange carries is a table rather than scattered
// checks (as in OpenBSD iked). The sets are for the payloads the exchange
// exchanges: the outer chain of IKE_SA_INIT and the decrypted inner chain of
// every other exchange. Payload types this codec does not know (kept as
// *Unknown, skipped per RFC 7296 Section 2.5) are not checked.

type payloadSet uint64

func setOf(ts ...PayloadType) payloadSet {
	var s payloadSet
	for _, t := range ts {
		s |= 1 << t
	}
	return s
}

func (s payloadSet) has(t PayloadType) bool { return t < 64 && s&(1<<t) != 0 }

type exchangeRule struct {
	allowed  [2]payloadSet // [request, response]
	required [2]payloadSet
	// errorOnly[resp]: a message made of Notify (and Vendor ID) payloads
	// only needs none of the required payloads: an error or COOKIE answer.
	errorOnly [2]bool
}

// onceOnly are the payloads a message carries at most once.
var onceOnly = setOf(PayloadSA, PayloadKE, PayloadIDi, PayloadIDr, PayloadAUTH,
	PayloadNonce, PayloadTSi, PayloadTSr, PayloadCP, PayloadEAP, PayloadSK, PayloadSKF)

// known are the payload types Validate checks.
var known = setOf(PayloadSA, PayloadKE, PayloadIDi, PayloadIDr, PayloadCERT,
	PayloadCERTREQ, PayloadAUTH, PayloadNonce, PayloadNotify, PayloadDelete,
	PayloadVendorID, PayloadTSi, PayloadTSr, PayloadSK, PayloadCP, PayloadEAP,
	PayloadSKF)

var exchangeRules = map[ExchangeType]exchangeRule{
	// RFC 7296, Section 1.2: HDR, SAi1, KEi, Ni -->  <-- HDR, SAr1, KEr,
	// Nr, [CERTREQ]; Section 2.6: N(COOKIE); Section 1.3 and 2.7:
	// N(INVALID_KE_PAYLOAD), N(NO_PROPOSAL_CHOSEN) alone.
	ExchangeIKESAInit: {
		allowed: [2]payloadSet{
			setOf(PayloadSA, PayloadKE, PayloadNonce, PayloadNotify, PayloadVendorID),
			setOf(PayloadSA, PayloadKE, PayloadNonce, PayloadNotify, PayloadVendorID, PayloadCERTREQ),
		},
		required:  [2]payloadSet{setOf(PayloadSA, PayloadKE, PayloadNonce), setOf(PayloadSA, PayloadKE, PayloadNonce)},
		errorOnly: [2]bool{false, true},
	},
	// RFC 7296, Section 1.2: SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH,
	// SAi2, TSi, TSr} and SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}; Section
	// 2.16: EAP; Section 2.19: CP. Which of them are needed depends on the
	// authentication method (EAP rounds omit AUTH), so the engine checks
	// that.
	ExchangeIKEAuth: {
		allowed: [2]payloadSet{
			setOf(PayloadIDi, PayloadCERT, PayloadCERTREQ, PayloadIDr, PayloadAUTH, PayloadCP,
				PayloadSA, PayloadTSi, PayloadTSr, PayloadNotify, PayloadVendorID, PayloadEAP),
			setOf(PayloadIDr, PayloadCERT, PayloadAUTH, PayloadCP, PayloadSA, PayloadTSi,
				PayloadTSr, PayloadNotify, PayloadVendorID, PayloadEAP),
		},
		errorOnly: [2]bool{true, true},
	},
	// RFC 7296, Section 1.3: SK {[N(REKEY_SA)], SA, Ni, [KEi], [TSi, TSr]}
	// and SK {SA, Nr, [KEr], [TSi, TSr]}; an error response carries only
	// a Notify.
	ExchangeCreateChildSA: {
		allowed: [2]payloadSet{
			setOf(PayloadSA, PayloadNonce, PayloadKE, PayloadTSi, PayloadTSr, PayloadNotify, PayloadVendorID),
			setOf(PayloadSA, PayloadNonce, PayloadKE, PayloadTSi, PayloadTSr, PayloadNotify, PayloadVendorID),
		},
		required:  [2]payloadSet{setOf(PayloadSA, PayloadNonce), setOf(PayloadSA, PayloadNonce)},
		errorOnly: [2]bool{false, true},
	},
	// RFC 7296, Section 1.4: SK {[N,] [D,] [CP,] ...}, possibly empty.
	ExchangeInformational: {
		allowed: [2]payloadSet{
			setOf(PayloadNotify, PayloadDelete, PayloadCP, PayloadVendorID),
			setOf(PayloadNotify, PayloadDelete, PayloadCP, PayloadVendorID),
		},
	},
	// RFC 9242, Section 3.2: the content is defined by the extension that
	// uses the exchange: KE for RFC 9370, certificates for large-data
	// extensions.
	ExchangeIKEIntermediate: {
		allowed: [2]payloadSet{
			setOf(PayloadKE, PayloadNotify, PayloadVendorID, PayloadCERT, PayloadCERTREQ),
			setOf(PayloadKE, PayloadNotify, PayloadVendorID, PayloadCERT, PayloadCERTREQ),
		},
	},
	// RFC 9370, Section 2.2.4: SK {KEi(n), N(ADDITIONAL_KEY_EXCHANGE)}
	// and SK {KEr(n), [N(ADDITIONAL_KEY_EXCHANGE)]}.
	ExchangeIKEFollowupKE: {
		allowed: [2]payloadSet{
			setOf(PayloadKE, PayloadNotify, PayloadVendorID),
			setOf(PayloadKE, PayloadNotify, PayloadVendorID),
		},
		required:  [2]payloadSet{setOf(PayloadKE), setOf(PayloadKE)},
		errorOnly: [2]bool{false, true},
	},
}

// Allowed reports whether payload type t may appear in the payloads of a
// request (or response) of exchange ex. Types the codec does not know are
// allowed (they are skipped). Encrypted payloads are never allowed here: see
// ValidateOuter.
func Allowed(ex ExchangeType, isResponse bool, t PayloadType) bool {
	r, ok := exchangeRules[ex]
	if !ok {
		return false
	}
	if !known.has(t) {
		return true
	}
	return r.allowed[b2i(isResponse)].has(t)
}

// Validate checks the payload types of a message of exchange ex against the
// table: for IKE_SA_INIT the outer chain, for every other exchange the
// decrypted inner chain. It reports, as a *PayloadError, a type the exchange
// does not allow (ErrNotAllowed, the engine answers INVALID_SYNTAX, RFC 7296
// Section 2.21), a duplicate of a payload that may appear once
// (ErrDuplicate), or the first missing required payload (ErrMissing).
// Payloads of types this codec does not know are ignored. An unknown
// exchange type gives ErrNotAllowed with Type PayloadNone.
func Validate(ex ExchangeType, isResponse bool, types []PayloadType) error {
	r, ok := exchangeRules[ex]
	if !ok {
		return perr(PayloadNone, -1, ErrNotAllowed)
	}
	d := b2i(isResponse)
	var seen payloadSet
	onlyNotify := true
	for _, t := range types {
		if !known.has(t) {
			continue
		}
		if !r.allowed[d].has(t) {
			return perr(t, -1, ErrNotAllowed)
		}
		if seen.has(t) && onceOnly.has(t) {
			return perr(t, -1, ErrDuplicate)
		}
		seen |= 1 << t
		if t != PayloadNotify && t != PayloadVendorID {
			onlyNotify = false
		}
	}
	if r.errorOnly[d] && onlyNotify && seen.has(PayloadNotify) {
		return nil
	}
	if miss := r.required[d] &^ seen; miss != 0 {
		for t := PayloadType(0); t < 64; t++ {
			if miss.has(t) {
				return perr(t, -1, ErrMissing)
			}
		}
	}
	return nil
}

// ValidateOuter checks the outer payload chain of a message of exchange ex:
// IKE_SA_INIT carries no Encrypted payload; every other exchange carries
// exactly one SK or SKF payload, last (RFC 7296, Section 3.14; RFC 9242,
// Section 3.2; RFC 7383, Section 2.5), and no other known payload outside
// it. Parse has already checked that SK/SKF is last.
func ValidateOuter(ex ExchangeType, types []PayloadType) error {
	if _, ok := exchangeRules[ex]; !ok {
		return perr(PayloadNone, -1, ErrNotAllowed)
	}
	enc := 0
	for _, t := range types {
		switch {
		case t == PayloadSK || t == PayloadSKF:
			if ex == ExchangeIKESAInit {
				return perr(t, -1, ErrNotAllowed)
			}
			enc++
		case ex != ExchangeIKESAInit && known.has(t):
			return perr(t, -1, ErrNotAllowed)
		}
	}
	if ex != ExchangeIKESAInit && enc == 0 {
		return perr(PayloadSK, -1, ErrMissing)
	}
	return nil
}

// Types appends the type of every payload of ps to dst.
func Types(dst []PayloadType, ps []Payload) []PayloadType {
	for _, p := range ps {
		dst = append(dst, p.Type())
	}
	return dst
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
