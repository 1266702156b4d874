package ike

import (
	"encoding/hex"
	"net/netip"
	"testing"
	"time"
)

// FuzzReceive feeds arbitrary datagrams to a responder and to an
// initiator waiting for its IKE_SA_INIT response: nothing may panic, and
// garbage must never create an established SA.
func FuzzReceive(f *testing.F) {
	for _, v := range []string{
		"c671484f699fb56d0000000000000000212022080000000000000108",
		"00000000c671484f699fb56d0000000000000000212022080000000000000108",
		"ff",
	} {
		b, _ := hex.DecodeString(v)
		f.Add(b)
	}
	// Seed with real messages from an in-memory handshake.
	pa, pb := pskPeers("", "")
	nw := newNetF(pa, pb)
	_ = nw.a.e.initiate("ab")
	for i := 0; i < 6; i++ {
		for _, d := range nw.a.sent {
			f.Add(d.data)
		}
		for _, d := range nw.b.sent {
			f.Add(d.data)
		}
		nw.deliverOnce()
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pa, pb := pskPeers("", "")
		nw := newNetF(pa, pb)
		_ = nw.a.e.initiate("ab")
		local := netip.AddrPortFrom(addrB, 500)
		remote := netip.AddrPortFrom(addrA, 500)
		nw.b.e.receive(append([]byte(nil), b...), local, remote)
		nw.b.e.receive(append([]byte(nil), b...), netip.AddrPortFrom(addrB, 4500), netip.AddrPortFrom(addrA, 4500))
		nw.a.e.receive(append([]byte(nil), b...), netip.AddrPortFrom(addrA, 500), netip.AddrPortFrom(addrB, 500))
		nw.clock.t = nw.clock.t.Add(time.Minute)
		nw.a.e.tick()
		nw.b.e.tick()
		for _, sa := range nw.b.e.sas {
			if sa.state == stEstablished {
				t.Fatal("garbage established an SA")
			}
		}
	})
}

// newNetF is newNet without a *testing.T, for fuzz seeds.
func newNetF(pa, pb Peer) *net {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	mk := func(p Peer, seed byte) *node {
		n := &node{installed: map[uint32]ChildSA{}}
		e, err := New(Config{Peers: []Peer{p}, Clock: clock, Rand: newRand(seed), Output: n})
		if err != nil {
			panic(err)
		}
		n.e = e
		return n
	}
	return &net{clock: clock, a: mk(pa, 1), b: mk(pb, 2)}
}

// deliverOnce moves one round of datagrams each way.
func (nw *net) deliverOnce() {
	for _, pair := range [][2]*node{{nw.a, nw.b}, {nw.b, nw.a}} {
		out := pair[0].sent
		pair[0].sent = nil
		for _, d := range out {
			b := d.data
			if d.marker {
				b = append([]byte{0, 0, 0, 0}, b...)
			}
			pair[1].e.receive(b, d.remote, d.local)
		}
	}
}

// FuzzParseProposal: the config notation parser never panics and whatever
// it accepts is complete.
func FuzzParseProposal(f *testing.F) {
	for _, s := range []string{"aes128gcm16-prfsha256-x25519", "aes256-sha512-modp3072", "chacha20poly1305-esn-noesn", "", "-", "aes128gcm16-sha256"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, proto := range []uint8{ProtoIKE, ProtoESP} {
			p, err := ParseProposal(proto, s)
			if err != nil {
				continue
			}
			if len(p.Encr) == 0 || (proto == ProtoIKE && (len(p.PRF) == 0 || len(p.DH) == 0)) || (proto == ProtoESP && len(p.ESN) == 0) {
				t.Fatalf("incomplete proposal accepted: %q -> %+v", s, p)
			}
			// What we offer we must accept back.
			if _, ok := selectProposal([]Proposal{p}, offerFromProposals([]Proposal{p}, nil, true), true); !ok {
				t.Fatalf("own offer not accepted: %q", s)
			}
		}
	})
}

// FuzzParseIdentity: round trip through String for the types it renders
// in configuration notation.
func FuzzParseIdentity(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "@gw.example", "gw.example", "user@example", "keyid:0a0b", "%any", "%null", "keyid:zz", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseIdentity(s)
		if err != nil {
			return
		}
		if id.Type == IDFQDN || id.Type == IDRFC822 {
			return // "@x" and "x" render the same
		}
		back, err := ParseIdentity(id.String())
		if err != nil || !back.Matches(id) && !id.Any() {
			t.Fatalf("%q -> %v -> %v (%v)", s, id, back, err)
		}
	})
}
