package distance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// maxSim64 is MaxSim's oracle: Qdrant's definition evaluated in float64,
// returning the score Qdrant reports.
func maxSim64(m Metric, q, doc []float32, dim int) float64 {
	var sum float64
	for i := 0; i < len(q); i += dim {
		best := math.Inf(-1)
		for j := 0; j < len(doc); j += dim {
			var s float64
			for k := range dim {
				a, b := float64(q[i+k]), float64(doc[j+k])
				switch m {
				case Euclid:
					s -= (a - b) * (a - b)
				case Manhattan:
					s -= math.Abs(a - b)
				default:
					s += a * b
				}
			}
			best = max(best, s)
		}
		sum += best
	}
	switch m {
	case Euclid:
		return math.Sqrt(math.Abs(sum))
	case Manhattan:
		return math.Abs(sum)
	}
	return sum
}

func TestMaxSimQdrantScores(t *testing.T) {
	// Scores Qdrant 1.17.1 answered for these multivectors.
	f := func(m Metric, q, doc [][]float32, want float32) {
		t.Helper()
		var fq, fd []float32
		for _, v := range q {
			fq = append(fq, v...)
		}
		for _, v := range doc {
			fd = append(fd, v...)
		}
		got := m.Score(m.MaxSim(m.PreprocessMultiQuery(nil, fq, 2), m.PreprocessMulti(nil, fd, 2), 2))
		require.InDelta(t, want, got, 1e-6*math.Max(1, math.Abs(float64(want))))
	}
	q := [][]float32{{0.5, 0.25}, {0.3, 0.1}}
	f(Euclid, q, [][]float32{{1.5, 0}, {0, 1}}, 1.3086252)
	f(Euclid, q, [][]float32{{1, 1}}, 1.4534441)
	f(Euclid, q, [][]float32{{3, 4}, {1, -1}, {0, 2}}, 1.8741665)
	f(Dot, q, [][]float32{{3, 4}, {1, -1}, {0, 2}}, 3.8000002)
	f(Dot, q, [][]float32{{2, 1}}, 1.95)
	f(Dot, q, [][]float32{{1.5, 0}, {0, 1}}, 1.2)
	f(Cosine, [][]float32{{1, 0}}, [][]float32{{3, 4}, {1, -1}, {0, 2}}, 0.70710677)
}

func TestMaxSimMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, m := range allMetrics {
		for _, dim := range []int{1, 3, 8, 17, 128} {
			for _, shape := range [][2]int{{1, 1}, {3, 1}, {1, 5}, {4, 70}, {32, 130}} {
				q := randVec(rng, shape[0]*dim)
				doc := randVec(rng, shape[1]*dim)
				q, doc = m.PreprocessMultiQuery(nil, q, dim), m.PreprocessMulti(nil, doc, dim)
				want := maxSim64(m, q, doc, dim)
				got := float64(m.Score(m.MaxSim(q, doc, dim)))
				naive := float64(m.Score(m.MaxSimNaive(q, doc, dim)))
				tol := 1e-5 * math.Max(1, math.Abs(want))
				require.InDelta(t, want, got, tol, "%v dim %d shape %v", m, dim, shape)
				require.InDelta(t, want, naive, tol, "naive %v dim %d shape %v", m, dim, shape)
			}
		}
	}
}

func TestMaxSimAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q, doc := randVec(rng, 32*128), randVec(rng, 100*128)
	if n := testing.AllocsPerRun(20, func() { benchSink = Dot.MaxSim(q, doc, 128) }); n != 0 {
		t.Fatalf("MaxSim allocates %v times per call", n)
	}
}

func TestValidateMulti(t *testing.T) {
	require.ErrorIs(t, ValidateMulti(nil, 2), ErrEmpty)
	require.ErrorIs(t, ValidateMulti([]float32{1, 2, 3}, 2), ErrDimMismatch)
	require.ErrorIs(t, ValidateMulti([]float32{1, float32(math.NaN())}, 2), ErrNotFinite)
	require.NoError(t, ValidateMulti([]float32{1, 2, 3, 4}, 2))
}

// BenchmarkMaxSim scores a 32-vector query against documents of 100 vectors
// (ColBERT-like shapes) with the block kernel and the pair-at-a-time loop.
func BenchmarkMaxSim(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, dim := range []int{48, 128, 384, 768} {
		q := Dot.PreprocessMulti(nil, randVec(rng, 32*dim), dim)
		doc := Dot.PreprocessMulti(nil, randVec(rng, 100*dim), dim)
		for _, m := range []Metric{Dot, Euclid} {
			for _, impl := range []struct {
				name string
				fn   func(q, doc []float32, dim int) float32
			}{{"block", m.MaxSim}, {"naive", m.MaxSimNaive}} {
				b.Run(fmt.Sprintf("%v/dim=%d/q=32/doc=100/%s", m, dim, impl.name), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(doc) * 4))
					for b.Loop() {
						benchSink = impl.fn(q, doc, dim)
					}
				})
			}
		}
	}
}
