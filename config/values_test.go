package config

import (
	"net/netip"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"0", 0, ""},
		{"90s", 90 * time.Second, ""},
		{"10m", 10 * time.Minute, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"1.5h", 90 * time.Minute, ""},
		{"1d", 24 * time.Hour, ""},
		{"2d12h", 60 * time.Hour, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"0s", 0, ""},
		{"", 0, "empty duration"},
		{"90", 0, "duration needs a unit (like 90s, 10m, 1h, 1d)"},
		{"1y", 0, `unknown duration unit "y" (ms, s, m, h, d)`},
		{"1 h", 0, `unknown duration unit " h" (ms, s, m, h, d)`},
		{"-5s", 0, "not a duration (like 90s, 10m, 1h30m, 1d)"},
		{"h", 0, "not a duration (like 90s, 10m, 1h30m, 1d)"},
		{"1.h", 0, "not a duration (like 90s, 10m, 1h30m, 1d)"},
		{"999999999999d", 0, "duration too long"},
		{"9999999999999s", 0, "duration too long"},
		{"106751d106751d", 0, "duration too long"},
	} {
		got, err := parseDuration(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: got %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
		err  string
	}{
		{"0", 0, ""},
		{"1000", 1000, ""},
		{"10MB", 10_000_000, ""},
		{"10 MB", 10_000_000, ""},
		{"1GiB", 1 << 30, ""},
		{"2kB", 2000, ""},
		{"2KB", 2000, ""},
		{"3KiB", 3072, ""},
		{"1TB", 1e12, ""},
		{"512B", 512, ""},
		{"10M", 0, `unknown size unit "M" (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)`},
		{"10mb", 0, `unknown size unit "mb" (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)`},
		{"MB", 0, "not a size (like 1000, 500MB, 1GiB)"},
		{"-1", 0, "not a size (like 1000, 500MB, 1GiB)"},
		{"1.5GB", 0, `unknown size unit ".5GB" (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)`},
		{"99999999999999999999", 0, "size too large"},
		{"20000000TiB", 0, "size too large"},
	} {
		got, err := parseSize(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: got %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"192.0.2.0/24", "192.0.2.0/24", ""},
		{"0.0.0.0/0", "0.0.0.0/0", ""},
		{"2001:db8::/32", "2001:db8::/32", ""},
		{"192.0.2.7", "192.0.2.7/32", ""},
		{"2001:db8::7", "2001:db8::7/128", ""},
		{"192.0.2.1/24", "", "host bits set (did you mean 192.0.2.0/24?)"},
		{"192.0.2.0/33", "", "invalid prefix length"},
		{"2001:db8::/129", "", "invalid prefix length"},
		{"192.0.2.0/-1", "", "invalid prefix length"},
		{"192.0.2.0/x", "", "invalid prefix length"},
		{"192.0.2/24", "", "not a CIDR"},
		{"example.org", "", "not a CIDR or address"},
		{"::ffff:192.0.2.0/120", "", "IPv4-mapped IPv6 prefix: write it as IPv4"},
		{"fe80::1%eth0", "", "not a CIDR or address"},
	} {
		got, err := parsePrefix(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: got %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != netip.MustParsePrefix(c.want) {
			t.Errorf("%q: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestParseAddrPort(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"192.0.2.53", "192.0.2.53:53", ""},
		{"192.0.2.53:5353", "192.0.2.53:5353", ""},
		{"2001:db8::53", "[2001:db8::53]:53", ""},
		{"[2001:db8::53]:853", "[2001:db8::53]:853", ""},
		{"192.0.2.53:0", "", "port 0"},
		{"192.0.2.53:99999", "", "not an address or address:port"},
		{"resolver.example", "", "not an address or address:port"},
		{"[::ffff:192.0.2.1]:53", "", "IPv4-mapped IPv6 address: write it as IPv4"},
	} {
		got, err := parseAddrPort(c.in, 53)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: got %v, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != netip.MustParseAddrPort(c.want) {
			t.Errorf("%q: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestIntegers(t *testing.T) {
	for _, c := range []struct {
		in   string
		toml bool
		want int64
		err  bool
	}{
		{"500", true, 500, false},
		{"0x1194", true, 0x1194, false},
		{"0o17", true, 15, false},
		{"0b101", true, 5, false},
		{"1_000_000", true, 1000000, false},
		{"-5", true, -5, false},
		{"+5", true, 5, false},
		{"0500", true, 0, true},
		{"1__0", true, 0, true},
		{"_1", true, 0, true},
		{"-0x10", true, 0, true},
		{"9223372036854775808", true, 0, true},
		{"-9223372036854775808", true, -9223372036854775808, false},
		{"500", false, 500, false},
		{" 500 ", false, 500, false},
		{"0x10", false, 16, false},
		{"0X10", false, 16, false},
		{"-3", false, -3, false},
		{"+3", false, 0, true},
		{"1_000", false, 0, true},
		{"", false, 0, true},
		{"9223372036854775808", false, 0, true},
	} {
		var got int64
		var err error
		if c.toml {
			got, err = parseTOMLInt(c.in)
		} else {
			got, err = parseUCIInt(c.in)
		}
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%q (toml %v): got %d, %v", c.in, c.toml, got, err)
		}
	}
	for in, want := range map[string]bool{"1": true, "yes": true, "on": true, "true": true, "enabled": true, "TRUE": true,
		"0": false, "no": false, "off": false, "false": false, "disabled": false} {
		if got, err := parseUCIBool(in); err != nil || got != want {
			t.Errorf("bool %q: %v %v", in, got, err)
		}
	}
	if _, err := parseUCIBool("2"); err == nil {
		t.Error("bool 2 accepted")
	}
}

func TestIDKind(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"%any", IDAny, ""},
		{"192.0.2.1", IDIPv4, ""},
		{"2001:db8::1", IDIPv6, ""},
		{"@gw.example", IDFQDN, ""},
		{"@gw", IDFQDN, ""},
		{"admin@example.org", IDUser, ""},
		{"keyid:0a0b", IDKeyID, ""},
		{"%null", IDNull, ""},
		{"gw.example", "", "write @gw.example for an FQDN identity"},
		{"@", "", "not a valid @fqdn"},
		{"@-bad.example", "", "not a valid @fqdn"},
		{"@a..b", "", "not a valid @fqdn"},
		{"@192.0.2.1", "", "not a valid @fqdn"},
		{"@x.y@z", "", "not a valid @fqdn"},
		{"a b@example.org", "", "not a valid user@fqdn"},
		{"@example.org@", "", "not a valid @fqdn"},
		{"user@", "", "not a valid user@fqdn"},
		{"keyid:", "", "keyid: wants hex octets, like keyid:0a0b0c"},
		{"keyid:abc", "", "keyid: wants hex octets, like keyid:0a0b0c"},
		{"fe80::1%eth0", "", "not an address, @fqdn, user@fqdn, keyid:HEX or %null"},
		{"", "", "not an address, @fqdn, user@fqdn, keyid:HEX or %null"},
	} {
		got, err := IDKind(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: got %q, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestValidHostname(t *testing.T) {
	for in, want := range map[string]bool{
		"vpn.example": true, "vpn.example.": true, "a": true, "x-1.example": true, "1.example": true,
		"": false, ".": false, "-a.example": false, "a-.example": false, "a..b": false, "a_b.example": false,
		"192.0.2.1": false, "192.0.2.300": false, "2001:db8::1": false,
		string(make([]byte, 64)) + ".example": false,
	} {
		if got := validHostname(in); got != want {
			t.Errorf("%q: %v", in, got)
		}
	}
}

func TestParseHexKey(t *testing.T) {
	for in, want := range map[string]int{"00ff": 2, "0x00ff": 2, "00:ff:10": 3, "": -1, "0x": -1, "abc": -1, "zz": -1} {
		b, err := parseHexKey(in)
		if want < 0 {
			if err == nil {
				t.Errorf("%q accepted", in)
			}
			continue
		}
		if err != nil || len(b) != want {
			t.Errorf("%q: %x %v", in, b, err)
		}
	}
}

func TestSuggest(t *testing.T) {
	if got := suggest("ike_prot", []string{"ike_port", "natt_port"}); got != ` (did you mean "ike_port"?)` {
		t.Errorf("got %q", got)
	}
	if got := suggest("zzzzzz", []string{"ike_port"}); got != "" {
		t.Errorf("got %q", got)
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("distance %d", d)
	}
}
