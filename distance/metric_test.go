package distance

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

var allMetrics = []Metric{Cosine, Dot, Euclid, Manhattan}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		m              Metric
		name           string
		higher, normal bool
	}{
		{Cosine, "Cosine", true, true},
		{Dot, "Dot", true, false},
		{Euclid, "Euclid", false, false},
		{Manhattan, "Manhattan", false, false},
	}
	for _, tt := range tests {
		require.True(t, tt.m.Valid())
		require.Equal(t, tt.name, tt.m.String())
		require.Equal(t, tt.higher, tt.m.HigherIsBetter(), tt.name)
		require.Equal(t, tt.normal, tt.m.NeedsNormalize(), tt.name)
	}
	for _, m := range []Metric{0, Manhattan + 1, 255} {
		require.False(t, m.Valid())
		require.Contains(t, m.String(), "Metric(")
	}
}

func TestParseMetric(t *testing.T) {
	tests := []struct {
		in   string
		want Metric
	}{
		{"Cosine", Cosine}, {"cosine", Cosine}, {"COSINE", Cosine}, {"angular", Cosine},
		{"Dot", Dot}, {"dot", Dot}, {"ip", Dot}, {"inner_product", Dot},
		{"Euclid", Euclid}, {"euclid", Euclid}, {"euclidean", Euclid}, {"L2", Euclid},
		{"Manhattan", Manhattan}, {"manhattan", Manhattan}, {"l1", Manhattan},
	}
	for _, tt := range tests {
		got, err := ParseMetric(tt.in)
		require.NoError(t, err, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", "cos", "hamming", "l3", " dot"} {
		_, err := ParseMetric(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "unknown distance")
	}
	// Every metric's own name parses back to it.
	for _, m := range allMetrics {
		got, err := ParseMetric(m.String())
		require.NoError(t, err)
		require.Equal(t, m, got)
	}
}

func norm2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}

func TestPreprocessCosine(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		// Normalised to unit length.
		got := Cosine.Preprocess(nil, []float32{3, 4})
		require.InDeltaSlice(t, []float32{0.6, 0.8}, got, 1e-7)

		r := rand.New(rand.NewPCG(20, 20))
		for _, n := range []int{1, 7, 16, 100, 784, 1536} {
			v := randSlice(r, n, 10)
			// Stored and query vectors: the same but for the order of the
			// norm's sum.
			for _, got := range [][]float32{Cosine.Preprocess(nil, v), Cosine.PreprocessQuery(nil, v)} {
				require.InDelta(t, 1, norm2(got), 1e-5, "n=%d", n)
				// Direction kept.
				s := float32(math.Sqrt(norm2(v)))
				for i := range v {
					require.InDelta(t, v[i]/s, got[i], 1e-6)
				}
			}
			require.Equal(t, v, Dot.PreprocessQuery(nil, v))
		}

		// The zero vector is left as it is.
		zero := make([]float32, 5)
		require.Equal(t, zero, Cosine.Preprocess(nil, zero))

		// An already normalised vector is returned bit for bit.
		unit := []float32{0.6, 0.8, 0}
		require.Equal(t, unit, Cosine.Preprocess(nil, unit))
		e := []float32{0, 0, 1, 0}
		require.Equal(t, e, Cosine.Preprocess(nil, e))

		// Tiny vectors whose squared norm is below float32 epsilon stay.
		tiny := []float32{1e-4, 1e-4}
		require.Equal(t, tiny, Cosine.Preprocess(nil, tiny))
	})
}

