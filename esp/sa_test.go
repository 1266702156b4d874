package esp

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
)

type recordedEvents struct {
	mu       sync.Mutex
	expires  []expireEvent
	acquires chan [2]netip.Addr
}

type expireEvent struct {
	spi  uint32
	dir  Direction
	hard bool
}

func newEvents() *recordedEvents {
	return &recordedEvents{acquires: make(chan [2]netip.Addr, 16)}
}

func (e *recordedEvents) Acquire(src, dst netip.Addr, proto uint8) {
	select {
	case e.acquires <- [2]netip.Addr{src, dst}:
	default:
	}
}

func (e *recordedEvents) Expire(spi uint32, dir Direction, hard bool) {
	e.mu.Lock()
	e.expires = append(e.expires, expireEvent{spi, dir, hard})
	e.mu.Unlock()
}

func (e *recordedEvents) list() []expireEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]expireEvent(nil), e.expires...)
}

var (
	net4a = []netip.Prefix{pfx("198.51.100.0/24")}
	net4b = []netip.Prefix{pfx("203.0.113.0/24")}
	net6a = []netip.Prefix{pfx("2001:db8:1::/48")}
	net6b = []netip.Prefix{pfx("2001:db8:2::/48")}
	both  = append(append([]netip.Prefix{}, net4b...), net6b...)
	bothA = append(append([]netip.Prefix{}, net4a...), net6a...)
)

// roundTrip seals p with out and opens it with in.
func roundTrip(t *testing.T, out, in *SA, p []byte) error {
	t.Helper()
	buf := sealBuf(p)
	n, err := out.Seal(buf, len(p))
	if err != nil {
		return err
	}
	inner, m, nh, err := in.Open(buf, SealOffset, n)
	if err != nil {
		return err
	}
	wantNH := byte(4)
	if p[0]>>4 == 6 {
		wantNH = 41
	}
	if nh != wantNH || inner != Headroom || !bytes.Equal(buf[inner:inner+m], p) {
		t.Fatalf("round trip changed the packet: nh %d off %d\n got % x\nwant % x", nh, inner, buf[inner:inner+m], p)
	}
	return nil
}

func TestRoundTrip(t *testing.T) {
	for _, s := range suites {
		for _, esn := range []bool{false, true} {
			// Inbound selectors: local = b side, remote = a side.
			out, in := saPair(t, s, esn, both, bothA)
			for size := 0; size < 70; size++ {
				if err := roundTrip(t, out, in, ping4("198.51.100.7", "203.0.113.9", size)); err != nil {
					t.Fatalf("%v esn=%v v4 size %d: %v", s, esn, size, err)
				}
				if err := roundTrip(t, out, in, ping6("2001:db8:1::7", "2001:db8:2::9", size)); err != nil {
					t.Fatalf("%v esn=%v v6 size %d: %v", s, esn, size, err)
				}
			}
			for _, size := range []int{1400, 8192, 65535 - 28} {
				if err := roundTrip(t, out, in, ping4("198.51.100.7", "203.0.113.9", size)); err != nil {
					t.Fatalf("%v size %d: %v", s, size, err)
				}
			}
			st := in.Status()
			if st.Packets != 143 || st.Seq != 143 || len(st.Drops) != 0 || st.LastUse == 0 {
				t.Fatalf("inbound status %+v", st)
			}
		}
	}
}

// TestESNHighBits crosses the 2^32 boundary with ESN: the high bits are not
// sent but must be in the ICV (RFC 4303, Section 2.2.1), and the receiver
// infers them (Appendix A2.2).
func TestESNHighBits(t *testing.T) {
	for _, s := range suites {
		out, in := saPair(t, s, true, net4b, net4a)
		out.SetSeq(1<<32 - 3)
		in.SetSeq(1<<32 - 3)
		var bufs [][]byte
		var lens []int
		for i := 0; i < 6; i++ { // 2^32-2 ... 2^32+3
			p := ping4("198.51.100.1", "203.0.113.1", i)
			buf := sealBuf(p)
			n, err := out.Seal(buf, len(p))
			if err != nil {
				t.Fatal(err)
			}
			if got := binary.BigEndian.Uint32(buf[SealOffset+4:]); got != uint32(uint64(1<<32-2)+uint64(i)) {
				t.Fatalf("wire seq %#x", got)
			}
			bufs, lens = append(bufs, buf), append(lens, n)
		}
		// Deliver out of order across the boundary.
		for _, i := range []int{3, 0, 5, 1, 4, 2} {
			if _, _, _, err := in.Open(bufs[i], SealOffset, lens[i]); err != nil {
				t.Fatalf("%v packet %d: %v", s, i, err)
			}
		}
		if top := in.Status().Seq; top != 1<<32+3 {
			t.Fatalf("top %#x", top)
		}
		// A receiver that thinks it is in the previous subspace guesses the
		// wrong high bits for a packet far ahead: the ICV fails.
		_, in2 := saPair(t, s, true, net4b, net4a)
		in2.SetSeq(0x7fffffff)
		if _, _, _, err := in2.Open(append([]byte(nil), bufs[3]...), SealOffset, lens[3]); err != ErrAuth {
			t.Fatalf("wrong high bits: %v", err)
		}
		// Without ESN on the receiver the AAD differs as well.
		_, in3 := saPair(t, s, false, net4b, net4a)
		if _, _, _, err := in3.Open(append([]byte(nil), bufs[4]...), SealOffset, lens[4]); err != ErrAuth {
			t.Fatalf("ESN mismatch: %v", err)
		}
	}
}

