package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Error is a configuration error: where it is and what is wrong. Error()
// reads like
//
//	swanling.toml:14: tunnel "hq": esp proposal "aes129gcm16": unknown cipher
type Error struct {
	File    string // the path as given to Load or Parse; Error() prints its base name
	Line    int    // 1-based; 0 when the error belongs to no line (an unreadable file)
	Section string // the section it is in, as printed: `tunnel "hq"`, `listen`; may be empty
	Key     string // dotted key path, as in TOML: "tunnel.hq.esp_proposals"; may be empty
	Reason  string // what is wrong, naming the key or value
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(filepath.Base(e.File))
	b.WriteByte(':')
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
	}
	b.WriteByte(' ')
	if e.Section != "" {
		b.WriteString(e.Section)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// sectionLabel is how a section is named in messages.
func sectionLabel(typ, name string, named bool) string {
	if !named {
		return typ
	}
	return typ + " " + strconv.Quote(name)
}

// keyPath is the TOML spelling of a key, for Error.Key.
func keyPath(typ, name string, named bool, key string) string {
	p := typ
	if named {
		p += "." + name
	}
	if key != "" {
		p += "." + key
	}
	return p
}

func errorf(file string, line int, sec, key, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Section: sec, Key: key, Reason: fmt.Sprintf(format, args...)}
}

// suggest returns ` (did you mean "x"?)` for the closest known word, when
// one is close enough to be a typo.
func suggest(word string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		// At most two edits, and fewer than half the word: "a" is no typo of "oe".
		if d := editDistance(word, k); d < bestD && 2*d <= len(word) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance, for short words only.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
