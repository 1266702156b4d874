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
