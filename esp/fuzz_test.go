package esp

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to the inbound path: SPI lookup through a
// loop's table, replay pre-check, decryption, padding, inner header and
// selector checks. It must never panic; whatever it accepts must be an IP
// packet inside the selectors that survives a seal/open round trip.
func FuzzOpen(f *testing.F) {
	for _, s := range []Suite{AES128GCM16, ChaCha20Poly1305} {
		esp, _, _ := espFor(f, s, ping4("198.51.100.1", "203.0.113.1", 20))
		f.Add(esp, uint8(s-1))
		esp6, _, _ := espFor(f, s, ping6("2001:db8:1::1", "2001:db8:2::1", 7))
		f.Add(esp6, uint8(s-1))
		f.Add(esp[:30], uint8(s-1))
	}
	f.Add([]byte{}, uint8(0))
	type setup struct {
		l *Loop
		b *batch
	}
	var setups []setup
	for _, esn := range []bool{false, true} {
		for _, s := range suites {
			_, in := saPair(f, s, esn, both, bothA)
			l, err := NewLoop(Config{Device: newMemDevice(1500, 1), Workers: 1, Batches: 1, MaxHeld: 1})
			if err != nil {
				f.Fatal(err)
			}
			if err := l.InstallSA(in, nil); err != nil {
				f.Fatal(err)
			}
			setups = append(setups, setup{l, <-l.inFree})
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		// Suites in the low bits, ESN in the high bit, as in saPair order.
		i := int(which) % len(suites)
		if which&0x80 != 0 {
			i += len(suites)
		}
		l, b := setups[i].l, setups[i].b
		// The loop's inbound steps, synchronously. The replay window is
		// never updated here, so every run sees the same state.
		b.pkts[0] = Packet{Buf: b.bufs[0], Off: SealOffset, Len: copy(b.bufs[0][SealOffset:], data)}
		b.n = 1
		l.lookupSPI(b, 0)
		precheckBatch(b, 1)
		if b.sa[0] == nil {
			return
		}
		l.openBatch(b)
		if b.sa[0] == nil {
			return
		}
		b.sa[0] = nil
		inner := b.bufs[0][b.ioff[0] : b.ioff[0]+b.res[0]]
		if _, ok := parseInner(inner); !ok {
			t.Fatalf("accepted a non-IP packet % x", inner)
		}
		out, in := saPair(t, suites[i%len(suites)], i >= len(suites), both, bothA)
		if err := roundTrip(t, out, in, append([]byte(nil), inner...)); err != nil {
			t.Fatalf("accepted packet does not round-trip: %v", err)
		}
	})
}

// FuzzInner runs the helpers that parse inner packets (policy parsing, MSS
// clamping, ICMP error construction) on arbitrary bytes.
func FuzzInner(f *testing.F) {
	f.Add(tcpSYN("198.51.100.1", "203.0.113.1", []byte{2, 4, 5, 0xb4}), uint16(1200))
	f.Add(tcpSYN("2001:db8:1::1", "2001:db8:2::1", []byte{1, 2, 4, 5, 0xb4, 0, 0, 0}), uint16(1200))
	f.Add(ping4("198.51.100.1", "203.0.113.1", 1400), uint16(1300))
	f.Add(ping6("2001:db8:1::1", "2001:db8:2::1", 1400), uint16(1300))
	out := make([]byte, 2000)
	f.Fuzz(func(t *testing.T, p []byte, mtu uint16) {
		if _, ok := parseInner(p); !ok {
			return
		}
		orig := append([]byte(nil), p...)
		if clampMSS(p, mtu) {
			if bytes.Equal(p, orig) {
				t.Fatal("clampMSS reported a change but made none")
			}
		}
		if n := buildTooBig(out, p, int(mtu), addr("192.0.2.1")); n > 0 {
			if _, ok := parseInner(out[:n]); !ok || !l4Valid(out[:n]) {
				t.Fatalf("bad ICMP error % x", out[:n])
			}
		}
	})
}
