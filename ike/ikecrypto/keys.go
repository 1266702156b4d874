package ikecrypto

import "errors"

// SKEYSEED returns prf(Ni | Nr, g^ir) of RFC 7296, Section 2.14. For
// AES-XCBC-PRF-128 and AES-CMAC-PRF-128 only the first 64 bits of each nonce
// form the key (same section; RFC 4434 Section 1.1).
func SKEYSEED(prf PRF, ni, nr, gir []byte) []byte {
	var key []byte
	if prf.ID() == PRFAES128XCBC || prf.ID() == PRFAES128CMAC {
		key = append(append(key, firstN(ni, 8)...), firstN(nr, 8)...)
	} else {
		key = append(append(key, ni...), nr...)
	}
	return prf.Sum(key, gir, nil)
}

func firstN(b []byte, n int) []byte {
	if len(b) < n {
		return b
	}
	return b[:n]
}

// RekeySKEYSEED returns prf(SK_d (old), g^ir (new) | Ni | Nr) of RFC 7296,
// Section 2.18. prf must be the PRF of the OLD IKE SA; the keys of the new
// SA are then derived with DeriveIKEKeys using the new suite's PRF and the
// new SPIs. Without PFS gir is empty.
func RekeySKEYSEED(oldPRF PRF, skdOld, gir, ni, nr []byte) []byte {
	data := make([]byte, 0, len(gir)+len(ni)+len(nr))
	data = append(append(append(data, gir...), ni...), nr...)
	return oldPRF.Sum(skdOld, data, nil)
}

// AdditionalKeySKEYSEED returns SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr)
// of RFC 9370, Section 2.2.2, the update after each additional key exchange
// (for example ML-KEM-768 in IKE_INTERMEDIATE). Ni and Nr are the
// IKE_SA_INIT nonces; the new SK_* come from DeriveIKEKeys with the
// unchanged SPIs.
func AdditionalKeySKEYSEED(prf PRF, skdPrev, sk, ni, nr []byte) []byte {
	return RekeySKEYSEED(prf, skdPrev, sk, ni, nr)
}

// Keys are the seven secrets of RFC 7296, Section 2.14. For AEAD suites SKai
// and SKar are empty and SKei/SKer end with the 4-octet salt.
type Keys struct {
	SKd, SKai, SKar, SKei, SKer, SKpi, SKpr []byte
}

// DeriveIKEKeys returns {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
// = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) (RFC 7296, Section 2.14) with the
// lengths the suite needs.
func DeriveIKEKeys(s Suite, skeyseed, ni, nr, spii, spir []byte) (Keys, error) {
	prf, err := NewPRF(s.PRF)
	if err != nil {
		return Keys{}, err
	}
	if err := s.CheckESP(); err != nil {
		return Keys{}, err
	}
	if len(spii) != 8 || len(spir) != 8 {
		return Keys{}, errors.New("ikecrypto: IKE SPIs must be 8 octets")
	}
	el, _ := s.EncrKeyLen()
	al, _ := s.IntegKeyLen()
	pl := prf.KeyLen()
	seed := make([]byte, 0, len(ni)+len(nr)+16)
	seed = append(append(append(append(seed, ni...), nr...), spii...), spir...)
	km, err := PRFPlus(prf, skeyseed, seed, 3*pl+2*al+2*el)
	if err != nil {
		return Keys{}, err
	}
	var k Keys
	for _, f := range []struct {
		p *[]byte
		n int
	}{{&k.SKd, pl}, {&k.SKai, al}, {&k.SKar, al}, {&k.SKei, el}, {&k.SKer, el}, {&k.SKpi, pl}, {&k.SKpr, pl}} {
		*f.p = km[:f.n:f.n]
		km = km[f.n:]
	}
	return k, nil
}

// ChildKeys is Child SA keying material split per RFC 7296, Section 2.17:
// I is the initiator-to-responder direction (taken first), R the other. AEAD
// encryption keys end with their 4-octet salt; Integ keys are empty for AEAD.
type ChildKeys struct {
	EncrI, IntegI, EncrR, IntegR []byte
}

// DeriveChildKeys returns KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) of RFC
// 7296, Section 2.17, split into encryption then integrity key for each
// direction, initiator to responder first. gir is empty without PFS. With
// RFC 9370 additional key exchanges use DeriveChildKeysMulti. encrKeyLen and
// integKeyLen come from EncrKeyLen and IntegKeyLen.
func DeriveChildKeys(prf PRF, skd, gir, ni, nr []byte, encrKeyLen, integKeyLen int) (ChildKeys, error) {
	return DeriveChildKeysMulti(prf, skd, gir, ni, nr, nil, encrKeyLen, integKeyLen)
}

// DeriveChildKeysMulti is DeriveChildKeys after RFC 9370 additional key
// exchanges: KEYMAT = prf+(SK_d, SK(0) | Ni | Nr | SK(1) | ... | SK(n))
// (RFC 9370, Section 2.2.4), where sk0 is the CREATE_CHILD_SA shared secret
// (empty if none) and additional holds SK(1) to SK(n) in order.
func DeriveChildKeysMulti(prf PRF, skd, sk0, ni, nr []byte, additional [][]byte, encrKeyLen, integKeyLen int) (ChildKeys, error) {
	if encrKeyLen < 0 || integKeyLen < 0 {
		return ChildKeys{}, errors.New("ikecrypto: negative key length")
	}
	km, err := PRFPlus(prf, skd, multiSeed(sk0, ni, nr, additional), 2*(encrKeyLen+integKeyLen))
	if err != nil {
		return ChildKeys{}, err
	}
	var k ChildKeys
	for _, f := range []struct {
		p *[]byte
		n int
	}{{&k.EncrI, encrKeyLen}, {&k.IntegI, integKeyLen}, {&k.EncrR, encrKeyLen}, {&k.IntegR, integKeyLen}} {
		*f.p = km[:f.n:f.n]
		km = km[f.n:]
	}
	return k, nil
}

// multiSeed returns SK(0) | Ni | Nr | SK(1) | ... | SK(n).
func multiSeed(sk0, ni, nr []byte, additional [][]byte) []byte {
	n := len(sk0) + len(ni) + len(nr)
	for _, a := range additional {
		n += len(a)
	}
	seed := make([]byte, 0, n)
	seed = append(append(append(seed, sk0...), ni...), nr...)
	for _, a := range additional {
		seed = append(seed, a...)
	}
	return seed
}

// RekeySKEYSEEDMulti is RekeySKEYSEED after RFC 9370 additional key
// exchanges in an IKE SA rekey: SKEYSEED = prf(SK_d, SK(0) | Ni | Nr | SK(1)
// | ... | SK(n)) (RFC 9370, Section 2.2.4), with the old SA's PRF and SK_d.
func RekeySKEYSEEDMulti(oldPRF PRF, skdOld, sk0, ni, nr []byte, additional [][]byte) []byte {
	return oldPRF.Sum(skdOld, multiSeed(sk0, ni, nr, additional), nil)
}

// Wipe overwrites the keys with zeros once the SA is gone. It is best
// effort: copies made elsewhere (a Cipher's key schedule) are not reached.
func (k *Keys) Wipe() {
	for _, b := range [][]byte{k.SKd, k.SKai, k.SKar, k.SKei, k.SKer, k.SKpi, k.SKpr} {
		clear(b)
	}
}
