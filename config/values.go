package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Parsers for single values. They return a reason without the key; the
// schema adds the key, the section and the line.

// parseTOMLInt reads a TOML integer token: decimal without leading zeros,
// 0x, 0o or 0b, underscores between digits.
func parseTOMLInt(s string) (int64, error) {
	t := s
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	base := 10
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b') {
		if s[0] == '+' || s[0] == '-' {
			return 0, errors.New("not an integer")
		}
		base = map[byte]int{'x': 16, 'o': 8, 'b': 2}[t[1]]
		t = t[2:]
	} else if len(t) > 1 && t[0] == '0' {
		return 0, errors.New("not an integer (leading zero)")
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, errors.New("not an integer")
	}
	u, err := strconv.ParseUint(strings.ReplaceAll(t, "_", ""), base, 64)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	if neg {
		if u > 1<<63 {
			return 0, errors.New("out of range")
		}
		return -int64(u), nil
	}
	if u > math.MaxInt64 {
		return 0, errors.New("out of range")
	}
	return int64(u), nil
}

// parseUCIInt reads an integer written in a UCI string: decimal or 0x hex.
func parseUCIInt(s string) (int64, error) {
	t := strings.TrimSpace(s)
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	base := 10
	if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
		base, t = 16, t[2:]
	}
	if t == "" || t[0] == '+' {
		return 0, errors.New("not an integer")
	}
	u, err := strconv.ParseUint(t, base, 63)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, errors.New("out of range")
		}
		return 0, errors.New("not an integer")
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// parseUCIBool knows the words OpenWrt's config_get_bool knows.
func parseUCIBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "on", "true", "enabled":
		return true, nil
	case "0", "no", "off", "false", "disabled":
		return false, nil
	}
	return false, errors.New("not a boolean (1/0, yes/no, on/off, true/false)")
}

var durationUnits = []struct {
	name string
	d    time.Duration
}{
	{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour},
}

// parseDuration reads "90s", "10m", "1h30m", "1.5h", "7d", or "0". Go's
// time.ParseDuration lacks days, which lifetimes are often given in.
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errors.New("empty duration")
	}
	bad := errors.New("not a duration (like 90s, 10m, 1h30m, 1d)")
	var total time.Duration
	t := s
	for t != "" {
		i := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		whole := t[:i]
		frac := ""
		if i < len(t) && t[i] == '.' {
			j := i + 1
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			frac = t[i+1 : j]
			if frac == "" {
				return 0, bad
			}
			i = j
		}
		if whole == "" && frac == "" {
			return 0, bad
		}
		j := i
		for j < len(t) && (t[j] < '0' || t[j] > '9') && t[j] != '.' {
			j++
		}
		unitName := t[i:j]
		t = t[j:]
		var unit time.Duration
		for _, u := range durationUnits {
			if u.name == unitName {
				unit = u.d
			}
		}
		if unit == 0 {
			if unitName == "" {
				return 0, errors.New("duration needs a unit (like 90s, 10m, 1h, 1d)")
			}
			return 0, fmt.Errorf("unknown duration unit %q (ms, s, m, h, d)", unitName)
		}
		if len(whole) > 12 || len(frac) > 9 {
			return 0, errors.New("duration too long")
		}
		w, _ := strconv.ParseInt("0"+whole, 10, 64)
		if w > int64(math.MaxInt64/unit) {
			return 0, errors.New("duration too long")
		}
		d := time.Duration(w) * unit
		if frac != "" {
			f, _ := strconv.ParseInt(frac, 10, 64)
			d += time.Duration(float64(unit) * float64(f) / math.Pow10(len(frac)))
		}
		if total > math.MaxInt64-d {
			return 0, errors.New("duration too long")
		}
		total += d
	}
	return total, nil
}

