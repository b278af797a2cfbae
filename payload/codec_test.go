package payload

import (
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBinaryGolden(t *testing.T) {
	f := func(v Value, want string) {
		t.Helper()
		got := v.AppendBinary(nil)
		require.Equal(t, want, hex.EncodeToString(got), "encoding of %s", v)
		back, err := DecodeBinary(got)
		require.NoError(t, err)
		require.Equal(t, v.String(), back.String())
	}
	f(NullValue(), "a100")
	f(BoolValue(false), "a101")
	f(BoolValue(true), "a102")
	f(IntValue(0), "a10300")
	f(IntValue(-1), "a10301")
	f(IntValue(1), "a10302")
	f(IntValue(-64), "a1037f")
	f(IntValue(64), "a1038001")
	f(IntValue(math.MaxInt64), "a103feffffffffffffffff01")
	f(IntValue(math.MinInt64), "a103ffffffffffffffffff01")
	f(UintValue(math.MaxUint64), "a104ffffffffffffffff")
	f(UintValue(1<<63), "a1040000000000000080")
	f(FloatValue(1), "a105000000000000f03f")
	f(FloatValue(math.Copysign(0, -1)), "a1050000000000000080")
	f(StringValue(""), "a10600")
	f(StringValue("hé"), "a1060368c3a9")
	f(ArrayValue(), "a10700")
	f(ArrayValue(IntValue(1), StringValue("a")), "a107020302060161")
	f(mustJSON(t, `{}`), "a10800")
	f(mustJSON(t, `{"b":true,"a":null}`), "a10802016202016100")
	f(mustJSON(t, `{"a":[{}]}`), "a1080101610701"+"0800")
}

func TestBinaryRoundTrip(t *testing.T) {
	for _, in := range []string{
		`null`, `true`, `false`, `0`, `-0`, `-0.0`, `1.0`, `5e-324`, `1e300`,
		`18446744073709551615`, `-9223372036854775808`, `9223372036854775807`,
		`""`, `"日本語 😀 \u0000"`, `[]`, `{}`, `[[[]]]`, `{"a":{"b":{"c":[1,2.5,"x",null,true]}}}`,
		`{"b":1,"a":2}`, typicalPayload,
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	} {
		v := mustJSON(t, in)
		enc := v.AppendBinary(nil)
		back, err := DecodeBinary(enc)
		require.NoError(t, err, in)
		require.True(t, Equal(v, back), in)
		// Field order and float signs survive too.
		require.Equal(t, string(v.AppendJSON(nil)), string(back.AppendJSON(nil)))
		require.Equal(t, enc, back.AppendBinary(nil))
	}
}

func TestAppendBinaryAppends(t *testing.T) {
	v := mustJSON(t, `{"a":[1,"x"]}`)
	prefix := []byte("prefix")
	out := v.AppendBinary(prefix)
	require.Equal(t, "prefix", string(out[:6]))
	back, err := DecodeBinary(out[6:])
	require.NoError(t, err)
	require.True(t, Equal(v, back))
}

func TestAppendBinaryAllocs(t *testing.T) {
	v := mustJSON(t, typicalPayload)
	buf := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() { buf = v.AppendBinary(buf[:0]) })
	require.Zero(t, n)
}

func TestDecodeBinaryAllocs(t *testing.T) {
	// One allocation per array and object, and one copy of the input
	// shared by all strings.
	enc := mustJSON(t, typicalPayload).AppendBinary(nil)
	n := testing.AllocsPerRun(100, func() {
		if _, err := DecodeBinary(enc); err != nil {
			t.Fatal(err)
		}
	})
	require.Equal(t, 4.0, n) // the fields, "tags", "location" and the string copy
}

func TestDecodeBinaryDoesNotAliasInput(t *testing.T) {
	enc := mustJSON(t, `{"key":"value"}`).AppendBinary(nil)
	v, err := DecodeBinary(enc)
	require.NoError(t, err)
	clear(enc)
	require.Equal(t, `{"key":"value"}`, v.String())
}

