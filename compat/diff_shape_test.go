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

// TestDiffNumbers checks the @numbers comparison: the text around the
// numbers must be equal, the numbers within the tolerance.
func TestDiffNumbers(t *testing.T) {
	f := func(want, got string, differs int) {
		t.Helper()
		st := diffStep{numbers: []string{"status.error"}, numbersTol: 0.5}
		body := func(s string) any { return map[string]any{"status": map[string]any{"error": s}} }
		out := diffCompare(st, diffAnswer{status: "429", body: body(want)}, diffAnswer{status: "429", body: body(got)})
		require.Len(t, out, differs, "%v", out)
	}
	f("only 18.2 were available. Retry after 6s", "only 18.1 were available. Retry after 6s", 0)
	f("only 18.0 were available. Retry after 6s", "only 17.0 were available. Retry after 6s", 1) // a token apart
	f("only 18.0 were available", "only 18.0 are available", 1)                                  // text
	f("only 18.0 were available", "only 18.0 were available for 2", 1)                           // a number more
}
