package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The router binary stays under 6 MiB only without these: log/slog and
// encoding/json (about 110 KB), go-toml (45 KB), log/syslog (its net.Dial
// links net's DNS resolver, about 200 KB with the other callers, which
// use net.DialUnix, dnsoe's sockets and lookupPeer instead).
func TestBinaryLeavesOutHeavyPackages(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		switch {
		case p == "log/slog", p == "encoding/json", p == "log/syslog", strings.HasPrefix(p, "github.com/pelletier/"):
			t.Errorf("swanling links %s", p)
		}
	}
}
