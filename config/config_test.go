package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// normalize clears what legitimately differs between the two formats of
// the same settings: the file, the format and the lines.
func normalize(c *Config) *Config {
	n := *c
	n.File, n.Format = "", ""
	n.Tunnels = append([]Tunnel(nil), c.Tunnels...)
	for i := range n.Tunnels {
		n.Tunnels[i].Line = 0
	}
	n.Manual = append([]ManualSA(nil), c.Manual...)
	for i := range n.Manual {
		n.Manual[i].Line = 0
	}
	n.OE.Groups = append([]Group(nil), c.OE.Groups...)
	for i := range n.OE.Groups {
		n.OE.Groups[i].Line = 0
	}
	return &n
}

func mustParse(t *testing.T, name, text string) *Config {
	t.Helper()
	c, err := Parse(name, []byte(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func TestEmptyConfig(t *testing.T) {
	for _, text := range []string{"", "\n\n", "# nothing here\n", "  # indented comment\n\n"} {
		c := mustParse(t, "swanling.toml", text)
		want := Defaults()
		want.File, want.Format = "swanling.toml", FormatTOML
		if !reflect.DeepEqual(c, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", text, c, want)
		}
		if c.OE.Enabled || len(c.Tunnels) != 0 {
			t.Errorf("empty config: OE %v, %d tunnels", c.OE.Enabled, len(c.Tunnels))
		}
	}
	// A UCI file with sections but no options is the defaults too.
	c := mustParse(t, "swanling", "package swanling\n\nconfig local\nconfig listen 'listen'\nconfig oe\n")
	if !reflect.DeepEqual(normalize(c), normalize(Defaults())) {
		t.Errorf("UCI with empty sections: %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	if d.Listen.IKEPort != 500 || d.Listen.NATTPort != 4500 || d.Listen.TCPPort != 0 ||
		d.Listen.OuterMTU != 1492 || d.Listen.Interface != "swl0" ||
		d.Log.Level != "info" || d.Limits.MemoryLimit != 48<<20 ||
		d.OE.ShuntDuration != 15*time.Minute || d.OE.IdleTimeout != time.Minute || d.OE.RecheckTime != 20*time.Minute ||
		d.Timers.DPD != 30*time.Second {
		t.Errorf("defaults changed: %+v", d)
	}
	// Defaults returns a fresh value each time.
	d.Listen.IKEPort = 1
	if Defaults().Listen.IKEPort != 500 {
		t.Error("Defaults shares state")
	}
}

// pairs are the same settings in both formats.
var pairs = []struct {
	name, toml, uci string
	check           func(t *testing.T, c *Config)
}{
	{
		name: "local and listen",
		toml: `
[local]
id = "@gw.example"
address = ["192.0.2.1", "2001:db8::1"]

[listen]
addresses = ["192.0.2.1"]
ike_port = 1500
natt_port = 0x1194
tcp_port = 4500
interface = "ipsec0"
mtu = 1400
outer_mtu = 1500
fwmark = 0x10
table = 100
mss_clamp = true

[log]
level = "debug"
syslog = true

[limits]
memory_limit = "64MiB"
half_open_total = 2048
half_open_per_ip = 8
cookie_threshold = 100

[timers]
retransmit_base = "500ms"
retransmit_tries = 3
retransmit_max = "4s"
keepalive = "0"
dpd = "10s"
half_open_timeout = "5s"
`,
		uci: `
config local
	option id '@gw.example'
	list address '192.0.2.1'
	list address '2001:db8::1'

config listen
	option addresses '192.0.2.1'
	option ike_port 1500
	option natt_port 0x1194
	option tcp_port "4500"
	option interface ipsec0
	option mtu '1400'
	option outer_mtu '1500'
	option fwmark '0x10'
	option table '100'
	option mss_clamp 'on'

config log
	option level 'debug'
	option syslog 'yes'

config limits
	option memory_limit '64MiB'
	option half_open_total '2048'
	option half_open_per_ip '8'
	option cookie_threshold '100'

config timers
	option retransmit_base '500ms'
	option retransmit_tries '3'
	option retransmit_max '4s'
	option keepalive '0'
	option dpd '10s'
	option half_open_timeout '5s'
`,
		check: func(t *testing.T, c *Config) {
			if c.Local.ID != "@gw.example" || len(c.Local.Address) != 2 || c.Listen.NATTPort != 4500 ||
				c.Listen.TCPPort != 4500 || c.Listen.Interface != "ipsec0" || c.Listen.FwMark != 0x10 ||
				!c.Listen.MSSClamp || c.Log.Level != "debug" || !c.Log.Syslog || c.Limits.MemoryLimit != 64<<20 ||
				c.Timers.RetransmitBase != 500*time.Millisecond || c.Timers.Keepalive != 0 {
				t.Errorf("%+v", c)
			}
		},
	},
	{
		name: "tunnels",
		toml: `
[local]
address = ["192.0.2.1"]

[tunnel.hq]
peer = "198.51.100.1"
psk = "it's a 0123456789 secret"
local_ts = ["198.18.0.0/24", "2001:db8:1::/48"]
remote_ts = ["203.0.113.0/24"]
ike_proposals = ["aes256-sha2_256-modp2048", "chacha20poly1305-prfsha256-curve25519"]
esp_proposals = ["aes128gcm-noesn", "chacha20poly1305-x25519-esn-noesn"]
encap = true
start = "start"
dpd = "0"
ike_rekey_time = "8h"
rekey_time = "20m"
rekey_bytes = "1GiB"
life_bytes = "2GB"
rekey_packets = 1_000_000

[tunnel.rw]
peer = "%any"
auth = "null"
`,
		uci: `
config local
	list address 192.0.2.1

config tunnel 'hq'
	option peer '198.51.100.1'
	option psk 'it'\''s a 0123456789 secret'
	list local_ts '198.18.0.0/24'
	list local_ts '2001:db8:1::/48'
	list remote_ts '203.0.113.0/24'
	list ike_proposals 'aes256-sha2_256-modp2048'
	list ike_proposals 'chacha20poly1305-prfsha256-curve25519'
	list esp_proposals 'aes128gcm-noesn'
	list esp_proposals 'chacha20poly1305-x25519-esn-noesn'
	option encap '1'
	option start 'start'
	option dpd '0'
	option ike_rekey_time '8h'
	option rekey_time '20m'
	option rekey_bytes '1GiB'
	option life_bytes '2GB'
	option rekey_packets '1000000'

config tunnel 'rw'
	option peer '%any'
	option auth 'null'
`,
		check: func(t *testing.T, c *Config) {
			if len(c.Tunnels) != 2 {
				t.Fatalf("%d tunnels", len(c.Tunnels))
			}
			hq, rw := c.Tunnels[0], c.Tunnels[1]
			want := Tunnel{
				Name: "hq", Line: hq.Line, Peer: "198.51.100.1", LocalID: "192.0.2.1", RemoteID: "198.51.100.1",
				Auth: AuthPSK, PSK: "it's a 0123456789 secret",
				LocalTS:  []netip.Prefix{netip.MustParsePrefix("198.18.0.0/24"), netip.MustParsePrefix("2001:db8:1::/48")},
				RemoteTS: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
				IKE:      []string{"aes256-sha256-prfsha256-modp2048", "chacha20poly1305-prfsha256-x25519"},
				ESP:      []string{"aes128gcm16-noesn", "chacha20poly1305-x25519-esn-noesn"},
				IKEProposals: []Proposal{
					{Encryption: []string{"aes256"}, Integrity: []string{"sha256"}, PRF: []string{"prfsha256"}, DH: []string{"modp2048"}},
					{Encryption: []string{"chacha20poly1305"}, PRF: []string{"prfsha256"}, DH: []string{"x25519"}},
				},
				ESPProposals: []Proposal{
					{Encryption: []string{"aes128gcm16"}, ESN: []bool{false}},
					{Encryption: []string{"chacha20poly1305"}, DH: []string{"x25519"}, ESN: []bool{true, false}},
				},
				Encap: true, Start: StartStart, DPD: 0,
				Rekey: Rekey{
					IKETime: 8 * time.Hour, ChildTime: 20 * time.Minute, LifeTime: 22 * time.Minute, Jitter: 2 * time.Minute,
					ChildBytes: 1 << 30, LifeBytes: 2e9, ChildPkts: 1e6, LifePkts: 1.1e6,
				},
			}
			if !reflect.DeepEqual(hq, want) {
				t.Errorf("hq:\n got %+v\nwant %+v", hq, want)
			}
			if rw.Auth != AuthNull || rw.Start != StartNone || rw.RemoteID != "%any" || rw.DPD != 30*time.Second {
				t.Errorf("rw: %+v", rw)
			}
		},
	},
	{
		name: "manual SA",
		toml: `
[manual_sa.test]
insecure = true
peer = "2001:db8::2"
udp_port = 4500
local = "2001:db8::1"
spi_in = 0x1000
spi_out = 4097
algorithm = "aes256gcm"
key_in = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
key_out = "10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:20:21:22:23:24:25:26:27:28:29:2a:2b:2c:2d:2e:2f:30:31:32:33"
esn = true
local_ts = ["2001:db8:1::/64"]
remote_ts = ["2001:db8:2::/64"]
`,
		uci: `
config manual_sa 'test'
	option insecure 'true'
	option peer '2001:db8::2'
	option udp_port '4500'
	option local '2001:db8::1'
	option spi_in '0x1000'
	option spi_out '4097'
	option algorithm 'aes256gcm'
	option key_in '0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223'
	option key_out '10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:20:21:22:23:24:25:26:27:28:29:2a:2b:2c:2d:2e:2f:30:31:32:33'
	option esn '1'
	list local_ts '2001:db8:1::/64'
	list remote_ts '2001:db8:2::/64'
`,
		check: func(t *testing.T, c *Config) {
			m := c.Manual[0]
			if m.Peer != netip.MustParseAddrPort("[2001:db8::2]:4500") || m.SPIIn != 4096 || m.SPIOut != 4097 ||
				m.Algorithm != "aes256gcm16" || len(m.KeyIn) != 36 || m.KeyOut[0] != 0x10 || !m.ESN || !m.Insecure {
				t.Errorf("%+v", m)
			}
		},
	},
	{
		name: "OE",
		toml: `
[oe]
shunt_duration = "1h30m"
idle_timeout = "90s"
recheck_time = "1d"
max_pending = 16
max_held = 32

[oe_group.private-or-clear]
cidrs = ["0.0.0.0/0", "::/0"]

[oe_group.private]
cidrs = ["203.0.113.0/24", "203.0.113.7"]
require_dnssec = true

[oe_group.clear-or-private]
cidrs = ["198.51.100.0/24"]
failure_shunt = "drop"

[dns]
timeout = "1.5s"
retries = 0

[resolver.unbound]
address = "::1"
trusted = true

[resolver.isp]
address = "192.0.2.53:5353"
`,
		uci: `
config oe
	option shunt_duration '1h30m'
	option idle_timeout '90s'
	option recheck_time '1d'
	option max_pending '16'
	option max_held '32'

config oe_group 'private_or_clear'
	option cidrs '0.0.0.0/0 ::/0'

config oe_group 'private'
	list cidrs '203.0.113.0/24'
	list cidrs '203.0.113.7'
	option require_dnssec '1'

config oe_group 'clear_or_private'
	list cidrs '198.51.100.0/24'
	option failure_shunt 'drop'

config dns
	option timeout '1.5s'
	option retries '0'

config resolver
	option address '::1'
	option trusted '1'

config resolver 'isp'
	option address '192.0.2.53:5353'
`,
		check: func(t *testing.T, c *Config) {
			oe := c.OE
			if !oe.Enabled || oe.ShuntDuration != 90*time.Minute || oe.RecheckTime != 24*time.Hour || len(oe.Groups) != 3 {
				t.Fatalf("%+v", oe)
			}
			if g := oe.Groups[1]; g.Name != GroupPrivate || g.Failure != ShuntDrop || !g.RequireDNSSEC || g.CIDRs[1] != netip.MustParsePrefix("203.0.113.7/32") {
				t.Errorf("%+v", g)
			}
			if oe.Groups[0].Failure != ShuntPass || oe.Groups[2].Failure != ShuntDrop {
				t.Errorf("failure shunts %+v", oe.Groups)
			}
			r := c.DNS.Resolvers
			if len(r) != 2 || r[0].Addr != netip.MustParseAddrPort("[::1]:53") || !r[0].Trusted || r[1].Addr.Port() != 5353 || r[1].Trusted {
				t.Errorf("%+v", r)
			}
			if c.DNS.Timeout != 1500*time.Millisecond || c.DNS.Retries != 0 {
				t.Errorf("%+v", c.DNS)
			}
		},
	},
}

// TestFormatsAgree parses the same settings from TOML and from UCI: the
// structs must be equal, and right.
func TestFormatsAgree(t *testing.T) {
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			ct := mustParse(t, "swanling.toml", p.toml)
			cu := mustParse(t, "swanling", p.uci)
			if ct.Format != FormatTOML || cu.Format != FormatUCI {
				t.Errorf("formats %s %s", ct.Format, cu.Format)
			}
			if !reflect.DeepEqual(normalize(ct), normalize(cu)) {
				t.Errorf("TOML and UCI differ:\nTOML %+v\nUCI  %+v", normalize(ct), normalize(cu))
			}
			p.check(t, ct)
			// Files edited on Windows: CR LF line ends read the same.
			for _, text := range []string{p.toml, p.uci} {
				c := mustParse(t, "swanling", strings.ReplaceAll(text, "\n", "\r\n"))
				if !reflect.DeepEqual(normalize(c), normalize(ct)) {
					t.Errorf("CR LF:\n got %+v\nwant %+v", normalize(c), normalize(ct))
				}
			}
		})
	}
}

// enableKeyLines turns the "#:" lines of an example on, with the private
// key at keyPath.
func enableKeyLines(text, keyPath string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, "#:"); ok {
			l = strings.ReplaceAll(rest, "/etc/swanling/key.pem", keyPath)
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestExamples(t *testing.T) {
	var plain, keyed []*Config
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	writeKey(t, key, 0o600, ed25519PEM(t))
	for _, f := range []string{"../examples/swanling.toml", "../examples/swanling.uci"} {
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, c)

		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := enableKeyLines(string(data), key)
		if text == string(data) {
			t.Fatalf("%s: no #: lines", f)
		}
		c, err = Parse(filepath.Join(dir, filepath.Base(f)), []byte(text))
		if err != nil {
			t.Fatalf("%s with the key lines on: %v", f, err)
		}
		keyed = append(keyed, c)
	}
	if !reflect.DeepEqual(normalize(plain[0]), normalize(plain[1])) {
		t.Errorf("examples differ:\nTOML %+v\nUCI  %+v", normalize(plain[0]), normalize(plain[1]))
	}
	if !reflect.DeepEqual(normalize(keyed[0]), normalize(keyed[1])) {
		t.Errorf("examples with key differ:\nTOML %+v\nUCI  %+v", normalize(keyed[0]), normalize(keyed[1]))
	}
	c := keyed[0]
	if len(c.Tunnels) != 2 || c.Tunnels[1].Auth != AuthPubkey || len(c.Tunnels[1].PeerKey) != 44 || c.Local.KeyFile != key {
		t.Errorf("keyed example: %+v", c)
	}
	c = plain[0]
	if len(c.Tunnels) != 1 || c.Tunnels[0].Auth != AuthPSK || !c.OE.Enabled || len(c.OE.Groups) != 5 || len(c.DNS.Resolvers) != 2 {
		t.Errorf("example: %+v", c)
	}
}

func TestDefaultPath(t *testing.T) {
	old := openwrtRelease
	t.Cleanup(func() { openwrtRelease = old })
	dir := t.TempDir()
	openwrtRelease = filepath.Join(dir, "openwrt_release")
	if got := DefaultPath(); got != "/etc/swanling/swanling.toml" {
		t.Errorf("no OpenWrt: %s", got)
	}
	if err := os.WriteFile(openwrtRelease, []byte("DISTRIB_ID='OpenWrt'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := DefaultPath(); got != "/etc/config/swanling" {
		t.Errorf("OpenWrt: %s", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || err.Error() != "nope.toml: cannot read: no such file or directory" {
		t.Errorf("got %v", err)
	}
}

func TestErrorString(t *testing.T) {
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{File: "/etc/swanling/swanling.toml", Line: 14, Section: `tunnel "hq"`, Key: "tunnel.hq.esp_proposals", Reason: `esp proposal "aes129gcm16": unknown cipher`},
			`swanling.toml:14: tunnel "hq": esp proposal "aes129gcm16": unknown cipher`},
		{Error{File: "x.toml", Line: 3, Reason: "syntax error: boom"}, "x.toml:3: syntax error: boom"},
		{Error{File: "/etc/config/swanling", Reason: "cannot read: permission denied"}, "swanling: cannot read: permission denied"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q want %q", got, c.want)
		}
	}
}

func TestDetectFormat(t *testing.T) {
	for text, want := range map[string]string{
		"":                               FormatTOML,
		"# config tunnel 'hq'\n":         FormatTOML,
		"config = 1\n":                   FormatTOML,
		"config.x = 1\n":                 FormatTOML,
		"[tunnel.hq]\n":                  FormatTOML,
		"\n  # c\nconfig tunnel 'hq'\n":  FormatUCI,
		"config\tlocal\n":                FormatUCI,
		"package swanling\n":             FormatUCI,
		"option peer '198.51.100.1'\n":   FormatUCI,
		"list cidrs 0.0.0.0/0\n":         FormatUCI,
		"configx local\n":                FormatTOML,
		"\r\nconfig local\r\n":           FormatUCI,
		"option\n":                       FormatTOML,
		"option =\"x\"\n":                FormatTOML,
		"   [local]\nconfig tunnel x\n":  FormatTOML,
		"# only\n# comments\n\n  \t\n":   FormatTOML,
		"config  'local' # trailing\n":   FormatUCI,
		"package 'swanling'; config x\n": FormatUCI,
	} {
		if got := DetectFormat([]byte(text)); got != want {
			t.Errorf("%q: %s, want %s", text, got, want)
		}
	}
}

// TestErrorsExact covers errors that need no file of their own: each text
// in either format, with its exact message.
func TestErrorsExact(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"[listen]\nike_port = 500\nnatt_port = 500\n", "f:3: listen: natt_port 500 equals ike_port: NAT traversal needs its own port (RFC 3948)"},
		{"[listen]\nmtu = 1480\n", "f:2: listen: mtu 1480 leaves no room for ESP under outer_mtu 1492 (at least 54 octets: IPv4, ESP header, IV, trailer, ICV)"},
		{"[listen]\ntable = 254\n", `f:2: listen: table 254: tables 253-255 are the kernel's default, main and local tables`},
		{"[listen]\ninterface = \"a/b\"\n", `f:2: listen: interface "a/b": not a valid interface name (at most 15 characters, no '/', ':' or spaces)`},
		{"[limits]\nhalf_open_total = 10\n", "f:2: limits: half_open_per_ip 16 exceeds half_open_total 10"},
		{"[limits]\nmemory_limit = 1000\n", "f:2: limits: memory_limit 1000: out of range 8MiB-1PiB"},
		{"[limits]\nmemory_limit = 1.5\n", "f:2: limits: memory_limit: want a size like \"10MB\" or an integer, not a float or date"},
		{"[timers]\nretransmit_max = \"100ms\"\n", "f:2: timers: retransmit_max 100ms is below retransmit_base 1s"},
		{"[timers]\ndpd = 30\n", `f:2: timers: dpd: want a duration string like "90s", not an integer`},
		{"[log]\nlevel = \"verbose\"\n", `f:2: log: level "verbose": want one of debug, info, warn, error`},
		{"[log]\nsyslog = \"yes\"\n", "f:2: log: syslog: want a boolean, not a string"},
		{"[oe]\nenabled = true\n", "f:2: oe: enabled, but no oe_group is configured"},
		{"[oe_group.private]\ncidrs = []\n", `f:2: oe_group "private": cidrs missing: a group needs at least one CIDR`},
		{"[oe_group.private]\ncidrs = [\"192.0.2.0/24\"]\nfailure_shunt = \"pass\"\n", `f:3: oe_group "private": group private never falls back to clear: failure_shunt must be drop`},
		{"[oe_group.clear]\ncidrs = [\"192.0.2.0/24\"]\nfailure_shunt = \"drop\"\n", `f:3: oe_group "clear": group clear never negotiates, so it has no failure_shunt`},
		{"[oe_group.private]\ncidrs = [\"192.0.2.0/24\", \"192.0.2.0/24\"]\n", `f:2: oe_group "private": cidrs "192.0.2.0/24": listed twice`},
		{"[oe_group.private_or_clear]\ncidrs = [\"192.0.2.0/24\"]\n[oe_group.private-or-clear]\ncidrs = [\"192.0.3.0/24\"]\n", `f:3: oe_group "private-or-clear": group private-or-clear defined twice (first on line 1)`},
		{"[tunnel.hq]\npeer = \"198.51.100.1\"\nauth = \"psk\"\n", `f:3: tunnel "hq": auth "psk" needs psk`},
		{"[tunnel.hq]\npeer = \"198.51.100.1\"\nauth = \"null\"\npsk = \"0123456789abcdef\"\n", `f:4: tunnel "hq": psk set, but auth is "null"`},
		{"[tunnel.hq]\npeer = \"198.51.100.1\"\npsk = \"0123456789abcdef\"\npeer_pubkey = \"MCowBQYDK2VwAyEA5GGj8SD3GeIris3Iv1qK/UoDJtKNvnJ1q+7/UMRw300=\"\n", `f:4: tunnel "hq": both psk and peer_pubkey set: choose one with auth`},
		{"[tunnel.hq]\npsk = \"0123456789abcdef\"\n", `f:1: tunnel "hq": peer missing: an address, a host name, or %any to only respond`},
		{"[tunnel.hq]\npeer = \"198.51.100.256\"\n", `f:2: tunnel "hq": peer "198.51.100.256": not an IP address, a host name or %any`},
		{"[tunnel.hq]\npeer = \"gw.example\"\nauth = \"null\"\nlocal_id = \"%any\"\n", `f:4: tunnel "hq": local_id "%any": the local identity cannot be %any`},
		{"[local]\nid = \"%null\"\n", `f:2: local: id "%null": ID_NULL goes with auth null: set it as a tunnel's local_id`},
		{"[tunnel.hq]\npeer = \"gw.example\"\npsk = \"0123456789abcdef\"\nremote_id = \"%null\"\n", `f:4: tunnel "hq": remote_id %null (ID_NULL, RFC 7619) goes with auth "null", not "psk"`},
		{"[tunnel.hq]\npeer = \"gw.example\"\nauth = \"null\"\nremote_id = \"keyid:xyz\"\n", `f:4: tunnel "hq": remote_id "keyid:xyz": keyid: wants hex octets, like keyid:0a0b0c`},
		{"[tunnel.hq]\npeer = \"gw.example\"\nauth = \"null\"\nlife_bytes = \"1GB\"\nrekey_bytes = 0\n", `f:4: tunnel "hq": life_bytes 1000000000 without rekey_bytes: the SA would die without a rekey`},
		{"[tunnel.hq]\npeer = \"gw.example\"\nauth = \"null\"\nrekey_time = \"10m\"\nrand_time = \"10m\"\n", `f:5: tunnel "hq": rand_time 10m must be below rekey_time 10m`},
		{"[tunnel.hq]\npeer = \"gw.example\"\nauth = \"null\"\nreauth_time = \"1h\"\nike_rekey_time = \"2h\"\n", `f:4: tunnel "hq": reauth_time 1h comes before ike_rekey_time 2h: raise ike_rekey_time or drop it`},
		{"[tunnel.hq]\npeer = \"gw.example\"\nauth = \"null\"\nike_proposals = [\"aes128gcm16-prfsha256-x25519\", \"aes128gcm-prfsha256-curve25519\"]\n", `f:4: tunnel "hq": ike proposal "aes128gcm-prfsha256-curve25519" listed twice`},
		{"[tunnel.hq]\npeer = \"gw.example\"\nauth = \"null\"\nesp_proposals = [\n  \"aes128gcm16\",\n  \"aes128gcm16-prfsha256\",\n]\n", `f:6: tunnel "hq": esp proposal "aes128gcm16-prfsha256": prfsha256: ESP has no prf`},
		{"[tunnel.\"a.b\"]\npeer = \"gw.example\"\n", `f:1: tunnel "a.b": invalid name: letters, digits, '_' and '-', at most 64`},
		{"[tunnel]\npeer = \"gw.example\"\n", `f:2: key "peer": tunnel settings go in a [tunnel.NAME] table`},
		{"[tunnel.hq.x]\n", `f:1: unknown table [tunnel.hq.x]`},
		{"[local]\nid.x = 1\n", `f:2: local: unknown key "id.x"`},
		{"local = 5\n", `f:1: "local" must be a table: [local]`},
		{"foo = 5\n", `f:1: unknown key "foo" outside any table`},
		{"[local]\nid = \"@a.example\"\nid = \"@b.example\"\n", `f:3: local: id set twice (first on line 2)`},
		{"local = { id = \"@a.example\" }\n[local]\n", `f:2: table [local] defined twice (first on line 1)`},
		{"[local]\naddress = [[\"192.0.2.1\"]]\n", `f:2: local: address: arrays hold only strings, integers or booleans`},
		{"[listen]\nike_port = 0500\n", `f:2: syntax error: integers cannot have leading zeroes`},
		{"[resolver.x]\ntrusted = true\n", `f:1: resolver "x": address missing`},
		{"[manual_sa.m]\ninsecure = true\npeer = \"192.0.2.2\"\n", `f:1: manual_sa "m": spi_in missing (the SPI the peer sends with)`},
		{"[manual_sa.m]\ninsecure = true\nalgorithm = \"aes128\"\n", `f:3: manual_sa "m": algorithm "aes128": want aes128gcm16, aes192gcm16, aes256gcm16 or chacha20poly1305`},
		{"[manual_sa.m]\ninsecure = true\nkey_in = \"xyz\"\n", `f:3: manual_sa "m": key_in: not hex key material`},
		{"[manual_sa.m]\ninsecure = true\nspi_in = 0x100000000\n", `f:3: manual_sa "m": spi_in 0x100000000: out of range 0-4294967295`},
		{`[manual_sa.m]
insecure = true
peer = "198.51.100.2"
spi_in = 0x1000
spi_out = 0x2000
algorithm = "aes128gcm16"
key_in = "000102030405060708090a0b0c0d0e0f10111213"
key_out = "000102030405060708090a0b0c0d0e0f10111213"
local_ts = ["198.18.0.0/24"]
remote_ts = ["203.0.113.0/24"]
`, `f:8: manual_sa "m": key_out equals key_in: both directions would use the same nonces under one key`},
		{`[manual_sa.m]
insecure = true
peer = "198.51.100.2"
spi_in = 0x1000
spi_out = 0x2000
algorithm = "aes128gcm16"
key_in = "000102030405060708090a0b0c0d0e0f10111213"
key_out = "101112131415161718191a1b1c1d1e1f20212223"
local_ts = ["198.18.0.0/24"]
remote_ts = ["203.0.113.0/24"]
local = "2001:db8::1"
`, `f:11: manual_sa "m": local 2001:db8::1 and peer 198.51.100.2 are of different address families`},
		{`[manual_sa.m]
insecure = true
peer = "198.51.100.2"
spi_in = 0x1000
spi_out = 0x2000
algorithm = "aes128gcm16"
key_in = "000102030405060708090a0b0c0d0e0f10111213"
key_out = "101112131415161718191a1b1c1d1e1f20212223"
local_ts = ["198.18.0.0/24"]
remote_ts = ["203.0.113.0/24"]
[manual_sa.n]
insecure = true
peer = "198.51.100.2"
spi_in = 0x1000
spi_out = 0x3000
algorithm = "aes128gcm16"
key_in = "000102030405060708090a0b0c0d0e0f10111213"
key_out = "101112131415161718191a1b1c1d1e1f20212223"
local_ts = ["198.18.0.0/24"]
remote_ts = ["203.0.113.0/24"]
`, `f:14: manual_sa "n": spi_in 4096 is already manual SA "m"'s`},
		// UCI
		{"config tunnel 'hq'\n\toption peer \"198.51.100.1\n", `f:2: unterminated " quote`},
		{"package other\n", `f:1: package "other": this file is for swanling`},
		{"config local\npackage swanling\n", `f:2: package after the first config section`},
		{"config local\nconfig\n", `f:2: config: section type missing`},
		{"config local 'a' 'b'\n", `f:1: config: too many words (quote values that contain spaces)`},
		{"config local\n\toption\n", `f:2: local: option: name missing`},
		{"config local\n\toption 'i-d' x\n", `f:2: local: option "i-d": invalid name (letters, digits and _ only)`},
		{"config local\n\tlist address ''\n", `f:2: local: list address: empty value`},
		{"config local\n\tlist address 192.0.2.1\n\toption address 192.0.2.2\n", `f:3: local: address already set as list on line 2`},
		{"config local\n\toption id x\x00y\n", `f:2: NUL byte in file`},
		{"config local\n\toption id '@gw.example'\nconfig local\n", `f:3: local: second local section (first on line 1)`},
		{"config oe_group\n\tlist cidrs 192.0.2.0/24\n", `f:1: oe_group: oe_group section needs a name: config oe_group 'NAME'`},
		{"config listen\n\toption ike_port 'five'\n", `f:2: listen: ike_port "five": not an integer`},
		{"config listen\n\toption ike_port '99999999999999999999'\n", `f:2: listen: ike_port "99999999999999999999": out of range`},
		{"config tunnel hq\n\toption peer 198.51.100.1\n\toption psk 0123456789abcdef\n\toption rekey_packets 10k\n", `f:4: tunnel "hq": rekey_packets "10k": not an integer`},
	} {
		_, err := Parse("f", []byte(c.text))
		if err == nil {
			t.Errorf("%q: no error, want %s", c.text, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.text, err, c.want)
		}
	}
}

// TestUCIQuoting covers what uci accepts beyond the pairs: the
// abbreviations, ';' between commands, a backslash-continued line, a value
// spanning lines, escapes in double quotes, comments after values.
func TestUCIQuoting(t *testing.T) {
	c := mustParse(t, "f", `
p swanling
c local; o id "@gw.ex\ample"   # comment
c tunnel hq
	o peer vpn.\
example
	o psk 'first line
second line'
	l remote_ts 203.0.113.0/24#comment
	l remote_ts "2001:db8::/32"
	o start ''
	o dpd 1\0s
`)
	tu := c.Tunnels[0]
	if c.Local.ID != "@gw.example" || tu.Peer != "vpn.example" || tu.PSK != "first line\nsecond line" ||
		len(tu.RemoteTS) != 2 || tu.RemoteTS[1] != netip.MustParsePrefix("2001:db8::/32") ||
		tu.Start != StartTrap || tu.DPD != 10*time.Second || tu.RemoteID != "@vpn.example" {
		t.Errorf("%+v / %+v", c.Local, tu)
	}
	// The line of an error after a multi-line value is still right.
	_, err := Parse("f", []byte("config tunnel hq\n\toption psk 'aaaaaaaa\nbbbbbbbb\ncccc'\n\toption bogus 1\n"))
	if err == nil || err.Error() != `f:5: tunnel "hq": unknown key "bogus"` {
		t.Errorf("got %v", err)
	}
}

func TestDeepInlineTables(t *testing.T) {
	deep := "a = " + strings.Repeat("{a = ", 5000) + "1" + strings.Repeat("}", 5000) + "\n"
	if _, err := Parse("f", []byte(deep)); err == nil || err.Error() != `f:1: unknown table [a]` {
		t.Errorf("got %v", err)
	}
	deep = "tunnel = " + strings.Repeat("{a = ", 5000) + "1" + strings.Repeat("}", 5000) + "\n"
	if _, err := Parse("f", []byte(deep)); err == nil || err.Error() != `f:1: tunnel "a": a: want a value, not a table` {
		t.Errorf("got %v", err)
	}
}

// A tunnel and an OE group may cover the same destination: the tunnel wins
// (in the engine); the config must accept it. enabled = false keeps the
// groups but turns OE off.
func TestTunnelOverlapsOE(t *testing.T) {
	c := mustParse(t, "f", `
[tunnel.hq]
peer = "198.51.100.1"
psk = "0123456789abcdefXYZ"
remote_ts = ["203.0.113.0/24"]

[oe_group.private]
cidrs = ["203.0.113.0/24"]

[oe]
enabled = false
`)
	if c.OE.Enabled || len(c.OE.Groups) != 1 || c.Tunnels[0].RemoteTS[0] != c.OE.Groups[0].CIDRs[0] {
		t.Errorf("%+v", c)
	}
}
