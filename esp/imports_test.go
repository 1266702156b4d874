package esp

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the packet path free of formatting and logging and of
// every other swanling package (ARCHITECTURE.md: esp imports nothing of ours).
func TestImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "fmt" || path == "log" || strings.HasPrefix(path, "log/") || path == "swanling" || strings.HasPrefix(path, "swanling/") {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
