package wire

import (
	"errors"
	"strconv"
)

// Sentinel errors. Parse errors that concern one payload are wrapped in a
// *PayloadError naming the payload type; use errors.Is to test for them.
var (
	// ErrShort: the buffer ends before the structure it must hold.
	ErrShort = errors.New("wire: truncated")
	// ErrLength: a length field disagrees with the data (RFC 7296, Section 3.1, 3.2).
	ErrLength = errors.New("wire: bad length")
	// ErrMajorVersion: the major version is not 2. The header is still
	// decoded so that the engine can answer INVALID_MAJOR_VERSION
	// (RFC 7296, Section 1.5, 2.5).
	ErrMajorVersion = errors.New("wire: unsupported major version")
	// ErrUnsupportedCritical: an unknown payload had the critical bit set;
	// the *PayloadError carries the type for UNSUPPORTED_CRITICAL_PAYLOAD
	// (RFC 7296, Section 2.5).
	ErrUnsupportedCritical = errors.New("wire: unsupported critical payload")
	// ErrTrailing: octets follow the last payload of a chain.
	ErrTrailing = errors.New("wire: trailing data after last payload")
	// ErrNotLast: an Encrypted (SK) or Encrypted Fragment (SKF) payload is
	// not the last payload of the message (RFC 7296, Section 3.14; RFC 7383,
	// Section 2.5), or one appears in a decrypted inner chain.
	ErrNotLast = errors.New("wire: encrypted payload not last")
	// ErrSyntax: a field holds a value the RFC forbids (bad Last
	// Substructure, transform count, SPI size, selector, fragment number...).
	ErrSyntax = errors.New("wire: invalid syntax")
	// ErrNonceSize: the nonce is not 16..256 octets (RFC 7296, Section 3.9).
	ErrNonceSize = errors.New("wire: nonce size out of range")
	// ErrTooLong: a built structure does not fit its 16-bit or 32-bit
	// length field.
	ErrTooLong = errors.New("wire: too long")
	// ErrPadding: the Pad Length octet exceeds the plaintext.
	ErrPadding = errors.New("wire: bad padding")
	// ErrNotAllowed: a payload type is not allowed in this exchange
	// (Validate).
	ErrNotAllowed = errors.New("wire: payload not allowed in exchange")
	// ErrDuplicate: a payload that may appear once appears again (Validate).
	ErrDuplicate = errors.New("wire: duplicate payload")
	// ErrMissing: a payload the exchange requires is absent (Validate).
	ErrMissing = errors.New("wire: required payload missing")
)

// PayloadError is an error about one payload of a chain.
type PayloadError struct {
	Type   PayloadType // the payload's type
	Offset int         // offset of the payload's generic header in the parsed buffer, -1 if unknown
	Err    error       // one of the sentinel errors
}

func (e *PayloadError) Error() string {
	s := e.Err.Error() + " (payload " + e.Type.String()
	if e.Offset >= 0 {
		s += " at offset " + strconv.Itoa(e.Offset)
	}
	return s + ")"
}

func (e *PayloadError) Unwrap() error { return e.Err }

func perr(t PayloadType, off int, err error) error {
	return &PayloadError{Type: t, Offset: off, Err: err}
}
