package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func seedFiles(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil {
				f.Add(data)
			}
		}
	}
}

// checkResult holds for every input: an error is a well-formed *Error
// whose line exists, and a config is consistent.
func checkResult(t *testing.T, data []byte, c *Config, err error) {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T: %v", err, err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if e.Line < 1 || e.Line > lines || e.Reason == "" || e.File != "fuzz" {
			t.Fatalf("bad error %+v for %d lines", e, lines)
		}
		if !strings.HasPrefix(e.Error(), "fuzz:") {
			t.Fatalf("Error() = %q", e.Error())
		}
		return
	}
	for _, tu := range c.Tunnels {
		if tu.Name == "" || tu.Peer == "" || tu.Start == "" || len(tu.IKE) != len(tu.IKEProposals) || len(tu.ESP) != len(tu.ESPProposals) {
			t.Fatalf("inconsistent tunnel %+v", tu)
		}
		switch tu.Auth {
		case AuthPSK:
			if len(tu.PSK) < 16 {
				t.Fatalf("short PSK accepted: %+v", tu)
			}
		case AuthPubkey, AuthNull:
		default:
			t.Fatalf("auth %q", tu.Auth)
		}
	}
	for _, m := range c.Manual {
		if !m.Insecure || m.SPIIn < 256 || m.SPIOut < 256 || len(m.KeyIn) != aeadKeyLen[m.Algorithm] {
			t.Fatalf("bad manual SA accepted: %+v", m)
		}
	}
	seen := map[string]bool{}
	for _, g := range c.OE.Groups {
		for _, p := range g.CIDRs {
			if seen[p.String()] {
				t.Fatalf("CIDR %s in two groups", p)
			}
			seen[p.String()] = true
		}
	}
	if c.OE.Enabled && len(c.OE.Groups) == 0 {
		t.Fatal("OE enabled without groups")
	}
}

func FuzzTOML(f *testing.F) {
	seedFiles(f, "../examples/*.toml", "testdata/bad/*.toml")
	for _, p := range pairs {
		f.Add([]byte(p.toml))
	}
	f.Add([]byte("a = {b = {c = [1, [2]]}}\n[x.y]\n'q\"' = \"\\u0000\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := parseTOML("fuzz", data)
		var c *Config
		if err == nil {
			c, err = decode(tr, Options{SkipFiles: true})
		}
		checkResult(t, data, c, err)
	})
}

// writeUCI writes a tree back in the form `uci export` uses: every value
// single-quoted, a single quote as '\”. It is the builder for the UCI
// round trip.
func writeUCI(t *tree) []byte {
	var b bytes.Buffer
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	b.WriteString("package swanling\n")
	for _, s := range t.sections {
		b.WriteString("\nconfig " + s.typ)
		if s.named {
			b.WriteString(" " + q(s.name))
		}
		b.WriteString("\n")
		for _, o := range s.opts {
			if !o.list {
				if len(o.vals) == 0 {
					b.WriteString("\toption " + o.key + " ''\n")
					continue
				}
				b.WriteString("\toption " + o.key + " " + q(o.vals[0].text) + "\n")
				continue
			}
			for _, v := range o.vals {
				b.WriteString("\tlist " + o.key + " " + q(v.text) + "\n")
			}
		}
	}
	return b.Bytes()
}

// treeShape is a tree without its lines, for comparing round trips.
func treeShape(t *tree) []string {
	var out []string
	for _, s := range t.sections {
		out = append(out, "section "+s.typ+" "+s.name+" "+map[bool]string{true: "named", false: "anon"}[s.named])
		for _, o := range s.opts {
			line := "  " + o.key + map[bool]string{true: " list", false: " option"}[o.list]
			for _, v := range o.vals {
				line += " [" + v.text + "]"
			}
			out = append(out, line)
		}
	}
	return out
}

func FuzzUCI(f *testing.F) {
	seedFiles(f, "../examples/*.uci", "testdata/bad/*.uci")
	for _, p := range pairs {
		f.Add([]byte(p.uci))
	}
	f.Add([]byte("c x 'a'\\''b' ; o y \"q\\\"\n\"#c\nl z a\\\nb"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := parseUCI("fuzz", data)
		if err == nil {
			// Round trip: what uci would write reads back the same.
			out := writeUCI(tr)
			tr2, err2 := parseUCI("fuzz", out)
			if err2 != nil {
				t.Fatalf("rewritten file fails: %v\n%s", err2, out)
			}
			if a, b := treeShape(tr), treeShape(tr2); !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip differs:\n%q\n%q", a, b)
			}
			if DetectFormat(out) != FormatUCI {
				t.Fatalf("rewritten file not detected as UCI")
			}
		}
		var c *Config
		if err == nil {
			c, err = decode(tr, Options{SkipFiles: true})
		}
		checkResult(t, data, c, err)
	})
}

func FuzzProposal(f *testing.F) {
	for _, s := range []string{"aes128gcm16-prfsha256-x25519", "aes256-sha256-prfsha256-modp2048", "chacha20poly1305-esn-noesn",
		"aes128gcm16-x25519", "aes128-sha256", "aes129gcm16", "--", "esn", "aes256gcm-curve25519-mlkem768"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (Proposal, error){ParseIKEProposal, ParseESPProposal} {
			p, err := parse(s)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "config: ") {
					t.Fatalf("error %q", err)
				}
				continue
			}
			if len(p.Encryption) == 0 {
				t.Fatalf("%q: no cipher accepted", s)
			}
			q, err := parse(p.String())
			if err != nil || !reflect.DeepEqual(p, q) {
				t.Fatalf("%q -> %q -> %+v, %v", s, p.String(), q, err)
			}
		}
	})
}

func FuzzValues(f *testing.F) {
	for _, s := range []string{"90s", "1.5h", "10MB", "1GiB", "192.0.2.0/24", "@gw.example", "keyid:0a", "[::1]:53"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseDuration(s); err == nil && d < 0 {
			t.Fatalf("%q: negative %v", s, d)
		}
		parseSize(s)
		if p, err := parsePrefix(s); err == nil && p.Masked() != p {
			t.Fatalf("%q: unmasked %v", s, p)
		}
		parseAddrPort(s, 53)
		IDKind(s)
		parseTOMLInt(s)
		parseUCIInt(s)
		parseHexKey(s)
		validHostname(s)
	})
}
