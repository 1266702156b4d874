package main

import (
	"bytes"
	"io"
	"net/netip"
	"testing"

	"swanling/config"
	"swanling/esp"
	"swanling/ike"
)

// fakePlane records what the glue asks of the ESP loop.
type fakePlane struct {
	in       map[uint32]*esp.SA
	policies map[[2]netip.Prefix]esp.Policy
	removed  []uint32
}

func (f *fakePlane) InstallSA(in, out *esp.SA) error {
	if in != nil {
		f.in[in.SPI()] = in
	}
	return nil
}
func (f *fakePlane) RemoveSA(spi uint32, dir esp.Direction) error {
	if dir == esp.Inbound {
		delete(f.in, spi)
	}
	f.removed = append(f.removed, spi)
	return nil
}
func (f *fakePlane) SetPolicy(p esp.Policy) error {
	f.policies[[2]netip.Prefix{p.Local, p.Remote}] = p
	return nil
}
func (f *fakePlane) RemovePolicy(l, r netip.Prefix) bool {
	_, ok := f.policies[[2]netip.Prefix{l, r}]
	delete(f.policies, [2]netip.Prefix{l, r})
	return ok
}

func (f *fakePlane) ReplaceOutbound(old, new *esp.SA) error {
	for k, p := range f.policies {
		if p.SA == old {
			p.SA = new
			f.policies[k] = p
		}
	}
	return nil
}

func (f *fakePlane) outSPI(t *testing.T) uint32 {
	t.Helper()
	if len(f.policies) != 1 {
		t.Fatalf("%d policies", len(f.policies))
	}
	for _, p := range f.policies {
		if p.Action != esp.Protect || p.SA == nil {
			t.Fatalf("policy %v without SA", p.Action)
		}
		return p.SA.SPI()
	}
	return 0
}

func child(spiIn, spiOut, rekeys uint32, initiator bool) ike.ChildSA {
	key := bytes.Repeat([]byte{byte(spiIn)}, 20)
	return ike.ChildSA{Tunnel: "t", SPIIn: spiIn, SPIOut: spiOut, Suite: "aes128gcm16", KeyIn: key, KeyOut: key,
		LocalTS:  []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		RemoteTS: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		Peer:     netip.MustParseAddrPort("192.0.2.2:4500"), Encap: true, Rekeys: rekeys, Initiator: initiator}
}

// TestGlueMakeBeforeBreak: a Child SA the peer created to rekey ours only
// receives until the old one goes; one we created takes over at once; the
// last one gone turns the policy back into a trap.
func TestGlueMakeBeforeBreak(t *testing.T) {
	f := &fakePlane{in: map[uint32]*esp.SA{}, policies: map[[2]netip.Prefix]esp.Policy{}}
	g := &ikeGlue{log: newTextLogger(io.Discard, nil, false), plane: f, children: map[uint32]*gluedChild{},
		tunnels: map[string]*config.Tunnel{"t": {Name: "t", Start: "trap"}}}
	if err := g.InstallChild(child(0x1001, 0x2001, 0, true)); err != nil {
		t.Fatal(err)
	}
	if f.outSPI(t) != 0x2001 {
		t.Fatal("first Child SA not used")
	}
	// The peer rekeys: new inbound at once, outbound stays on the old SA.
	if err := g.InstallChild(child(0x1002, 0x2002, 0x1001, false)); err != nil {
		t.Fatal(err)
	}
	if f.in[0x1002] == nil || f.outSPI(t) != 0x2001 {
		t.Fatal("responder moved outbound traffic before the old SA went")
	}
	// The peer deletes the old SA: outbound moves, then the old SA goes.
	g.RemoveChild(child(0x1001, 0x2001, 0, true))
	if f.outSPI(t) != 0x2002 || f.in[0x1001] != nil {
		t.Fatal("outbound not moved to the new SA")
	}
	// The peer moves (NAT rebinding): the outbound SA follows, its
	// sequence number ahead of the old one's.
	moved := child(0x1002, 0x2002, 0x1001, false)
	moved.Peer = netip.MustParseAddrPort("192.0.2.99:34567")
	if err := g.InstallChild(moved); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.policies {
		if p.SA.Peer() != moved.Peer || p.SA.Status().Seq < seqSkip {
			t.Fatalf("outbound SA did not follow the peer: %v seq %d", p.SA.Peer(), p.SA.Status().Seq)
		}
	}
	// We rekey: outbound moves at once.
	if err := g.InstallChild(child(0x1003, 0x2003, 0x1002, true)); err != nil {
		t.Fatal(err)
	}
	if f.outSPI(t) != 0x2003 {
		t.Fatal("initiator did not move outbound traffic")
	}
	g.RemoveChild(child(0x1002, 0x2002, 0x1001, false))
	if f.outSPI(t) != 0x2003 {
		t.Fatal("removing the old SA touched the new one's policy")
	}
	g.RemoveChild(child(0x1003, 0x2003, 0x1002, true))
	for _, p := range f.policies {
		if p.Action != esp.Trap {
			t.Fatalf("policy %v after the last Child SA, want trap", p.Action)
		}
	}
}

func TestPeerFromTunnel(t *testing.T) {
	cfg := &config.Config{}
	cfg.Listen.IKEPort = 500
	cfg.Local.Address = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	tun := &config.Tunnel{Name: "hq", Peer: "192.0.2.2", Auth: config.AuthPSK, PSK: "0123456789abcdef0123",
		LocalID: "@a.test", LocalTS: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		RemoteTS: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
		IKE:      []string{"aes256gcm16-prfsha384-ecp384"}, ESP: []string{"chacha20poly1305"}, Start: "start"}
	p, err := peerFromTunnel(cfg, tun, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Remote != netip.MustParseAddr("192.0.2.2") || p.Local != netip.MustParseAddr("192.0.2.1") ||
		p.LocalID.String() != "a.test" || p.RemoteID.String() != "192.0.2.2" || !p.Restart ||
		len(p.IKE) != 1 || p.IKE[0].DH[0] != ike.GroupECP384 || p.ESP[0].Encr[0].ID != ike.EncrChaCha || string(p.PSK) != tun.PSK {
		t.Fatalf("%+v", p)
	}
	// No proposals: the hardware default, ChaCha20-Poly1305 first
	// without fast AES.
	tun.IKE, tun.ESP = nil, nil
	p, _ = peerFromTunnel(cfg, tun, nil, false)
	if p.ESP[0].Encr[0].ID != ike.EncrChaCha || p.IKE[0].Encr[0].ID != ike.EncrChaCha {
		t.Fatal("default order ignores the hardware")
	}
	// AUTH_NULL takes no remote identity from the address.
	tun.Auth, tun.PSK = config.AuthNull, ""
	p, _ = peerFromTunnel(cfg, tun, nil, true)
	if !p.RemoteID.Any() {
		t.Fatalf("null auth remote id %v", p.RemoteID)
	}
	tun.Auth, tun.PeerPubkey = config.AuthPubkey, "not base64!"
	if _, err := peerFromTunnel(cfg, tun, nil, true); err == nil {
		t.Fatal("bad peer_pubkey accepted")
	}
	tun.PeerPubkey = "MCowBQYDK2VwAyEA+qo2KrRR6d3rj2DZVeBgWoLtzo+y6BOKErci4qbl9RQ="
	if p, err := peerFromTunnel(cfg, tun, nil, true); err != nil || p.PeerKey == nil {
		t.Fatalf("pubkey: %v", err)
	}
}
