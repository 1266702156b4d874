package ike

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func TestNarrow(t *testing.T) {
	for _, tc := range []struct {
		proposed, ours []string
		want           []string
	}{
		{[]string{"10.0.0.0/8"}, []string{"10.1.0.0/16"}, []string{"10.1.0.0/16"}},
		{[]string{"10.1.2.0/24"}, []string{"10.0.0.0/8"}, []string{"10.1.2.0/24"}},
		{[]string{"10.1.2.0/24"}, []string{"192.0.2.0/24"}, nil},
		{[]string{"0.0.0.0/0"}, []string{"198.51.100.0/24", "203.0.113.0/25"}, []string{"198.51.100.0/24", "203.0.113.0/25"}},
		{[]string{"2001:db8::/32"}, []string{"2001:db8:1::/48", "10.0.0.0/8"}, []string{"2001:db8:1::/48"}},
	} {
		got := Prefixes(narrow(selectorsFromPrefixes(pfx(tc.proposed...)), selectorsFromPrefixes(pfx(tc.ours...))))
		if len(got) != len(tc.want) {
			t.Fatalf("%v ∩ %v = %v, want %v", tc.proposed, tc.ours, got, tc.want)
		}
		for i := range got {
			if got[i] != netip.MustParsePrefix(tc.want[i]) {
				t.Fatalf("%v ∩ %v = %v, want %v", tc.proposed, tc.ours, got, tc.want)
			}
		}
	}
	// Ports and protocols narrow too (RFC 7296, Section 2.9).
	a := Selector{Start: netip.MustParseAddr("10.0.0.0"), End: netip.MustParseAddr("10.0.0.255"), Proto: 6, StartPort: 0, EndPort: 65535}
	b := Selector{Start: netip.MustParseAddr("10.0.0.10"), End: netip.MustParseAddr("10.0.1.0"), Proto: 0, StartPort: 80, EndPort: 443}
	r, ok := a.intersect(b)
	if !ok || r.Proto != 6 || r.StartPort != 80 || r.EndPort != 443 || r.End != netip.MustParseAddr("10.0.0.255") {
		t.Fatalf("intersect %+v", r)
	}
	if _, ok := a.intersect(Selector{Start: a.Start, End: a.End, Proto: 17, EndPort: 65535}); ok {
		t.Fatal("tcp ∩ udp not empty")
	}
	if !subsetOf(selectorsFromPrefixes(pfx("10.1.0.0/16")), selectorsFromPrefixes(pfx("10.0.0.0/8"))) ||
		subsetOf(selectorsFromPrefixes(pfx("10.0.0.0/8")), selectorsFromPrefixes(pfx("10.1.0.0/16"))) {
		t.Fatal("subsetOf")
	}
}

func TestRangeToPrefixes(t *testing.T) {
	got := rangeToPrefixes(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.6"))
	want := pfx("10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32")
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%v", got)
		}
	}
	if p := rangeToPrefixes(netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255")); len(p) != 1 || p[0].Bits() != 0 {
		t.Fatalf("%v", p)
	}
}

