package quant

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qlite/qlite/distance"
	"github.com/stretchr/testify/require"
)

// clustered returns n vectors of dim floats drawn around 32 random centres
// (seeded), normalised for Cosine, and the same for nq queries.
func clustered(seed uint64, n, nq, dim int, metric distance.Metric) (data, queries Flat) {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float32, 32)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for d := range centres[i] {
			centres[i][d] = float32(r.NormFloat64())
		}
	}
	gen := func(count int) Flat {
		f := Flat{Data: make([]float32, 0, count*dim), D: dim}
		for range count {
			c := centres[r.IntN(len(centres))]
			v := make([]float32, dim)
			for d := range v {
				v[d] = c[d] + 0.6*float32(r.NormFloat64())
			}
			f.Data = append(f.Data, metric.Preprocess(nil, v)...)
		}
		return f
	}
	return gen(n), gen(nq)
}

// recall returns the mean fraction of the exact top k (brute force, float32)
// that the quantised search recovers: the top k*oversampling rows by
// quantised distance, rescored with the original vectors, cut to k.
func recall(t testing.TB, q Quantizer, data, queries Flat, k int, oversampling float64) float64 {
	t.Helper()
	n := data.Len()
	rows := AlignedRows(q, n)
	rs := q.RowSize()
	for i := range n {
		q.Encode(rows[i*rs:(i+1)*rs], data.At(i))
	}
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(i)
	}
	type hit struct {
		id uint32
		d  float32
	}
	top := func(h []hit, k int) []hit {
		slices.SortFunc(h, func(a, b hit) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.id, b.id)) })
		return h[:min(k, len(h))]
	}
	m := q.Metric()
	dst := make([]float32, n)
	var qq Query
	var total float64
	for qi := range queries.Len() {
		qv := queries.At(qi)
		exact := make([]hit, n)
		for i := range n {
			exact[i] = hit{uint32(i), m.Distance(qv, data.At(i))}
		}
		want := top(exact, k)
		q.Distances(dst, q.PrepareQuery(&qq, qv), rows, ids)
		approx := make([]hit, n)
		for i := range n {
			approx[i] = hit{uint32(i), dst[i]}
		}
		cand := top(approx, int(math.Ceil(float64(k)*oversampling)))
		for i := range cand {
			cand[i].d = m.Distance(qv, data.At(int(cand[i].id)))
		}
		got := top(cand, k)
		found := 0
		for _, w := range want {
			for _, g := range got {
				if g.id == w.id {
					found++
					break
				}
			}
		}
		total += float64(found) / float64(len(want))
	}
	return total / float64(queries.Len())
}

var allMetrics = []distance.Metric{distance.Cosine, distance.Dot, distance.Euclid, distance.Manhattan}

func TestRecallScalar(t *testing.T) {
	for _, m := range allMetrics {
		for _, quantile := range []float32{0, 0.99} {
			data, queries := clustered(1, 2000, 30, 96, m)
			s, err := TrainScalar(data, m, 96, ScalarOptions{Quantile: quantile, Seed: 1})
			require.NoError(t, err)
			r1 := recall(t, s, data, queries, 10, 1)
			r2 := recall(t, s, data, queries, 10, 2)
			t.Logf("scalar %v quantile=%v: recall@10 %.3f (no oversampling) %.3f (x2)", m, quantile, r1, r2)
			require.GreaterOrEqual(t, r2, 0.99, "%v", m)
			require.Equal(t, 96+4, s.RowSize())
		}
	}
}

func TestRecallBinary(t *testing.T) {
	for _, m := range allMetrics {
		for _, enc := range []Encoding{OneBit, TwoBits, OneAndHalfBits} {
			for _, qenc := range []QueryEncoding{QueryDefault, QueryScalar4Bits, QueryScalar8Bits} {
				data, queries := clustered(2, 1500, 20, 256, m)
				b, err := TrainBinary(data, m, 256, BinaryOptions{Encoding: enc, QueryEncoding: qenc})
				require.NoError(t, err)
				r := recall(t, b, data, queries, 10, 10)
				t.Logf("binary %v enc=%d qenc=%d: recall@10 with oversampling x10 %.3f, row %d bytes", m, enc, qenc, r, b.RowSize())
				require.GreaterOrEqual(t, r, 0.98, "%v enc=%d qenc=%d", m, enc, qenc)
				require.Equal(t, map[Encoding]int{OneBit: 32, TwoBits: 64, OneAndHalfBits: 48}[enc], b.RowSize())
			}
		}
	}
}

func TestRecallProduct(t *testing.T) {
	for _, m := range allMetrics {
		for _, c := range []Compression{X16, X64} {
			data, queries := clustered(3, 1500, 20, 64, m)
			p, err := TrainProduct(data, m, 64, ProductOptions{Compression: c, Seed: 3, MaxIterations: 10})
			require.NoError(t, err)
			r := recall(t, p, data, queries, 10, 4)
			t.Logf("product %v %s: recall@10 x4 %.3f, row %d bytes", m, fmt.Sprintf("x%d", c), r, p.RowSize())
			require.Equal(t, 64*4/int(c), p.RowSize())
			require.GreaterOrEqual(t, r, map[Compression]float64{X16: 0.95, X64: 0.85}[c], "%v x%d", m, c)
		}
	}
}
