package config

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sectionTypes lists the TOML tables and UCI section types; true means the
// sections of that type carry a name ([tunnel.hq], config tunnel 'hq').
var sectionTypes = map[string]bool{
	"local":     false,
	"listen":    false,
	"log":       false,
	"limits":    false,
	"timers":    false,
	"oe":        false,
	"dns":       false,
	"tunnel":    true,
	"manual_sa": true,
	"oe_group":  true,
	"resolver":  true,
}

func sectionTypeNames() []string {
	var n []string
	for k := range sectionTypes {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

type decoder struct {
	file string
	dir  string // relative key paths are taken from here
	opts Options
	err  *Error
	cfg  *Config

	// Lines of options the final checks need.
	keyFileLine   int
	oeEnabled     *option
	groupLines    map[netip.Prefix]groupRef
	spiIn         map[uint32]string
	remoteTS      map[netip.Prefix]string
	tunnelOpts    []map[string]*option // per tunnel, the options set
	groupOpts     []map[string]*option
	singletonLine map[string]int
	keyLines      map[string]int // key path -> line, of every option set
}

type groupRef struct {
	group string
	line  int
}

func (d *decoder) fail(e *Error) {
	if d.err == nil {
		d.err = e
	}
}

// sctx is one section being decoded.
type sctx struct {
	d     *decoder
	s     *section
	named bool
	label string
	set   map[string]*option
}

func (c *sctx) failf(line int, key, format string, args ...any) {
	c.d.fail(errorf(c.d.file, line, c.label, keyPath(c.s.typ, c.s.name, c.named, key), format, args...))
}

// show prints a value as written: strings quoted, numbers and booleans bare.
func show(v value) string {
	if v.kind == kInt || v.kind == kBool {
		return v.text
	}
	return strconv.Quote(v.text)
}

func (c *sctx) bad(o *option, v value, format string, args ...any) {
	c.failf(v.line, o.key, "%s %s: %s", o.key, show(v), fmt.Sprintf(format, args...))
}

type field[T any] struct {
	key string
	set func(c *sctx, o *option, t *T)
}

func decodeFields[T any](c *sctx, fields []field[T], t *T) {
	for _, o := range c.s.opts {
		i := slices.IndexFunc(fields, func(f field[T]) bool { return f.key == o.key })
		if i < 0 {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.key
			}
			c.failf(o.line, o.key, "unknown key %q%s", o.key, suggest(o.key, names))
			continue
		}
		if !o.list && len(o.vals) == 0 {
			continue // UCI: an empty option is an unset one
		}
		c.set[o.key] = o
		fields[i].set(c, o, t)
	}
}

// Value getters. Each reports its own error and returns ok=false.

func (c *sctx) one(o *option) (value, bool) {
	if o.list {
		c.failf(o.line, o.key, "%s takes one value, not a list", o.key)
		return value{}, false
	}
	return o.vals[0], true
}

// many returns the values of a list key. A single value is a list of one; a
// UCI option may hold several words separated by spaces, as many OpenWrt
// packages allow.
func (c *sctx) many(o *option) []value {
	if !o.list && len(o.vals) == 1 && o.vals[0].kind == kUntyped {
		var out []value
		for _, w := range strings.Fields(o.vals[0].text) {
			out = append(out, value{text: w, line: o.vals[0].line, kind: kUntyped})
		}
		return out
	}
	return o.vals
}

func (c *sctx) kindOK(o *option, v value, want vkind) bool {
	if v.kind == want || v.kind == kUntyped {
		return true
	}
	c.failf(v.line, o.key, "%s: want %s, not %s", o.key, want, v.kind)
	return false
}

func (c *sctx) str(o *option) (string, bool) {
	v, ok := c.one(o)
	if !ok || !c.kindOK(o, v, kString) {
		return "", false
	}
	return v.text, true
}

func (c *sctx) boolean(o *option) (bool, bool) {
	v, ok := c.one(o)
	if !ok || !c.kindOK(o, v, kBool) {
		return false, false
	}
	if v.kind == kBool {
		return v.text == "true", true
	}
	b, err := parseUCIBool(v.text)
	if err != nil {
		c.bad(o, v, "%v", err)
		return false, false
	}
	return b, true
}

func (c *sctx) intValue(o *option, v value, lo, hi int64) (int64, bool) {
	if !c.kindOK(o, v, kInt) {
		return 0, false
	}
	var n int64
	var err error
	if v.kind == kInt {
		n, err = parseTOMLInt(v.text)
	} else {
		n, err = parseUCIInt(v.text)
	}
	if err != nil {
		c.bad(o, v, "%v", err)
		return 0, false
	}
	if n < lo || n > hi {
		c.bad(o, v, "out of range %d-%d", lo, hi)
		return 0, false
	}
	return n, true
}

func (c *sctx) integer(o *option, lo, hi int64) (int64, bool) {
	v, ok := c.one(o)
	if !ok {
		return 0, false
	}
	return c.intValue(o, v, lo, hi)
}

func (c *sctx) duration(o *option, lo, hi time.Duration) (time.Duration, bool) {
	v, ok := c.one(o)
	if !ok {
		return 0, false
	}
	if v.kind == kInt {
		c.failf(v.line, o.key, "%s: want a duration string like \"90s\", not an integer", o.key)
		return 0, false
	}
	if !c.kindOK(o, v, kString) {
		return 0, false
	}
	d, err := parseDuration(v.text)
	if err != nil {
		c.bad(o, v, "%v", err)
		return 0, false
	}
	if d < lo || d > hi {
		c.bad(o, v, "out of range %v-%v", fmtDuration(lo), fmtDuration(hi))
		return 0, false
	}
	return d, true
}

// fmtDuration prints whole hours and minutes the way an admin writes them.
func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// size reads a byte count: an integer or a string with a unit.
func (c *sctx) size(o *option) (uint64, bool) {
	v, ok := c.one(o)
	if !ok {
		return 0, false
	}
	switch v.kind {
	case kInt:
		n, ok := c.intValue(o, v, 0, math.MaxInt64)
		return uint64(n), ok
	case kString, kUntyped:
		n, err := parseSize(v.text)
		if err != nil {
			c.bad(o, v, "%v", err)
			return 0, false
		}
		return n, true
	}
	c.failf(v.line, o.key, "%s: want a size like \"10MB\" or an integer, not %s", o.key, v.kind)
	return 0, false
}

// count reads a packet count: a plain integer.
func (c *sctx) count(o *option) (uint64, bool) {
	n, ok := c.integer(o, 0, math.MaxInt64)
	return uint64(n), ok
}

func (c *sctx) prefixes(o *option) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range c.many(o) {
		if !c.kindOK(o, v, kString) {
			return nil
		}
		p, err := parsePrefix(v.text)
		if err != nil {
			c.bad(o, v, "%v", err)
			return nil
		}
		if slices.Contains(out, p) {
			c.bad(o, v, "listed twice")
			return nil
		}
		out = append(out, p)
	}
	return out
}