func TestPreprocessBuffers(t *testing.T) {
	v := []float32{3, 4}
	orig := append([]float32(nil), v...)

	// dst may alias v.
	got := Cosine.Preprocess(v, v)
	require.InDeltaSlice(t, []float32{0.6, 0.8}, got, 1e-7)
	require.Same(t, &v[0], &got[0])

	// A large enough dst is reused, a small one replaced; v is untouched.
	v = append([]float32(nil), orig...)
	buf := make([]float32, 1, 8)
	got = Cosine.Preprocess(buf, v)
	require.Same(t, &buf[:1][0], &got[0])
	require.Len(t, got, 2)
	require.Equal(t, orig, v)
	got = Cosine.Preprocess(make([]float32, 0, 1), v)
	require.Len(t, got, 2)

	// Other metrics copy unchanged.
	for _, m := range []Metric{Dot, Euclid, Manhattan} {
		got := m.Preprocess(nil, v)
		require.Equal(t, v, got, m.String())
		got[0] = 99
		require.Equal(t, orig, v, "Preprocess must copy")
	}
	require.Empty(t, Euclid.Preprocess(nil, nil))
}

func TestDistance(t *testing.T) {
	a := []float32{1, 2, 3}
	b := []float32{4, -6, 8}
	forEachImpl(t, func(t *testing.T) {
		tests := []struct {
			m    Metric
			want float32
		}{
			{Cosine, 1 - (4 - 12 + 24)},
			{Dot, 1 - (4 - 12 + 24)},
			{Euclid, 9 + 64 + 25},
			{Manhattan, 3 + 8 + 5},
		}
		for _, tt := range tests {
			require.Equal(t, tt.want, tt.m.Distance(a, b), tt.m.String())
			require.Equal(t, tt.want, tt.m.Func()(a, b), tt.m.String())
		}
		// Lower distance is closer under every metric.
		q := Cosine.Preprocess(nil, []float32{1, 0})
		near := Cosine.Preprocess(nil, []float32{1, 0.1})
		far := Cosine.Preprocess(nil, []float32{-1, 0.5})
		for _, m := range allMetrics {
			require.Less(t, m.Distance(q, near), m.Distance(q, far), m.String())
		}
	})
}

func TestDistanceMatchesKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 11, 12, 100, 784} {
			a, b := randSlice(r, n, 1), randSlice(r, n, 1)
			require.Equal(t, SquaredL2(a, b), Euclid.Distance(a, b))
			require.Equal(t, L1(a, b), Manhattan.Distance(a, b))
			require.Equal(t, 1-DotProduct(a, b), Dot.Distance(a, b))
			require.Equal(t, 1-DotProduct(a, b), Cosine.Distance(a, b))
		}
	})
}

func TestScore(t *testing.T) {
	tests := []struct {
		m          Metric
		dist, want float32
	}{
		{Euclid, 25, 5},
		{Euclid, 0, 0},
		{Euclid, 2, float32(math.Sqrt(2))},
		{Euclid, -1e-7, float32(math.Sqrt(1e-7))}, // rounding below zero
		{Manhattan, 7.5, 7.5},
		{Manhattan, -0.5, 0.5},
		{Cosine, 0.25, 0.75},
		{Cosine, 1, 0},
		{Cosine, 2, -1},
		{Dot, -41, 42},
		{Dot, 1, 0},
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, tt.m.Score(tt.dist), 1e-6, "%v %v", tt.m, tt.dist)
	}
	// Score(Distance) is Qdrant's score.
	a := []float32{1, 2, 2}
	b := []float32{4, 6, 2}
	require.Equal(t, float32(5), Euclid.Score(Euclid.Distance(a, b)))
	require.Equal(t, float32(7), Manhattan.Score(Manhattan.Distance(a, b)))
	require.Equal(t, float32(20), Dot.Score(Dot.Distance(a, b)))
}

