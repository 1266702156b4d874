package esp

import (
	"encoding/binary"
	"testing"
)

// TestReplayTable runs one window through numbered steps; each step feeds a
// sequence number and states whether it must be accepted. W = ReplayWindow.
func TestReplayTable(t *testing.T) {
	const w = ReplayWindow
	steps := []struct {
		seq uint64
		ok  bool
	}{
		/*  0 */ {0, false}, // sequence number 0 is never sent
		/*  1 */ {1, true},
		/*  2 */ {1, false}, // duplicate
		/*  3 */ {3, true}, // gap
		/*  4 */ {2, true}, // fills the gap, out of order
		/*  5 */ {2, false},
		/*  6 */ {3, false},
		/*  7 */ {64, true}, // block boundary
		/*  8 */ {63, true},
		/*  9 */ {65, true},
		/* 10 */ {64, false},
		/* 11 */ {w, true}, // window now (1, w]: 1 is just outside
		/* 12 */ {1, false}, // w-1 behind: inside the window but seen at step 1
		/* 13 */ {4, true}, // w-4 behind: inside, never seen
		/* 14 */ {4, false},
		/* 15 */ {w + 1, true}, // window (2, w+1]
		/* 16 */ {2, false}, // seen and now outside
		/* 17 */ {3, false}, // top-3 = w-2 behind: inside, seen
		/* 18 */ {5, true}, // inside, never seen
		/* 19 */ {2*w + 10, true}, // jump past the whole window
		/* 20 */ {w + 1, false}, // far too old
		/* 21 */ {w + 11, true}, // exactly w-1 behind: the oldest accepted
		/* 22 */ {w + 10, false}, // exactly w behind: rejected
		/* 23 */ {2*w + 9, true},
		/* 24 */ {2*w + 10, false},
		/* 25 */ {2*w + 11, true},
		/* 26 */ {1 << 32, true}, // 32-bit boundary (ESN)
		/* 27 */ {1<<32 - 1, true},
		/* 28 */ {1<<32 + 1, true},
		/* 29 */ {1<<32 - w, false}, // w+1 behind the top 2^32+1: too old
	}
	var r Replay
	for i, s := range steps {
		check := r.Check(s.seq)
		got := r.Update(s.seq)
		if got != s.ok || check != s.ok {
			t.Fatalf("step %d: seq %d: Check %v, Update %v, want %v (top %d)", i, s.seq, check, got, s.ok, r.Top())
		}
	}
}

// TestReplayBlockClearing: sliding by one block at a time must forget the
// bits of the block that is reused.
func TestReplayBlockClearing(t *testing.T) {
	var r Replay
	for seq := uint64(1); seq < 20*ReplayWindow; seq += 61 {
		if !r.Update(seq) {
			t.Fatalf("fresh seq %d rejected", seq)
		}
		if r.Update(seq) {
			t.Fatalf("duplicate seq %d accepted", seq)
		}
	}
}

// TestReplayInfer checks the high-bit inference of RFC 4303, Appendix A2.2.
func TestReplayInfer(t *testing.T) {
	const w = ReplayWindow
	tests := []struct {
		top  uint64
		lo   uint32
		want uint64
		ok   bool
	}{
		/*  0 */ {0, 1, 1, true},
		/*  1 */ {0, 0xffffffff, 0, false}, // would be subspace -1
		/*  2 */ {100, 50, 50, true}, // Case B, in window
		/*  3 */ {100, 200, 200, true}, // Case B, ahead
		/*  4 */ {1<<32 + 100, 0xfffffff0, 0xfffffff0, true}, // Case B: previous subspace
		/*  5 */ {1<<32 + 100, 5, 1<<32 + 5, true},
		/*  6 */ {1<<32 + 100, 0x80000000, 1<<32 + 0x80000000, true}, // ahead, same subspace
		/*  7 */ {0xfffffff0, 0xfffffff5, 0xfffffff5, true}, // Case A, ahead
		/*  8 */ {0xfffffff0, 3, 1<<32 + 3, true}, // Case A: wrapped into the next subspace
		/*  9 */ {0xfffffff0, 0xfffffff0 - w + 1, 0xfffffff0 - w + 1, true}, // oldest in window
		/* 10 */ {0xfffffff0, 0xfffffff0 - w, 1<<32 + 0xfffffff0 - w, true}, // just below: next subspace
		/* 11 */ {w - 1, 0, 0, true}, // Case A at its edge: Tl-W+1 = 0, seq 0 (then rejected by Check)
		/* 12 */ {w - 2, 0xffffffff, 0, false}, // Case B at th=0: previous subspace does not exist
		/* 13 */ {0xffffffff_fffffff0, 3, 0, false}, // no subspace after the last
	}
	for i, tc := range tests {
		var r Replay
		if tc.top != 0 {
			r.Update(tc.top)
		}
		got, ok := r.Infer(tc.lo)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Fatalf("case %d: top %#x lo %#x: got %#x %v, want %#x %v", i, tc.top, tc.lo, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzReplay compares the window with a plain model: a set of seen
// numbers and the highest one.
func FuzzReplay(f *testing.F) {
	f.Add([]byte{1, 0, 2, 0, 1, 0})
	f.Add([]byte{0xff, 0xff, 0, 1, 0xff, 0xfe})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Replay
		seen := map[uint64]bool{}
		var top uint64
		var base uint64 = 1
		for len(data) >= 2 {
			d := uint64(binary.BigEndian.Uint16(data))
			data = data[2:]
			// Mostly near the top, sometimes jumping forward.
			seq := base + d%(2*ReplayWindow)
			if d&0x8000 != 0 && top > d%4096 {
				seq = top - d%4096
			}
			if d == 0xffff {
				base += 3 * ReplayWindow
			}
			want := seq != 0 && !seen[seq] && (seq > top || top-seq < ReplayWindow)
			if r.Check(seq) != want || r.Update(seq) != want {
				t.Fatalf("seq %d top %d: want %v", seq, top, want)
			}
			if want {
				seen[seq] = true
				top = max(top, seq)
			}
		}
	})
}
