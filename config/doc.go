// Package config reads swanling's configuration from TOML or OpenWrt UCI into
// plain typed structs, fills defaults and validates every value, reporting
// errors with file, line, key and reason. It holds no protocol types: the
// IKE and ESP proposals are kept as strongSwan/swanctl keywords.
//
// Both formats are first read into one small tree of sections, options and
// values, each with its line; one schema (schema.go) then turns that tree into
// a Config. A TOML table [tunnel.hq] and a UCI section "config tunnel 'hq'"
// are therefore the same thing, with the same keys.
//
// RFCs whose rules are checked here: RFC 7296 (IKEv2: PSK strength,
// Section 2.15; transform types, Section 3.3.2), RFC 4303 (ESP: reserved
// SPIs, Section 2.1), RFC 4106 and RFC 7634 (AES-GCM and ChaCha20-Poly1305
// in ESP: key and salt lengths, no manual keys with GCM), RFC 4322
// (opportunistic encryption policy groups) and RFC 9370 (additional key
// exchanges, for ML-KEM).
package config
