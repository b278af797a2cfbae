package compat

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDiffShape checks the @shape comparison of the differential tests:
// values and array lengths may differ, fields and JSON types may not.
func TestDiffShape(t *testing.T) {
	decode := func(s string) any {
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.UseNumber()
		var v any
		require.NoError(t, dec.Decode(&v))
		return v
	}
	f := func(shape []string, want, got string, differs int) {
		t.Helper()
		st := diffStep{shape: shape}
		out := diffCompare(st, diffAnswer{status: "200", body: decode(want)}, diffAnswer{status: "200", body: decode(got)})
		require.Len(t, out, differs, "%v", out)
	}
	s := []string{"r.m"}
	f(s, `{"r": {"m": {"a": 1, "b": "x"}}}`, `{"r": {"m": {"a": 2, "b": "y"}}}`, 0)
	f(s, `{"r": {"m": {"a": 1}}}`, `{"r": {"m": {"a": "1"}}}`, 1)          // type
	f(s, `{"r": {"m": {"a": 1, "b": 2}}}`, `{"r": {"m": {"a": 1}}}`, 1)    // missing
	f(s, `{"r": {"m": {"a": 1}}}`, `{"r": {"m": {"a": 1, "c": true}}}`, 1) // extra
	f(s, `{"r": {"m": [{"a": 1}, {"a": 2}]}}`, `{"r": {"m": [{"a": 3}]}}`, 0)
	f(s, `{"r": {"m": [{"a": 1}]}}`, `{"r": {"m": []}}`, 1)
	f(s, `{"r": {"m": null}}`, `{"r": {"m": 0}}`, 1)
	f(s, `{"r": {"m": 1, "n": 1}}`, `{"r": {"m": 5, "n": 2}}`, 1) // n is compared by value
	f(s, `{"r": {"m": 1}}`, `{"r": {}}`, 1)
	// A shape path below an ignored map compares the members both have.
	st := []string{"r.*.*"}
	g := func(want, got string, differs int) {
		t.Helper()
		d := diffStep{shape: st, ignore: []string{"r"}}
		out := diffCompare(d, diffAnswer{status: "200", body: decode(want)}, diffAnswer{status: "200", body: decode(got)})
		require.Len(t, out, differs, "%v", out)
	}
	g(`{"r": {"x": {"n": 1}, "y": {"n": 1}}}`, `{"r": {"x": {"n": 7}, "z": {"n": 1}}}`, 0)
	g(`{"r": {"x": {"n": 1}}}`, `{"r": {"x": {"n": "7"}}}`, 1)
	g(`{"r": {"x": {"n": 1}}}`, `{"r": {"x": {}}}`, 1)
}
