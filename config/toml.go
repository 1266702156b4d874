package config

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The TOML reader is our own: a strict TOML v1.0 parser for what the schema
// can hold (comments; bare, quoted and dotted keys; [tables]; inline tables;
// basic and literal strings, single- and multi-line, with escapes; integers
// in all four bases; booleans; arrays). Floats and dates are recognized so
// the schema can say that no key takes one. It keeps the line of every key
// and value, so every error can name its line, and checks the schema key by
// key. A general TOML library cost about 90 KB on the MIPS routers.

type tomlReader struct {
	file   string
	data   []byte
	nl     []int // offsets of '\n', for line numbers
	t      *tree
	secs   map[string]*section
	tables map[string]int // table paths defined by a header or an inline table -> line
	keys   map[string]int // full key paths -> line
}

// tval is one parsed TOML value: a scalar (kind kString, kInt, kBool or
// kOther with its text: the decoded string, or the literal as written), an
// array, or an inline table.
type tval struct {
	kind  vkind // or tArray, tTable
	text  string
	line  int
	items []*tval
	kvs   []tkv
}

type tkv struct {
	path []string
	line int
	v    *tval
}

const (
	tArray vkind = 100 + iota
	tTable
)

// maxTOMLDepth bounds nested arrays and inline tables, so hostile input
// cannot exhaust the stack (the schema nests at most one level, but deeper
// input must still get its schema error, not a syntax error).
const maxTOMLDepth = 10000

func parseTOML(file string, data []byte) (*tree, error) {
	r := &tomlReader{
		file:   file,
		data:   data,
		t:      &tree{file: file, format: FormatTOML},
		secs:   map[string]*section{},
		tables: map[string]int{},
		keys:   map[string]int{},
	}
	for i, c := range data {
		if c == '\n' {
			r.nl = append(r.nl, i)
		}
	}
	p := &tomlParser{r: r, d: data}
	// TOML v1.0: "A TOML file must be a valid UTF-8 encoded Unicode document."
	if !utf8.Valid(data) {
		for i := 0; i < len(data); {
			c, n := utf8.DecodeRune(data[i:])
			if c == utf8.RuneError && n == 1 {
				return nil, p.fail(i, "invalid UTF-8")
			}
			i += n
		}
	}
	var cur []string
	for {
		p.ws()
		if p.eof() {
			return r.t, nil
		}
		switch c := data[p.p]; {
		case c == '#' || c == '\n' || c == '\r':
			if err := p.endLine("line"); err != nil {
				return nil, err
			}
		case c == '[':
			array := p.at(1) == '['
			p.p++
			if array {
				p.p++
			}
			p.ws()
			path, line, err := p.key()
			if err != nil {
				return nil, err
			}
			p.ws()
			if !p.take("]") || (array && !p.take("]")) {
				return nil, p.fail(p.p, "expected %s to close the table header, found %s", map[bool]string{true: "']]'", false: "']'"}[array], p.found(p.p))
			}
			if err := p.endLine("table header"); err != nil {
				return nil, err
			}
			if array {
				return nil, r.errf(line, "", "", "[[%s]]: arrays of tables are not used; write [%s.NAME] for each", strings.Join(path, "."), path[0])
			}
			if err := r.header(path, line); err != nil {
				return nil, err
			}
			cur = path
		default:
			path, line, err := p.key()
			if err != nil {
				return nil, err
			}
			p.ws()
			if !p.take("=") {
				return nil, p.fail(p.p, "expected '=' after the key %s, found %s", strings.Join(path, "."), p.found(p.p))
			}
			p.ws()
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			if err := p.endLine("value"); err != nil {
				return nil, err
			}
			full := append(append([]string(nil), cur...), path...)
			if err := r.keyValue(full, v, line); err != nil {
				return nil, err
			}
		}
	}
}

func (r *tomlReader) errf(line int, sec, key, format string, args ...any) *Error {
	return errorf(r.file, line, sec, key, format, args...)
}

// line returns the 1-based line of a byte offset.
func (r *tomlReader) line(off int) int {
	return sort.SearchInts(r.nl, off) + 1
}

// tomlParser is the cursor over the file.
type tomlParser struct {
	r     *tomlReader
	d     []byte
	p     int
	depth int
}

func (p *tomlParser) fail(at int, format string, args ...any) error {
	return p.r.errf(p.r.line(at), "", "", "syntax error: "+format, args...)
}

func (p *tomlParser) eof() bool { return p.p >= len(p.d) }

