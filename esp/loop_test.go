package esp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var (
	addrA = netip.MustParseAddrPort("192.0.2.1:4500")
	addrB = netip.MustParseAddrPort("192.0.2.2:4500")
)

// gw is one side of an in-memory two-gateway setup.
type gw struct {
	loop *Loop
	dev  *memDevice
	tr   *memTransport
	ev   *recordedEvents
	in   *SA
	out  *SA
}

type tapLog struct {
	mu   sync.Mutex
	pkts [][]byte
	to   netip.AddrPort
}

func (l *tapLog) add(p []byte, to netip.AddrPort) {
	l.mu.Lock()
	l.pkts = append(l.pkts, append([]byte(nil), p...))
	l.to = to
	l.mu.Unlock()
}

func (l *tapLog) lastTo() netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.to
}

func (l *tapLog) last() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pkts[len(l.pkts)-1]
}

func manualA(s Suite, esn bool) ManualSA {
	ka, kb := make([]byte, s.KeyLen()), make([]byte, s.KeyLen())
	for i := range ka {
		ka[i], kb[i] = byte(i), byte(0x80+i)
	}
	return ManualSA{SPIIn: 0x2000, SPIOut: 0x1000, Algorithm: s.String(), KeyIn: kb, KeyOut: ka, ESN: esn,
		Local: bothA, Remote: both, Peer: addrB}
}

func mirror(m ManualSA, peer netip.AddrPort) ManualSA {
	m.SPIIn, m.SPIOut = m.SPIOut, m.SPIIn
	m.KeyIn, m.KeyOut = m.KeyOut, m.KeyIn
	m.Local, m.Remote = m.Remote, m.Local
	m.Peer = peer
	return m
}

// startPair starts two loops joined by an in-memory link. If manual is
// false, A gets no SA (for acquire tests); B always has its pair.
func startPair(t *testing.T, cfg Config, m ManualSA, manualOnA bool) (a, b *gw) {
	t.Helper()
	ta, tb := newMemLink(addrA, addrB)
	a = &gw{dev: newMemDevice(1500, 16), tr: ta, ev: newEvents()}
	b = &gw{dev: newMemDevice(1500, 16), tr: tb, ev: newEvents()}
	errs := make(chan error, 2)
	for _, g := range []*gw{a, b} {
		c := cfg
		c.Device, c.UDP, c.Events = g.dev, g.tr, g.ev
		l, err := NewLoop(c)
		if err != nil {
			t.Fatal(err)
		}
		g.loop = l
	}
	var err error
	if manualOnA {
		if a.in, a.out, err = a.loop.AddManual(m); err != nil {
			t.Fatal(err)
		}
	}
	if b.in, b.out, err = b.loop.AddManual(mirror(m, addrA)); err != nil {
		t.Fatal(err)
	}
	for _, g := range []*gw{a, b} {
		go func(l *Loop) { errs <- l.Run() }(g.loop)
	}
	t.Cleanup(func() {
		a.loop.Close()
		b.loop.Close()
		for i := 0; i < 2; i++ {
			if err := <-errs; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	})
	return a, b
}

func recvWait(t *testing.T, d *memDevice) []byte {
	t.Helper()
	buf := make([]byte, 65535)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n, ok := d.tryRecv(buf); ok {
			return buf[:n]
		}
		time.Sleep(200 * time.Microsecond)
	}
	t.Fatal("no packet arrived")
	return nil
}

func expectNothing(t *testing.T, d *memDevice) {
	t.Helper()
	time.Sleep(20 * time.Millisecond)
	if d.pending() != 0 {
		buf := make([]byte, 65535)
		n, _ := d.tryRecv(buf)
		t.Fatalf("unexpected packet % x", buf[:n])
	}
}