var sizeUnits = map[string]uint64{
	"": 1, "B": 1,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// parseSize reads a byte count: "1000", "10MB" (10^6), "1GiB" (2^30).
func parseSize(s string) (uint64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("not a size (like 1000, 500MB, 1GiB)")
	}
	unitName := strings.TrimPrefix(s[i:], " ")
	unit, ok := sizeUnits[unitName]
	if !ok {
		return 0, fmt.Errorf("unknown size unit %q (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)", unitName)
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil || n > math.MaxUint64/unit {
		return 0, errors.New("size too large")
	}
	return n * unit, nil
}

// parsePrefix reads a CIDR; a bare address is a host prefix. Host bits must
// be zero: "10.1.2.3/8" is almost always a typo, and routes and selectors
// need the network.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := parseAddr(s)
		if err != nil {
			return netip.Prefix{}, errors.New("not a CIDR or address")
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if _, _, ok := strings.Cut(s, "/"); ok {
			addr, bits, _ := strings.Cut(s, "/")
			if _, aerr := netip.ParseAddr(addr); aerr == nil {
				if n, nerr := strconv.Atoi(bits); nerr != nil || n < 0 || n > 128 || strings.Contains(addr, ".") && n > 32 {
					return netip.Prefix{}, errors.New("invalid prefix length")
				}
			}
		}
		return netip.Prefix{}, errors.New("not a CIDR")
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, errors.New("IPv4-mapped IPv6 prefix: write it as IPv4")
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("host bits set (did you mean %s?)", m)
	}
	return p, nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, errors.New("not an IP address")
	}
	if a.Zone() != "" {
		return netip.Addr{}, errors.New("zoned addresses are not supported")
	}
	if a.Is4In6() {
		return netip.Addr{}, errors.New("IPv4-mapped IPv6 address: write it as IPv4")
	}
	return a, nil
}

// parseAddrPort reads "192.0.2.1", "192.0.2.1:5353", "2001:db8::1" or
// "[2001:db8::1]:5353"; def is the port when none is given.
func parseAddrPort(s string, def uint16) (netip.AddrPort, error) {
	if a, err := parseAddr(s); err == nil {
		return netip.AddrPortFrom(a, def), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, errors.New("not an address or address:port")
	}
	if _, err := parseAddr(ap.Addr().String()); err != nil {
		return netip.AddrPort{}, err
	}
	if ap.Port() == 0 {
		return netip.AddrPort{}, errors.New("port 0")
	}
	return ap, nil
}

// validHostname checks a DNS name as a peer or identity (RFC 1123 labels).
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// An all-numeric last label is a mistyped address, not a name.
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return false
	}
	return true
}

// Identity kinds, as IDKind reports them.
const (
	IDAny     = "any"       // "%any": any authenticated identity (remote only)
	IDIPv4    = "ipv4"      // ID_IPV4_ADDR
	IDIPv6    = "ipv6"      // ID_IPV6_ADDR
	IDFQDN    = "fqdn"      // "@gw.example": ID_FQDN
	IDUser    = "user_fqdn" // "user@example": ID_RFC822_ADDR
	IDKeyID   = "key_id"    // "keyid:0a0b": ID_KEY_ID, hex octets
	IDNull    = "null"      // "%null": ID_NULL (RFC 7619), with auth null
	idInvalid = ""
)

// IDKind tells which kind of IKE identity (RFC 7296, Section 3.5) an id
// string in the config denotes, and checks it; the engine uses it to encode
// the ID payload. It returns an error for a malformed id.
func IDKind(id string) (string, error) {
	switch {
	case id == "%any":
		return IDAny, nil
	case id == "%null":
		return IDNull, nil
	case strings.HasPrefix(id, "keyid:"):
		h := id[len("keyid:"):]
		if b, err := hex.DecodeString(h); err != nil || len(b) == 0 {
			return idInvalid, errors.New("keyid: wants hex octets, like keyid:0a0b0c")
		}
		return IDKeyID, nil
	case strings.HasPrefix(id, "@"):
		if !validHostname(id[1:]) {
			return idInvalid, errors.New("not a valid @fqdn")
		}
		return IDFQDN, nil
	case strings.Contains(id, "@"):
		user, domain, _ := strings.Cut(id, "@")
		if user == "" || strings.ContainsAny(user, " \t") || !validHostname(domain) {
			return idInvalid, errors.New("not a valid user@fqdn")
		}
		return IDUser, nil
	}
	if a, err := netip.ParseAddr(id); err == nil && a.Zone() == "" {
		if a.Is4() {
			return IDIPv4, nil
		}
		return IDIPv6, nil
	}
	if validHostname(id) {
		return idInvalid, fmt.Errorf("write @%s for an FQDN identity", id)
	}
	return idInvalid, errors.New("not an address, @fqdn, user@fqdn, keyid:HEX or %null")
}

// parseHexKey reads key material in hex, with an optional 0x prefix and
// optional ':' separators.
func parseHexKey(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	s = strings.ReplaceAll(s, ":", "")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("not hex key material")
	}
	return b, nil
}