func TestDecodeBinaryErrors(t *testing.T) {
	f := func(in, msg string) {
		t.Helper()
		b, err := hex.DecodeString(in)
		require.NoError(t, err)
		_, err = DecodeBinary(b)
		require.ErrorIs(t, err, ErrCorrupt, "input %s", in)
		require.Contains(t, err.Error(), msg, "input %s", in)
	}
	f("", "empty input")
	f("00", "unknown format 0x00")
	f("a2", "unknown format 0xa2")
	f("a1", "truncated value")
	f("a109", "unknown tag 0x09")
	f("a1ff", "unknown tag 0xff")
	f("a10000", "1 trailing bytes")
	f("a103", "truncated varint")
	f("a10380", "truncated varint")
	f("a103ffffffffffffffffff02", "overflows 64 bits")
	f("a103ffffffffffffffffffff01", "overflows 64 bits")
	f("a104ffffffffffffff", "truncated 8-byte number")
	f("a1040100000000000000", "fits an integer")
	f("a104ffffffffffffff7f", "fits an integer")
	f("a105000000000000f87f", "non-finite float") // NaN
	f("a105000000000000f07f", "non-finite float") // +Inf
	f("a105000000000000f0ff", "non-finite float") // -Inf
	f("a105000000", "truncated 8-byte number")
	f("a10601", "exceeds the 0 bytes left")
	f("a1060361", "exceeds the 1 bytes left")
	f("a106ffffffffffffffff7f", "exceeds")
	f("a10701", "exceeds the 0 bytes left")
	f("a1070200", "exceeds the 1 bytes left")
	f("a107020700", "truncated value")
	f("a107ffffffffffffffff7f00", "exceeds")
	f("a10705000000", "exceeds the 3 bytes left")
	f("a10801", "exceeds the 0 bytes left")
	f("a1080101", "exceeds the 1 bytes left")
	f("a108010161", "truncated value")
	f("a1080201610001610000", "duplicate key")
	f("a10801016107", "truncated varint")
	f("a108ffffffffffffffff7f", "exceeds")
	f("a107010001", "1 trailing bytes")

	// Nesting beyond MaxDepth, without a stack overflow for far more.
	ok := "a1" + strings.Repeat("0701", MaxDepth-1) + "0700"
	b, _ := hex.DecodeString(ok)
	_, err := DecodeBinary(b)
	require.NoError(t, err)
	for _, n := range []int{MaxDepth + 1, 1_000_000} {
		b, _ := hex.DecodeString("a1" + strings.Repeat("0701", n-1) + "0700")
		_, err := DecodeBinary(b)
		require.ErrorIs(t, err, ErrCorrupt)
		require.ErrorIs(t, err, ErrTooDeep)
		require.Contains(t, err.Error(), "more than 64 levels")
	}
	b, _ = hex.DecodeString("a1" + strings.Repeat("08010161", MaxDepth) + "00")
	_, err = DecodeBinary(b)
	require.NoError(t, err)
	b, _ = hex.DecodeString("a1" + strings.Repeat("08010161", MaxDepth+1) + "00")
	_, err = DecodeBinary(b)
	require.ErrorIs(t, err, ErrTooDeep)
}

func TestDecodeBinaryTruncations(t *testing.T) {
	// Every proper prefix of a valid encoding is an error, as is every
	// extension.
	enc := mustJSON(t, typicalPayload).AppendBinary(nil)
	for i := range len(enc) {
		_, err := DecodeBinary(enc[:i])
		require.ErrorIs(t, err, ErrCorrupt, "prefix of %d bytes", i)
	}
	_, err := DecodeBinary(append(enc, 0))
	require.ErrorIs(t, err, ErrCorrupt)
}

func BenchmarkAppendBinary(b *testing.B) {
	v := mustJSON(b, typicalPayload)
	buf := v.AppendBinary(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = v.AppendBinary(buf[:0])
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	enc := mustJSON(b, typicalPayload).AppendBinary(nil)
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
}
