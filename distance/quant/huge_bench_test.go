package quant

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qlite/qlite/distance"
)

// BenchmarkScalarRowsPages scores a query against 20 random rows per call
// of 60000 Euclid scalar rows of 784 codes (47 MB, past the last-level
// cache and, with 4 KiB pages, the TLB's reach), the rows in a buffer from
// AlignedRows (pages=huge where the system gives them) or a plain heap
// buffer (pages=small).
func BenchmarkScalarRowsPages(b *testing.B) {
	const n, dim, per = 60000, 784, 20
	r := rand.New(rand.NewPCG(4, 4))
	v := Flat{Data: make([]float32, 4*dim), D: dim}
	for i := range v.Data {
		v.Data[i] = r.Float32()
	}
	s, err := TrainScalar(v, distance.Euclid, dim, ScalarOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rs := s.RowSize()
	ids := make([]uint32, 1<<16)
	for i := range ids {
		ids[i] = uint32(r.IntN(n))
	}
	for _, pages := range []string{"small", "huge"} {
		var rows []byte
		if pages == "huge" {
			rows = AlignedRows(s, n)
		} else {
			rows = make([]byte, n*rs)
		}
		for i := range rows {
			rows[i] = byte(r.IntN(128))
		}
		var q Query
		s.PrepareQuery(&q, v.At(0))
		dst := make([]float32, per)
		b.Run(fmt.Sprintf("pages=%s", pages), func(b *testing.B) {
			b.SetBytes(per * int64(rs))
			i := 0
			for b.Loop() {
				s.Distances(dst, &q, rows, ids[i:i+per])
				if i += per; i+per > len(ids) {
					i = 0
				}
			}
		})
	}
}
