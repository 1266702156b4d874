package config

import (
	"strconv"
)

// The UCI reader follows the file format that OpenWrt's libuci reads and
// `uci export` writes:
//
//	package swanling            (optional, as `uci export` prints it)
//	config TYPE ['NAME']
//		option NAME 'VALUE'
//		list NAME 'VALUE'
//
// A word is made of unquoted, 'single-quoted' (no escapes) and
// "double-quoted" (backslash escapes) parts written without space between
// them, which is how uci writes a single quote: 'it'\''s'. A backslash
// before a newline continues the line; quotes may span lines. '#' outside
// quotes starts a comment; ';' ends a command. The abbreviations uci accepts
// (c, o, l, p) are accepted too. Stricter than libuci: an option set twice,
// two sections with one name, and extra words are errors, not silently
// merged, since such a file almost always holds a mistake.

type uciTok struct {
	text string
	line int
}

type uciReader struct {
	file string
	data []byte
	i    int
	line int
}

func (r *uciReader) errf(line int, sec, key, format string, args ...any) *Error {
	return errorf(r.file, line, sec, key, format, args...)
}

func isUCISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// statement returns the words of the next command; none at the end.
func (r *uciReader) statement() ([]uciTok, error) {
	var toks []uciTok
	for r.i < len(r.data) {
		c := r.data[r.i]
		switch {
		case isUCISpace(c):
			r.i++
		case c == '\n':
			r.i++
			r.line++
			if len(toks) > 0 {
				return toks, nil
			}
		case c == ';':
			r.i++
			if len(toks) > 0 {
				return toks, nil
			}
		case c == '#':
			for r.i < len(r.data) && r.data[r.i] != '\n' {
				r.i++
			}
		case c == 0:
			return nil, r.errf(r.line, "", "", "NUL byte in file")
		default:
			t, err := r.word()
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
		}
	}
	return toks, nil
}

// word reads one word, joining its quoted and unquoted parts.
func (r *uciReader) word() (uciTok, error) {
	t := uciTok{line: r.line}
	var b []byte
	for r.i < len(r.data) {
		c := r.data[r.i]
		switch {
		case isUCISpace(c) || c == '\n' || c == ';' || c == '#':
			t.text = string(b)
			return t, nil
		case c == 0:
			return t, r.errf(r.line, "", "", "NUL byte in file")
		case c == '\'':
			start := t.line // the word's line: a stray quote makes the error show up later
			r.i++
			for {
				if r.i >= len(r.data) {
					return t, r.errf(start, "", "", "unterminated ' quote")
				}
				c := r.data[r.i]
				r.i++
				if c == '\'' {
					break
				}
				if c == 0 {
					return t, r.errf(r.line, "", "", "NUL byte in file")
				}
				if c == '\n' {
					r.line++
				}
				b = append(b, c)
			}
		case c == '"':
			start := t.line
			r.i++
			for {
				if r.i >= len(r.data) {
					return t, r.errf(start, "", "", "unterminated \" quote")
				}
				c := r.data[r.i]
				r.i++
				if c == '"' {
					break
				}
				if c == 0 {
					return t, r.errf(r.line, "", "", "NUL byte in file")
				}
				if c == '\\' {
					if r.continuation() {
						continue
					}
					if r.i >= len(r.data) {
						return t, r.errf(start, "", "", "unterminated \" quote")
					}
					c = r.data[r.i]
					r.i++
				}
				if c == '\n' {
					r.line++
				}
				b = append(b, c)
			}
		case c == '\\':
			r.i++
			if r.continuation() || r.i >= len(r.data) {
				continue
			}
			if r.data[r.i] == 0 {
				return t, r.errf(r.line, "", "", "NUL byte in file")
			}
			b = append(b, r.data[r.i])
			r.i++
		default:
			b = append(b, c)
			r.i++
		}
	}
	t.text = string(b)
	return t, nil
}