func TestLoopEndToEnd(t *testing.T) {
	for _, s := range []Suite{AES128GCM16, ChaCha20Poly1305} {
		for _, esn := range []bool{false, true} {
			t.Run(s.String(), func(t *testing.T) {
				a, b := startPair(t, Config{Workers: 2}, manualA(s, esn), true)
				a.tr.swapBufs, b.tr.swapBufs = esn, esn
				var tap tapLog
				a.tr.tap = tap.add

				// Both ways, both families, in order.
				for i := 0; i < 300; i++ {
					p4 := ping4("198.51.100.1", "203.0.113.1", i)
					p6 := ping6("2001:db8:2::1", "2001:db8:1::1", i)
					if !a.dev.inject(p4) || !b.dev.inject(p6) {
						t.Fatal("inject")
					}
					if got := recvWait(t, b.dev); !bytes.Equal(got, p4) {
						t.Fatalf("A->B packet %d: % x", i, got)
					}
					if got := recvWait(t, a.dev); !bytes.Equal(got, p6) {
						t.Fatalf("B->A packet %d: % x", i, got)
					}
				}
				// A burst keeps its order through the parallel workers.
				for i := 0; i < 200; i++ {
					for !a.dev.inject(ping4("198.51.100.1", "203.0.113.1", i)) {
						time.Sleep(time.Millisecond)
					}
				}
				for i := 0; i < 200; i++ {
					if got := recvWait(t, b.dev); len(got) != 28+i {
						t.Fatalf("burst packet %d has %d bytes: reordered", i, len(got))
					}
				}

				// Replays, forgeries and junk are dropped and counted.
				esp := tap.last()
				good := ping4("198.51.100.2", "203.0.113.2", 5)
				b.tr.inject(esp, addrA)                                                                             // replay
				b.tr.inject(flip(esp, 5), addrA)                                                                    // forged ICV
				b.tr.inject(esp[:10], addrA)                                                                        // truncated
				b.tr.inject(append([]byte{0, 0, 0x99, 0x99}, esp[4:]...), addrA)                                    // unknown SPI
				b.tr.inject(sealRaw(a.out, 1<<20, append(ping4("192.0.2.9", "203.0.113.1", 2), 1, 2, 2, 4)), addrA) // outside selectors
				a.dev.inject(good)
				if got := recvWait(t, b.dev); !bytes.Equal(got, good) {
					t.Fatalf("good packet after the bad ones: % x", got)
				}
				expectNothing(t, b.dev)
				st := b.loop.Status()
				if st.Drops["truncated"] != 1 || st.Drops["unknown_spi"] != 1 {
					t.Fatalf("loop drops %v", st.Drops)
				}
				in := b.in.Status()
				if in.Drops["replay"] != 1 || in.Drops["auth"] != 1 || in.Drops["selector"] != 1 || in.Packets != 501 {
					t.Fatalf("SA status %+v", in)
				}
				if out := a.out.Status(); out.Packets != 501 || out.Seq != 501 || out.LastUse == 0 {
					t.Fatalf("outbound status %+v", out)
				}
			})
		}
	}
}

