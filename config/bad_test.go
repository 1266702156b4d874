package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadConfigs loads every file in testdata/bad. Each starts with a
// "# want: " line holding the exact error Load must give.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(data), "\n")
		want, ok := strings.CutPrefix(first, "# want: ")
		if !ok || want == "" {
			t.Errorf("%s: no \"# want: \" line", f)
			continue
		}
		counts[filepath.Ext(f)]++
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := Load(f)
			if err == nil {
				t.Fatalf("loaded without error, want %q", want)
			}
			if err.Error() != want {
				t.Errorf("error\n got %s\nwant %s", err, want)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error is %T, not *Error", err)
			}
			if e.File != f || e.Line < 1 {
				t.Errorf("File %q Line %d", e.File, e.Line)
			}
			// The format must come from the content, not the name.
			wantFormat := FormatTOML
			if strings.HasSuffix(f, ".uci") {
				wantFormat = FormatUCI
			}
			if got := DetectFormat(data); got != wantFormat {
				t.Errorf("DetectFormat = %s", got)
			}
		})
	}
	for _, ext := range []string{".toml", ".uci"} {
		if counts[ext] < 12 {
			t.Errorf("only %d broken %s configs, want at least 12", counts[ext], ext)
		}
	}
}
