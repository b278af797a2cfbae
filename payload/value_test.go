package payload

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// mustJSON parses a JSON text in tests.
func mustJSON(t testing.TB, s string) Value {
	t.Helper()
	v, err := ParseJSON([]byte(s))
	require.NoError(t, err, "parse %s", s)
	return v
}

func TestEqual(t *testing.T) {
	f := func(a, b string, want bool) {
		t.Helper()
		va, vb := mustJSON(t, a), mustJSON(t, b)
		require.Equal(t, want, Equal(va, vb), "Equal(%s, %s)", a, b)
		require.Equal(t, want, Equal(vb, va), "Equal(%s, %s)", b, a)
	}
	f(`null`, `null`, true)
	f(`null`, `false`, false)
	f(`true`, `true`, true)
	f(`true`, `false`, false)
	f(`1`, `1`, true)
	f(`1`, `1.0`, false) // integers and floats never compare equal
	f(`1`, `2`, false)
	f(`-1`, `18446744073709551615`, false)
	f(`18446744073709551615`, `18446744073709551615`, true)
	f(`1.5`, `1.50`, true)
	f(`0.0`, `-0.0`, true) // float comparison
	f(`"a"`, `"a"`, true)
	f(`"a"`, `"b"`, false)
	f(`"1"`, `1`, false)
	f(`[]`, `[]`, true)
	f(`[]`, `{}`, false)
	f(`[1,2]`, `[1,2]`, true)
	f(`[1,2]`, `[2,1]`, false) // arrays are ordered
	f(`[1,2]`, `[1,2,3]`, false)
	f(`{"a":1,"b":2}`, `{"b":2,"a":1}`, true) // objects are not
	f(`{"a":1}`, `{"a":1,"b":2}`, false)
	f(`{"a":1,"b":2}`, `{"a":1,"c":2}`, false)
	f(`{"a":{"b":[1,{"c":null}]}}`, `{"a":{"b":[1,{"c":null}]}}`, true)
	f(`{"a":{"b":[1,{"c":null}]}}`, `{"a":{"b":[1,{"c":0}]}}`, false)
}

func TestScalarConstructors(t *testing.T) {
	require.Equal(t, Null, Value{}.Kind())
	require.True(t, NullValue().IsNull())

	b, ok := BoolValue(true).Bool()
	require.True(t, ok)
	require.True(t, b)

	i, ok := IntValue(math.MinInt64).Int()
	require.True(t, ok)
	require.Equal(t, int64(math.MinInt64), i)
	_, ok = IntValue(-1).Uint()
	require.False(t, ok, "negative Int has no uint64 value")

	// UintValue keeps one representation per integer.
	require.Equal(t, Int, UintValue(math.MaxInt64).Kind())
	require.Equal(t, Uint, UintValue(math.MaxInt64+1).Kind())
	u, ok := UintValue(math.MaxUint64).Uint()
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), u)
	_, ok = UintValue(math.MaxUint64).Int()
	require.False(t, ok)

	_, ok = FloatValue(1).Int()
	require.False(t, ok, "a Float is not an Int")
	n, ok := UintValue(math.MaxUint64).Number()
	require.True(t, ok)
	require.Equal(t, float64(math.MaxUint64), n)

	s, ok := StringValue("x").Str()
	require.True(t, ok)
	require.Equal(t, "x", s)

	require.Equal(t, "unsigned integer", Uint.String())
	require.Equal(t, "Kind(99)", Kind(99).String())
}

func TestObjectValueDuplicateKeys(t *testing.T) {
	fields := []Field{{"a", IntValue(1)}, {"b", IntValue(2)}, {"a", IntValue(3)}}
	v := ObjectValue(fields...)
	require.Equal(t, `{"a":3,"b":2}`, v.String())
	require.Equal(t, uint64(1), fields[0].Value.num, "the caller's fields are not modified")

	// Without duplicates the fields are used as given.
	uniq := []Field{{"a", IntValue(1)}, {"b", IntValue(2)}}
	require.Same(t, &uniq[0], &ObjectValue(uniq...).Fields()[0])

	// Large objects take the map path.
	var many []Field
	for i := range 40 {
		many = append(many, Field{Key: string(rune('a' + i%20)), Value: IntValue(int64(i))})
	}
	v = ObjectValue(many...)
	require.Equal(t, 20, v.Len())
	x, ok := v.Get("a")
	require.True(t, ok)
	require.Equal(t, `20`, x.String())
}

func TestWithWithout(t *testing.T) {
	v := mustJSON(t, `{"a":1,"b":2}`)
	require.Equal(t, `{"a":1,"b":3}`, v.With("b", IntValue(3)).String())
	require.Equal(t, `{"a":1,"b":2,"c":3}`, v.With("c", IntValue(3)).String())
	require.Equal(t, `{"b":2}`, v.Without("a").String())
	require.Equal(t, `{"a":1,"b":2}`, v.String(), "v is unchanged")
	require.Equal(t, `{"k":true}`, NullValue().With("k", BoolValue(true)).String())
}

func TestLenArrayFields(t *testing.T) {
	require.Equal(t, 3, mustJSON(t, `[1,2,3]`).Len())
	require.Equal(t, 2, mustJSON(t, `{"a":1,"b":2}`).Len())
	require.Equal(t, 0, mustJSON(t, `"abc"`).Len())
	require.Nil(t, mustJSON(t, `{"a":1}`).Array())
	require.Nil(t, mustJSON(t, `[1]`).Fields())
	require.NotNil(t, mustJSON(t, `[]`).Array(), "an empty array is not nil")
}

func TestMerge(t *testing.T) {
	f := func(dst, src, want string) {
		t.Helper()
		got := Merge(mustJSON(t, dst), mustJSON(t, src))
		require.Equal(t, want, got.String())
	}
	f(`{}`, `{}`, `{}`)
	f(`{"a":1}`, `{"b":2}`, `{"a":1,"b":2}`)
	f(`{"a":1,"b":2}`, `{"a":3}`, `{"a":3,"b":2}`)       // replaced in place
	f(`{"a":1,"b":2}`, `{"a":null}`, `{"b":2}`)          // null removes
	f(`{"a":1}`, `{"z":null}`, `{"a":1}`)                // removing a missing key
	f(`{"a":{"x":1}}`, `{"a":{"y":2}}`, `{"a":{"y":2}}`) // shallow
	f(`5`, `{"a":1}`, `{"a":1}`)                         // non-object dst
	f(`null`, `{"a":[1]}`, `{"a":[1]}`)

	// Large objects on both sides.
	dst, src := NullValue(), NullValue()
	for i := range 30 {
		dst = dst.With(string(rune('a'+i)), IntValue(int64(i)))
		if i%2 == 0 {
			src = src.With(string(rune('a'+i)), NullValue())
		} else {
			src = src.With(string(rune('A'+i)), IntValue(int64(i)))
		}
	}
	got := Merge(dst, src)
	require.Equal(t, 30, got.Len())
	_, ok := got.Get("a")
	require.False(t, ok)
	x, ok := got.Get("B")
	require.True(t, ok)
	require.Equal(t, `1`, x.String())
}
