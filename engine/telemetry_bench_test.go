package engine

import (
	"context"
	"math/rand/v2"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/qlite/qlite/bench/cputime"
	"github.com/qlite/qlite/distance"
)

// BenchmarkSearchTelemetry measures Search over 20k indexed vectors of dim
// 128 with telemetry off, with providers whose sampler never samples, and
// with every span sampled and recorded (and metrics collected).
func BenchmarkSearchTelemetry(b *testing.B) {
	const n, dim = 20000, 128
	dir := b.TempDir()
	db, err := Open(dir, testOpts())
	if err != nil {
		b.Fatal(err)
	}
	kb := 4096
	if err := db.CreateCollection(bg, "c", &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Cosine}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &kb},
	}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < n; start += 1000 {
		pts := make([]Point, 0, 1000)
		for i := start; i < start+1000; i++ {
			pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": randVec(rng, dim)}})
		}
		if _, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Optimize(bg, "c"); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	queries := make([][]float32, 256)
	for i := range queries {
		queries[i] = randVec(rng, dim)
	}

	run := func(b *testing.B, o *Options) {
		db, err := Open(dir, o)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ReportAllocs()
		b.ResetTimer()
		start := cputime.Now()
		for i := 0; b.Loop(); i++ {
			if _, err := db.Search(bg, "c", &SearchRequest{Vector: queries[i%len(queries)], Limit: 10}); err != nil {
				b.Fatal(err)
			}
		}
		cputime.Report(b, cputime.Now()-start)
	}
	b.Run("off", func(b *testing.B) { run(b, testOpts()) })
	b.Run("never_sample", func(b *testing.B) {
		o := testOpts()
		o.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		run(b, o)
	})
	b.Run("always_on", func(b *testing.B) {
		o := testOpts()
		o.TracerProvider = alwaysOn()
		o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		run(b, o)
	})
}

// alwaysOn returns a provider that samples every span and hands it, ended,
// to a processor that drops it: the cost of recording without the cost of
// any particular exporter.
func alwaysOn() *sdktrace.TracerProvider {
	return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(dropProcessor{}))
}

// dropProcessor drops what it is given.
type dropProcessor struct{}

func (dropProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (dropProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (dropProcessor) Shutdown(context.Context) error                  { return nil }
func (dropProcessor) ForceFlush(context.Context) error                { return nil }

// BenchmarkSearchInstrumentation measures what telemetry adds to one
// search, without the search: the operation's span and duration, and the
// plan attributes of a sampled search.
func BenchmarkSearchInstrumentation(b *testing.B) {
	modes := []struct {
		name string
		opts func() *Options
	}{
		{"off", testOpts},
		{"never_sample", func() *Options {
			o := testOpts()
			o.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
			o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			return o
		}},
		{"always_on", func() *Options {
			o := testOpts()
			o.TracerProvider = alwaysOn()
			o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			return o
		}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			db := &DB{opts: *m.opts()}
			t, err := newTelemetry(db)
			if err != nil {
				b.Fatal(err)
			}
			figures := SearchStats{Segments: 1, Plan: "graph", Ef: 64, Candidates: -1, Scored: 700, Limit: 10}
			b.ReportAllocs()
			for b.Loop() {
				_, o := t.start(bg, opSearch, "c")
				var st SearchStats
				if p := o.stats(&st); p != nil {
					*p = figures
				}
				o.endSearch(nil, 10, &st)
			}
		})
	}
}
