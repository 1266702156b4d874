package config

import (
	"reflect"
	"testing"
)

func TestParseIKEProposal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Proposal
	}{
		{"aes128gcm16-prfsha256-x25519", Proposal{Encryption: []string{"aes128gcm16"}, PRF: []string{"prfsha256"}, DH: []string{"x25519"}}},
		{"aes256-sha256-prfsha256-modp2048", Proposal{Encryption: []string{"aes256"}, Integrity: []string{"sha256"}, PRF: []string{"prfsha256"}, DH: []string{"modp2048"}}},
		{"chacha20poly1305-prfsha256-ecp256", Proposal{Encryption: []string{"chacha20poly1305"}, PRF: []string{"prfsha256"}, DH: []string{"ecp256"}}},
		// Without a prf, the integrity algorithms' HMACs, as in strongSwan.
		{"aes128-aes256-sha256-sha512-ecp384", Proposal{Encryption: []string{"aes128", "aes256"}, Integrity: []string{"sha256", "sha512"}, PRF: []string{"prfsha256", "prfsha512"}, DH: []string{"ecp384"}}},
		// Aliases become canonical names; order within a kind is kept.
		{"aes256gcm-aes128gcm-prfsha384-prfaesxcbc-curve25519-modp4096-mlkem768", Proposal{Encryption: []string{"aes256gcm16", "aes128gcm16"}, PRF: []string{"prfsha384", "prfaesxcbc"}, DH: []string{"x25519", "modp4096", "mlkem768"}}},
		{"aes192-sha2_384-prfaescmac-modp3072", Proposal{Encryption: []string{"aes192"}, Integrity: []string{"sha384"}, PRF: []string{"prfaescmac"}, DH: []string{"modp3072"}}},
		{"x25519-prfsha256-aes192gcm16", Proposal{Encryption: []string{"aes192gcm16"}, PRF: []string{"prfsha256"}, DH: []string{"x25519"}}},
	} {
		got, err := ParseIKEProposal(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", c.in, got, err, c.want)
		}
	}
}

func TestParseESPProposal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Proposal
	}{
		{"aes128gcm16", Proposal{Encryption: []string{"aes128gcm16"}}},
		{"aes256gcm16", Proposal{Encryption: []string{"aes256gcm16"}}},
		{"chacha20poly1305", Proposal{Encryption: []string{"chacha20poly1305"}}},
		{"aes128gcm16-esn", Proposal{Encryption: []string{"aes128gcm16"}, ESN: []bool{true}}},
		{"aes128gcm16-noesn", Proposal{Encryption: []string{"aes128gcm16"}, ESN: []bool{false}}},
		{"aes128gcm16-esn-noesn", Proposal{Encryption: []string{"aes128gcm16"}, ESN: []bool{true, false}}},
		{"aes128gcm16-noesn-esn", Proposal{Encryption: []string{"aes128gcm16"}, ESN: []bool{false, true}}},
		{"aes128gcm16-x25519", Proposal{Encryption: []string{"aes128gcm16"}, DH: []string{"x25519"}}},
		{"aes128gcm-chacha20poly1305", Proposal{Encryption: []string{"aes128gcm16", "chacha20poly1305"}}},
	} {
		got, err := ParseESPProposal(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v", c.in, got, err, c.want)
		}
	}
}

