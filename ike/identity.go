package ike

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
)

// ID types, RFC 7296, Section 3.5, and ID_NULL from RFC 7619, Section 3.
const (
	IDIPv4   uint8 = 1
	IDFQDN   uint8 = 2
	IDRFC822 uint8 = 3 // USER_FQDN
	IDIPv6   uint8 = 5
	IDDN     uint8 = 9
	IDKeyID  uint8 = 11
	IDNull   uint8 = 13
)

// Identity is an IKE identity: the ID type and its identification data.
// A zero Identity (Type 0) in a peer's configuration matches any identity.
type Identity struct {
	Type uint8
	Data []byte
}

// ParseIdentity reads the configuration notation: an IPv4 or IPv6 address,
// "@fqdn" or a bare host name (FQDN), "user@domain" (USER_FQDN),
// "keyid:<hex>" (KEY_ID), "%null" (ID_NULL) and "%any" (matches anything).
func ParseIdentity(s string) (Identity, error) {
	switch {
	case s == "" || s == "%any":
		return Identity{}, nil
	case s == "%null":
		return Identity{Type: IDNull}, nil
	case strings.HasPrefix(s, "keyid:"):
		b, err := hex.DecodeString(strings.TrimPrefix(s, "keyid:"))
		if err != nil || len(b) == 0 {
			return Identity{}, errors.New("ike: bad keyid identity " + s)
		}
		return Identity{Type: IDKeyID, Data: b}, nil
	case strings.HasPrefix(s, "@"):
		if len(s) == 1 {
			return Identity{}, errors.New("ike: empty FQDN identity")
		}
		return Identity{Type: IDFQDN, Data: []byte(s[1:])}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return IdentityFromAddr(a), nil
	}
	if strings.Contains(s, "@") {
		return Identity{Type: IDRFC822, Data: []byte(s)}, nil
	}
	return Identity{Type: IDFQDN, Data: []byte(s)}, nil
}

// IdentityFromAddr is the ID_IPV4_ADDR or ID_IPV6_ADDR identity of a.
func IdentityFromAddr(a netip.Addr) Identity {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		return Identity{Type: IDIPv4, Data: b[:]}
	}
	b := a.As16()
	return Identity{Type: IDIPv6, Data: b[:]}
}

// Any reports whether the identity is the wildcard.
func (id Identity) Any() bool { return id.Type == 0 }

// Matches reports whether the received identity got satisfies the configured
// identity id. RFC 7296, Section 2.15 leaves the check to policy: the type
// and the data must be equal (FQDN and USER_FQDN case-insensitively).
func (id Identity) Matches(got Identity) bool {
	if id.Any() {
		return got.Type != 0
	}
	if id.Type != got.Type {
		return false
	}
	switch id.Type {
	case IDFQDN, IDRFC822:
		return strings.EqualFold(string(id.Data), string(got.Data))
	case IDNull:
		return true
	}
	return bytes.Equal(id.Data, got.Data)
}

// String renders the identity for logs and status.
func (id Identity) String() string {
	switch id.Type {
	case 0:
		return "%any"
	case IDIPv4, IDIPv6:
		if a, ok := netip.AddrFromSlice(id.Data); ok {
			return a.String()
		}
	case IDFQDN, IDRFC822:
		return string(id.Data)
	case IDKeyID:
		return "keyid:" + hex.EncodeToString(id.Data)
	case IDNull:
		return "%null"
	}
	return "id" + string(rune('0'+id.Type%10)) + ":" + hex.EncodeToString(id.Data)
}

// valid reports whether a received identity is well formed for its type.
func (id Identity) valid() bool {
	switch id.Type {
	case IDIPv4:
		return len(id.Data) == 4
	case IDIPv6:
		return len(id.Data) == 16
	case IDFQDN, IDRFC822, IDKeyID, IDDN:
		return len(id.Data) > 0
	case IDNull:
		// RFC 7619, Section 3: the identification data MUST be empty.
		return len(id.Data) == 0
	}
	return false
}