// at returns the byte i past the cursor, 0 past the end.
func (p *tomlParser) at(i int) byte {
	if p.p+i < len(p.d) {
		return p.d[p.p+i]
	}
	return 0
}

func (p *tomlParser) take(s string) bool {
	if len(p.d)-p.p >= len(s) && string(p.d[p.p:p.p+len(s)]) == s {
		p.p += len(s)
		return true
	}
	return false
}

// found describes what is at offset i, for messages.
func (p *tomlParser) found(i int) string {
	if i >= len(p.d) {
		return "end of file"
	}
	if p.d[i] == '\n' || p.d[i] == '\r' {
		return "end of line"
	}
	c, _ := utf8.DecodeRune(p.d[i:])
	return strconv.QuoteRune(c)
}

// ws skips spaces and tabs (TOML whitespace).
func (p *tomlParser) ws() {
	for !p.eof() && (p.d[p.p] == ' ' || p.d[p.p] == '\t') {
		p.p++
	}
}

// newline consumes "\n" or "\r\n".
func (p *tomlParser) newline() bool {
	return p.take("\n") || p.take("\r\n")
}

// comment skips a comment up to its newline. TOML v1.0: control characters
// other than tab are not permitted in comments.
func (p *tomlParser) comment() error {
	if p.eof() || p.d[p.p] != '#' {
		return nil
	}
	for p.p++; !p.eof() && p.d[p.p] != '\n'; p.p++ {
		if c := p.d[p.p]; (c < 0x20 && c != '\t' && !(c == '\r' && p.at(1) == '\n')) || c == 0x7f {
			return p.fail(p.p, "control character %U in a comment", rune(c))
		}
	}
	return nil
}

// endLine accepts the rest of a line after what (whitespace, a comment).
func (p *tomlParser) endLine(what string) error {
	p.ws()
	if err := p.comment(); err != nil {
		return err
	}
	if p.eof() || p.newline() {
		return nil
	}
	return p.fail(p.p, "expected the end of the line after the %s, found %s", what, p.found(p.p))
}

// wsnl skips whitespace, newlines and comments, as allowed inside arrays.
func (p *tomlParser) wsnl() error {
	for {
		p.ws()
		if err := p.comment(); err != nil {
			return err
		}
		if !p.newline() {
			return nil
		}
	}
}

func isBare(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// key reads a dotted key: simple keys (bare or quoted) joined by dots,
// with optional whitespace around the dots.
func (p *tomlParser) key() ([]string, int, error) {
	line := p.r.line(p.p)
	var path []string
	for {
		start := p.p
		var k string
		switch {
		case p.eof():
			return nil, 0, p.fail(p.p, "expected a key, found end of file")
		case p.d[p.p] == '"' || p.d[p.p] == '\'':
			if p.take(`"""`) || p.take("'''") {
				return nil, 0, p.fail(start, "a key cannot be a multi-line string")
			}
			s, err := p.str()
			if err != nil {
				return nil, 0, err
			}
			k = s
		default:
			for !p.eof() && isBare(p.d[p.p]) {
				p.p++
			}
			if p.p == start {
				return nil, 0, p.fail(p.p, "expected a key, found %s", p.found(p.p))
			}
			k = string(p.d[start:p.p])
		}
		path = append(path, k)
		p.ws()
		if !p.take(".") {
			return path, line, nil
		}
		p.ws()
	}
}

// value reads a value starting at the cursor.
func (p *tomlParser) value() (*tval, error) {
	v := &tval{line: p.r.line(p.p)}
	if p.eof() {
		return nil, p.fail(p.p, "expected a value, found end of file")
	}
	switch p.d[p.p] {
	case '"', '\'':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		v.kind, v.text = kString, s
		return v, nil
	case '[':
		return v, p.array(v)
	case '{':
		return v, p.inlineTable(v)
	}
	start := p.p
	for !p.eof() && (isBare(p.d[p.p]) || p.d[p.p] == '+' || p.d[p.p] == '.' || p.d[p.p] == ':') {
		p.p++
	}
	tok := string(p.d[start:p.p])
	// A date and a time may be separated by a space (RFC 3339, as TOML).
	if match(tok, "9999-99-99") && len(tok) == 10 && p.at(0) == ' ' && p.p+3 < len(p.d) && match(string(p.d[p.p+1:p.p+4]), "99:") {
		for p.p++; !p.eof() && (isBare(p.d[p.p]) || p.d[p.p] == '+' || p.d[p.p] == '.' || p.d[p.p] == ':'); p.p++ {
		}
		tok = string(p.d[start:p.p])
	}
	v.text = tok
	switch {
	case tok == "":
		return nil, p.fail(p.p, "expected a value, found %s", p.found(p.p))
	case tok == "true" || tok == "false":
		v.kind = kBool
	case tomlInt(tok):
		v.kind = kInt
	case tomlFloat(tok) || tomlDateTime(tok):
		v.kind = kOther
	case len(tok) > 1 && tok[0] == '0' && strings.Trim(tok, "0123456789_") == "":
		return nil, p.fail(start, "integers cannot have leading zeroes")
	default:
		return nil, p.fail(start, "value %s is not a string, integer, boolean, float or date (a string needs quotes)", tok)
	}
	return v, nil
}

func (p *tomlParser) nest() error {
	p.depth++
	if p.depth > maxTOMLDepth {
		return p.fail(p.p, "arrays and inline tables nested more than %d deep", maxTOMLDepth)
	}
	return nil
}

// array reads [v, v, ...]: newlines and comments may come between the
// values, and a trailing comma is allowed.
func (p *tomlParser) array(v *tval) error {
	v.kind = tArray
	if err := p.nest(); err != nil {
		return err
	}
	p.p++ // [
	for {
		if err := p.wsnl(); err != nil {
			return err
		}
		if p.take("]") {
			break
		}
		item, err := p.value()
		if err != nil {
			return err
		}
		v.items = append(v.items, item)
		if err := p.wsnl(); err != nil {
			return err
		}
		if p.take("]") {
			break
		}
		if !p.take(",") {
			return p.fail(p.p, "expected ',' or ']' in the array, found %s", p.found(p.p))
		}
	}
	p.depth--
	return nil
}

// inlineTable reads { k = v, ... } on one line, without a trailing comma
// (TOML v1.0, Inline Table).
func (p *tomlParser) inlineTable(v *tval) error {
	v.kind = tTable
	if err := p.nest(); err != nil {
		return err
	}
	p.p++ // {
	p.ws()
	if !p.take("}") {
		for {
			p.ws()
			path, line, err := p.key()
			if err != nil {
				return err
			}
			p.ws()
			if !p.take("=") {
				return p.fail(p.p, "expected '=' after the key %s, found %s", strings.Join(path, "."), p.found(p.p))
			}
			p.ws()
			item, err := p.value()
			if err != nil {
				return err
			}
			v.kvs = append(v.kvs, tkv{path: path, line: line, v: item})
			p.ws()
			if p.take("}") {
				break
			}
			if !p.take(",") {
				return p.fail(p.p, "expected ',' or '}' in the inline table, found %s", p.found(p.p))
			}
			p.ws()
			if p.at(0) == '}' {
				return p.fail(p.p, "trailing comma in an inline table")
			}
		}
	}
	p.depth--
	return nil
}

// str reads a basic ("..."), literal ('...') or multi-line ("""...""",
// ”'...”') string and returns its value.
func (p *tomlParser) str() (string, error) {
	start := p.p
	q := p.d[p.p]
	multi := p.at(1) == q && p.at(2) == q
	if multi {
		p.p += 3
		p.newline() // a newline right after the opening delimiter is trimmed
	} else {
		p.p++
	}
	var b []byte
	for {
		if p.eof() {
			return "", p.fail(start, "unterminated string")
		}
		c := p.d[p.p]
		switch {
		case c == q && !multi:
			p.p++
			return string(b), nil
		case c == q && p.at(1) == q && p.at(2) == q:
			// Up to two quotes may stand right before the closing three.
			n := 3
			for p.at(n) == q {
				n++
			}
			if n > 5 {
				return "", p.fail(p.p, "too many quotes closing a multi-line string")
			}
			for range n - 3 {
				b = append(b, q)
			}
			p.p += n
			return string(b), nil
		case c == '\n' || c == '\r' && p.at(1) == '\n':
			if !multi {
				return "", p.fail(start, "unterminated string: a single-line string ends on its line")
			}
			p.newline()
			b = append(b, '\n')
		case c == '\\' && q == '"':
			var err error
			if b, err = p.escape(b, multi); err != nil {
				return "", err
			}
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.fail(p.p, "control character %U in a string: write it as an escape", rune(c))
		default:
			b = append(b, c)
			p.p++
		}
	}
}

// escape decodes one escape sequence of a basic string (TOML v1.0).
func (p *tomlParser) escape(b []byte, multi bool) ([]byte, error) {
	at := p.p
	p.p++ // backslash
	if p.eof() {
		return nil, p.fail(at, "unterminated string")
	}
	c := p.d[p.p]
	p.p++
	switch c {
	case 'b':
		return append(b, '\b'), nil
	case 't':
		return append(b, '\t'), nil
	case 'n':
		return append(b, '\n'), nil
	case 'f':
		return append(b, '\f'), nil
	case 'r':
		return append(b, '\r'), nil
	case '"', '\\':
		return append(b, c), nil
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if p.p+n > len(p.d) {
			return nil, p.fail(at, "\\%c escape needs %d hex digits", c, n)
		}
		u, err := strconv.ParseUint(string(p.d[p.p:p.p+n]), 16, 32)
		r := rune(u)
		if err != nil || strings.ContainsAny(string(p.d[p.p:p.p+n]), "+-_") || !utf8.ValidRune(r) {
			return nil, p.fail(at, "\\%c%s is not a Unicode scalar value", c, p.d[p.p:p.p+n])
		}
		p.p += n
		return utf8.AppendRune(b, r), nil
	case ' ', '\t', '\n', '\r':
		// A line-ending backslash trims all whitespace and newlines up to
		// the next other character (multi-line basic strings only).
		p.p--
		p.ws()
		if multi && p.newline() {
			for {
				p.ws()
				if !p.newline() {
					return b, nil
				}
			}
		}
	}
	return nil, p.fail(at, "invalid escape \\%s", p.found(at+1))
}

// match reports whether s starts with pattern, where '9' stands for a digit.
func match(s, pattern string) bool {
	if len(s) < len(pattern) {
		return false
	}
	for i := range len(pattern) {
		if pattern[i] == '9' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		} else if s[i] != pattern[i] {
			return false
		}
	}
	return true
}