func TestProposalErrors(t *testing.T) {
	for _, c := range []struct {
		ike  bool
		in   string
		want string
	}{
		{false, "aes129gcm16", `config: esp proposal "aes129gcm16": unknown cipher`},
		{false, "aes129gcm16-esn", `config: esp proposal "aes129gcm16-esn": unknown cipher "aes129gcm16"`},
		{true, "aes128gcm16-prfsha1024-x25519", `config: ike proposal "aes128gcm16-prfsha1024-x25519": unknown prf "prfsha1024"`},
		{true, "aes128-sha3-prfsha256-x25519", `config: ike proposal "aes128-sha3-prfsha256-x25519": unknown integrity algorithm "sha3"`},
		{true, "aes128gcm16-prfsha256-ecp521", `config: ike proposal "aes128gcm16-prfsha256-ecp521": unknown DH group "ecp521"`},
		{true, "aes128gcm16-prfsha256-foo", `config: ike proposal "aes128gcm16-prfsha256-foo": unknown algorithm "foo"`},
		{true, "3des-sha256-modp2048", `config: ike proposal "3des-sha256-modp2048": cipher "3des" too weak, not supported`},
		{true, "aes128-sha1-modp2048", `config: ike proposal "aes128-sha1-modp2048": integrity algorithm "sha1" too weak, not supported`},
		{true, "aes128gcm16-prfsha256-modp1024", `config: ike proposal "aes128gcm16-prfsha256-modp1024": DH group "modp1024" too weak, not supported`},
		{false, "", `config: esp proposal "": empty`},
		{false, "aes128gcm16-", `config: esp proposal "aes128gcm16-": empty algorithm between '-'`},
		{false, "-aes128gcm16", `config: esp proposal "-aes128gcm16": empty algorithm between '-'`},
		{false, "aes128gcm16--esn", `config: esp proposal "aes128gcm16--esn": empty algorithm between '-'`},
		{false, "aes128gcm16-aes128gcm", `config: esp proposal "aes128gcm16-aes128gcm": aes128gcm16 listed twice`},
		{false, "esn-noesn", `config: esp proposal "esn-noesn": no cipher`},
		{false, "sha256", `config: esp proposal "sha256": no cipher`},
		{false, "aes128gcm16-aes128-sha256", `config: esp proposal "aes128gcm16-aes128-sha256": mixes AEAD and non-AEAD ciphers: write two proposals`},
		{false, "aes128gcm16-sha256", `config: esp proposal "aes128gcm16-sha256": AEAD cipher aes128gcm16 takes no integrity algorithm`},
		{true, "chacha20poly1305-sha256-prfsha256-x25519", `config: ike proposal "chacha20poly1305-sha256-prfsha256-x25519": AEAD cipher chacha20poly1305 takes no integrity algorithm`},
		{false, "aes128", `config: esp proposal "aes128": CBC cipher aes128 needs an integrity algorithm (like sha256)`},
		{false, "aes256-sha512-modp2048-esn", `config: esp proposal "aes256-sha512-modp2048-esn": CBC cipher aes256: swanling's ESP has AEAD ciphers only (aes128gcm16, aes192gcm16, aes256gcm16, chacha20poly1305)`},
		{true, "aes256-prfsha256-x25519", `config: ike proposal "aes256-prfsha256-x25519": CBC cipher aes256 needs an integrity algorithm (like sha256)`},
		{true, "aes128gcm16-x25519", `config: ike proposal "aes128gcm16-x25519": AEAD proposal needs a prf (like prfsha256)`},
		{true, "aes128gcm16-prfsha256", `config: ike proposal "aes128gcm16-prfsha256": needs a DH group (like x25519)`},
		{true, "aes256-sha256", `config: ike proposal "aes256-sha256": needs a DH group (like x25519)`},
		{true, "aes128gcm16-prfsha256-x25519-esn", `config: ike proposal "aes128gcm16-prfsha256-x25519-esn": esn: applies to ESP only`},
		{false, "aes128gcm16-prfsha256", `config: esp proposal "aes128gcm16-prfsha256": prfsha256: ESP has no prf`},
		{false, "AES128GCM16", `config: esp proposal "AES128GCM16": unknown algorithm`},
		{false, "aes128gcm16-esn-esn", `config: esp proposal "aes128gcm16-esn-esn": esn listed twice`},
	} {
		var err error
		if c.ike {
			_, err = ParseIKEProposal(c.in)
		} else {
			_, err = ParseESPProposal(c.in)
		}
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

// TestProposalString: String writes the canonical form, which parses back
// to the same proposal.
func TestProposalString(t *testing.T) {
	for _, in := range []string{"aes128gcm-esn-noesn", "aes256gcm-x25519", "chacha20poly1305-curve25519-noesn"} {
		p, err := ParseESPProposal(in)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseESPProposal(p.String())
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Errorf("%s -> %s -> %+v %v", in, p, q, err)
		}
	}
	p, _ := ParseIKEProposal("aes256-sha256-modp2048")
	if s := p.String(); s != "aes256-sha256-prfsha256-modp2048" {
		t.Errorf("String %q", s)
	}
}
