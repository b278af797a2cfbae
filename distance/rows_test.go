package distance

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// rowsFuncs pairs each rows form with its single kernel.
var rowsFuncs = []struct {
	name   string
	single func(a, b []float32) float32
	rows   func(dst, q []float32, rows [][]float32)
}{
	{"dot", DotProduct, DotRows},
	{"l2", SquaredL2, SquaredL2Rows},
	{"l1", L1, L1Rows},
}

// TestRowsExact checks that every rows result is bit-identical to the
// single-pair kernel on the same row, for rows in separate allocations at
// any offset (aligned or not), repeated, and longer than the query.
func TestRowsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 20))
	forEachImpl(t, func(t *testing.T) {
		for _, dim := range gatherDims() {
			q := randSlice(r, dim, 1)
			var rows [][]float32
			for i := range 37 {
				own := randSlice(r, dim+8, 1)
				off := i % 4
				rows = append(rows, own[off:off+dim+i%3])
			}
			rows = append(rows, rows[0], rows[5], rows[5])
			for _, rf := range rowsFuncs {
				for _, n := range []int{0, 1, 2, 3, 16, len(rows)} {
					dst := fill(n+2, constant(-7))
					rf.rows(dst, q, rows[:n])
					for i, row := range rows[:n] {
						want := rf.single(q, row[:dim])
						require.Equal(t, math.Float32bits(want), math.Float32bits(dst[i]),
							"%s rows dim=%d i=%d: %v != %v", rf.name, dim, i, dst[i], want)
					}
					require.Equal(t, []float32{-7, -7}, dst[n:], "rows wrote past len(rows)")
				}
			}
			for _, m := range []Metric{Cosine, Dot, Euclid, Manhattan} {
				dst := make([]float32, len(rows))
				m.GatherRows(dst, q, rows)
				for i, row := range rows {
					require.Equal(t, m.Distance(q, row[:dim]), dst[i], "%v dim=%d", m, dim)
				}
			}
		}
	})
}

func TestRowsContract(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		const dim = 16
		q := make([]float32, dim)
		rows := [][]float32{make([]float32, dim), make([]float32, dim+1)}
		for _, rf := range rowsFuncs {
			rf.rows(make([]float32, 2), q, rows)
			rf.rows(nil, q, nil)
			rf.rows(make([]float32, 2), nil, [][]float32{nil, nil}) // dim 0
			requireBug(t, func() { rf.rows(make([]float32, 1), q, rows) }, "short dst")
			requireBug(t, func() { rf.rows(make([]float32, 2), q, [][]float32{rows[0], rows[0][:dim-1]}) }, "short row")
			requireBug(t, func() { rf.rows(make([]float32, 1), q, [][]float32{nil}) }, "nil row")
		}
	})
}

func TestRowsZeroAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	const dim = 784
	q := randSlice(r, dim, 1)
	rows := make([][]float32, 16)
	for i := range rows {
		rows[i] = randSlice(r, dim, 1)
	}
	dst := make([]float32, len(rows))
	forEachImpl(t, func(t *testing.T) {
		for _, m := range []Metric{Cosine, Dot, Euclid, Manhattan} {
			require.Zero(t, testing.AllocsPerRun(50, func() { m.GatherRows(dst, q, rows) }), m.String())
		}
	})
}
