package esp

import (
	"encoding/binary"
	"testing"
)

func TestTunnelMTU(t *testing.T) {
	for i, tc := range []struct {
		outer    int
		v6, udp  bool
		want     int
		espTotal int // ESP packet length for an inner packet of want bytes
	}{
		/* 0 */ {1500, false, true, 1438, 1472},
		/* 1 */ {1500, false, false, 1446, 1480},
		/* 2 */ {1500, true, true, 1418, 1452},
		/* 3 */ {1500, true, false, 1426, 1460},
		/* 4 */ {1492, false, true, 1430, 1464}, // PPPoE
		/* 5 */ {1280, true, true, 1198, 1232},
		/* 6 */ {60, false, true, 0, 0},
	} {
		got := TunnelMTU(tc.outer, tc.v6, tc.udp)
		if got != tc.want {
			t.Fatalf("case %d: %d, want %d", i, got, tc.want)
		}
		if got == 0 {
			continue
		}
		// The packet it allows must fit, and one byte more must not.
		out, _ := saPair(t, AES128GCM16, false, net4b, net4a)
		p := ping4("198.51.100.1", "203.0.113.1", got-28)
		n, err := out.Seal(sealBuf(p), len(p))
		h := 20
		if tc.v6 {
			h = 40
		}
		if tc.udp {
			h += 8
		}
		if err != nil || n != tc.espTotal || n+h > tc.outer {
			t.Fatalf("case %d: ESP %d bytes (+%d) for %d: %v", i, n, h, tc.outer, err)
		}
		p = ping4("198.51.100.1", "203.0.113.1", got-28+1)
		if n, _ := out.Seal(sealBuf(p), len(p)); n+h <= tc.outer {
			t.Fatalf("case %d: one more byte still fits", i)
		}
	}
}

func TestBuildTooBigRefusals(t *testing.T) {
	out := make([]byte, 2000)
	src := addr("192.0.2.1")
	nodf := ipPacket(addr("198.51.100.1"), addr("203.0.113.1"), protoICMP, echo(1400), false)
	frag := ping4("198.51.100.1", "203.0.113.1", 1400)
	binary.BigEndian.PutUint16(frag[6:], 0x4000|100) // DF and an offset
	mcast := ping4("224.0.0.1", "203.0.113.1", 1400)
	icmpErr := ipPacket(addr("198.51.100.1"), addr("203.0.113.1"), protoICMP, append([]byte{11, 0, 0, 0}, make([]byte, 1400)...), true)
	icmp6Err := ipPacket(addr("2001:db8:1::1"), addr("2001:db8:2::1"), protoICMPv6, append([]byte{1, 0, 0, 0}, make([]byte, 1400)...), false)
	mcast6 := ping6("ff02::1", "2001:db8:2::1", 1400)
	for i, p := range [][]byte{nodf, frag, mcast, icmpErr, icmp6Err, mcast6} {
		if n := buildTooBig(out, p, 1200, src); n != 0 {
			t.Fatalf("case %d: built an ICMP error", i)
		}
	}
	// With a configured source.
	p := ping4("198.51.100.1", "203.0.113.1", 1400)
	n := buildTooBig(out, p, 1200, src)
	if n != 576 || out[12] != 192 || out[15] != 1 || !l4Valid(out[:n]) {
		t.Fatalf("source: % x", out[:20])
	}
	// Too small an output buffer.
	if buildTooBig(out[:100], p, 1200, src) != 0 {
		t.Fatal("overflowed the output buffer")
	}
}

func TestClampMSSCases(t *testing.T) {
	for i, tc := range []struct {
		pkt     []byte
		changed bool
	}{
		/* 0 */ {tcpSYN("198.51.100.1", "203.0.113.1", []byte{2, 4, 0x05, 0xb4}), true},
		/* 1 */ {tcpSYN("198.51.100.1", "203.0.113.1", []byte{1, 1, 1, 1}), false}, // no MSS option
		/* 2 */ {tcpSYN("198.51.100.1", "203.0.113.1", []byte{0, 2, 4, 5}), false}, // end of options first
		/* 3 */ {tcpSYN("198.51.100.1", "203.0.113.1", []byte{3, 0, 2, 4}), false}, // bad option length
		/* 4 */ {tcpSYN("198.51.100.1", "203.0.113.1", []byte{1, 1, 1, 2}), false}, // option cut short
		/* 5 */ {tcpSYN("198.51.100.1", "203.0.113.1", []byte{4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 2, 4, 0x23, 0x28, 0, 0}), true},
		/* 6 */ {ping4("198.51.100.1", "203.0.113.1", 40), false},
	} {
		p := tc.pkt
		if i == 6 {
			p[9] = protoTCP // not a SYN: flags byte is 0
		}
		if got := clampMSS(p, 1000); got != tc.changed {
			t.Fatalf("case %d: changed %v", i, got)
		}
		if tc.changed && !l4Valid(p) {
			t.Fatalf("case %d: checksum broken", i)
		}
	}
	// Not a SYN.
	p := tcpSYN("198.51.100.1", "203.0.113.1", []byte{2, 4, 0x05, 0xb4})
	p[20+13] = 0x10
	if clampMSS(p, 1000) {
		t.Fatal("clamped an ACK")
	}
}