func TestSelectProposal(t *testing.T) {
	mk := func(proto uint8, s string) Proposal {
		p, err := ParseProposal(proto, s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ours := []Proposal{mk(ProtoIKE, "aes256gcm16-prfsha384-ecp384"), mk(ProtoIKE, "aes128gcm16-prfsha256-x25519-ecp256")}
	peer := offerFromProposals([]Proposal{mk(ProtoIKE, "chacha20poly1305-aes128gcm16-prfsha256-ecp256-x25519")}, nil, true)
	c, ok := selectProposal(ours, peer, true)
	if !ok || c.Encr != (Alg{EncrAESGCM16, 128}) || c.PRF != PRFSHA256 || c.DH != GroupX25519 || c.Num != 1 {
		t.Fatalf("chose %+v", c)
	}
	// A key length we do not allow does not match (Section 3.3.5).
	peer = offerFromProposals([]Proposal{mk(ProtoIKE, "aes192gcm16-prfsha256-x25519")}, nil, true)
	if _, ok := selectProposal(ours, peer, true); ok {
		t.Fatal("aes192 matched")
	}
	// An unknown attribute makes a transform unacceptable (Section 3.3.6).
	peer = offerFromProposals([]Proposal{mk(ProtoIKE, "aes128gcm16-prfsha256-x25519")}, nil, true)
	for i := range peer[0].Transforms {
		if peer[0].Transforms[i].Type == TransENCR {
			peer[0].Transforms[i].Unknown = true
		}
	}
	if _, ok := selectProposal(ours, peer, true); ok {
		t.Fatal("transform with unknown attribute accepted")
	}
	// ESP: we offer both ESN values; a peer wanting ESN gets it.
	esp := []Proposal{mk(ProtoESP, "aes128gcm16")}
	peer = offerFromProposals([]Proposal{mk(ProtoESP, "aes128gcm16-esn")}, []byte{1, 2, 3, 4}, false)
	c, ok = selectProposal(esp, peer, false)
	if !ok || !c.ESN {
		t.Fatalf("esn %+v", c)
	}
	// An IKE_AUTH Child SA ignores a KE transform (RFC 7296, Section 1.2).
	peer = offerFromProposals([]Proposal{mk(ProtoESP, "aes128gcm16-x25519")}, []byte{1, 2, 3, 4}, true)
	if c, ok = selectProposal(esp, peer, false); !ok || c.DH != 0 {
		t.Fatalf("pfs offer in IKE_AUTH: %+v %v", c, ok)
	}
	// Responses: more than one transform of a type is refused.
	resp := []Offer{chosenOffer(Chosen{Protocol: ProtoIKE, Num: 1, Encr: Alg{EncrAESGCM16, 128}, PRF: PRFSHA256, DH: GroupX25519}, nil)}
	resp[0].Transforms = append(resp[0].Transforms, Transform{Type: TransKE, ID: GroupECP256})
	if _, ok := acceptResponse(ours, resp, ProtoIKE, true); ok {
		t.Fatal("two KE transforms in a response accepted")
	}
	for _, bad := range []string{"aes128gcm16-sha256-prfsha256-x25519", "aes128-prfsha256-x25519", "aes128gcm16-prfsha256", "foo"} {
		if _, err := ParseProposal(ProtoIKE, bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
	if p := mk(ProtoIKE, "aes256-sha384-modp3072"); p.PRF[0] != PRFSHA384 {
		t.Fatal("PRF not derived from integrity")
	}
}

func TestIdentity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		typ  uint8
		text string
	}{
		{"192.0.2.1", IDIPv4, "192.0.2.1"}, {"2001:db8::1", IDIPv6, "2001:db8::1"},
		{"@gw.example", IDFQDN, "gw.example"}, {"gw.example", IDFQDN, "gw.example"},
		{"user@example", IDRFC822, "user@example"}, {"keyid:0a0b", IDKeyID, "keyid:0a0b"},
		{"%null", IDNull, "%null"}, {"%any", 0, "%any"},
	} {
		id, err := ParseIdentity(tc.in)
		if err != nil || id.Type != tc.typ || id.String() != tc.text {
			t.Fatalf("%q -> %v %v", tc.in, id, err)
		}
	}
	fq, _ := ParseIdentity("@GW.example")
	if !fq.Matches(Identity{Type: IDFQDN, Data: []byte("gw.EXAMPLE")}) || fq.Matches(Identity{Type: IDRFC822, Data: []byte("gw.example")}) {
		t.Fatal("FQDN matching")
	}
	if (Identity{Type: IDNull, Data: []byte{1}}).valid() {
		t.Fatal("ID_NULL with data is valid (RFC 7619, Section 3)")
	}
}

// keySource answers lookups when the test says so.
type keySource struct {
	asked []Identity
	done  []func(crypto.PublicKey, error)
}

func (k *keySource) LookupKey(_ context.Context, id Identity, _ netip.Addr, done func(crypto.PublicKey, error)) {
	k.asked = append(k.asked, id)
	k.done = append(k.done, done)
}

// runQueued runs the events the key source's answer enqueued.
func runQueued(e *Engine) {
	for {
		select {
		case ev := <-e.events:
			ev(e)
		default:
			return
		}
	}
}

func TestKeySource(t *testing.T) {
	_, ka, _ := ed25519.GenerateKey(newRand(7))
	_, kb, _ := ed25519.GenerateKey(newRand(8))
	setup := func() (*net, *keySource) {
		pa, pb := pskPeers("", "")
		pa.Auth, pb.Auth = AuthPubkey, AuthPubkey
		pa.PSK, pb.PSK = nil, nil
		pa.PrivateKey, pa.PeerKey = ka, kb.Public()
		pb.PrivateKey = kb // peer key from the key source
		ks := &keySource{}
		nw := newNet(t, pa, pb, func(c *Config) {
			c.KeySource = ks
			c.Timers.KeyLookupTimeout = 5 * time.Second
		})
		return nw, ks
	}
	// The answer arrives: the handshake completes.
	nw, ks := setup()
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	if len(ks.asked) != 1 || ks.asked[0].String() != "a.test" {
		t.Fatalf("asked %v", ks.asked)
	}
	if nw.b.e.saForPeer("ba").state != stAuthWait {
		t.Fatal("responder not waiting for the key")
	}
	// A retransmitted IKE_AUTH meanwhile is not answered twice.
	nw.advance(time.Second)
	ks.done[0](ka.Public(), nil)
	runQueued(nw.b.e)
	nw.deliver()
	checkUp(t, nw)

	// The lookup fails: AUTHENTICATION_FAILED, both sides clean.
	nw, ks = setup()
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	ks.done[0](nil, errors.New("no such key"))
	runQueued(nw.b.e)
	nw.deliver()
	if len(nw.a.e.sas)+len(nw.b.e.sas)+len(nw.a.installed)+len(nw.b.installed) != 0 {
		t.Fatal("SAs left after failed lookup")
	}

	// No answer: the lookup times out cleanly; a late answer is ignored.
	nw, ks = setup()
	_ = nw.a.e.initiate("ab")
	nw.deliver()
	nw.advance(6 * time.Second)
	if len(nw.b.e.sas) != 0 {
		t.Fatal("responder still waiting after the timeout")
	}
	ks.done[0](ka.Public(), nil)
	runQueued(nw.b.e)
	nw.deliver()
	if len(nw.b.e.sas) != 0 || len(nw.b.installed) != 0 {
		t.Fatal("late key answer revived the SA")
	}
}

func TestBadSyntaxAnswered(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	sa := nw.a.e.saForPeer("ab")
	// An authenticated CREATE_CHILD_SA without SA payload: the responder
	// answers INVALID_SYNTAX (RFC 7296, Section 2.21) and keeps the SA.
	var got *msg
	nw.a.e.sendRequest(sa, ExchCreateChildSA, func(*ikeSA) *msg { return &msg{Nonce: nw.a.e.nonce()} },
		func(_ *ikeSA, m *msg) { got = m })
	nw.deliver()
	if got == nil || got.notify(NInvalidSyntax) == nil {
		t.Fatalf("response %+v", got)
	}
	if nw.b.e.stats.BadSyntax != 1 || nw.b.e.saForPeer("ba").state != stEstablished {
		t.Fatalf("bad syntax %d", nw.b.e.stats.BadSyntax)
	}
	// Every request gets a response: a Delete for an unknown Child SA.
	got = nil
	nw.a.e.sendRequest(sa, ExchInformational, func(*ikeSA) *msg {
		return &msg{Deletes: []deletePl{{Proto: ProtoESP, SPIs: [][]byte{{0, 0, 1, 0}}}}}
	}, func(_ *ikeSA, m *msg) { got = m })
	nw.deliver()
	if got == nil || len(got.Deletes) != 0 {
		t.Fatalf("response to unknown delete %+v", got)
	}
}

func TestLocalAddressChange(t *testing.T) {
	pa, pb := pskPeers("", "")
	pb.Remote = netip.Addr{} // the responder takes the initiator from anywhere
	nw := newNet(t, pa, pb, nil)
	nw.up(t)
	old := nw.a.e.saForPeer("ab")
	moved := netip.MustParseAddr("192.0.2.77")
	nw.a.e.setLocalAddress("ab", moved)
	nw.deliver()
	n := nw.a.e.saForPeer("ab")
	if n == nil || n == old || n.state != stEstablished || n.local.Addr() != moved {
		t.Fatalf("not re-established from %v", moved)
	}
	// The responder replaced the old SA (same identity, INITIAL_CONTACT).
	if len(nw.b.e.sas) != 1 || nw.b.e.saForPeer("ba").remote.Addr() != moved {
		t.Fatalf("responder has %d SAs", len(nw.b.e.sas))
	}
	checkUp(t, nw)
}

func TestInvalidMajorVersion(t *testing.T) {
	pa, pb := pskPeers("", "")
	nw := newNet(t, pa, pb, nil)
	_ = nw.a.e.initiate("ab")
	req := append([]byte(nil), nw.a.sent[0].data...)
	nw.a.sent = nil
	req[17] = 0x30 // IKEv3
	nw.b.e.receive(req, netip.AddrPortFrom(addrB, 500), netip.AddrPortFrom(addrA, 500))
	if len(nw.b.sent) != 1 || len(nw.b.e.sas) != 0 {
		t.Fatalf("sent %d, SAs %d", len(nw.b.sent), len(nw.b.e.sas))
	}
	m, err := nw.b.e.decodePlain(nw.b.sent[0].data)
	if err != nil || m.notify(NInvalidMajorVersion) == nil || !m.Response {
		t.Fatalf("answer %+v %v", m, err)
	}
}

func TestCookieRotation(t *testing.T) {
	var c cookieSecret
	r := newRand(50)
	_ = c.rotate(r)
	ni := []byte("0123456789abcdef")
	ck := c.make(ni, addrA, 7)
	if !c.check(ck, ni, addrA, 7) || c.check(ck, ni, addrB, 7) || c.check(ck, ni, addrA, 8) {
		t.Fatal("cookie check")
	}
	_ = c.rotate(r)
	if !c.check(ck, ni, addrA, 7) {
		t.Fatal("cookie of the previous secret refused")
	}
	_ = c.rotate(r)
	if c.check(ck, ni, addrA, 7) {
		t.Fatal("cookie two secrets old accepted")
	}
}
