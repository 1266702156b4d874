package config

import "reflect"

// Equal reports whether two tunnels have the same settings. Line, where the
// tunnel was written, does not count: a reload keeps the SAs of a tunnel
// that only moved in the file.
func (t *Tunnel) Equal(u *Tunnel) bool {
	a, b := *t, *u
	a.Line, b.Line = 0, 0
	return reflect.DeepEqual(a, b)
}

// Equal reports whether two manual SAs have the same settings, Line aside.
func (m *ManualSA) Equal(n *ManualSA) bool {
	a, b := *m, *n
	a.Line, b.Line = 0, 0
	return reflect.DeepEqual(a, b)
}
