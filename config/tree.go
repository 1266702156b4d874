package config

// The tree is what both readers produce: sections of options, each value with
// the line it was written on. The schema (schema.go) reads only this.

// vkind is how a value was written. UCI has only strings, so its values are
// untyped and the schema parses them; TOML values carry their TOML type, and
// the schema insists on the right one (a port is 500, not "500").
type vkind uint8

const (
	kUntyped vkind = iota // UCI
	kString
	kInt
	kBool
	kOther // TOML float, date or time: no key takes one
)

func (k vkind) String() string {
	switch k {
	case kString:
		return "a string"
	case kInt:
		return "an integer"
	case kBool:
		return "a boolean"
	case kOther:
		return "a float or date"
	}
	return "a value"
}

type value struct {
	text string
	line int
	kind vkind
}

type option struct {
	key  string
	line int
	list bool // a TOML array or UCI "list" lines
	vals []value
}

type section struct {
	typ   string
	name  string
	named bool
	line  int
	opts  []*option
}

type tree struct {
	file     string
	format   string
	sections []*section
}