// digits reports whether s is digits of the given set with single
// underscores between them (TOML v1.0, Integer).
func digits(s, set string) bool {
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	return strings.Trim(s, set+"_") == ""
}

func tomlInt(s string) bool {
	for pre, set := range map[string]string{"0x": "0123456789abcdefABCDEF", "0o": "01234567", "0b": "01"} {
		if rest, ok := strings.CutPrefix(s, pre); ok {
			return digits(rest, set)
		}
	}
	return decInt(s)
}

// decInt: an optional sign, then 0 or digits without a leading zero.
func decInt(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return s == "0" || digits(s, "0123456789") && s[0] != '0'
}

func tomlFloat(s string) bool {
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 {
		return false
	}
	if t == "inf" || t == "nan" {
		return true
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(t), "e")
	whole, frac, hasFrac := strings.Cut(mant, ".")
	if !hasExp && !hasFrac || !decInt(whole) || hasFrac && !digits(frac, "0123456789") {
		return false
	}
	if hasExp {
		exp = strings.TrimPrefix(strings.TrimPrefix(exp, "+"), "-")
		return digits(exp, "0123456789")
	}
	return true
}

// tomlDateTime recognizes RFC 3339 dates, times and date-times, as TOML
// writes them. None is taken by the schema; they only get a clear error.
func tomlDateTime(s string) bool {
	time := func(s string) (string, bool) {
		if !match(s, "99:99:99") {
			return s, false
		}
		s = s[8:]
		if rest, ok := strings.CutPrefix(s, "."); ok {
			n := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
			if n == 0 {
				return s, false
			}
			s = rest[n:]
		}
		return s, true
	}
	if rest, ok := time(s); ok {
		return rest == ""
	}
	if !match(s, "9999-99-99") {
		return false
	}
	s = s[10:]
	if s == "" {
		return true
	}
	if s[0] != 'T' && s[0] != 't' && s[0] != ' ' {
		return false
	}
	s, ok := time(s[1:])
	switch {
	case !ok:
		return false
	case s == "" || s == "Z" || s == "z":
		return true
	}
	return (s[0] == '+' || s[0] == '-') && len(s) == 6 && match(s[1:], "99:99")
}

func (r *tomlReader) section(typ, name string, named bool, line int) *section {
	id := typ + "\x00" + name
	s := r.secs[id]
	if s == nil {
		s = &section{typ: typ, name: name, named: named, line: line}
		r.secs[id] = s
		r.t.sections = append(r.t.sections, s)
	}
	return s
}

func (r *tomlReader) defineTable(path []string, line int) error {
	id := strings.Join(path, "\x00")
	if first, ok := r.tables[id]; ok {
		return r.errf(line, "", "", "table [%s] defined twice (first on line %d)", strings.Join(path, "."), first)
	}
	if first, ok := r.keys[id]; ok {
		return r.errf(line, "", "", "table [%s] redefines a key set on line %d", strings.Join(path, "."), first)
	}
	r.tables[id] = line
	return nil
}

