package ikecrypto

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The package stays independent of the rest of swanling (ike/wire and the
// engine import it, never the other way round).
func TestNoSwanlingImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			n++
			p := strings.Trim(imp.Path.Value, `"`)
			if p == "swanling" || strings.HasPrefix(p, "swanling/") {
				t.Errorf("%s imports %s", f, p)
			}
			if strings.Contains(p, ".") && !strings.HasPrefix(p, "golang.org/x/crypto/") {
				t.Errorf("%s imports %s: only the standard library and x/crypto", f, p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no imports found")
	}
}
