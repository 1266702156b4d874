package main

import (
	"bytes"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/base64"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"swanling/dnsoe"
)

// TestDNSRecords reads the printed records back with dnsoe's parsers: the
// gateway's own IPSECKEY names no gateway and carries its key, the hosts'
// records name the gateway, and the TXT form parses to the same key.
func TestDNSRecords(t *testing.T) {
	dir := t.TempDir()
	key, err := generateKey(keyEd25519, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeKeyFile(filepath.Join(dir, "key.pem"), key); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "swanling.toml")
	if err := os.WriteFile(conf, []byte("[local]\nkey_file = \"key.pem\"\naddress = [\"192.0.2.1\", \"2001:db8:a::1\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	if code := c.cmdDNSRecords([]string{"-c", conf, "-hosts", "203.0.113.0/24,198.51.100.7,2001:db8:b::/48,198.51.100.16/30"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	pub := key.Public().(ed25519.PublicKey)
	recs := map[string][]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		f := strings.Fields(l)
		recs[f[0]] = append(recs[f[0]], l)
	}
	check := func(owner string, gwType uint8, gw string) {
		t.Helper()
		ls := recs[owner]
		if len(ls) != 2 {
			t.Fatalf("%s: records %q\n%s", owner, ls, out.String())
		}
		// "owner IN IPSECKEY ( 10 T 4 GW KEY )"
		f := strings.Fields(ls[0])
		if f[2] != "IPSECKEY" || f[4] != "10" || f[5] != string('0'+gwType) || f[6] != "4" || f[7] != gw {
			t.Fatalf("%s: %q", owner, ls[0])
		}
		k, err := base64.StdEncoding.DecodeString(f[8])
		if err != nil || !bytes.Equal(k, pub) {
			t.Fatalf("%s: key %q", owner, f[8])
		}
		txt := strings.Trim(strings.SplitN(ls[1], " TXT ", 2)[1], `"`)
		s, err := dnsoe.ParseIPsecServer(txt)
		if err != nil {
			t.Fatalf("%s: TXT %q: %v", owner, txt, err)
		}
		if s.Gateway.String() != strings.TrimSuffix(gw, ".") && gw != "." {
			t.Fatalf("%s: TXT gateway %v", owner, s.Gateway)
		}
		if !bytes.Equal(s.Key, pub) {
			t.Fatalf("%s: TXT key differs", owner)
		}
	}
	if len(recs["1.2.0.192.in-addr.arpa."]) != 2 {
		t.Fatalf("gateway records missing:\n%s", out.String())
	}
	f := strings.Fields(recs["1.2.0.192.in-addr.arpa."][0])
	if f[5] != "0" || f[7] != "." {
		t.Fatalf("gateway's own record names a gateway: %q", f)
	}
	check("*.113.0.203.in-addr.arpa.", 1, "192.0.2.1")
	check("7.100.51.198.in-addr.arpa.", 1, "192.0.2.1")
	for i := 16; i < 20; i++ {
		check(strings.Join([]string{string(rune('0'+i/10)) + string(rune('0'+i%10)), "100.51.198.in-addr.arpa."}, "."), 1, "192.0.2.1")
	}
	check("*.b.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", 2, "2001:db8:a::1")
	if len(recs) != 9 {
		t.Fatalf("%d owners:\n%s", len(recs), out.String())
	}
}

func TestDNSRecordsKeyless(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "swanling.toml")
	if err := os.WriteFile(conf, []byte("[local]\nid = \"192.0.2.1\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	c := &cli{stdout: &out, stderr: &errb}
	if code := c.cmdDNSRecords([]string{"-c", conf, "-hosts", "203.0.113.9"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "9.113.0.203.in-addr.arpa. IN IPSECKEY ( 10 1 0 192.0.2.1 )"
	if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "TXT") {
		t.Fatalf("output:\n%s", out.String())
	}
	if code := c.cmdDNSRecords([]string{"-c", conf, "-hosts", "203.0.113.0/20"}); code == 0 {
		t.Fatal("a /20 (4096 names, not on a zone boundary) accepted")
	}
}

// FuzzHostOwners: every prefix gives an error or at most 256 owner names,
// each under the reverse tree of its family, and a wildcard only on a
// label boundary.
func FuzzHostOwners(f *testing.F) {
	for _, s := range []string{"203.0.113.0/24", "198.51.100.16/30", "2001:db8:b::/48", "192.0.2.1/32", "0.0.0.0/0", "::/0", "10.0.0.0/9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return
		}
		p = p.Masked()
		owners, err := hostOwners(p)
		if err != nil {
			return
		}
		suffix := ".in-addr.arpa."
		if p.Addr().Is6() {
			suffix = ".ip6.arpa."
		}
		if len(owners) == 0 || len(owners) > 256 {
			t.Fatalf("%v: %d owners", p, len(owners))
		}
		for _, o := range owners {
			if !strings.HasSuffix(o, suffix) && o != "*"+suffix {
				t.Fatalf("%v: owner %q", p, o)
			}
			if strings.HasPrefix(o, "*.") && len(owners) != 1 {
				t.Fatalf("%v: wildcard among %d owners", p, len(owners))
			}
		}
	})
}