// TestSeqExhaustion: the counter never cycles (RFC 4303, Section 3.3.3).
func TestSeqExhaustion(t *testing.T) {
	for _, esn := range []bool{false, true} {
		out, in := saPair(t, AES128GCM16, esn, net4b, net4a)
		ev := newEvents()
		out.sink = ev
		last := uint64(1<<32 - 1)
		if esn {
			last = 1<<64 - 1
		}
		out.SetSeq(last - 1)
		in.SetSeq(last - 10)
		p := ping4("198.51.100.1", "203.0.113.1", 10)
		if err := roundTrip(t, out, in, p); err != nil {
			t.Fatalf("esn=%v last sequence number: %v", esn, err)
		}
		for i := 0; i < 3; i++ {
			if _, err := out.Seal(sealBuf(p), len(p)); err != ErrSeqExhausted {
				t.Fatalf("esn=%v after the last: %v", esn, err)
			}
		}
		if soft, hard := out.Expired(); !soft || !hard {
			t.Fatalf("expired %v %v", soft, hard)
		}
		evs := ev.list()
		if len(evs) != 2 || evs[0].hard || !evs[1].hard || evs[1].spi != out.SPI() || evs[1].dir != Outbound {
			t.Fatalf("events %+v", evs)
		}
		if st := out.Status(); st.Seq != last || st.Drops["seq_exhausted"] != 3 {
			t.Fatalf("status %+v", st)
		}
	}
}

func TestLifetimes(t *testing.T) {
	for _, tc := range []struct {
		life       Lifetime
		soft, hard int // packet index (1-based) at which each is reported
	}{
		{Lifetime{SoftPackets: 3, HardPackets: 5}, 3, 6},
		{Lifetime{SoftBytes: 250, HardBytes: 500}, 3, 6}, // 100-byte packets
		{Lifetime{HardPackets: 2}, 0, 3},
	} {
		key := make([]byte, 20)
		mk := func(dir Direction) *SA {
			sa, err := NewSA(SAConfig{SPI: 0x1000, Dir: dir, Suite: AES128GCM16, Key: key, Life: tc.life,
				Local: net4b, Remote: net4a})
			if err != nil {
				t.Fatal(err)
			}
			return sa
		}
		for _, dir := range []Direction{Outbound, Inbound} {
			out, in := mk(Outbound), mk(Inbound)
			ev := newEvents()
			sa := out
			if dir == Inbound {
				sa = in
				// Let the sender run without limits.
				out.life = Lifetime{}
			}
			sa.sink = ev
			p := ping4("198.51.100.1", "203.0.113.1", 72) // 100 bytes
			for i := 1; i <= 7; i++ {
				err := roundTrip(t, out, in, p)
				evs := ev.list()
				switch {
				case i < tc.hard && err != nil:
					t.Fatalf("%+v %v packet %d: %v", tc.life, dir, i, err)
				case i >= tc.hard && err != ErrExpired:
					t.Fatalf("%+v %v packet %d: %v, want expired", tc.life, dir, i, err)
				}
				want := 0
				if tc.soft != 0 && i >= tc.soft {
					want++
				}
				if i >= tc.hard {
					want++
				}
				if len(evs) != want {
					t.Fatalf("%+v %v packet %d: events %+v", tc.life, dir, i, evs)
				}
			}
			if st := sa.Status(); st.Packets != uint64(tc.hard-1) || !st.Hard {
				t.Fatalf("%v status %+v", dir, st)
			}
		}
	}
}

// espFor seals p with a fresh SA pair and returns the ESP bytes and the
// inbound SA.
func espFor(t testing.TB, s Suite, p []byte) ([]byte, *SA, *SA) {
	out, in := saPair(t, s, false, both, bothA)
	buf := sealBuf(p)
	n, err := out.Seal(buf, len(p))
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf[SealOffset:SealOffset+n]...), out, in
}