// header handles [path].
func (r *tomlReader) header(path []string, line int) error {
	if err := r.defineTable(path, line); err != nil {
		return err
	}
	return r.openTable(path, line)
}

// openTable starts the section a table path names, if it names one.
func (r *tomlReader) openTable(path []string, line int) error {
	typ := path[0]
	named, ok := sectionTypes[typ]
	if !ok {
		return r.errf(line, "", "", "unknown table [%s]%s", typ, suggest(typ, sectionTypeNames()))
	}
	switch {
	case !named && len(path) == 1:
		r.section(typ, "", false, line)
	case named && len(path) == 1:
		// [tunnel] alone only groups [tunnel.NAME] tables.
	case named && len(path) == 2:
		r.section(typ, path[1], true, line)
	default:
		return r.errf(line, "", "", "unknown table [%s]", strings.Join(path, "."))
	}
	return nil
}

// keyValue places one key = value at its full path.
func (r *tomlReader) keyValue(full []string, v *tval, line int) error {
	// No table of the schema is deeper than two names ([tunnel.hq]), so a
	// deeper inline table is an unknown key; stopping here also bounds the
	// recursion on hostile input.
	if v.kind == tTable && len(full) < 3 {
		if err := r.defineTable(full, line); err != nil {
			return err
		}
		if len(full) <= 2 {
			if err := r.openTable(full, line); err != nil {
				return err
			}
		}
		for _, kv := range v.kvs {
			sub := append(append([]string(nil), full...), kv.path...)
			if err := r.keyValue(sub, kv.v, kv.line); err != nil {
				return err
			}
		}
		return nil
	}

	typ := full[0]
	named, ok := sectionTypes[typ]
	if !ok {
		if len(full) == 1 {
			return r.errf(line, "", full[0], "unknown key %q outside any table", full[0])
		}
		return r.errf(line, "", "", "unknown table [%s]%s", typ, suggest(typ, sectionTypeNames()))
	}
	var s *section
	var key string
	switch {
	case len(full) == 1:
		return r.errf(line, "", typ, "%q must be a table: [%s]", typ, typ)
	case !named && len(full) == 2:
		s, key = r.section(typ, "", false, line), full[1]
	case named && len(full) == 2:
		return r.errf(line, "", strings.Join(full, "."), "key %q: %s settings go in a [%s.NAME] table", full[1], typ, typ)
	case named && len(full) == 3:
		s, key = r.section(typ, full[1], true, line), full[2]
	default:
		rest := full[1:]
		if named {
			s, rest = r.section(typ, full[1], true, line), full[2:]
		} else {
			s = r.section(typ, "", false, line)
		}
		return r.errf(line, sectionLabel(s.typ, s.name, s.named), strings.Join(full, "."),
			"unknown key %q", strings.Join(rest, "."))
	}

	id := strings.Join(full, "\x00")
	if first, ok := r.keys[id]; ok {
		return r.errf(line, sectionLabel(s.typ, s.name, s.named), keyPath(s.typ, s.name, s.named, key),
			"%s set twice (first on line %d)", key, first)
	}
	if first, ok := r.tables[id]; ok {
		return r.errf(line, sectionLabel(s.typ, s.name, s.named), keyPath(s.typ, s.name, s.named, key),
			"%s redefines the table of line %d", key, first)
	}
	r.keys[id] = line

	o := &option{key: key, line: line}
	if v.kind == tArray {
		o.list = true
		for _, n := range v.items {
			val, ok := n.scalar()
			if !ok {
				return r.errf(line, sectionLabel(s.typ, s.name, s.named), keyPath(s.typ, s.name, s.named, key),
					"%s: arrays hold only strings, integers or booleans", key)
			}
			o.vals = append(o.vals, val)
		}
	} else {
		val, ok := v.scalar()
		if !ok {
			return r.errf(line, sectionLabel(s.typ, s.name, s.named), keyPath(s.typ, s.name, s.named, key),
				"%s: want a value, not a table", key)
		}
		val.line = line
		o.vals = []value{val}
	}
	s.opts = append(s.opts, o)
	return nil
}

func (v *tval) scalar() (value, bool) {
	switch v.kind {
	case kString, kInt, kBool, kOther:
		return value{text: v.text, line: v.line, kind: v.kind}, true
	}
	return value{}, false
}
