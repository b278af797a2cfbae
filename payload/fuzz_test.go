package payload

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// randString returns a short string mixing ASCII, characters JSON must
// escape, and multi-byte UTF-8.
func randString(r *rand.Rand) string {
	const alphabet = "abcxyz019 _-.[]\"\\/\n\t\x00\x1f\x7f<>&é日😀\u2028"
	runes := []rune(alphabet)
	n := r.IntN(8)
	if r.IntN(20) == 0 {
		n = r.IntN(300)
	}
	var sb strings.Builder
	for range n {
		sb.WriteRune(runes[r.IntN(len(runes))])
	}
	return sb.String()
}

// randFloat returns a finite float: round numbers, integral values, or any
// bit pattern.
func randFloat(r *rand.Rand) float64 {
	switch r.IntN(5) {
	case 0:
		return float64(r.IntN(2000)-1000) / 8
	case 1:
		return float64(r.Int64()) // integral, often beyond 2^53
	case 2:
		return []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e16, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64, 1e21}[r.IntN(10)]
	}
	for {
		f := math.Float64frombits(r.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

// randValue returns a random Value nested at most depth levels deep.
func randValue(r *rand.Rand, depth int) Value {
	k := r.IntN(10)
	if depth <= 0 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		return NullValue()
	case 1:
		return BoolValue(r.IntN(2) == 0)
	case 2:
		switch r.IntN(3) {
		case 0:
			return IntValue(int64(r.IntN(200) - 100))
		case 1:
			return IntValue(r.Int64() - r.Int64())
		}
		return IntValue([]int64{0, math.MinInt64, math.MaxInt64}[r.IntN(3)])
	case 3:
		return UintValue(math.MaxInt64 + 1 + r.Uint64N(math.MaxInt64+1))
	case 4:
		return FloatValue(randFloat(r))
	case 5, 6:
		return StringValue(randString(r))
	case 7, 8:
		elems := make([]Value, r.IntN(5))
		for i := range elems {
			elems[i] = randValue(r, depth-1)
		}
		return ArrayValue(elems...)
	}
	fields := make([]Field, r.IntN(6))
	if r.IntN(10) == 0 {
		fields = make([]Field, 20+r.IntN(20)) // past smallObject
	}
	for i := range fields {
		fields[i] = Field{Key: randString(r), Value: randValue(r, depth-1)}
	}
	return ObjectValue(fields...)
}

// deepValue nests a random value n levels deep.
func deepValue(r *rand.Rand, n int) Value {
	v := randValue(r, 0)
	for range n {
		if r.IntN(2) == 0 {
			v = ArrayValue(v)
		} else {
			v = ObjectValue(Field{Key: randString(r), Value: v})
		}
	}
	return v
}

// checkRoundTrips checks that v survives both codecs exactly.
func checkRoundTrips(t testing.TB, v Value) {
	t.Helper()
	js := v.AppendJSON(nil)
	w, err := ParseJSON(js)
	require.NoError(t, err, "parse %s", js)
	require.True(t, Equal(v, w), "JSON round trip of %s gave %s", js, w)
	require.Equal(t, string(js), string(w.AppendJSON(nil)))

	bin := v.AppendBinary(nil)
	w, err = DecodeBinary(bin)
	require.NoError(t, err, "decode %x", bin)
	require.True(t, Equal(v, w), "binary round trip of %s gave %s", js, w)
	require.Equal(t, string(js), string(w.AppendJSON(nil)), "field order and float signs")
	require.Equal(t, bin, w.AppendBinary(nil))

	g, err := FromGo(v.ToGo())
	require.NoError(t, err)
	require.True(t, Equal(v, g), "Go round trip of %s gave %s", js, g)
}

func TestRandomValuesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		checkRoundTrips(t, randValue(r, 5))
	}
	for range 20 {
		checkRoundTrips(t, deepValue(r, MaxDepth-1))
	}
}

func TestRandomValuesAgainstEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 500 {
		checkAgainstEncodingJSON(t, randValue(r, 4).AppendJSON(nil))
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range jsonCorpus {
		f.Add([]byte(s))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		f.Add(randValue(r, 3).AppendJSON(nil))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstEncodingJSON(t, in)
		v, err := ParseJSON(in)
		if err != nil {
			require.True(t, errors.Is(err, ErrInvalidJSON) || errors.Is(err, ErrTooDeep), "%v", err)
			return
		}
		checkRoundTrips(t, v)
	})
}

func FuzzDecodeBinary(f *testing.F) {
	for _, s := range jsonCorpus {
		if v, err := ParseJSON([]byte(s)); err == nil {
			f.Add(v.AppendBinary(nil))
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		f.Add(randValue(r, 3).AppendBinary(nil))
	}
	f.Add([]byte{})
	f.Add([]byte{binaryFormat, tagArray, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := DecodeBinary(in)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		enc := v.AppendBinary(nil)
		w, err := DecodeBinary(enc)
		require.NoError(t, err)
		require.True(t, Equal(v, w))
		require.Equal(t, enc, w.AppendBinary(nil))
		// Apart from over-long varints, the encoding is canonical.
		require.LessOrEqual(t, len(enc), len(in))
		_ = v.AppendJSON(nil) // strings need not be UTF-8, but this must not panic
	})
}

// fieldsOf returns the object of v's top-level fields with keys in keys,
// the oracle of DecodeBinaryFields (v itself when it is no object).
func fieldsOf(v Value, keys []string) Value {
	if v.Kind() != Object {
		return v
	}
	var fs []Field
	for _, f := range v.Fields() {
		if slices.Contains(keys, f.Key) {
			fs = append(fs, f)
		}
	}
	return ObjectValue(fs...)
}

// FuzzDecodeBinaryFields checks DecodeBinaryFields against DecodeBinary:
// on an encoding DecodeBinary accepts, it returns exactly the fields asked
// for; on any input it returns a value or ErrCorrupt, never panics.
func FuzzDecodeBinaryFields(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 30 {
		v := randValue(r, 3)
		if r.IntN(3) > 0 {
			v = ObjectValue(Field{Key: "a", Value: randValue(r, 2)}, Field{Key: "bb", Value: randValue(r, 3)}, Field{Key: "c", Value: randValue(r, 1)})
		}
		f.Add(v.AppendBinary(nil), "a,c")
	}
	f.Add([]byte{binaryFormat, tagObject, 1, 1, 'a'}, "a")
	f.Fuzz(func(t *testing.T, in []byte, keyList string) {
		keys := strings.Split(keyList, ",")
		got, err := DecodeBinaryFields(in, keys)
		full, ferr := DecodeBinary(in)
		if ferr != nil {
			if err != nil {
				require.ErrorIs(t, err, ErrCorrupt)
			}
			return
		}
		require.NoError(t, err)
		require.True(t, Equal(fieldsOf(full, keys), got), "%v: %v", keys, got)
	})
}