func TestPassesThreshold(t *testing.T) {
	tests := []struct {
		m                Metric
		score, threshold float32
		want             bool
	}{
		{Cosine, 0.9, 0.8, true},
		{Cosine, 0.8, 0.8, false}, // strict
		{Cosine, 0.7, 0.8, false},
		{Dot, 10, -1, true},
		{Dot, -1, -1, false},
		{Euclid, 1, 2, true},
		{Euclid, 2, 2, false}, // strict
		{Euclid, 3, 2, false},
		{Manhattan, 0, 0.5, true},
		{Manhattan, 0.5, 0.5, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.m.PassesThreshold(tt.score, tt.threshold), "%v %v vs %v", tt.m, tt.score, tt.threshold)
		require.Equal(t, tt.want, tt.m.BetterScore(tt.score, tt.threshold))
	}
}

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name    string
		v       []float32
		dim     int
		err     error
		message string
	}{
		{"ok", []float32{1, 2, 3}, 3, nil, ""},
		{"any dim", []float32{1, 2, 3}, 0, nil, ""},
		{"empty", nil, 3, ErrEmpty, ""},
		{"empty any dim", []float32{}, 0, ErrEmpty, ""},
		{"short", []float32{1, 2}, 3, ErrDimMismatch, "expected dim: 3, got 2"},
		{"long", []float32{1, 2, 3, 4}, 3, ErrDimMismatch, "expected dim: 3, got 4"},
		{"nan", []float32{1, 2, nan}, 3, ErrNotFinite, "element 2"},
		{"+inf", []float32{inf, 2, 3}, 3, ErrNotFinite, "element 0 is +Inf"},
		{"-inf", []float32{1, -inf, 3}, 0, ErrNotFinite, "element 1 is -Inf"},
		{"first bad reported", []float32{1, nan, inf}, 3, ErrNotFinite, "element 1"},
		{"max float ok", []float32{math.MaxFloat32, -math.MaxFloat32, 1e-45}, 3, nil, ""},
	}
	for _, tt := range tests {
		err := Validate(tt.v, tt.dim)
		if tt.err == nil {
			require.NoError(t, err, tt.name)
			continue
		}
		require.Error(t, err, tt.name)
		require.True(t, errors.Is(err, tt.err), "%s: %v", tt.name, err)
		require.Contains(t, err.Error(), tt.message, tt.name)
	}
}

// TestMetricGatherBatch checks the metric-level batch forms against
// Distance, bit for bit.
func TestMetricGatherBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 22))
	const rows = 30
	forEachImpl(t, func(t *testing.T) {
		for _, dim := range []int{1, 11, 12, 33, 784} {
			base := randSlice(r, rows*dim, 1)
			q := randSlice(r, dim, 1)
			ids := []uint32{29, 0, 4, 4, 17}
			for _, m := range allMetrics {
				dst := fill(len(ids)+1, constant(-3))
				m.Gather(dst, q, base, dim, ids)
				for i, id := range ids {
					require.Equal(t, m.Distance(q, base[int(id)*dim:int(id+1)*dim]), dst[i], "%v dim=%d", m, dim)
				}
				require.Equal(t, float32(-3), dst[len(ids)])

				out := fill(rows+1, constant(-3))
				m.Batch(out, q, base, dim)
				for i := 0; i < rows; i++ {
					require.Equal(t, m.Distance(q, base[i*dim:(i+1)*dim]), out[i], "%v dim=%d", m, dim)
				}
				require.Equal(t, float32(-3), out[rows])
			}
		}
	})
}

func TestAllFinite(t *testing.T) {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xff800001)}
	finite := []float32{0, -0, 1, -1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-40, 3.4e38}
	// Lengths past two rounds of the word loop, from an 8-byte boundary
	// and from 4 bytes past one.
	for n := 1; n <= 21; n++ {
		for pos := range n {
			v := make([]float32, n+1)[n%2:][:n]
			for i := range v {
				v[i] = finite[(i+pos)%len(finite)]
			}
			if !allFinite(v) {
				t.Fatalf("%v reported not finite", v)
			}
			for _, x := range special {
				v[pos] = x
				if allFinite(v) {
					t.Fatalf("%v reported finite", v)
				}
				if err := Validate(v, n); err == nil {
					t.Fatalf("Validate(%v) accepted it", v)
				}
			}
		}
	}
}