func TestLoopAcquire(t *testing.T) {
	var mu sync.Mutex
	var bypassed [][]byte
	cfg := Config{Bypass: func(p []byte) {
		mu.Lock()
		bypassed = append(bypassed, append([]byte(nil), p...))
		mu.Unlock()
	}}
	m := manualA(AES256GCM16, false)
	a, b := startPair(t, cfg, m, false)
	l := a.loop
	for _, p := range []Policy{
		{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.0/24"), Action: Trap},
		{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.77/32"), Action: Pass},
		{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.66/32"), Action: Drop},
	} {
		if err := l.SetPolicy(p); err != nil {
			t.Fatal(err)
		}
	}
	first := ping4("198.51.100.1", "203.0.113.5", 1)
	second := ping4("198.51.100.1", "203.0.113.5", 2)
	other := ping4("198.51.100.1", "203.0.113.6", 3)
	a.dev.inject(first)
	select {
	case got := <-a.ev.acquires:
		if got != [2]netip.Addr{addr("198.51.100.1"), addr("203.0.113.5")} {
			t.Fatalf("acquire %v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no acquire")
	}
	a.dev.inject(second) // replaces the held packet, no second acquire
	a.dev.inject(other)
	<-a.ev.acquires
	a.dev.inject(ping4("198.51.100.1", "203.0.113.66", 4))
	pass := ping4("198.51.100.1", "203.0.113.77", 5)
	a.dev.inject(pass)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(bypassed) == 1 })
	if !bytes.Equal(bypassed[0], pass) {
		t.Fatal("bypassed packet differs")
	}
	if st := l.Status(); st.Held != 2 || st.Drops["held"] != 1 || st.Drops["policy"] != 1 {
		t.Fatalf("status %+v", st)
	}
	if len(a.ev.acquires) != 0 {
		t.Fatal("second acquire for a held destination")
	}

	// The SA arrives: installing it with its policy releases the held packets.
	if _, _, err := l.AddManual(m); err != nil {
		t.Fatal(err)
	}
	got := [][]byte{recvWait(t, b.dev), recvWait(t, b.dev)}
	if !(bytes.Equal(got[0], second) && bytes.Equal(got[1], other) || bytes.Equal(got[1], second) && bytes.Equal(got[0], other)) {
		t.Fatalf("released packets % x", got)
	}
	if st := l.Status(); st.Held != 0 {
		t.Fatalf("still held: %+v", st)
	}

	// A trap resolved to pass hands the packet to Bypass; ReleaseHeld drops.
	l.SetPolicy(Policy{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.88/32"), Action: Trap})
	l.SetPolicy(Policy{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.99/32"), Action: Trap})
	p88 := ping4("198.51.100.1", "203.0.113.88", 6)
	a.dev.inject(p88)
	a.dev.inject(ping4("198.51.100.1", "203.0.113.99", 7))
	<-a.ev.acquires
	<-a.ev.acquires
	l.SetPolicy(Policy{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.88/32"), Action: Pass})
	mu.Lock()
	if len(bypassed) != 2 || !bytes.Equal(bypassed[1], p88) {
		t.Fatalf("pass after trap: %d bypassed", len(bypassed))
	}
	mu.Unlock()
	if !l.ReleaseHeld(addr("203.0.113.99"), HeldDrop) || l.ReleaseHeld(addr("203.0.113.99"), HeldDrop) {
		t.Fatal("ReleaseHeld")
	}
	if h := l.Held(); len(h) != 0 {
		t.Fatalf("held %v", h)
	}
	expectNothing(t, b.dev)
}

func waitFor(t *testing.T, f func() bool) {
	t.Helper()
	for i := 0; i < 10000; i++ {
		if f() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("condition not met")
}

// TestLoopAllocs: the steady-state send and receive paths allocate nothing.
func TestLoopAllocs(t *testing.T) {
	for _, s := range []Suite{AES128GCM16, ChaCha20Poly1305} {
		a, b := startPair(t, Config{MSSClamp: true}, manualA(s, true), true)
		p := ping4("198.51.100.1", "203.0.113.1", 1000)
		q := ping6("2001:db8:2::1", "2001:db8:1::1", 500)
		buf := make([]byte, 65535)
		for i := 0; i < 200; i++ { // warm up
			a.dev.inject(p)
			b.dev.recv(buf)
		}
		allocs := testing.AllocsPerRun(1000, func() {
			a.dev.inject(p)
			b.dev.inject(q)
			if n := b.dev.recv(buf); n != len(p) {
				t.Fatalf("got %d bytes", n)
			}
			if n := a.dev.recv(buf); n != len(q) {
				t.Fatalf("got %d bytes", n)
			}
		})
		if allocs != 0 {
			t.Fatalf("%v: %v allocations per round trip through two loops", s, allocs)
		}
	}
}

func TestLoopTooBig(t *testing.T) {
	a, b := startPair(t, Config{OuterMTU: 1280}, manualA(AES128GCM16, false), true)
	mtu := TunnelMTU(1280, false, true)
	if mtu != 1218 || a.out.Status().MTU != mtu {
		t.Fatalf("tunnel MTU %d, SA %d", mtu, a.out.Status().MTU)
	}
	big4 := ping4("198.51.100.1", "203.0.113.1", mtu-28+1)
	a.dev.inject(big4)
	icmp := recvWait(t, a.dev)
	if icmp[9] != protoICMP || icmp[20] != 3 || icmp[21] != 4 || int(binary.BigEndian.Uint16(icmp[26:])) != mtu ||
		!bytes.Equal(icmp[16:20], big4[12:16]) || fold(checksum(0, icmp[:20])) != 0 || !l4Valid(icmp) ||
		!bytes.Equal(icmp[28:], big4[:len(icmp)-28]) || len(icmp) != 576 {
		t.Fatalf("ICMP % x", icmp[:48])
	}
	big6 := ping6("2001:db8:1::1", "2001:db8:2::1", 1400)
	a.dev.inject(big6)
	ptb := recvWait(t, a.dev)
	if ptb[6] != protoICMPv6 || ptb[40] != 2 || binary.BigEndian.Uint32(ptb[44:]) != 1280 ||
		!bytes.Equal(ptb[24:40], big6[8:24]) || !l4Valid(ptb) || len(ptb) != 1280 {
		t.Fatalf("PTB % x", ptb[:56])
	}
	expectNothing(t, b.dev)
	if d := a.out.Status().Drops["too_big"]; d != 2 {
		t.Fatalf("too_big %d", d)
	}
	// Without DF the packet goes (the outer packet is fragmented), and so
	// does an IPv6 packet that exceeds the tunnel MTU but not 1280.
	nodf := ipPacket(addr("198.51.100.1"), addr("203.0.113.1"), protoICMP, echo(1300), false)
	a.dev.inject(nodf)
	if got := recvWait(t, b.dev); !bytes.Equal(got, nodf) {
		t.Fatal("no-DF packet")
	}
	small6 := ping6("2001:db8:1::1", "2001:db8:2::1", 1230)
	a.dev.inject(small6)
	if got := recvWait(t, b.dev); !bytes.Equal(got, small6) {
		t.Fatal("IPv6 packet of 1278 bytes")
	}
	// No ICMP error about an ICMP error.
	errPkt := ipPacket(addr("198.51.100.1"), addr("203.0.113.1"), protoICMP, append([]byte{3, 1, 0, 0}, make([]byte, 1300)...), true)
	a.dev.inject(errPkt)
	expectNothing(t, a.dev)
}

func TestLoopMSSClamp(t *testing.T) {
	a, b := startPair(t, Config{MSSClamp: true, OuterMTU: 1400}, manualA(ChaCha20Poly1305, false), true)
	mtu := TunnelMTU(1400, false, true)
	for _, tc := range []struct {
		src, dst string
		opts     []byte
		off      int // MSS value offset in the options, -1: none
		want     int
	}{
		{"198.51.100.1", "203.0.113.1", []byte{2, 4, 0x05, 0xb4, 1, 1, 4, 2}, 2, mtu - 40},
		{"198.51.100.1", "203.0.113.1", []byte{1, 2, 4, 0x05, 0xb4, 1, 1, 0}, 3, mtu - 40}, // odd offset
		{"198.51.100.1", "203.0.113.1", []byte{2, 4, 0x02, 0x00, 1, 1, 1, 0}, 2, 512},      // already small
		{"2001:db8:1::1", "2001:db8:2::1", []byte{2, 4, 0x05, 0xb4}, 2, mtu - 60},
	} {
		p := tcpSYN(tc.src, tc.dst, tc.opts)
		a.dev.inject(p)
		got := recvWait(t, b.dev)
		h := 20
		if got[0]>>4 == 6 {
			h = 40
		}
		if mss := int(binary.BigEndian.Uint16(got[h+20+tc.off:])); mss != tc.want || !l4Valid(got) {
			t.Fatalf("MSS %d (want %d), checksum ok %v", mss, tc.want, l4Valid(got))
		}
	}
}

// TestLoopRekey: a new SA pair takes over while the old inbound SA keeps
// working until it is removed.
func TestLoopRekey(t *testing.T) {
	m := manualA(AES128GCM16, false)
	a, b := startPair(t, Config{}, m, true)
	var tap tapLog
	a.tr.tap = tap.add
	p := ping4("198.51.100.1", "203.0.113.1", 10)
	a.dev.inject(p)
	recvWait(t, b.dev)

	// New pair: B installs its inbound SA first, then A switches.
	n := m
	n.SPIIn, n.SPIOut = 0x4000, 0x3000
	nb := mirror(n, addrA)
	bin, bout, err := NewManualPair(nb)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.loop.InstallSA(bin, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.loop.ReplaceOutbound(b.out, bout); err != nil {
		t.Fatal(err)
	}
	ain, aout, err := NewManualPair(n)
	if err != nil {
		t.Fatal(err)
	}
	a.loop.InstallSA(ain, nil)
	if err := a.loop.ReplaceOutbound(a.out, aout); err != nil {
		t.Fatal(err)
	}
	a.dev.inject(p)
	recvWait(t, b.dev)
	if binary.BigEndian.Uint32(tap.last()) != 0x3000 || tap.lastTo() != addrB {
		t.Fatal("A still sends with the old SA")
	}
	// The peer's NAT mapping changes: later packets go to the new port.
	moved := netip.MustParseAddrPort("192.0.2.2:31000")
	a.loop.SetPeer(aout, moved)
	a.dev.inject(p)
	recvWait(t, b.dev)
	if tap.lastTo() != moved || aout.Peer() != moved {
		t.Fatalf("sent to %v after SetPeer", tap.lastTo())
	}
	// An old packet still in flight (seq 2 of the old SA) is accepted.
	late := sealRaw(a.out, 2, append(append([]byte(nil), p...), 1, 2, 2, 4))
	b.tr.inject(late, addrA)
	recvWait(t, b.dev)
	// After the overlap, the old SPI is unknown.
	if err := b.loop.RemoveSA(0x1000, Inbound); err != nil {
		t.Fatal(err)
	}
	b.tr.inject(sealRaw(a.out, 3, append(append([]byte(nil), p...), 1, 2, 2, 4)), addrA)
	a.dev.inject(p)
	recvWait(t, b.dev)
	if d := b.loop.Status().Drops["unknown_spi"]; d != 1 {
		t.Fatalf("unknown_spi %d", d)
	}
	st := b.loop.Status()
	if len(st.SAs) != 2 || st.SAs[0].SPI != 0x3000 || st.SAs[1].SPI != 0x4000 {
		t.Fatalf("SAs %+v", st.SAs)
	}
	// Removing the outbound SA turns its policies into traps.
	if err := a.loop.RemoveSA(0x3000, Outbound); err != nil {
		t.Fatal(err)
	}
	a.dev.inject(p)
	<-a.ev.acquires
}

// TestLoopRawESP: an SA whose peer port is 0 uses the raw-ESP transport.
func TestLoopRawESP(t *testing.T) {
	rawA, rawB := newMemLink(netip.AddrPortFrom(addrA.Addr(), 0), netip.AddrPortFrom(addrB.Addr(), 0))
	da, db := newMemDevice(1500, 8), newMemDevice(1500, 8)
	// A's one transport serves both encapsulations.
	la, err := NewLoop(Config{Device: da, Raw: rawA, UDP: rawA})
	if err != nil {
		t.Fatal(err)
	}
	if len(la.readers) != 1 {
		t.Fatalf("%d inbound readers for one transport", len(la.readers))
	}
	lb, _ := NewLoop(Config{Device: db, Raw: rawB})
	m := manualA(AES256GCM16, true)
	m.Peer = netip.AddrPortFrom(addrB.Addr(), 0)
	if _, _, err := la.AddManual(m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := lb.AddManual(mirror(m, netip.AddrPortFrom(addrA.Addr(), 0))); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- la.Run() }()
	go func() { errs <- lb.Run() }()
	defer func() {
		la.Close()
		lb.Close()
		<-errs
		<-errs
	}()
	p := ping6("2001:db8:1::1", "2001:db8:2::1", 100)
	da.inject(p)
	if got := recvWait(t, db); !bytes.Equal(got, p) {
		t.Fatal("raw ESP")
	}
	if mtu := la.Status().SAs[1].MTU; mtu != TunnelMTU(1500, false, false) {
		t.Fatalf("raw MTU %d", mtu)
	}
}

func TestLoopConfigErrors(t *testing.T) {
	if _, err := NewLoop(Config{}); err == nil {
		t.Fatal("no device accepted")
	}
	l, err := NewLoop(Config{Device: newMemDevice(1500, 4)})
	if err != nil {
		t.Fatal(err)
	}
	if l.bufSize != Headroom+1500+SealOverhead+Tailroom {
		t.Fatalf("buffer size %d", l.bufSize)
	}
	if l2, _ := NewLoop(Config{Device: newMemDevice(9000, 4), MaxPacket: 100000}); l2.bufSize != Headroom+MaxPacket+Tailroom {
		t.Fatalf("buffer size %d", l2.bufSize)
	}
	out, in := saPair(t, AES128GCM16, false, net4b, net4a)
	if l.InstallSA(out, in) == nil {
		t.Fatal("swapped directions accepted")
	}
	small, _ := NewSA(SAConfig{SPI: 7, Dir: Inbound, Suite: AES128GCM16, Key: make([]byte, 20)})
	if l.InstallSA(small, nil) == nil {
		t.Fatal("reserved SPI accepted")
	}
	for _, p := range []Policy{
		{Local: pfx("198.51.100.0/24"), Remote: pfx("2001:db8::/32"), Action: Drop},
		{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.0/24")},
		{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.0/24"), Action: Trap, SA: out},
		{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.0/24"), Action: Protect, SA: in},
	} {
		if l.SetPolicy(p) == nil {
			t.Fatalf("%+v accepted", p)
		}
	}
	if l.RemoveSA(1234, Inbound) == nil || l.ReplaceOutbound(out, out) == nil {
		t.Fatal("unknown SA accepted")
	}
	if _, _, err := NewManualPair(ManualSA{Algorithm: "des"}); err == nil {
		t.Fatal("des accepted")
	}
}

// TestLoopAcquireRetry: a destination still held after AcquireRetry gets
// another Acquire with its next packet.
func TestLoopAcquireRetry(t *testing.T) {
	a, _ := startPair(t, Config{AcquireRetry: time.Nanosecond}, manualA(AES128GCM16, false), false)
	a.loop.SetPolicy(Policy{Local: pfx("198.51.100.0/24"), Remote: pfx("203.0.113.0/24"), Action: Trap})
	for i := 0; i < 3; i++ {
		a.dev.inject(ping4("198.51.100.1", "203.0.113.5", i))
		time.Sleep(2 * time.Millisecond) // separate batches, clock moves
		select {
		case <-a.ev.acquires:
		case <-time.After(10 * time.Second):
			t.Fatalf("no acquire for packet %d", i)
		}
	}
	if st := a.loop.Status(); st.Held != 1 {
		t.Fatalf("held %d", st.Held)
	}
}

// TestLoopRekeyUnderTraffic swaps SAs while packets flow both ways: none
// may be lost, reordered within an SA, or rejected.
func TestLoopRekeyUnderTraffic(t *testing.T) {
	m := manualA(ChaCha20Poly1305, true)
	a, b := startPair(t, Config{Workers: 3}, m, true)
	const total = 3000
	done := make(chan int, 2)
	pump := func(from, to *gw, src, dst string) {
		go func() {
			for i := 0; i < total; i++ {
				p := ping4(src, dst, i%200)
				for !from.dev.inject(p) {
					time.Sleep(100 * time.Microsecond)
				}
			}
		}()
		go func() {
			buf := make([]byte, 65535)
			n := 0
			for n < total {
				if _, ok := to.dev.tryRecv(buf); ok {
					n++
					continue
				}
				time.Sleep(100 * time.Microsecond)
			}
			done <- n
		}()
	}
	pump(a, b, "198.51.100.1", "203.0.113.1")
	pump(b, a, "203.0.113.1", "198.51.100.1")
	for round := 0; round < 5; round++ {
		time.Sleep(2 * time.Millisecond)
		n := m
		n.SPIIn, n.SPIOut = 0x10000+uint32(round)*2, 0x10001+uint32(round)*2
		ain, aout, err := NewManualPair(n)
		if err != nil {
			t.Fatal(err)
		}
		bin, bout, _ := NewManualPair(mirror(n, addrA))
		// Both sides install the new inbound SA, then switch outbound.
		a.loop.InstallSA(ain, nil)
		b.loop.InstallSA(bin, nil)
		if err := a.loop.ReplaceOutbound(a.out, aout); err != nil {
			t.Fatal(err)
		}
		if err := b.loop.ReplaceOutbound(b.out, bout); err != nil {
			t.Fatal(err)
		}
		a.out, b.out = aout, bout
		// The old inbound SAs stay: packets sealed before the swap may
		// still be in flight. They are removed at the end.
	}
	for i := 0; i < 2; i++ {
		select {
		case n := <-done:
			if n != total {
				t.Fatalf("received %d of %d", n, total)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("traffic stalled")
		}
	}
	for _, g := range []*gw{a, b} {
		var in uint64
		for _, s := range g.loop.Status().SAs {
			if len(s.Drops) != 0 {
				t.Fatalf("drops on SA %08x: %v", s.SPI, s.Drops)
			}
			if s.Dir == Inbound {
				in += s.Packets
			}
		}
		if in != total {
			t.Fatalf("inbound SAs counted %d packets", in)
		}
	}
}

// TestLoopExpireEvents: lifetimes counted on the packet path reach the
// loop's Events once each, for both directions.
func TestLoopExpireEvents(t *testing.T) {
	m := manualA(AES128GCM16, false)
	m.Life = Lifetime{SoftPackets: 2, HardPackets: 4}
	a, b := startPair(t, Config{}, m, true)
	for i := 0; i < 4; i++ {
		p := ping4("198.51.100.1", "203.0.113.1", i)
		a.dev.inject(p)
		if got := recvWait(t, b.dev); !bytes.Equal(got, p) {
			t.Fatal("packet")
		}
	}
	a.dev.inject(ping4("198.51.100.1", "203.0.113.1", 9)) // fifth: hard limit
	expectNothing(t, b.dev)
	want := []expireEvent{{0x1000, Outbound, false}, {0x1000, Outbound, true}}
	if got := a.ev.list(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("A events %+v", got)
	}
	if got := b.ev.list(); len(got) != 1 || got[0] != (expireEvent{0x1000, Inbound, false}) {
		t.Fatalf("B events %+v", got)
	}
	if d := a.out.Status().Drops["expired"]; d != 1 {
		t.Fatalf("expired drops %d", d)
	}
}
