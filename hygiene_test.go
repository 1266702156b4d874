package main

// Repository hygiene: gofmt, the import direction of ARCHITECTURE.md, and
// no fmt or logging in the packet path. Each check is a pure function over
// data from the go tool, tested on a synthetic violation too, so a checker
// that silently passes everything would fail here.

import (
	"bytes"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const modulePath = "swanling"

// leafPackages import nothing of ours except packages under themselves
// (e.g. a small esp/replay).
var leafPackages = []string{"esp", "encap", "tun", "dnsoe", "config", "hw"}

// packetPath packages must not format or log: they run per packet and
// report through counters.
var packetPath = []string{"esp", "encap", "tun"}

var packetPathForbidden = []string{"fmt", "log", "log/slog", "log/syslog"}

// unformatted returns the files whose content go/format would change.
func unformatted(files map[string][]byte) []string {
	var bad []string
	for name, src := range files {
		out, err := format.Source(src)
		if err != nil || !bytes.Equal(out, src) {
			bad = append(bad, name)
		}
	}
	sort.Strings(bad)
	return bad
}

func TestGofmt(t *testing.T) {
	files := map[string][]byte{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Hidden directories (.git, .ci) and testdata hold no package code.
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files[path] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Go files found; is the test running at the repository root?")
	}
	if bad := unformatted(files); len(bad) > 0 {
		t.Errorf("not gofmt-formatted (run gofmt -w): %s", strings.Join(bad, ", "))
	}
}

func TestGofmtChecker(t *testing.T) {
	got := unformatted(map[string][]byte{
		"ok.go":     []byte("package x\n\nfunc f() {}\n"),
		"spaces.go": []byte("package x\nfunc  f( ) {  }\n"),
		"broken.go": []byte("package x\nfunc {"),
	})
	if want := []string{"broken.go", "spaces.go"}; !slices.Equal(got, want) {
		t.Errorf("unformatted = %v, want %v", got, want)
	}
}

// under reports whether pkg is root or below it.
func under(pkg, root string) bool {
	return pkg == root || strings.HasPrefix(pkg, root+"/")
}

// importViolations checks each package's transitive dependencies (as
// `go list -deps` computes them) against ARCHITECTURE.md:
//   - esp, encap, tun, dnsoe, config, hw import nothing of ours;
//   - ike imports only ike/...;
//   - main (the module root) may import everything;
//   - nothing imports main.
func importViolations(deps map[string][]string) []string {
	var bad []string
	for pkg, ds := range deps {
		if !under(pkg, modulePath) {
			continue
		}
		var allowed func(dep string) bool
		rel := strings.TrimPrefix(pkg, modulePath+"/")
		switch {
		case pkg == modulePath:
			allowed = func(string) bool { return true }
		case under(rel, "ike"):
			allowed = func(dep string) bool { return under(dep, modulePath+"/ike") }
		default:
			root := ""
			for _, l := range leafPackages {
				if under(rel, l) {
					root = modulePath + "/" + l
				}
			}
			if root != "" {
				allowed = func(dep string) bool { return under(dep, root) }
			} else {
				// Packages the architecture does not name (helpers):
				// anything but main.
				allowed = func(dep string) bool { return dep != modulePath }
			}
		}
		for _, d := range ds {
			if !under(d, modulePath) || d == pkg {
				continue
			}
			if !allowed(d) {
				bad = append(bad, pkg+" imports "+d)
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// forbiddenImports lists direct imports of packages the packet path must
// not use.
func forbiddenImports(imports map[string][]string) []string {
	var bad []string
	for pkg, is := range imports {
		rel := strings.TrimPrefix(pkg, modulePath+"/")
		hot := false
		for _, p := range packetPath {
			hot = hot || under(rel, p)
		}
		if !hot {
			continue
		}
		for _, i := range is {
			if slices.Contains(packetPathForbidden, i) {
				bad = append(bad, pkg+" imports "+i)
			}
		}
	}
	sort.Strings(bad)
	return bad
}

func TestImportCheckers(t *testing.T) {
	deps := map[string][]string{
		"swanling":               {"swanling/esp", "swanling/ike", "swanling/config", "fmt"},
		"swanling/esp":           {"crypto/cipher", "swanling/esp/replay", "swanling/config"},
		"swanling/esp/replay":    {"math/bits"},
		"swanling/encap":         {"net", "swanling/esp"},
		"swanling/ike":           {"swanling/ike/wire", "swanling/ike/ikecrypto", "swanling/dnsoe"},
		"swanling/ike/wire":      {"encoding/binary"},
		"swanling/ike/ikecrypto": {"swanling/ike/wire", "swanling/hw"},
		"swanling/hw":            {"golang.org/x/sys/cpu"},
		"swanling/espx":          {"swanling/config"}, // a name that merely starts like esp
		"swanling/helper":        {"swanling"},
		"golang.org/x/sys/cpu":   {"swanling/esp"}, // not ours: ignored
	}
	want := []string{
		"swanling/encap imports swanling/esp",
		"swanling/esp imports swanling/config",
		"swanling/helper imports swanling",
		"swanling/ike imports swanling/dnsoe",
		"swanling/ike/ikecrypto imports swanling/hw",
	}
	if got := importViolations(deps); !slices.Equal(got, want) {
		t.Errorf("importViolations:\n got %q\nwant %q", got, want)
	}

	imports := map[string][]string{
		"swanling/esp":         {"crypto/cipher", "fmt"},
		"swanling/tun":         {"log/slog", "golang.org/x/sys/unix"},
		"swanling/encap/tcp":   {"log"},
		"swanling/ike":         {"fmt", "log/slog"},
		"swanling/dnsoe":       {"fmt"},
		"swanling/esp/replay":  {"math/bits"},
		"swanling/tunnelstats": {"fmt"}, // not under tun
	}
	wantF := []string{
		"swanling/encap/tcp imports log",
		"swanling/esp imports fmt",
		"swanling/tun imports log/slog",
	}
	if got := forbiddenImports(imports); !slices.Equal(got, wantF) {
		t.Errorf("forbiddenImports:\n got %q\nwant %q", got, wantF)
	}
}

// goList runs `go list -e` with a template "ImportPath|list" and returns
// the lists by package. Packages that do not compile yet still list their
// imports (-e).
func goList(t *testing.T, field string, patterns ...string) map[string][]string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
		if _, err := os.Stat(goTool); err != nil {
			t.Skip("go tool not found")
		}
	}
	args := append([]string{"list", "-e", "-f", "{{.ImportPath}}|{{join ." + field + " \" \"}}"}, patterns...)
	cmd := exec.Command(goTool, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, list, ok := strings.Cut(line, "|")
		if !ok || pkg == "" {
			continue
		}
		m[pkg] = strings.Fields(list)
	}
	return m
}

// TestImportDirection uses .Deps, the transitive closure `go list -deps`
// walks, of every package's non-test files.
func TestImportDirection(t *testing.T) {
	deps := goList(t, "Deps", "./...")
	if _, ok := deps[modulePath]; !ok {
		t.Fatalf("go list did not report the module root; got %d packages", len(deps))
	}
	for _, v := range importViolations(deps) {
		t.Errorf("forbidden import (ARCHITECTURE.md): %s", v)
	}
}

func TestPacketPathNoFmtOrLog(t *testing.T) {
	var patterns []string
	for _, p := range packetPath {
		if _, err := os.Stat(p); err == nil {
			patterns = append(patterns, "./"+p+"/...")
		}
	}
	if len(patterns) == 0 {
		t.Skip("no packet-path packages yet")
	}
	for _, v := range forbiddenImports(goList(t, "Imports", patterns...)) {
		t.Errorf("packet path must use counters, not formatting or logging: %s", v)
	}
}
