package dnsoe

import "errors"

var (
	// ErrLabelTooLong reports a label of more than 63 octets (RFC 1035, Section 2.3.4).
	ErrLabelTooLong = errors.New("dnsoe: label longer than 63 octets")
	// ErrNameTooLong reports a name of more than 255 octets in wire form (RFC 1035, Section 2.3.4).
	ErrNameTooLong = errors.New("dnsoe: name longer than 255 octets")
	// ErrEmptyLabel reports an empty label inside a name ("a..b").
	ErrEmptyLabel = errors.New("dnsoe: empty label")
	// ErrBadEscape reports a malformed backslash escape in a presentation name.
	ErrBadEscape = errors.New("dnsoe: bad escape in name")
	// ErrReservedLabel reports the label types 0x40 and 0x80 (RFC 1035, Section 4.1.4; RFC 6891, Section 5).
	ErrReservedLabel = errors.New("dnsoe: reserved label type")
	// ErrBadPointer reports a compression pointer that does not point to an earlier octet.
	ErrBadPointer = errors.New("dnsoe: invalid compression pointer")
	// ErrTooManyPointers reports a name that follows more compression pointers than any valid name needs.
	ErrTooManyPointers = errors.New("dnsoe: too many compression pointers")
	// ErrCompressed reports a compression pointer where RFC 4025 forbids one.
	ErrCompressed = errors.New("dnsoe: compressed name not allowed here")
)

// maxPointers bounds the pointers one name may follow: a name of 255 octets
// has at most 127 labels, and each pointer must lead to a new label.
const maxPointers = 127

// Name is a domain name in uncompressed wire form: a sequence of length-
// prefixed labels ending with the zero-length root label. Keeping the wire
// form makes names lossless (any octet may appear in a label) and lets the
// parser fill a Name without allocating.
type Name struct {
	Data   [255]byte
	Length uint8
}

// Root is the root name ".".
var Root = Name{Length: 1}

// NewName parses a name in presentation form ("www.example.", trailing dot
// optional, "\." and "\DDD" escapes as in RFC 1035, Section 5.1).
func NewName(s string) (Name, error) {
	var n Name
	if s == "." || s == "" {
		n.Length = 1
		return n, nil
	}
	pos := 0 // where the current label's length octet goes
	w := 1   // next write position
	l := 0   // current label length
	endLabel := func() error {
		if l == 0 {
			return ErrEmptyLabel
		}
		if l > 63 {
			return ErrLabelTooLong
		}
		n.Data[pos] = byte(l)
		pos = w
		w++
		l = 0
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '.':
			if err := endLabel(); err != nil {
				return Name{}, err
			}
			if w > 255 {
				return Name{}, ErrNameTooLong
			}
			continue
		case '\\':
			i++
			if i >= len(s) {
				return Name{}, ErrBadEscape
			}
			c = s[i]
			if c >= '0' && c <= '9' {
				if i+2 >= len(s) {
					return Name{}, ErrBadEscape
				}
				v := 0
				for j := 0; j < 3; j++ {
					d := s[i+j]
					if d < '0' || d > '9' {
						return Name{}, ErrBadEscape
					}
					v = v*10 + int(d-'0')
				}
				if v > 255 {
					return Name{}, ErrBadEscape
				}
				c = byte(v)
				i += 2
			}
		}
		if w >= 255 {
			return Name{}, ErrNameTooLong
		}
		n.Data[w] = c
		w++
		l++
	}
	if l > 0 {
		if err := endLabel(); err != nil {
			return Name{}, err
		}
	}
	// pos now indexes the slot for the root label.
	if pos >= 255 {
		return Name{}, ErrNameTooLong
	}
	n.Data[pos] = 0
	n.Length = uint8(pos + 1)
	return n, nil
}

// MustNewName is NewName for constants; it panics on error.
func MustNewName(s string) Name {
	n, err := NewName(s)
	if err != nil {
		panic(err)
	}
	return n
}

// valid reports whether n holds a well-formed uncompressed name.
func (n *Name) valid() bool {
	i := 0
	for i < int(n.Length) {
		l := int(n.Data[i])
		if l == 0 {
			return i+1 == int(n.Length)
		}
		if l > 63 {
			return false
		}
		i += 1 + l
	}
	return false
}