// continuation skips a newline (or CR LF) right after a backslash.
func (r *uciReader) continuation() bool {
	if r.i < len(r.data) && r.data[r.i] == '\n' {
		r.i++
		r.line++
		return true
	}
	if r.i+1 < len(r.data) && r.data[r.i] == '\r' && r.data[r.i+1] == '\n' {
		r.i += 2
		r.line++
		return true
	}
	return false
}

// validUCIName is libuci's rule for section and option names.
func validUCIName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func parseUCI(file string, data []byte) (*tree, error) {
	r := &uciReader{file: file, data: data, line: 1}
	t := &tree{file: file, format: FormatUCI}
	var cur *section
	names := map[string]int{} // section name -> line, across types as in uci
	opts := map[string]*option{}
	for {
		toks, err := r.statement()
		if err != nil {
			return nil, err
		}
		if len(toks) == 0 {
			return t, nil
		}
		cmd, line := toks[0].text, toks[0].line
		switch cmd {
		case "package", "p":
			if len(toks) != 2 {
				return nil, r.errf(line, "", "", "package: want one name")
			}
			if cur != nil {
				return nil, r.errf(line, "", "", "package after the first config section")
			}
			if toks[1].text != "swanling" {
				return nil, r.errf(line, "", "", "package %q: this file is for swanling", toks[1].text)
			}
		case "config", "c":
			if len(toks) < 2 {
				return nil, r.errf(line, "", "", "config: section type missing")
			}
			if len(toks) > 3 {
				return nil, r.errf(line, "", "", "config: too many words (quote values that contain spaces)")
			}
			typ := toks[1].text
			if !validUCIName(typ) {
				return nil, r.errf(line, "", "", "config %q: invalid section type", typ)
			}
			cur = &section{typ: typ, line: line}
			if len(toks) == 3 && toks[2].text != "" {
				name := toks[2].text
				if !validUCIName(name) {
					return nil, r.errf(line, "", "", "config %s %q: invalid section name (letters, digits and _ only)", typ, name)
				}
				if first, ok := names[name]; ok {
					return nil, r.errf(line, "", "", "section %q defined twice (first on line %d)", name, first)
				}
				names[name] = line
				cur.name, cur.named = name, true
			}
			t.sections = append(t.sections, cur)
			opts = map[string]*option{}
		case "option", "o", "list", "l":
			list := cmd == "list" || cmd == "l"
			if cur == nil {
				return nil, r.errf(line, "", "", "%s before the first config section", cmd)
			}
			named := cur.named && sectionTypes[cur.typ]
			sec := sectionLabel(cur.typ, cur.name, named)
			if len(toks) < 2 {
				return nil, r.errf(line, sec, "", "%s: name missing", cmd)
			}
			name := toks[1].text
			if !validUCIName(name) {
				return nil, r.errf(line, sec, "", "%s %q: invalid name (letters, digits and _ only)", cmd, name)
			}
			key := keyPath(cur.typ, cur.name, named, name)
			if len(toks) > 3 {
				return nil, r.errf(line, sec, key, "%s %s: too many words (quote values that contain spaces)", cmd, name)
			}
			val := value{line: line, kind: kUntyped}
			has := len(toks) == 3
			if has {
				val.text, val.line = toks[2].text, toks[2].line
			}
			o := opts[name]
			switch {
			case o == nil:
				o = &option{key: name, line: line, list: list}
				opts[name] = o
				cur.opts = append(cur.opts, o)
			case !list || !o.list:
				what := "option"
				if o.list {
					what = "list"
				}
				return nil, r.errf(line, sec, key, "%s already set as %s on line %d", name, what, o.line)
			}
			if list {
				if !has || val.text == "" {
					return nil, r.errf(line, sec, key, "list %s: empty value", name)
				}
				o.vals = append(o.vals, val)
			} else if has && val.text != "" {
				// uci: an empty option is an unset one.
				o.vals = []value{val}
			}
		default:
			return nil, r.errf(line, "", "", "unknown command %s (want config, option or list)", strconv.Quote(cmd))
		}
	}
}
