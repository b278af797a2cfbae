package bench

import (
	"math/rand/v2"
	"testing"

	"github.com/qlite/qlite/distance"
)

func TestFlatVectorsDistances(t *testing.T) {
	const n, dim = 50, 37
	data := randomVectors(5, n, dim)
	q := randomVectors(6, 1, dim)
	ids := []uint32{3, 0, 49, 17, 17, 8}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		ids = append(ids, uint32(rng.IntN(n)))
	}
	for _, m := range []distance.Metric{distance.Euclid, distance.Cosine, distance.Dot, distance.Manhattan} {
		d := append([]float32(nil), data...)
		for i := range n {
			m.Preprocess(d[i*dim:(i+1)*dim], d[i*dim:(i+1)*dim])
		}
		v := newFlatVectors(m, d, dim)
		dst := make([]float32, len(ids))
		v.Distances(q, ids, dst)
		for i, id := range ids {
			if want := m.Distance(q, v.Vector(id)); dst[i] != want {
				t.Fatalf("%v: distance to %d = %v, want %v", m, id, dst[i], want)
			}
		}
	}
}