// String returns the presentation form with a trailing dot; octets outside
// printable ASCII, dots and backslashes inside labels are escaped.
func (n Name) String() string {
	if n.Length <= 1 {
		return "."
	}
	b := make([]byte, 0, int(n.Length)+8)
	i := 0
	for i < int(n.Length) {
		l := int(n.Data[i])
		if l == 0 || i+1+l > int(n.Length) {
			break
		}
		for _, c := range n.Data[i+1 : i+1+l] {
			switch {
			case c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' || c == '$':
				b = append(b, '\\', c)
			case c < 0x21 || c > 0x7e:
				b = append(b, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			default:
				b = append(b, c)
			}
		}
		b = append(b, '.')
		i += 1 + l
	}
	return string(b)
}

// Equal compares names case-insensitively for ASCII letters (RFC 4343, Section 3).
func (n Name) Equal(o Name) bool {
	if n.Length != o.Length {
		return false
	}
	for i := 0; i < int(n.Length); i++ {
		if lower(n.Data[i]) != lower(o.Data[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// appendLower appends the wire form in lower case; used as a cache key.
func (n Name) appendLower(b []byte) []byte {
	for i := 0; i < int(n.Length); i++ {
		b = append(b, lower(n.Data[i]))
	}
	return b
}

// unpackName reads a possibly compressed name at off in msg and returns the
// offset just past it in the original position (RFC 1035, Section 4.1.4).
func unpackName(n *Name, msg []byte, off int) (int, error) {
	cur := off
	seg := off // start of the current run of labels
	end := -1  // offset after the name in its original position
	w := 0
	ptrs := 0
	for {
		if cur >= len(msg) {
			return 0, ErrTruncated
		}
		c := int(msg[cur])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if w >= 255 {
					return 0, ErrNameTooLong
				}
				n.Data[w] = 0
				n.Length = uint8(w + 1)
				if end < 0 {
					end = cur + 1
				}
				return end, nil
			}
			if cur+1+c > len(msg) {
				return 0, ErrTruncated
			}
			if w+1+c+1 > 255 { // label plus at least the root label
				return 0, ErrNameTooLong
			}
			n.Data[w] = byte(c)
			copy(n.Data[w+1:], msg[cur+1:cur+1+c])
			w += 1 + c
			cur += 1 + c
		case 0xC0:
			if cur+1 >= len(msg) {
				return 0, ErrTruncated
			}
			ptr := (c&0x3F)<<8 | int(msg[cur+1])
			// RFC 1035, Section 4.1.4: a pointer refers to a prior
			// occurrence of a name, so it must point before the start of
			// the labels that led to it. Targets then strictly decrease,
			// which rules out loops; maxPointers bounds the work.
			if ptr >= seg {
				return 0, ErrBadPointer
			}
			seg = ptr
			ptrs++
			if ptrs > maxPointers {
				return 0, ErrTooManyPointers
			}
			if end < 0 {
				end = cur + 2
			}
			cur = ptr
		default:
			return 0, ErrReservedLabel
		}
	}
}

// unpackNameNoCompress reads an uncompressed name (RFC 4025, Section 2.5)
// from b and returns the number of octets it took.
func unpackNameNoCompress(n *Name, b []byte) (int, error) {
	w := 0
	for {
		if w >= len(b) {
			return 0, ErrTruncated
		}
		c := int(b[w])
		if c&0xC0 == 0xC0 {
			return 0, ErrCompressed
		}
		if c&0xC0 != 0 {
			return 0, ErrReservedLabel
		}
		if c == 0 {
			if w >= 255 {
				return 0, ErrNameTooLong
			}
			n.Data[w] = 0
			n.Length = uint8(w + 1)
			return w + 1, nil
		}
		if w+1+c > len(b) {
			return 0, ErrTruncated
		}
		if w+1+c+1 > 255 {
			return 0, ErrNameTooLong
		}
		copy(n.Data[w:], b[w:w+1+c])
		w += 1 + c
	}
}

func appendName(b []byte, n Name) ([]byte, error) {
	if !n.valid() {
		return b, ErrBadName
	}
	return append(b, n.Data[:n.Length]...), nil
}
