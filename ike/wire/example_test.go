package wire_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"strings"
	"testing"

	"swanling/ike/wire"
)

// sealAESGCM16 is a stand-in for the crypto layer: ENCR_AES_GCM_16 as RFC
// 5282 uses it (key | 4-octet salt, nonce = salt | 8-octet IV).
func sealAESGCM16(t testing.TB, keySalt, iv, aad, plaintext []byte) []byte {
	block, err := aes.NewCipher(keySalt[:len(keySalt)-4])
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := append(append([]byte(nil), keySalt[len(keySalt)-4:]...), iv...)
	return aead.Seal(nil, nonce, plaintext, aad)
}

// TestSendProcedureAgainstRecording follows the documented send procedure
// with the recorded IV and key of recording 1 and must reproduce strongSwan's
// IKE_AUTH request byte for byte; then it takes it apart the receive way.
func TestSendProcedureAgainstRecording(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/vectors/ikev2-strongswan-1-aes128gcm16-prfsha256-ecp256.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		IKESA struct {
			Keys struct {
				SKEi struct{ Hex string } `json:"sk_ei"`
			} `json:"keys"`
		} `json:"ike_sa"`
		Messages []struct {
			IKEMessage string `json:"ike_message"`
			Encrypted  *struct {
				IV, Plaintext string
			} `json:"encrypted"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	h := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	want := h(v.Messages[2].IKEMessage)
	key, iv, pt := h(v.IKESA.Keys.SKEi.Hex), h(v.Messages[2].Encrypted.IV), h(v.Messages[2].Encrypted.Plaintext)

	// The engine's view: a parsed header and the inner payloads.
	recorded, err := wire.Parse(want)
	if err != nil {
		t.Fatal(err)
	}
	sk := recorded.Payloads[0].(*wire.Encrypted)
	inner, err := wire.StripPadding(pt)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := wire.ParsePayloads(sk.NextPayload, inner)
	if err != nil {
		t.Fatal(err)
	}

	// 1. Build the inner chain. 2. Pad it (AEAD: Pad Length octet only).
	first, chain, err := wire.AppendPayloads(nil, ps)
	if err != nil {
		t.Fatal(err)
	}
	plaintext := wire.AppendPadding(chain, 1)
	// 3. Frame the message with final lengths. 4. Encrypt in place.
	msg, ivOff, ctOff, icvOff, err := wire.AppendEncrypted(nil, recorded.Header, first, len(iv), len(plaintext), 16)
	if err != nil {
		t.Fatal(err)
	}
	copy(msg[ivOff:ctOff], iv)
	sealed := sealAESGCM16(t, key, iv, msg[:ivOff], plaintext)
	copy(msg[ctOff:], sealed)
	if icvOff != len(msg)-16 || !bytes.Equal(msg, want) {
		t.Fatalf("re-encrypted message differs\n got %x\nwant %x", msg, want)
	}

	// Receiving: SplitEncrypted gives the AAD, IV, ciphertext and ICV.
	ep, err := wire.SplitEncrypted(msg, 8, 16)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key[:16])
	aead, _ := cipher.NewGCM(block)
	opened, err := aead.Open(nil, append(append([]byte(nil), key[16:]...), ep.IV...),
		append(append([]byte(nil), ep.Ciphertext...), ep.ICV...), ep.AAD)
	if err != nil || !bytes.Equal(opened, pt) {
		t.Fatalf("open: %v", err)
	}
}

// Example builds an IKE_SA_INIT request, parses it back and checks it
// against the exchange table.
func Example() {
	spiI := uint64(0x8b71435e23dab6ba)
	m := &wire.Message{
		Header: wire.Header{SPIi: spiI, Exchange: wire.ExchangeIKESAInit, Flags: wire.FlagInitiator},
		Payloads: []wire.Payload{
			&wire.SA{Proposals: []wire.Proposal{{Number: 1, Protocol: wire.ProtocolIKE, Transforms: []wire.Transform{
				{Type: wire.TransformENCR, ID: uint16(wire.EncrAESGCM16), KeyLength: 128},
				{Type: wire.TransformPRF, ID: uint16(wire.PRFHMACSHA2256)},
				{Type: wire.TransformKE, ID: uint16(wire.KECurve25519)},
			}}}},
			&wire.KE{Group: wire.KECurve25519, Data: make([]byte, 32)},
			&wire.Nonce{Data: make([]byte, 32)},
			wire.InvalidKE(wire.KEECP256),
		},
	}
	b, err := m.Append(nil)
	if err != nil {
		panic(err)
	}
	got, err := wire.Parse(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(got)
	fmt.Println(len(b), wire.Validate(got.Exchange, got.IsResponse(), wire.Types(nil, got.Payloads)))
	sa, _ := wire.First[*wire.SA](got.Payloads)
	fmt.Println(sa.Proposals[0].String())
	// Output:
	// IKE_SA_INIT request 0 i=8b71435e23dab6ba r=0000000000000000 [SA KE Nonce N(INVALID_KE_PAYLOAD)]
	// 154 <nil>
	// IKE:ENCR_AES_GCM_16/128,PRF_HMAC_SHA2_256,CURVE25519
}

// TestSignedCoversCBCMessages checks EncryptedParts.Signed and the CBC
// layout on the recordings that use AES-CBC with HMAC-SHA2 (files 4 and 5):
// the ICV is the truncated HMAC over Signed, and the ciphertext decrypts
// with the IV to the recorded plaintext.
func TestSignedCoversCBCMessages(t *testing.T) {
	files := map[string]func() hash.Hash{
		"ikev2-strongswan-4-aes128-sha256-prfsha256-ecp384.json":   sha256.New,
		"ikev2-strongswan-5-aes256-sha512-prfsha512-modp3072.json": sha512.New,
	}
	for name, newHash := range files {
		raw, err := os.ReadFile("../../testdata/vectors/" + name)
		if err != nil {
			t.Fatal(err)
		}
		type key struct{ Hex string }
		var v struct {
			IKESA struct {
				Keys map[string]key `json:"keys"`
			} `json:"ike_sa"`
			Messages []struct {
				IKEMessage string `json:"ike_message"`
				Encrypted  *struct {
					EncrKey   string `json:"encr_key"`
					IntegKey  string `json:"integ_key"`
					IV        string `json:"iv"`
					ICV       string `json:"icv"`
					Plaintext string `json:"plaintext"`
				} `json:"encrypted"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		h := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
		k := func(path string) []byte { return h(v.IKESA.Keys[strings.TrimPrefix(path, "ike_sa.keys.")].Hex) }
		n := 0
		for _, m := range v.Messages {
			if m.Encrypted == nil {
				continue
			}
			icvLen := len(h(m.Encrypted.ICV))
			ep, err := wire.SplitEncrypted(h(m.IKEMessage), aes.BlockSize, icvLen)
			if err != nil {
				t.Fatal(err)
			}
			mac := hmac.New(newHash, k(m.Encrypted.IntegKey))
			mac.Write(ep.Signed)
			if !bytes.Equal(mac.Sum(nil)[:icvLen], ep.ICV) {
				t.Fatalf("%s: ICV is not the HMAC over Signed", name)
			}
			block, err := aes.NewCipher(k(m.Encrypted.EncrKey))
			if err != nil {
				t.Fatal(err)
			}
			pt := make([]byte, len(ep.Ciphertext))
			cipher.NewCBCDecrypter(block, ep.IV).CryptBlocks(pt, ep.Ciphertext)
			if !bytes.Equal(pt, h(m.Encrypted.Plaintext)) {
				t.Fatalf("%s: CBC plaintext differs", name)
			}
			n++
		}
		if n < 4 {
			t.Fatalf("%s: only %d encrypted messages", name, n)
		}
	}
}
