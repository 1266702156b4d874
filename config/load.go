package config

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Options change what Load and Parse check.
type Options struct {
	// SkipFiles leaves key files unread: their presence, mode and contents
	// are not checked, and Tunnel.PeerKey stays empty for a peer key given
	// as a file. Everything else is checked. For checking a config on
	// another machine than the one that runs it (CI, a build host).
	SkipFiles bool
}

// openwrtRelease marks an OpenWrt system; a variable for tests.
var openwrtRelease = "/etc/openwrt_release"

// DefaultPath is the configuration file used without -c: the UCI file
// /etc/config/swanling on OpenWrt (when /etc/openwrt_release exists), and
// /etc/swanling/swanling.toml elsewhere.
func DefaultPath() string {
	if _, err := os.Stat(openwrtRelease); err == nil {
		return "/etc/config/swanling"
	}
	return "/etc/swanling/swanling.toml"
}

// Load reads, parses, fills in and validates the configuration file at
// path, in either format. Errors are *Error.
func Load(path string) (*Config, error) {
	return LoadWith(path, Options{})
}

// LoadWith is Load with options.
func LoadWith(path string, o Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		reason := err.Error()
		if pe, ok := err.(*os.PathError); ok {
			reason = "cannot read: " + pe.Err.Error()
		}
		return nil, &Error{File: path, Reason: reason}
	}
	return ParseWith(path, data, o)
}

// Parse is Load from bytes; name is the file name used in errors and the
// directory that relative key paths are taken from.
func Parse(name string, data []byte) (*Config, error) {
	return ParseWith(name, data, Options{})
}

// ParseWith is Parse with options.
func ParseWith(name string, data []byte, o Options) (*Config, error) {
	var t *tree
	var err error
	if DetectFormat(data) == FormatUCI {
		t, err = parseUCI(name, data)
	} else {
		t, err = parseTOML(name, data)
	}
	if err != nil {
		return nil, err
	}
	return decode(t, o)
}

// DetectFormat tells a UCI file (its first line is a UCI command: config,
// package, option or list, or uci's abbreviations c, p, o, l, followed by
// a word) from TOML (anything else,
// including an empty file). No TOML line starts that way: a bare key is
// followed by '=' or '.'.
func DetectFormat(data []byte) string {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		for _, w := range []string{"config", "package", "option", "list", "c", "p", "o", "l"} {
			if rest, ok := bytes.CutPrefix(line, []byte(w)); ok && len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
				rest = bytes.TrimSpace(rest)
				if len(rest) > 0 && rest[0] != '=' && rest[0] != '.' {
					return FormatUCI
				}
			}
		}
		return FormatTOML
	}
	return FormatTOML
}

// Defaults is the configuration of an empty file: a running gateway with no
// tunnels and opportunistic encryption off. Load starts from it.
func Defaults() *Config {
	return &Config{
		Listen: Listen{
			IKEPort:   500,
			NATTPort:  4500,
			Interface: "swl0",
			OuterMTU:  1492, // PPPoE
			FwMark:    0x5157,
			Table:     5157,
		},
		OE: OE{
			ShuntDuration: 15 * time.Minute,
			IdleTimeout:   time.Minute,
			RecheckTime:   20 * time.Minute,
			MaxPending:    256,
			MaxHeld:       1024,
		},
		DNS: DNS{Timeout: 2 * time.Second, Retries: 2},
		Log: Log{Level: "info"},
		Limits: Limits{
			MemoryLimit:     48 << 20,
			HalfOpenTotal:   1024,
			HalfOpenPerIP:   16,
			CookieThreshold: 64,
		},
		Timers: Timers{
			RetransmitBase:  time.Second,
			RetransmitTries: 5,
			RetransmitMax:   30 * time.Second,
			Keepalive:       20 * time.Second,
			DPD:             30 * time.Second,
			HalfOpenTimeout: 30 * time.Second,
		},
	}
}

// DefaultTunnel is a tunnel's settings before its section is read. DPD, the
// identities and the auth method are filled in after, from the rest.
func DefaultTunnel() Tunnel {
	return Tunnel{
		Start: StartTrap,
		Rekey: Rekey{
			IKETime:   4 * time.Hour,
			ChildTime: time.Hour,
			LifeTime:  66 * time.Minute, // ChildTime + 10%
			Jitter:    6 * time.Minute,  // ChildTime / 10
		},
	}
}

func decode(t *tree, o Options) (*Config, error) {
	d := &decoder{
		file:          t.file,
		dir:           filepath.Dir(t.file),
		opts:          o,
		cfg:           Defaults(),
		groupLines:    map[netip.Prefix]groupRef{},
		spiIn:         map[uint32]string{},
		remoteTS:      map[netip.Prefix]string{},
		singletonLine: map[string]int{},
		keyLines:      map[string]int{},
	}
	d.cfg.File = t.file
	d.cfg.Format = t.format
	for _, s := range t.sections {
		d.section(s)
		if d.err != nil {
			return nil, d.err
		}
	}
	d.finish()
	if d.err != nil {
		return nil, d.err
	}
	return d.cfg, nil
}
