package wire

import (
	"bytes"
	"errors"
	"testing"
)

func TestReassembler(t *testing.T) {
	type add struct {
		num, total uint16
		next       PayloadType
		data       string
		err        error
		done       bool
	}
	tests := []struct {
		name  string
		adds  []add
		first PayloadType
		inner string
	}{
		{"in order", []add{
			{1, 3, PayloadIDi, "aa", nil, false},
			{2, 3, 0, "bb", nil, false},
			{3, 3, 0, "cc", nil, true},
		}, PayloadIDi, "aabbcc"},
		{"reordered, empty content", []add{
			{3, 3, 0, "cc", nil, false},
			{2, 3, 0, "", nil, false},
			{1, 3, PayloadSA, "aa", nil, true},
		}, PayloadSA, "aacc"},
		{"replay dropped", []add{
			{1, 2, PayloadIDi, "aa", nil, false},
			{1, 2, PayloadIDi, "xx", ErrFragmentDropped, false},
			{2, 2, 0, "bb", nil, true},
		}, PayloadIDi, "aabb"},
		{"smaller total dropped", []add{
			{1, 3, PayloadIDi, "aa", nil, false},
			{2, 2, 0, "xx", ErrFragmentDropped, false},
			{2, 3, 0, "bb", nil, false},
			{3, 3, 0, "cc", nil, true},
		}, PayloadIDi, "aabbcc"},
		{"larger total restarts (PMTU discovery)", []add{
			{1, 2, PayloadIDi, "xx", nil, false},
			{1, 3, PayloadIDi, "a", nil, false},
			{2, 3, 0, "b", nil, false},
			{3, 3, 0, "c", nil, true},
		}, PayloadIDi, "abc"},
		{"invalid numbers", []add{
			{0, 2, 0, "", ErrSyntax, false},
			{3, 2, 0, "", ErrSyntax, false},
			{1, 0, 0, "", ErrSyntax, false},
			{1, 65, 0, "", ErrTooLong, false},
			{1, 1, PayloadNotify, "dd", nil, true},
		}, PayloadNotify, "dd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reassembler
			for i, a := range tt.adds {
				buf := []byte(a.data)
				done, first, inner, err := r.Add(a.num, a.total, a.next, buf)
				for j := range buf {
					buf[j] = 0 // the reassembler must have copied
				}
				if !errors.Is(err, a.err) || done != a.done {
					t.Fatalf("add %d: done %v err %v, want %v %v", i, done, err, a.done, a.err)
				}
				if done && (first != tt.first || !bytes.Equal(inner, []byte(tt.inner))) {
					t.Fatalf("reassembled %v %q, want %v %q", first, inner, tt.first, tt.inner)
				}
			}
			if have, total := r.Pending(); have != 0 || total != 0 {
				t.Fatalf("not reset: %d/%d", have, total)
			}
		})
	}
}
