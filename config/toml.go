package config

import (
	"errors"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// The TOML reader walks go-toml's unstable parser, which keeps the byte
// range of every key and value, so every error can name its line. go-toml's
// decoder is not used: it would lose the lines, and the schema is checked
// here key by key anyway.

type tomlReader struct {
	file   string
	data   []byte
	nl     []int // offsets of '\n', for line numbers
	t      *tree
	secs   map[string]*section
	tables map[string]int // table paths defined by a header or an inline table -> line
	keys   map[string]int // full key paths -> line
}

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
	var p unstable.Parser
	p.Reset(data)
	var cur []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			path, line := r.keyParts(e.Key())
			if err := r.header(path, line); err != nil {
				return nil, err
			}
			cur = path
		case unstable.ArrayTable:
			path, line := r.keyParts(e.Key())
			return nil, r.errf(line, "", "", "[[%s]]: arrays of tables are not used; write [%s.NAME] for each", strings.Join(path, "."), path[0])
		case unstable.KeyValue:
			path, line := r.keyParts(e.Key())
			full := append(append([]string(nil), cur...), path...)
			if err := r.keyValue(full, e.Value(), line); err != nil {
				return nil, err
			}
		}
	}
	if err := p.Error(); err != nil {
		line := 0
		msg := err.Error()
		var perr *unstable.ParserError
		if errors.As(err, &perr) {
			line = r.sliceLine(perr.Highlight)
		}
		return nil, r.errf(line, "", "", "syntax error: %s", msg)
	}
	return r.t, nil
}

func (r *tomlReader) errf(line int, sec, key, format string, args ...any) *Error {
	return errorf(r.file, line, sec, key, format, args...)
}

// line returns the 1-based line of a byte offset.
func (r *tomlReader) line(off int) int {
	return sort.SearchInts(r.nl, off) + 1
}

// sliceLine finds the line of a slice of r.data (a parser error highlight).
// The pointer comparison keeps a slice of some other buffer from giving a
// wrong line.
func (r *tomlReader) sliceLine(b []byte) int {
	if len(r.data) == 0 {
		return 1
	}
	off := cap(r.data) - cap(b)
	if off < 0 || off > len(r.data) {
		return r.line(len(r.data))
	}
	if off < len(r.data) && cap(b) > 0 && &r.data[off] != &b[:1][0] {
		return r.line(len(r.data))
	}
	return r.line(off)
}

func (r *tomlReader) nodeLine(n *unstable.Node) int {
	return r.line(int(n.Raw.Offset))
}

func (r *tomlReader) keyParts(it unstable.Iterator) ([]string, int) {
	var parts []string
	line := 0
	for it.Next() {
		n := it.Node()
		if line == 0 {
			line = r.nodeLine(n)
		}
		parts = append(parts, string(n.Data))
	}
	return parts, line
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
func (r *tomlReader) keyValue(full []string, v *unstable.Node, line int) error {
	// No table of the schema is deeper than two names ([tunnel.hq]), so a
	// deeper inline table is an unknown key; stopping here also bounds the
	// recursion on hostile input.
	if v.Kind == unstable.InlineTable && len(full) < 3 {
		if err := r.defineTable(full, line); err != nil {
			return err
		}
		if len(full) <= 2 {
			if err := r.openTable(full, line); err != nil {
				return err
			}
		}
		it := v.Children()
		for it.Next() {
			kv := it.Node()
			if kv.Kind != unstable.KeyValue {
				continue
			}
			path, l := r.keyParts(kv.Key())
			sub := append(append([]string(nil), full...), path...)
			if err := r.keyValue(sub, kv.Value(), l); err != nil {
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
	if v.Kind == unstable.Array {
		o.list = true
		it := v.Children()
		for it.Next() {
			n := it.Node()
			val, ok := r.scalar(n)
			if !ok {
				return r.errf(line, sectionLabel(s.typ, s.name, s.named), keyPath(s.typ, s.name, s.named, key),
					"%s: arrays hold only strings, integers or booleans", key)
			}
			o.vals = append(o.vals, val)
		}
	} else {
		val, ok := r.scalar(v)
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

func (r *tomlReader) scalar(n *unstable.Node) (value, bool) {
	v := value{text: string(n.Data), line: r.nodeLine(n)}
	switch n.Kind {
	case unstable.String:
		v.kind = kString
	case unstable.Integer:
		v.kind = kInt
	case unstable.Bool:
		v.kind = kBool
	case unstable.Float, unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		v.kind = kOther
	default:
		return value{}, false
	}
	return v, true
}
