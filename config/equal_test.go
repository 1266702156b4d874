package config

import (
	"reflect"
	"testing"
)

// TestEqual changes every field of a tunnel and of a manual SA in turn:
// each change but Line must make them unequal, so a field added later is
// compared too.
func TestEqual(t *testing.T) {
	c := mustParse(t, "a.toml", pairs[1].toml)
	m := mustParse(t, "m.toml", pairs[2].toml)
	check := func(name string, v any, equal func(a, b any) bool) {
		rv := reflect.ValueOf(v).Elem()
		for i := 0; i < rv.NumField(); i++ {
			cp := reflect.New(rv.Type())
			cp.Elem().Set(rv)
			f := cp.Elem().Field(i)
			fname := rv.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Int, reflect.Int64:
				f.SetInt(f.Int() + 1)
			case reflect.Uint32, reflect.Uint64:
				f.SetUint(f.Uint() + 1)
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Slice:
				f.Set(reflect.Append(reflect.MakeSlice(f.Type(), 0, f.Len()+1), reflect.Zero(f.Type().Elem())))
			case reflect.Struct:
				// Rekey and netip values: change their first field or bytes.
				if fname == "Rekey" {
					f.Field(0).SetInt(f.Field(0).Int() + 1)
				} else {
					f.Set(reflect.Zero(f.Type()))
				}
			default:
				t.Fatalf("%s.%s: kind %v not covered", name, fname, f.Kind())
			}
			got := equal(v, cp.Interface())
			if want := fname == "Line"; got != want {
				t.Errorf("%s.%s changed: Equal = %v", name, fname, got)
			}
		}
		if !equal(v, v) {
			t.Errorf("%s not equal to itself", name)
		}
	}
	check("Tunnel", &c.Tunnels[0], func(a, b any) bool { return a.(*Tunnel).Equal(b.(*Tunnel)) })
	check("ManualSA", &m.Manual[0], func(a, b any) bool { return a.(*ManualSA).Equal(b.(*ManualSA)) })

	// The same tunnel further down the file is equal.
	moved := mustParse(t, "b.toml", "\n\n\n"+pairs[1].toml)
	if moved.Tunnels[0].Line == c.Tunnels[0].Line || !moved.Tunnels[0].Equal(&c.Tunnels[0]) {
		t.Error("moved tunnel not equal")
	}
}