func (c *sctx) addrs(o *option) []netip.Addr {
	var out []netip.Addr
	for _, v := range c.many(o) {
		if !c.kindOK(o, v, kString) {
			return nil
		}
		a, err := parseAddr(v.text)
		if err != nil {
			c.bad(o, v, "%v", err)
			return nil
		}
		if slices.Contains(out, a) {
			c.bad(o, v, "listed twice")
			return nil
		}
		out = append(out, a)
	}
	return out
}

func (c *sctx) addr(o *option) (netip.Addr, bool) {
	v, ok := c.one(o)
	if !ok || !c.kindOK(o, v, kString) {
		return netip.Addr{}, false
	}
	a, err := parseAddr(v.text)
	if err != nil {
		c.bad(o, v, "%v", err)
		return netip.Addr{}, false
	}
	return a, true
}

func (c *sctx) port(o *option, zeroOK bool) (uint16, bool) {
	lo := int64(1)
	if zeroOK {
		lo = 0
	}
	n, ok := c.integer(o, lo, 65535)
	return uint16(n), ok
}

func (c *sctx) oneOf(o *option, words ...string) (string, bool) {
	s, ok := c.str(o)
	if !ok {
		return "", false
	}
	if !slices.Contains(words, s) {
		c.bad(o, o.vals[0], "want one of %s", strings.Join(words, ", "))
		return "", false
	}
	return s, true
}

func (c *sctx) id(o *option, anyOK bool) (string, bool) {
	s, ok := c.str(o)
	if !ok {
		return "", false
	}
	kind, err := IDKind(s)
	if err != nil {
		c.bad(o, o.vals[0], "%v", err)
		return "", false
	}
	if kind == IDAny && !anyOK {
		c.bad(o, o.vals[0], "the local identity cannot be %%any")
		return "", false
	}
	return s, true
}

// path reads a file path; a relative one is taken from the config's directory.
func (c *sctx) path(o *option) (string, bool) {
	s, ok := c.str(o)
	if !ok {
		return "", false
	}
	if s == "" || strings.ContainsRune(s, 0) {
		c.bad(o, o.vals[0], "not a file path")
		return "", false
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(c.d.dir, s)
	}
	return s, true
}

// validName is the rule for tunnel, manual SA and resolver names: what UCI
// allows in section names, plus '-' for TOML.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
