package config

import (
	"strconv"
	"strings"
	"testing"
)

// TestTOMLSyntax checks the reader against TOML v1.0 forms the schema can
// meet: what each accepted input reads as (key, kind, text, line), and the
// error of each rejected one.
func TestTOMLSyntax(t *testing.T) {
	good := []struct{ in, want string }{
		{"[listen]\nike_port = 500 # c\n", "listen.ike_port=int(500)@2"},
		{"[listen]\r\nike_port = 0x1F4\r\n", "listen.ike_port=int(0x1F4)@2"},
		{"[listen]\nike_port = 1_000\nnatt_port = 0o17\ntcp_port = 0b11\n", "listen.ike_port=int(1_000)@2 listen.natt_port=int(0o17)@3 listen.tcp_port=int(0b11)@4"},
		{"[limits]\nmemory_limit = -5\n", "limits.memory_limit=int(-5)@2"},
		{"[limits]\nmemory_limit = +5\n", "limits.memory_limit=int(+5)@2"},
		{"[limits]\nmemory_limit = 1e3\n", "limits.memory_limit=other(1e3)@2"},
		{"[limits]\nmemory_limit = -inf\n", "limits.memory_limit=other(-inf)@2"},
		{"[limits]\nmemory_limit = 1979-05-27 07:32:00Z\n", "limits.memory_limit=other(1979-05-27 07:32:00Z)@2"},
		{"[limits]\nmemory_limit = 07:32:00.5\n", "limits.memory_limit=other(07:32:00.5)@2"},
		{"[oe]\nenabled = false\n", "oe.enabled=bool(false)@2"},
		{"[local]\nid = \"a\\tb\\\"\\\\\\u00e9\\U0001F600\"\n", "local.id=str(a\tb\"\\é😀)@2"},
		{"[local]\nid = 'C:\\x\\y'\n", "local.id=str(C:\\x\\y)@2"},
		{"[local]\nid = \"\"\"\nab\\\n   \n  c\"\"\"\"\n", "local.id=str(abc\")@2"},
		{"[local]\nid = '''\nx\ny'''\n", "local.id=str(x\ny)@2"},
		{"local . \"id\" = 'x'\n", "local.id=str(x)@1"},
		{"[ tunnel . 'h q' ]\npeer = 'x'\n", "tunnel.h q.peer=str(x)@2"},
		{"tunnel.hq = { peer = 'x', psk = \"y\" }\n", "tunnel.hq.peer=str(x)@1 tunnel.hq.psk=str(y)@1"},
		{"[tunnel.hq]\nlocal_ts = [\n  # c\n  'a', \"b\",\n\n  'c',\n]\n", "tunnel.hq.local_ts=[str(a)@4 str(b)@4 str(c)@6]@2"},
		{"[tunnel.hq]\nlocal_ts = []\n", "tunnel.hq.local_ts=[]@2"},
		{"", ""},
		{"# only a comment", ""},
	}
	for _, c := range good {
		tr, err := parseTOML("f", []byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := dumpTree(tr); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	bad := []struct{ in, want string }{
		{"[local]\nid = \"abc\n", "f:2: syntax error: unterminated string: a single-line string ends on its line"},
		{"[local]\nid = \"a\\qb\"\n", `f:2: syntax error: invalid escape \'q'`},
		{"[local]\nid = \"\\uD800\"\n", `f:2: syntax error: \uD800 is not a Unicode scalar value`},
		{"[local]\nid = \"a\x01\"\n", "f:2: syntax error: control character U+0001 in a string: write it as an escape"},
		{"[local]\nid = 'x' # \x7f\n", "f:2: syntax error: control character U+007F in a comment"},
		{"[local]\nid = \"\"\"abc\n", "f:2: syntax error: unterminated string"},
		{"[local]\nid =\n", "f:2: syntax error: expected a value, found end of line"},
		{"[local]\nid 'x'\n", "f:2: syntax error: expected '=' after the key id, found '\\''"},
		{"[local]\nid = 'x' 'y'\n", "f:2: syntax error: expected the end of the line after the value, found '\\''"},
		{"[local\n", "f:1: syntax error: expected ']' to close the table header, found end of line"},
		{"[[tunnel]\n", "f:1: syntax error: expected ']]' to close the table header, found end of line"},
		{"[local]\nid = yes\n", "f:2: syntax error: value yes is not a string, integer, boolean, float or date (a string needs quotes)"},
		{"[listen]\nike_port = 1__0\n", "f:2: syntax error: value 1__0 is not a string, integer, boolean, float or date (a string needs quotes)"},
		{"[listen]\nike_port = +0x10\n", "f:2: syntax error: value +0x10 is not a string, integer, boolean, float or date (a string needs quotes)"},
		{"[tunnel.hq]\nlocal_ts = ['a' 'b']\n", "f:2: syntax error: expected ',' or ']' in the array, found '\\''"},
		{"[tunnel.hq]\nlocal_ts = ['a',\n", "f:3: syntax error: expected a value, found end of file"},
		{"tunnel.hq = { peer = 'x', }\n", "f:1: syntax error: trailing comma in an inline table"},
		{"tunnel.hq = { peer = 'x'\n", "f:1: syntax error: expected ',' or '}' in the inline table, found end of line"},
		{"\"\"\"a\"\"\" = 1\n", "f:1: syntax error: a key cannot be a multi-line string"},
		{"[local]\nid = 'x'\n\xff\n", "f:3: syntax error: invalid UTF-8"},
		{"[local]\nid = 'x'\r\r\n", "f:2: syntax error: expected the end of the line after the value, found end of line"},
	}
	for _, c := range bad {
		_, err := parseTOML("f", []byte(c.in))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.in, err, c.want)
		}
	}
}

func dumpTree(tr *tree) string {
	var out []string
	kind := map[vkind]string{kString: "str", kInt: "int", kBool: "bool", kOther: "other"}
	for _, s := range tr.sections {
		prefix := s.typ + "."
		if s.named {
			prefix += s.name + "."
		}
		for _, o := range s.opts {
			if o.list {
				var items []string
				for _, v := range o.vals {
					items = append(items, kind[v.kind]+"("+v.text+")@"+itoa(v.line))
				}
				out = append(out, prefix+o.key+"=["+strings.Join(items, " ")+"]@"+itoa(o.line))
				continue
			}
			v := o.vals[0]
			out = append(out, prefix+o.key+"="+kind[v.kind]+"("+v.text+")@"+itoa(v.line))
		}
	}
	return strings.Join(out, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }
