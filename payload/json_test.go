package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The expected outputs below are what serde_json 1.0.149 (the float
// formatter it has used since 1.0.147) prints for the same input.
func TestJSONRoundTrip(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		v, err := ParseJSON([]byte(in))
		require.NoError(t, err, "parse %s", in)
		require.Equal(t, want, string(v.AppendJSON(nil)), "re-encode %s", in)
		// The output is a fixed point.
		w, err := ParseJSON([]byte(want))
		require.NoError(t, err)
		require.True(t, Equal(v, w))
		require.Equal(t, want, string(w.AppendJSON(nil)))
	}
	same := func(in string) {
		t.Helper()
		f(in, in)
	}
	// Literals.
	same(`null`)
	same(`true`)
	same(`false`)
	// Integers stay exact and distinct from floats.
	same(`0`)
	same(`1`)
	same(`-1`)
	same(`9223372036854775807`)
	same(`-9223372036854775808`)
	same(`9223372036854775808`)
	same(`18446744073709551615`)
	f(`18446744073709551616`, `1.8446744073709552e+19`)
	f(`-9223372036854775809`, `-9.223372036854776e+18`)
	f(`123456789012345678901234567890`, `1.2345678901234568e+29`)
	f(`-0`, `-0.0`)
	// Floats: shortest round-trip digits, never mistaken for integers.
	same(`1.0`)
	same(`0.0`)
	same(`-0.0`)
	same(`0.1`)
	same(`-1.5`)
	same(`123.456`)
	same(`0.3`)
	f(`1.50`, `1.5`)
	f(`1E2`, `100.0`)
	f(`1e7`, `10000000.0`)
	f(`1e15`, `1000000000000000.0`)
	f(`1e16`, `1e+16`)
	f(`1.5e16`, `1.5e+16`)
	f(`1e20`, `1e+20`)
	f(`1e300`, `1e+300`)
	f(`1.5e300`, `1.5e+300`)
	same(`1e-6`)
	f(`0.000001`, `1e-6`)
	same(`0.00001`)
	f(`1e-5`, `0.00001`)
	f(`2.5e-5`, `0.000025`)
	same(`1.5e-7`)
	same(`1.2345e-6`)
	same(`5e-324`)
	f(`4.9406564584124654e-324`, `5e-324`)
	f(`1e-400`, `0.0`)
	same(`2.2250738585072014e-308`)
	f(`1.7976931348623157e308`, `1.7976931348623157e+308`)
	same(`1.7976931348623157e+308`)
	f(`0.30000000000000004`, `0.30000000000000004`)
	f(`100000000000000000000000000000000000000.0`, `1e+38`)
	// Strings: only '"', '\\' and control characters are escaped.
	same(`""`)
	same(`"abc"`)
	same(`"\"\\"`)
	same(`"\b\f\n\r\t"`)
	same(`"\u0000\u0001\u001f"`)
	f(`"\u000B"`, `"\u000b"`)
	f(`"\/"`, `"/"`)
	f(`"a/b"`, `"a/b"`)
	f(`"\u007f"`, "\"\x7f\"")
	f(`"<>&"`, `"<>&"`)
	f(`"\u003c\u003e\u0026"`, `"<>&"`)
	f(`"\u00e9\u00E9é"`, `"ééé"`)
	f(`"\u2028\u2029"`, "\"\u2028\u2029\"")
	f(`"\ud83d\ude00"`, `"😀"`)
	f(`"\uD83D\uDE00x"`, `"😀x"`)
	same(`"日本語 ключ 😀"`)
	f(`"\uffff"`, "\"\uffff\"")
	// Containers: compact, fields in order.
	same(`[]`)
	same(`{}`)
	same(`[1,2.0,"3",null,true,[],{}]`)
	f(` [ 1 , [ 2 , [ 3 ] ] ] `, `[1,[2,[3]]]`)
	f("{\n\t\"b\": 1,\r\n \"a\": {\"z\": [], \"y\": {}}\n}", `{"b":1,"a":{"z":[],"y":{}}}`)
	same(`{"a":{"b":{"c":{"d":[[[18446744073709551615,-0.0]]]}}}}`)
	same(`{"":""}`)
	same(`{"k\n":"v\u0000"}`)
	// A repeated key keeps its first position and its last value.
	f(`{"a":1,"a":2}`, `{"a":2}`)
	f(`{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`)
	f(`{"b":1,"a":{"x":1},"b":{"y":[2]},"c":3,"a":null}`, `{"b":{"y":[2]},"a":null,"c":3}`)
}

func TestParseJSONKinds(t *testing.T) {
	f := func(in string, kind Kind) {
		t.Helper()
		require.Equal(t, kind, mustJSON(t, in).Kind(), "kind of %s", in)
	}
	f(`0`, Int)
	f(`-0`, Float) // as serde_json reads it
	f(`-9223372036854775808`, Int)
	f(`9223372036854775807`, Int)
	f(`9223372036854775808`, Uint)
	f(`18446744073709551615`, Uint)
	f(`18446744073709551616`, Float)
	f(`-9223372036854775809`, Float)
	f(`1.0`, Float)
	f(`1e0`, Float)
	f(`1E+0`, Float)
	f(`"1"`, String)

	i, ok := mustJSON(t, `-9223372036854775808`).Int()
	require.True(t, ok)
	require.Equal(t, int64(math.MinInt64), i)
	u, ok := mustJSON(t, `18446744073709551615`).Uint()
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), u)
	u, ok = mustJSON(t, `18446744073709551614`).Uint()
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64-1), u, "no float64 rounding")
	x, ok := mustJSON(t, `-0`).Float()
	require.True(t, ok)
	require.True(t, math.Signbit(x))
}

func TestParseJSONErrors(t *testing.T) {
	f := func(in string, offset int, msg string) {
		t.Helper()
		_, err := ParseJSON([]byte(in))
		require.Error(t, err, "parse %q", in)
		require.ErrorIs(t, err, ErrInvalidJSON)
		var se *SyntaxError
		require.ErrorAs(t, err, &se)
		require.Equal(t, offset, se.Offset, "offset for %q: %v", in, err)
		require.Contains(t, err.Error(), msg, "parse %q", in)
	}
	f(``, 0, "unexpected end of input, expected a value")
	f(`   `, 3, "unexpected end of input")
	f(`{`, 1, "expected a string key")
	f(`[`, 1, "expected a value")
	f(`[1`, 2, "expected ',' or ']'")
	f(`[1,]`, 3, "trailing comma")
	f(`{"a":1,}`, 7, "trailing comma")
	f(`[1 2]`, 3, "unexpected '2', expected ',' or ']'")
	f(`{"a" 1}`, 5, "expected ':'")
	f(`{"a":1 "b":2}`, 7, "expected ',' or '}'")
	f(`{1:2}`, 1, "expected a string key")
	f(`{'a':2}`, 1, "expected a string key")
	f(`[,1]`, 1, "expected a value")
	f(`1 2`, 2, "after the value")
	f(`{}x`, 2, "after the value")
	f(`nul`, 3, `expected "null"`)
	f(`tru e`, 3, `expected "true"`)
	f(`falsy`, 4, `expected "false"`)
	f(`True`, 0, "expected a value")
	f(`01`, 1, "leading zero")
	f(`-01`, 2, "leading zero")
	f(`1.`, 2, "digit after '.'")
	f(`1.e5`, 2, "digit after '.'")
	f(`-`, 1, "expected a digit")
	f(`-a`, 1, "expected a digit")
	f(`.5`, 0, "expected a value")
	f(`+1`, 0, "expected a value")
	f(`1e`, 2, "digit in the exponent")
	f(`1e+`, 3, "digit in the exponent")
	f(`1x`, 1, "after the value")
	f(`1e400`, 0, "number out of range")
	f(`[0, -1e400]`, 4, "number out of range")
	f(`1`+strings.Repeat("0", 400), 0, "number out of range")
	f(`NaN`, 0, "expected a value")
	f(`Infinity`, 0, "expected a value")
	f(`-Infinity`, 1, "expected a digit")
	f(`"abc`, 4, "end of input in string")
	f("\"a\x01\"", 2, "control character")
	f("\"a\tb\"", 2, "control character")
	f(`"\x"`, 2, "invalid escape")
	f(`"\`, 2, "end of input in string")
	f(`"\u12"`, 5, `invalid hex digit '"'`)
	f(`"\u12`, 5, "end of input")
	f(`"\uzzzz"`, 3, "invalid hex digit")
	f(`"\ud800"`, 1, "lone high surrogate")
	f(`"\ud800x"`, 1, "lone high surrogate")
	f(`"\ud800\u0041"`, 7, "not followed by a low surrogate")
	f(`"\ud800\ud800"`, 7, "not followed by a low surrogate")
	f(`"\udc00"`, 1, "lone low surrogate")
	f("\"ab\xff\"", 3, "invalid UTF-8")
	f("\"\xc3\x28\"", 1, "invalid UTF-8")
	f("\"\\n\xed\xa0\x80\"", 3, "invalid UTF-8") // an encoded surrogate
	f("{\"\xff\":1}", 2, "invalid UTF-8")
	f("\xef\xbb\xbf{}", 0, "expected a value") // no byte order mark
	f("\x00", 0, "expected a value")
	f(`[1]]`, 3, "after the value")
}

func TestParseJSONDepth(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	_, err := ParseJSON([]byte(ok))
	require.NoError(t, err)

	f := func(in string, offset int) {
		t.Helper()
		_, err := ParseJSON([]byte(in))
		require.ErrorIs(t, err, ErrTooDeep)
		require.False(t, errors.Is(err, ErrInvalidJSON))
		var se *SyntaxError
		require.ErrorAs(t, err, &se)
		require.Equal(t, offset, se.Offset)
		require.Contains(t, err.Error(), "more than 64 levels")
	}
	f(strings.Repeat("[", MaxDepth+1)+strings.Repeat("]", MaxDepth+1), MaxDepth)
	f(strings.Repeat(`{"a":`, MaxDepth)+`[]`+strings.Repeat("}", MaxDepth), 5*MaxDepth)
	// Far deeper input fails as fast, without exhausting the stack.
	f(strings.Repeat("[", 10_000_000), MaxDepth)
}

func TestParseObject(t *testing.T) {
	v, err := ParseObject([]byte(` {"a":1} `))
	require.NoError(t, err)
	require.Equal(t, `{"a":1}`, v.String())
	for _, in := range []string{`[]`, `1`, `"s"`, `null`, `true`} {
		_, err := ParseObject([]byte(in))
		require.ErrorIs(t, err, ErrNotObject, in)
		require.Contains(t, err.Error(), "payload must be a JSON object")
	}
	_, err = ParseObject([]byte(`{`))
	require.ErrorIs(t, err, ErrInvalidJSON)
}

func TestParseJSONDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"key":"value","esc":"a\nb"}`)
	v, err := ParseJSON(in)
	require.NoError(t, err)
	for i := range in {
		in[i] = 'x'
	}
	require.Equal(t, `{"key":"value","esc":"a\nb"}`, v.String())
}

func TestAppendJSONInvalidUTF8(t *testing.T) {
	v := ObjectValue(Field{"k\xff", StringValue("a\xc3\x28b\x80")})
	require.Equal(t, "{\"k\uFFFD\":\"a\uFFFD(b\uFFFD\"}", v.String())
	require.True(t, utf8.ValidString(v.String()))
}

func TestAppendJSONNonFinite(t *testing.T) {
	// JSON cannot hold them; serde_json writes null.
	require.Equal(t, `[null,null,null]`, ArrayValue(FloatValue(math.NaN()), FloatValue(math.Inf(1)), FloatValue(math.Inf(-1))).String())
}

func TestAppendJSONAllocs(t *testing.T) {
	v := mustJSON(t, typicalPayload)
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() { buf = v.AppendJSON(buf[:0]) })
	require.Zero(t, n)
	require.JSONEq(t, typicalPayload, string(buf))
}

func TestEncodingJSONInterop(t *testing.T) {
	type doc struct {
		ID      uint64 `json:"id"`
		Payload Value  `json:"payload"`
	}
	in := `{"id":18446744073709551615,"payload":{"n":18446744073709551615,"f":1.0,"s":"<a&b>","z":null}}`
	var d doc
	require.NoError(t, json.Unmarshal([]byte(in), &d))
	require.Equal(t, `{"n":18446744073709551615,"f":1.0,"s":"<a&b>","z":null}`, d.Payload.String())

	// encoding/json escapes HTML in what MarshalJSON returns, unless told
	// not to.
	out, err := json.Marshal(d)
	require.NoError(t, err)
	require.Equal(t, `{"id":18446744073709551615,"payload":{"n":18446744073709551615,"f":1.0,"s":"\u003ca\u0026b\u003e","z":null}}`, string(out))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(d))
	require.Equal(t, in+"\n", buf.String())

	// Errors from ParseJSON come through.
	err = json.Unmarshal([]byte(`{"payload":[`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`]}`), &d)
	require.ErrorIs(t, err, ErrTooDeep)

	// A missing field leaves the zero Value, which is null.
	var e doc
	require.NoError(t, json.Unmarshal([]byte(`{"id":1}`), &e))
	require.True(t, e.Payload.IsNull())
	require.NoError(t, json.Unmarshal([]byte(`{"payload":null}`), &e))
	require.True(t, e.Payload.IsNull())
}

func TestFromGo(t *testing.T) {
	f := func(x any, want string) {
		t.Helper()
		v, err := FromGo(x)
		require.NoError(t, err, "FromGo(%#v)", x)
		require.Equal(t, want, v.String(), "FromGo(%#v)", x)
	}
	f(nil, `null`)
	f(true, `true`)
	f("a<b", `"a<b"`)
	f(int8(-8), `-8`)
	f(int16(-16), `-16`)
	f(int32(-32), `-32`)
	f(int64(math.MinInt64), `-9223372036854775808`)
	f(int(7), `7`)
	f(uint8(8), `8`)
	f(uint16(16), `16`)
	f(uint32(32), `32`)
	f(uint(7), `7`)
	f(uint64(math.MaxUint64), `18446744073709551615`)
	f(1.0, `1.0`)
	f(float32(0.1), `0.1`)
	f(float32(16777216), `16777216.0`)
	f(json.Number("12"), `12`)
	f(json.Number("-0"), `-0.0`)
	f(json.Number("1.0"), `1.0`)
	f(json.Number("18446744073709551615"), `18446744073709551615`)
	f(IntValue(3), `3`)
	f([]Value{IntValue(1), StringValue("x")}, `[1,"x"]`)
	f([]any{1, "x", nil, []any{}}, `[1,"x",null,[]]`)
	f(map[string]any{"b": 1, "a": map[string]any{"d": 2.5, "c": []any{true}}}, `{"a":{"c":[true],"d":2.5},"b":1}`)
	f(map[string]any{}, `{}`)
	// Anything else goes through encoding/json.
	f([]string{"x", "y"}, `["x","y"]`)
	f(map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`)
	f(struct {
		A int     `json:"a"`
		B []int64 `json:"b"`
	}{1, []int64{math.MaxInt64}}, `{"a":1,"b":[9223372036854775807]}`)
	f((*int)(nil), `null`)
	f(json.RawMessage(`{"x":18446744073709551615}`), `{"x":18446744073709551615}`)

	errf := func(x any, target error) {
		t.Helper()
		_, err := FromGo(x)
		require.ErrorIs(t, err, target, "FromGo(%#v)", x)
	}
	errf(math.NaN(), ErrInvalidJSON)
	errf(math.Inf(-1), ErrInvalidJSON)
	errf(float32(math.Inf(1)), ErrInvalidJSON)
	errf(map[string]any{"k": math.NaN()}, ErrInvalidJSON)
	errf(json.Number("abc"), ErrInvalidJSON)
	errf(json.Number(""), ErrInvalidJSON)
	errf(json.Number("1 "), ErrInvalidJSON)
	errf(json.Number("1e999"), ErrInvalidJSON)
	var deep any = []any{}
	for range MaxDepth {
		deep = []any{deep}
	}
	errf(deep, ErrTooDeep)
	_, err := FromGo(func() {})
	require.Error(t, err)
}

func TestToGo(t *testing.T) {
	v := mustJSON(t, `{"n":null,"b":true,"i":-1,"u":18446744073709551615,"f":1.0,"s":"x","a":[1,{}]}`)
	got := v.ToGo()
	require.Equal(t, map[string]any{
		"n": nil,
		"b": true,
		"i": int64(-1),
		"u": uint64(math.MaxUint64),
		"f": 1.0,
		"s": "x",
		"a": []any{int64(1), map[string]any{}},
	}, got)
	back, err := FromGo(got)
	require.NoError(t, err)
	require.True(t, Equal(v, back))
}

// acceptDifference reports whether ParseJSON may reject, with err, an input
// that encoding/json accepts. These are the documented differences, where
// qlite follows serde_json or protects itself.
func acceptDifference(in []byte, err error) bool {
	if errors.Is(err, ErrTooDeep) || !utf8.Valid(in) {
		return true // depth limit; encoding/json replaces invalid UTF-8
	}
	msg := err.Error()
	return strings.Contains(msg, "surrogate") || // encoding/json replaces them
		strings.Contains(msg, "number out of range") // encoding/json checks only the syntax
}

// checkAgainstEncodingJSON compares ParseJSON with encoding/json on in:
// both must accept or both reject (but for acceptDifference), and values
// they both accept must agree.
func checkAgainstEncodingJSON(t testing.TB, in []byte) {
	t.Helper()
	ours, err := ParseJSON(in)
	if !json.Valid(in) {
		require.Error(t, err, "encoding/json rejects %q but ParseJSON accepts it", in)
		return
	}
	if err != nil {
		require.True(t, acceptDifference(in, err), "encoding/json accepts %q but ParseJSON: %v", in, err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var theirs any
	require.NoError(t, dec.Decode(&theirs))
	want, err := FromGo(theirs)
	require.NoError(t, err)
	require.True(t, Equal(want, ours), "input %q: encoding/json %s, ParseJSON %s", in, want, ours)
}

// jsonCorpus holds valid and invalid JSON texts for the differential test
// and the fuzz seeds.
var jsonCorpus = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `nulll`, `0`, `-0`, `-`, `01`, `1.`, `.1`, `1.5`, `1e5`, `1E+5`, `1e-5`,
	`-1.5e-300`, `1e400`, `123456789012345678901234567890`, `18446744073709551615`, `18446744073709551616`,
	`-9223372036854775808`, `-9223372036854775809`, `+1`, `0x10`, `1_000`, `Infinity`, `NaN`,
	`""`, `"a"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\x"`, `"\/"`, `"\'"`,
	"\"\x01\"", "\"\x7f\"", "\"\xff\"", "\"\xed\xa0\x80\"", "\"\t\"", `"`, `"\`, `"\u"`, `"\u00"`,
	`[]`, `[1]`, `[1,]`, `[,]`, `[1 2]`, `[[[]]]`, `[`, `]`, `[1]]`,
	`{}`, `{"a":1}`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,"a":2}`, `{"a":{"a":{"a":[]}}}`, `{"":0}`,
	"{\"a\":1}\n", " \t\r\n[ 1 , 2 ] ", "[1]\x00", "\ufeff1", `1 1`, `{}{}`, `"a"b`,
	strings.Repeat("[", 64) + strings.Repeat("]", 64),
	strings.Repeat("[", 65) + strings.Repeat("]", 65),
	typicalPayload,
}