// sealRaw builds an ESP packet around an arbitrary plaintext (already
// padded, with pad length and next header), with out's keys.
func sealRaw(out *SA, seq uint32, pt []byte) []byte {
	buf := make([]byte, SealOffset+16+len(pt)+icvLen)
	binary.BigEndian.PutUint32(buf[SealOffset:], out.spi)
	binary.BigEndian.PutUint32(buf[SealOffset+4:], seq)
	binary.BigEndian.PutUint64(buf[SealOffset+8:], uint64(seq))
	nonce := append(out.salt[:], buf[SealOffset+8:SealOffset+16]...)
	aad := buf[SealOffset : SealOffset+8]
	if out.esn { // seq-hi is 0 here
		aad = append(binary.BigEndian.AppendUint32(nil, out.spi), 0, 0, 0, 0)
		aad = binary.BigEndian.AppendUint32(aad, seq)
	}
	ct := out.aead.Seal(nil, nonce, pt, aad)
	copy(buf[SealOffset+16:], ct)
	return buf[SealOffset:]
}

// TestBadInput: every kind of bad packet is dropped with its own counter,
// without panic and without allocation.
func TestBadInput(t *testing.T) {
	good := ping4("198.51.100.1", "203.0.113.1", 20)
	esp, out, _ := espFor(t, AES256GCM16, good)
	trailer := func(p []byte, pad []byte, nh byte) []byte {
		q := append(append([]byte(nil), p...), pad...)
		return append(q, byte(len(pad)), nh)
	}
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"header only", esp[:8], ErrTruncated},
		{"one short", esp[:minESP-1], ErrTruncated},
		{"no ICV", esp[:len(esp)-16], ErrAuth},
		{"garbage", bytes.Repeat([]byte{0x5a}, 100), ErrAuth},
		{"flipped ciphertext", flip(esp, 20), ErrAuth},
		{"flipped ICV", flip(esp, len(esp)-1), ErrAuth},
		{"flipped seq", flip(esp, 7), ErrAuth},
		{"flipped IV", flip(esp, 9), ErrAuth},
		{"seq zero", sealRaw(out, 0, trailer(good, []byte{1, 2}, 4)), ErrReplay},
		{"bad pad length", sealRaw(out, 7, trailer(good, nil, 4)[:len(good)+1]), ErrPadding},
		{"pad length too long", sealRaw(out, 7, append(append([]byte(nil), good[:2]...), 200, 4)), ErrPadding},
		{"bad padding bytes", sealRaw(out, 7, trailer(good, []byte{1, 3}, 4)), ErrPadding},
		{"next header 17", sealRaw(out, 7, trailer(good, []byte{1, 2}, 17)), ErrNextHeader},
		{"dummy packet", sealRaw(out, 7, trailer(good, []byte{1, 2}, 59)), ErrDummy},
		{"v6 header says v4", sealRaw(out, 7, trailer(good, []byte{1, 2}, 41)), ErrInner},
		{"inner too short", sealRaw(out, 7, trailer(good[:12], nil, 4)), ErrInner},
		{"inner length beyond", sealRaw(out, 7, trailer(setLen(good, 200), []byte{1, 2}, 4)), ErrInner},
		{"wrong inner source", sealRaw(out, 7, trailer(ping4("192.0.2.9", "203.0.113.1", 20), []byte{1, 2}, 4)), ErrSelector},
		{"wrong inner destination", sealRaw(out, 7, trailer(ping4("198.51.100.1", "192.0.2.9", 20), []byte{1, 2}, 4)), ErrSelector},
		{"wrong inner v6", sealRaw(out, 7, trailer(ping6("2001:db8:1::1", "2001:db8:3::1", 4), []byte{1, 2}, 41)), ErrSelector},
	}
	for _, tc := range tests {
		_, _, in := espFor(t, AES256GCM16, good)
		in.SetSeq(5) // precheck state for seq 7 and 1
		buf := make([]byte, 64+len(tc.pkt)+64)
		copy(buf[SealOffset:], tc.pkt)
		_, _, _, err := in.Open(buf, SealOffset, len(tc.pkt))
		if err != tc.want {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
		r, _ := ReasonOf(tc.want)
		if st := in.Status(); st.Drops[r.String()] != 1 || st.Packets != 0 {
			t.Fatalf("%s: status %+v", tc.name, st)
		}
		allocs := testing.AllocsPerRun(20, func() {
			copy(buf[SealOffset:], tc.pkt)
			in.Open(buf, SealOffset, len(tc.pkt))
		})
		if allocs != 0 {
			t.Fatalf("%s: %v allocations", tc.name, allocs)
		}
	}
	// Replay of the good packet.
	_, _, in := espFor(t, AES256GCM16, good)
	for i, want := range []error{nil, ErrReplay, ErrReplay} {
		buf := make([]byte, SealOffset+len(esp)+8)
		copy(buf[SealOffset:], esp)
		if _, _, _, err := in.Open(buf, SealOffset, len(esp)); err != want {
			t.Fatalf("replay %d: %v", i, err)
		}
	}
	// Oversize: a length beyond the buffer.
	big := make([]byte, SealOffset+len(esp))
	copy(big[SealOffset:], esp)
	if _, _, _, err := in.Open(big, SealOffset, len(esp)+1); err != ErrHeadroom {
		t.Fatalf("oversize: %v", err)
	}
	// Wrong direction and missing headroom.
	buf := make([]byte, 8+len(esp))
	copy(buf[8:], esp)
	if _, _, _, err := in.Open(buf, 8, len(esp)); err != ErrHeadroom {
		t.Fatalf("headroom: %v", err)
	}
	if _, _, _, err := out.Open(sealBuf(esp), SealOffset, len(esp)); err != ErrWrongDir {
		t.Fatalf("direction: %v", err)
	}
	if _, err := in.Seal(sealBuf(good), len(good)); err != ErrWrongDir {
		t.Fatalf("direction: %v", err)
	}
	// Seal: no tailroom, not IP.
	if _, err := out.Seal(make([]byte, Headroom+len(good)), len(good)); err != ErrHeadroom {
		t.Fatalf("tailroom: %v", err)
	}
	if _, err := out.Seal(make([]byte, Headroom+100+Tailroom), 100); err != ErrInner {
		t.Fatalf("not IP: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

func setLen(p []byte, n int) []byte {
	c := append([]byte(nil), p...)
	binary.BigEndian.PutUint16(c[2:], uint16(n))
	return c
}

func TestSealOpenAllocs(t *testing.T) {
	for _, s := range suites {
		for _, esn := range []bool{false, true} {
			out, in := saPair(t, s, esn, net4b, net4a)
			p := ping4("198.51.100.1", "203.0.113.1", 1000)
			buf := sealBuf(p)
			allocs := testing.AllocsPerRun(100, func() {
				copy(buf[Headroom:], p)
				n, err := out.Seal(buf, len(p))
				if err != nil {
					t.Fatal(err)
				}
				if _, _, _, err := in.Open(buf, SealOffset, n); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("%v esn=%v: %v allocations per seal+open", s, esn, allocs)
			}
		}
	}
}

// TestClock: last-use times come from the replaceable package clock.
func TestClock(t *testing.T) {
	saved := Clock
	defer func() { Clock = saved }()
	now := int64(1000)
	Clock = func() int64 { return now }
	out, in := saPair(t, AES128GCM16, false, net4b, net4a)
	if out.Status().Created != 1000 || out.Status().LastUse != 0 {
		t.Fatal("created / last use")
	}
	now = 5000
	if err := roundTrip(t, out, in, ping4("198.51.100.1", "203.0.113.1", 1)); err != nil {
		t.Fatal(err)
	}
	if out.Status().LastUse != 5000 || in.Status().LastUse != 5000 {
		t.Fatalf("last use %d %d", out.Status().LastUse, in.Status().LastUse)
	}
}

func TestNewSAErrors(t *testing.T) {
	for _, c := range []SAConfig{
		{SPI: 0x1000, Dir: 0, Suite: AES128GCM16, Key: make([]byte, 20)},
		{SPI: 0x1000, Dir: Inbound, Suite: 0, Key: make([]byte, 20)},
		{SPI: 0x1000, Dir: Inbound, Suite: AES128GCM16, Key: make([]byte, 16)},
		{SPI: 0x1000, Dir: Inbound, Suite: ChaCha20Poly1305, Key: make([]byte, 32)},
		{SPI: 0x1000, Dir: Inbound, Suite: AES128GCM16, Key: make([]byte, 20), Local: []netip.Prefix{{}}},
	} {
		if _, err := NewSA(c); err == nil {
			t.Fatalf("%+v accepted", c)
		}
	}
	for _, s := range []string{"aes128gcm16", "aes192gcm16", "aes256gcm16", "chacha20poly1305"} {
		if su, err := ParseSuite(s); err != nil || su.String() != s {
			t.Fatalf("%s: %v %v", s, su, err)
		}
	}
	if _, err := ParseSuite("aes128"); err == nil {
		t.Fatal("aes128 accepted")
	}
}
