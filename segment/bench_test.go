package segment

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/qlite/qlite/bench/cputime"
	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/hnsw"
)

// BenchmarkAppend measures Append of one 128-dim point with a payload into
// a segment of the largest capacity (ns per point).
func BenchmarkAppend(b *testing.B) {
	opts := &Options{Vectors: []VectorSpec{{Dim: 128, Metric: distance.Cosine}}, Capacity: 1 << 22}
	fx := newFixture(b, opts)
	pts := make([]*Point, 4096)
	for i := range pts {
		pts[i] = fx.point()
	}
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(128 * 4)
	b.ResetTimer()
	start := cputime.Now()
	for i := 0; b.Loop(); i++ {
		if s.Len() == 1<<16 {
			b.StopTimer()
			s, _ = New(opts)
			b.StartTimer()
		}
		if _, err := s.Append(pts[i%len(pts)]); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cputime.Now()-start)
}

// BenchmarkBuildGraph measures indexing 10k appended 128-dim points on one
// and two workers (time per build).
func BenchmarkBuildGraph(b *testing.B) {
	const n = 10000
	opts := &Options{Vectors: []VectorSpec{{Dim: 128, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 1}}}, Capacity: 1 << 22}
	fx := newFixture(b, opts)
	pts := make([]*Point, n)
	for i := range pts {
		pts[i] = fx.point()
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("dim=128/n=10k/workers=%d", workers), func(b *testing.B) {
			var spent time.Duration
			for b.Loop() {
				b.StopTimer()
				s, err := New(opts)
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range pts {
					if _, err := s.Append(p); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := cputime.Now()
				if _, err := s.BuildGraph(context.Background(), workers); err != nil {
					b.Fatal(err)
				}
				spent += cputime.Now() - start
			}
			cputime.Report(b, spent)
		})
	}
}
