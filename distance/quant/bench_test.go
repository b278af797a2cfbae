package quant

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qlite/qlite/distance"
)

// BenchmarkQuantizers times, per dimension, the score of one query against
// 1024 random rows of 20000 (kind=f32 is distance.Metric.Gather on the
// float32 rows, the reference, in the same run), the preparation of a query
// (op=query: PQ's lookup table) and the encoding of one vector. SetBytes counts the row bytes read (score) or the float32 bytes
// encoded (encode).
func BenchmarkQuantizers(b *testing.B) {
	const n, nids = 20000, 1024
	m := distance.Euclid
	for _, dim := range []int{128, 784} {
		data, queries := clustered(11, n, 1, dim, m)
		r := rand.New(rand.NewPCG(12, 12))
		ids := make([]uint32, nids)
		for i := range ids {
			ids[i] = uint32(r.IntN(n))
		}
		dst := make([]float32, nids)
		qv := queries.At(0)
		base := distance.MakeAligned(n * dim)
		copy(base, data.Data)
		b.Run(fmt.Sprintf("dim=%d/kind=f32/op=score", dim), func(b *testing.B) {
			b.SetBytes(int64(nids * dim * 4))
			b.ReportAllocs()
			for b.Loop() {
				m.Gather(dst, qv, base, dim, ids)
			}
		})
		type cfg struct {
			name  string
			train func() (Quantizer, error)
		}
		cfgs := []cfg{
			{"scalar", func() (Quantizer, error) { return TrainScalar(data, m, dim, ScalarOptions{Quantile: 0.99}) }},
			{"binary-1bit", func() (Quantizer, error) { return TrainBinary(data, m, dim, BinaryOptions{}) }},
			{"binary-2bits", func() (Quantizer, error) { return TrainBinary(data, m, dim, BinaryOptions{Encoding: TwoBits}) }},
			{"binary-1bit-q8", func() (Quantizer, error) {
				return TrainBinary(data, m, dim, BinaryOptions{QueryEncoding: QueryScalar8Bits})
			}},
			{"pq-x16", func() (Quantizer, error) {
				return TrainProduct(data, m, dim, ProductOptions{Compression: X16, SampleSize: 2000, MaxIterations: 4})
			}},
		}
		for _, c := range cfgs {
			q, err := c.train()
			if err != nil {
				b.Fatal(err)
			}
			rows := AlignedRows(q, n)
			rs := q.RowSize()
			for i := range n {
				q.Encode(rows[i*rs:], data.At(i))
			}
			var qq Query
			q.PrepareQuery(&qq, qv)
			b.Run(fmt.Sprintf("dim=%d/kind=%s/op=score", dim, c.name), func(b *testing.B) {
				b.SetBytes(int64(nids * rs))
				b.ReportAllocs()
				for b.Loop() {
					q.Distances(dst, &qq, rows, ids)
				}
			})
			b.Run(fmt.Sprintf("dim=%d/kind=%s/op=query", dim, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					q.PrepareQuery(&qq, qv)
				}
			})
			b.Run(fmt.Sprintf("dim=%d/kind=%s/op=encode", dim, c.name), func(b *testing.B) {
				b.SetBytes(int64(dim * 4))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					q.Encode(rows[(i%n)*rs:], data.At(i%n))
					i++
				}
			})
		}
	}
}

// BenchmarkTrainProduct times the training of product quantisation's
// codebooks on 10000 vectors of 784 dimensions (Qdrant's sample size,
// Fashion-MNIST's width) at 20 k-means iterations, for each sub-vector
// width, on one goroutine.
func BenchmarkTrainProduct(b *testing.B) {
	data, _ := clustered(13, 10000, 0, 784, distance.Euclid)
	for _, c := range []Compression{X8, X16, X32, X64} {
		b.Run(fmt.Sprintf("compression=x%d", c), func(b *testing.B) {
			for b.Loop() {
				if _, err := TrainProduct(data, distance.Euclid, 784, ProductOptions{Compression: c, MaxIterations: 20, Tolerance: 1e-30}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
