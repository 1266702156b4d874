package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"swanling/config"
)

func TestHostsLookup(t *testing.T) {
	hosts := `# comment
127.0.0.1 localhost
192.0.2.1	gw.example gw # the gateway
2001:db8::1 GW.example.
::ffff:198.51.100.9 gw.example
not-an-address gw.example
198.51.100.2 other.example
`
	got := hostsLookup(strings.NewReader(hosts), "gw.Example.")
	want := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("198.51.100.9")}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := hostsLookup(strings.NewReader(hosts), "example"); len(got) != 0 {
		t.Errorf("partial name matched: %v", got)
	}
}

// A peer name in the hosts file needs no DNS; one that is in neither fails
// with an error rather than an address (the resolver is 127.0.0.1:9 with
// one short attempt, nothing listens there).
func TestLookupPeer(t *testing.T) {
	dir := t.TempDir()
	old := hostsFile
	hostsFile = filepath.Join(dir, "hosts")
	t.Cleanup(func() { hostsFile = old })
	if err := os.WriteFile(hostsFile, []byte("203.0.113.5 vpn.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{}
	cfg.DNS.Resolvers = []config.Resolver{{Addr: netip.MustParseAddrPort("127.0.0.1:9")}}
	cfg.DNS.Retries = 0
	cfg.DNS.Timeout = 100 * time.Millisecond
	as, err := lookupPeer(context.Background(), cfg, "vpn.example")
	if err != nil || len(as) != 1 || as[0] != netip.MustParseAddr("203.0.113.5") {
		t.Errorf("hosts: %v %v", as, err)
	}
	if as, err := lookupPeer(context.Background(), cfg, "nowhere.example"); err == nil {
		t.Errorf("unknown name resolved to %v", as)
	}
}
