package engine

import (
	"math/rand/v2"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

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
		for i := 0; b.Loop(); i++ {
			if _, err := db.Search(bg, "c", &SearchRequest{Vector: queries[i%len(queries)], Limit: 10}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("off", func(b *testing.B) { run(b, testOpts()) })
	b.Run("never_sample", func(b *testing.B) {
		o := testOpts()
		o.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		run(b, o)
	})
	b.Run("always_on", func(b *testing.B) {
		o := testOpts()
		rec := tracetest.NewSpanRecorder()
		o.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithSpanProcessor(discardProcessor{rec}))
		o.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		run(b, o)
	})
}

// discardProcessor passes spans through a SpanRecorder's code path without
// keeping them, so that a long benchmark does not grow its memory.
type discardProcessor struct{ *tracetest.SpanRecorder }

func (p discardProcessor) OnEnd(sdktrace.ReadOnlySpan) {}