func TestDifferentialEncodingJSON(t *testing.T) {
	for _, in := range jsonCorpus {
		checkAgainstEncodingJSON(t, []byte(in))
	}
}

// typicalPayload is a payload of the usual size and shape: a dozen fields,
// strings, numbers, a nested object and short arrays.
const typicalPayload = `{
	"title": "Wireless noise-cancelling headphones",
	"brand": "Acme",
	"category": "electronics/audio",
	"price": 199.99,
	"stock": 42,
	"rating": 4.6,
	"in_stock": true,
	"tags": ["audio", "bluetooth", "travel"],
	"created_at": "2024-05-17T10:21:00Z",
	"sku": 18446744073709551615,
	"location": {"lon": 13.405, "lat": 52.52},
	"description": "Over-ear headphones with 30 h battery life.\nFolds flat."
}`

func BenchmarkParseJSON(b *testing.B) {
	in := []byte(typicalPayload)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJSON(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	v := mustJSON(b, typicalPayload)
	buf := v.AppendJSON(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = v.AppendJSON(buf[:0])
	}
}

// BenchmarkEncodingJSONUnmarshal is the baseline: encoding/json into any.
func BenchmarkEncodingJSONUnmarshal(b *testing.B) {
	in := []byte(typicalPayload)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var x any
		if err := json.Unmarshal(in, &x); err != nil {
			b.Fatal(err)
		}
	}
}
