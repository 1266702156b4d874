// Package config reads swanling's configuration from TOML or OpenWrt UCI into
// plain typed structs, fills defaults and validates every value, reporting
// errors with file, line, key and reason. It holds no protocol types.
package config
