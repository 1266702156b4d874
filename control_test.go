package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// fillAll sets every field reachable from v to a non-zero value, so a field
// added to Status without a line in appendStatusJSON shows up as a
// difference from encoding/json.
func fillAll(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillAll(v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillAll(v.Index(i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"zeta", "alpha", "mid"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fillAll(e, n)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString("s" + strings.Repeat("x", *n%3) + "<&>\"\\\n\t\x01\x7f é\u2028\xff")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(-int64(*n) * 1e15)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(1<<64 - 1 - uint64(*n))
	default:
		panic("fillAll: add kind " + v.Kind().String())
	}
}

func stdJSON(t *testing.T, st Status) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStatusJSONMatchesEncodingJSON(t *testing.T) {
	var full Status
	n := 0
	fillAll(reflect.ValueOf(&full).Elem(), &n)
	emptyMaps := sampleStatus()
	emptyMaps.Child[0].Drops = map[string]uint64{}
	emptyMaps.Dataplane.Drops = nil
	cases := map[string]Status{
		"zero":        {},
		"empty lists": {IKE: []IKEStatus{}, Child: []ChildStatus{}, Dataplane: &DataplaneStatus{}},
		"sample":      sampleStatus(),
		"empty maps":  emptyMaps,
		"every field": full,
		"controls":    {IKE: []IKEStatus{{Peer: "\x00\x08\x0c\x1f\u2029\U0001F600", State: "\xed\xa0\x80"}}},
	}
	for name, st := range cases {
		got := appendStatusJSON(nil, st)
		if want := stdJSON(t, st); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: invalid JSON %s", name, got)
		}
	}
}

func FuzzStatusJSON(f *testing.F) {
	f.Add("hq", "198.51.100.2", uint64(7), int64(-1))
	f.Add("\"<\\>\xff\u2028", "\x00", uint64(1<<63), int64(1<<62))
	f.Fuzz(func(t *testing.T, a, b string, u uint64, i int64) {
		st := Status{
			IKE:   []IKEStatus{{Peer: a, LocalID: b, AgeSeconds: i}},
			Child: []ChildStatus{{Tunnel: b, Peer: a, BytesIn: u, Drops: map[string]uint64{a: u, b: 1}}},
		}
		if got, want := appendStatusJSON(nil, st), stdJSON(t, st); !bytes.Equal(got, want) {
			t.Errorf("got %s\nwant %s", got, want)
		}
	})
}
