package encap

import (
	"bytes"
	"testing"
)

func TestClassify(t *testing.T) {
	for i, tc := range []struct {
		in   []byte
		want Kind
	}{
		/* 1 */ {nil, KindInvalid},
		/* 2 */ {[]byte{0xff}, KindKeepalive},
		/* 3 */ {[]byte{0x00}, KindInvalid},
		/* 4 */ {[]byte{0xff, 0xff}, KindInvalid},
		/* 5 */ {[]byte{0, 0, 0, 0}, KindInvalid},
		/* 6 */ {[]byte{0, 0, 0, 0, 1}, KindIKE},
		/* 7 */ {[]byte{0, 0, 0, 1, 0, 0, 0}, KindInvalid},
		/* 8 */ {[]byte{0, 0, 0, 1, 0, 0, 0, 1}, KindESP},
		/* 9 */ {[]byte{0xff, 0, 0, 0, 0, 0, 0, 1, 9, 9}, KindESP},
		/* 10 */ {append([]byte{0, 0, 0, 0}, make([]byte, 28)...), KindIKE},
	} {
		if got := Classify(tc.in); got != tc.want {
			t.Errorf("%d: Classify(%x) = %d, want %d", i+1, tc.in, got, tc.want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add([]byte{0xff})
	f.Add([]byte{0, 0, 0, 0, 0x11, 0x22})
	f.Add([]byte{1, 2, 3, 4, 0, 0, 0, 1, 0xaa})
	f.Fuzz(func(t *testing.T, b []byte) {
		k := Classify(b)
		switch k {
		case KindKeepalive:
			if !bytes.Equal(b, []byte{0xff}) {
				t.Fatalf("keepalive %x", b)
			}
		case KindIKE:
			if len(b) <= MarkerLen || !bytes.Equal(b[:4], []byte{0, 0, 0, 0}) {
				t.Fatalf("IKE %x", b)
			}
			// Round trip: the message re-marked classifies the same.
			if Classify(AppendMarker(nil, b[MarkerLen:])) != KindIKE {
				t.Fatal("re-marked IKE message not IKE")
			}
		case KindESP:
			if len(b) < minESP || (b[0]|b[1]|b[2]|b[3]) == 0 {
				t.Fatalf("ESP %x", b)
			}
		case KindInvalid:
		default:
			t.Fatalf("kind %d", k)
		}
	})
}

func TestRawESPOffset(t *testing.T) {
	esp := []byte{0, 0, 1, 0, 0, 0, 0, 1, 0xaa}
	v4 := append([]byte{0x45, 0, 0, 29, 0, 0, 0x40, 0, 64, 50, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2}, esp...)
	v4opt := append([]byte{0x46, 0, 0, 33, 0, 0, 0x40, 0, 64, 50, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, 1, 1, 1, 0}, esp...)
	for i, tc := range []struct {
		b    []byte
		v6   bool
		skip int
		ok   bool
	}{
		/* 1 */ {v4, false, 20, true},
		/* 2 */ {v4opt, false, 24, true},
		/* 3 */ {esp, true, 0, true},
		/* 4 */ {esp[:7], true, 0, false},
		/* 5 */ {v4[:27], false, 0, false},
		/* 6 */ {append([]byte{0x44}, v4[1:]...), false, 0, false},
		/* 7 */ {append([]byte{0x65}, v4[1:]...), false, 0, false},
		/* 8 */ {append([]byte{0x4f}, v4[1:]...), false, 0, false},
	} {
		skip, ok := rawESPOffset(tc.b, tc.v6)
		if ok != tc.ok || (ok && skip != tc.skip) {
			t.Errorf("%d: rawESPOffset = %d, %v; want %d, %v", i+1, skip, ok, tc.skip, tc.ok)
		}
	}
}

func FuzzRawESPOffset(f *testing.F) {
	f.Add([]byte{0x45, 0, 0, 28, 0, 0, 0, 0, 64, 50, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 1, 0, 0, 0, 0, 1}, false)
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 1}, true)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		skip, ok := rawESPOffset(b, v6)
		if !ok {
			return
		}
		if len(b)-skip < minESP || (!v6 && skip < 20) || (v6 && skip != 0) {
			t.Fatalf("skip %d of %d octets (v6 %v)", skip, len(b), v6)
		}
	})
}
