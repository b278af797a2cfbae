package payload

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

const benchPoints = 100_000

func benchKeyword(b *testing.B, distinct int) *KeywordIndex {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	x := NewKeywordIndex(IndexParams{Type: TypeKeyword})
	for i := range uint32(benchPoints) {
		x.Set(i, []Value{StringValue(fmt.Sprint("v", rng.IntN(distinct)))})
	}
	return x
}

func BenchmarkKeywordIndex(b *testing.B) {
	for _, distinct := range []int{10, 1000} {
		x := benchKeyword(b, distinct)
		b.Run(fmt.Sprintf("n=100k/distinct=%d/Match", distinct), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = x.Match(fmt.Sprint("v", i%distinct))
			}
		})
		b.Run(fmt.Sprintf("n=100k/distinct=%d/MatchAny5", distinct), func(b *testing.B) {
			b.ReportAllocs()
			q := []string{"v1", "v2", "v3", "v4", "v5"}
			for b.Loop() {
				_ = x.MatchAny(q)
			}
		})
		b.Run(fmt.Sprintf("n=100k/distinct=%d/EstimateAny5", distinct), func(b *testing.B) {
			b.ReportAllocs()
			q := []string{"v1", "v2", "v3", "v4", "v5"}
			for b.Loop() {
				_ = x.EstimateAny(q)
			}
		})
	}
	b.Run("n=100k/Set", func(b *testing.B) {
		b.ReportAllocs()
		x := NewKeywordIndex(IndexParams{Type: TypeKeyword})
		vals := []Value{StringValue("a")}
		for i := 0; b.Loop(); i++ {
			x.Set(uint32(i%benchPoints), vals)
		}
	})
}

func BenchmarkIntegerRange(b *testing.B) {
	for _, distinct := range []int{100, 100_000} {
		rng := rand.New(rand.NewPCG(2, 2))
		x := NewIntegerIndex(IndexParams{Type: TypeInteger})
		for i := range uint32(benchPoints) {
			x.Set(i, []Value{IntValue(int64(rng.IntN(distinct)))})
		}
		for _, sel := range []float64{0.001, 0.1, 0.5} {
			lo := float64(distinct) * 0.25
			hi := lo + float64(distinct)*sel
			r := Range{GTE: &lo, LT: &hi}
			b.Run(fmt.Sprintf("n=100k/distinct=%d/sel=%g/Range", distinct, sel), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = x.Range(r)
				}
			})
			b.Run(fmt.Sprintf("n=100k/distinct=%d/sel=%g/EstimateRange", distinct, sel), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = x.EstimateRange(r)
				}
			})
		}
		b.Run(fmt.Sprintf("n=100k/distinct=%d/Match", distinct), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = x.Match(int64(i % distinct))
			}
		})
	}
	b.Run("n=100k/Set", func(b *testing.B) {
		b.ReportAllocs()
		rng := rand.New(rand.NewPCG(3, 3))
		x := NewIntegerIndex(IndexParams{Type: TypeInteger})
		for i := 0; b.Loop(); i++ {
			x.Set(uint32(i%benchPoints), []Value{IntValue(int64(rng.IntN(benchPoints)))})
		}
	})
}

func BenchmarkGeoRadius(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := NewGeoIndex(IndexParams{Type: TypeGeo})
	for i := range uint32(benchPoints) {
		// Points around Europe.
		x.Set(i, []Value{geoValue(rng.Float64()*40-10, rng.Float64()*30+35)})
	}
	for _, radius := range []float64{1e3, 1e5, 1e6} {
		r := GeoRadius{Center: gp(13.4, 52.5), Radius: radius}
		b.Run(fmt.Sprintf("n=100k/radius=%g", radius), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = x.Radius(r)
			}
		})
	}
}

// BenchmarkIntegerMarkDense sets the bits of the points of a 10% range,
// through Walk and through MarkDense.
func BenchmarkIntegerMarkDense(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := NewIntegerIndex(IndexParams{Type: TypeInteger})
	for i := range uint32(benchPoints) {
		x.Set(i, []Value{IntValue(int64(rng.IntN(1_000_000)))})
	}
	lt := 100_000.0
	r := Range{LT: &lt}
	out := make([]uint64, benchPoints/64+1)
	b.Run("Walk", func(b *testing.B) {
		for b.Loop() {
			clear(out)
			x.Walk(r, false, func(_ int64, id uint32) bool {
				out[id>>6] |= 1 << (id & 63)
				return true
			})
		}
	})
	b.Run("MarkDense", func(b *testing.B) {
		for b.Loop() {
			clear(out)
			x.MarkDense(r, out)
		}
	})
}
