package telemetry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// batchRecorder is an exporter that keeps each batch it is sent, and can
// be made to block until released.
type batchRecorder struct {
	mu       sync.Mutex
	batches  [][]string
	gate     chan struct{} // when not nil, ExportSpans waits for it to close
	shutdown int
}

func (r *batchRecorder) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	r.mu.Lock()
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, names)
	return nil
}

func (r *batchRecorder) Shutdown(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shutdown++
	return nil
}

func (r *batchRecorder) snapshot() ([][]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []string
	for _, b := range r.batches {
		all = append(all, b...)
	}
	return slices.Clone(r.batches), all
}

func spanNamesN(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

func newBatcherProvider(t *testing.T, exp sdktrace.SpanExporter, s batchSettings) (*sdktrace.TracerProvider, *batcher) {
	t.Helper()
	b := newBatcher(exp, s)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(b))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, b
}

func endSpans(tp *sdktrace.TracerProvider, names []string) {
	tr := tp.Tracer("test")
	for _, n := range names {
		_, s := tr.Start(context.Background(), n)
		s.End()
	}
}

func TestBatcherExportsFullBatchesWithoutWaitingForTheDelay(t *testing.T) {
	rec := &batchRecorder{}
	tp, _ := newBatcherProvider(t, rec, batchSettings{delay: time.Hour, timeout: time.Second, queue: 100, size: 10})
	names := spanNamesN("s", 35)
	endSpans(tp, names)
	require.Eventually(t, func() bool {
		_, all := rec.snapshot()
		return len(all) == 30
	}, 5*time.Second, time.Millisecond, "three full batches are exported at once")
	time.Sleep(20 * time.Millisecond)
	batches, all := rec.snapshot()
	require.Equal(t, names[:30], all, "the partial batch waits for the delay or a flush")
	for _, b := range batches {
		require.Len(t, b, 10)
	}
	require.NoError(t, tp.ForceFlush(context.Background()))
	_, all = rec.snapshot()
	require.Equal(t, names, all, "a flush exports the rest, in order")
}

func TestBatcherExportsAtTheDelay(t *testing.T) {
	rec := &batchRecorder{}
	tp, _ := newBatcherProvider(t, rec, batchSettings{delay: 20 * time.Millisecond, timeout: time.Second, queue: 100, size: 50})
	endSpans(tp, []string{"a", "b", "c"})
	require.Eventually(t, func() bool {
		_, all := rec.snapshot()
		return slices.Equal(all, []string{"a", "b", "c"})
	}, 5*time.Second, time.Millisecond)
	endSpans(tp, []string{"d"})
	require.Eventually(t, func() bool {
		_, all := rec.snapshot()
		return len(all) == 4
	}, 5*time.Second, time.Millisecond, "the timer runs again after an export")
}

func TestBatcherDropsWhenTheQueueIsFullAndReportsIt(t *testing.T) {
	var mu sync.Mutex
	var handled []error
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, err)
	}))
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })

	rec := &batchRecorder{gate: make(chan struct{})}
	tp, b := newBatcherProvider(t, rec, batchSettings{delay: time.Hour, timeout: 10 * time.Second, queue: 8, size: 4})
	// The first batch of 4 is taken and its export blocks; 8 more fill the
	// queue; the last 3 are dropped.
	endSpans(tp, spanNamesN("a", 4))
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.queue) == 0
	}, 5*time.Second, time.Millisecond, "the full batch is taken for export")
	endSpans(tp, spanNamesN("b", 11))
	close(rec.gate)
	require.NoError(t, tp.ForceFlush(context.Background()))
	_, all := rec.snapshot()
	require.Equal(t, append(spanNamesN("a", 4), spanNamesN("b", 8)...), all)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, handled, 1)
	require.Contains(t, handled[0].Error(), "3 spans dropped")
}

func TestBatcherIgnoresUnsampledSpans(t *testing.T) {
	rec := &batchRecorder{}
	b := newBatcher(rec, batchSettings{delay: time.Hour, timeout: time.Second, queue: 10, size: 10})
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()), sdktrace.WithSpanProcessor(b))
	endSpans(tp, []string{"x"})
	// A recording but unsampled span (RecordOnly) reaches OnEnd too.
	stub := tracetest.SpanStub{Name: "unsampled"}.Snapshot()
	b.OnEnd(stub)
	require.NoError(t, tp.Shutdown(context.Background()))
	_, all := rec.snapshot()
	require.Empty(t, all)
}

func TestBatcherShutdownExportsTheRestOnceAndStopsQueueing(t *testing.T) {
	rec := &batchRecorder{}
	tp, b := newBatcherProvider(t, rec, batchSettings{delay: time.Hour, timeout: time.Second, queue: 100, size: 10})
	endSpans(tp, []string{"a", "b"})
	require.NoError(t, tp.Shutdown(context.Background()))
	require.NoError(t, b.Shutdown(context.Background()), "a second shutdown returns the first one's result")
	b.OnEnd(tracetest.SpanStub{Name: "late"}.Snapshot())
	require.NoError(t, b.ForceFlush(context.Background()), "a flush after shutdown has nothing to do")
	_, all := rec.snapshot()
	require.Equal(t, []string{"a", "b"}, all)
	require.Equal(t, 1, rec.shutdown)
}

func TestBatcherFlushAndShutdownHonourTheirContext(t *testing.T) {
	rec := &batchRecorder{gate: make(chan struct{})}
	tp, b := newBatcherProvider(t, rec, batchSettings{delay: time.Hour, timeout: time.Hour, queue: 10, size: 10})
	endSpans(tp, []string{"a"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.ForceFlush(ctx), context.DeadlineExceeded, "the export is blocked")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	err := b.Shutdown(ctx2)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "shutdown reports the spans it could not export: %v", err)
	close(rec.gate)
}

type failingExporter struct{ err error }

func (f failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return f.err }
func (failingExporter) Shutdown(context.Context) error                               { return nil }

func TestBatcherFlushReturnsExportErrors(t *testing.T) {
	boom := errors.New("collector unavailable")
	tp, _ := newBatcherProvider(t, failingExporter{boom}, batchSettings{delay: time.Hour, timeout: time.Second, queue: 10, size: 10})
	endSpans(tp, []string{"a"})
	require.ErrorIs(t, tp.ForceFlush(context.Background()), boom)
	require.NoError(t, tp.ForceFlush(context.Background()), "nothing left to export")
}
