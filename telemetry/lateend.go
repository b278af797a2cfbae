package telemetry

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	membedded "go.opentelemetry.io/otel/metric/embedded"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// The TracerProvider Setup returns is the SDK's with one change: a sampled
// span's attributes and its end are handed to a goroutine of the provider,
// which applies them to the SDK's span in batches. The caller's End takes
// the end time and queues the span; the SDK's work at the end (the
// attributes' copy and de-duplication, the read-only snapshot, the span
// processors) runs on the other goroutine, where consecutive spans find
// its code and data in the caches. After a search that has walked a
// 190 MB graph through the caches, that work costs the search's goroutine
// several microseconds of cache misses; queued, it costs a few hundred
// nanoseconds. The MeterProvider does the same for a duration recorded in
// the context of a span that has ended (meterProvider).
//
// What a caller observes is unchanged: the span's context, its start and
// end times, attributes set in order (the last value of a key wins),
// IsRecording false once ended, nothing recorded after End, a panic during
// which a deferred End runs recorded as an "exception" event, as the SDK
// records it. ForceFlush and Shutdown first end every queued span, then
// flush the SDK's provider, so a span ended before ForceFlush is exported
// by it. Spans not sampled are the SDK's own. When lateEndMax spans wait
// (the goroutine cannot keep up) End runs at once, as the SDK's does. One
// difference remains: while a runtime/trace execution trace is being
// taken, the span's task in it ends when the span is applied, not at End.

const (
	// lateEndBatch is the number of queued ends that wakes the goroutine.
	lateEndBatch = 128
	// lateEndDelay is the longest a queued end waits when fewer than
	// lateEndBatch are queued.
	lateEndDelay = 50 * time.Millisecond
	// lateAttrs is the number of attributes a span holds before its
	// first SetAttributes allocates.
	lateAttrs = 12
	// lateEndMax is the number of queued ends beyond which End runs on the
	// caller's goroutine.
	lateEndMax = 16384
)

// tracerProvider wraps an SDK TracerProvider: its tracers' sampled spans
// end on the provider's goroutine.
type tracerProvider struct {
	embedded.TracerProvider
	sdk *sdktrace.TracerProvider

	mu      sync.Mutex
	queue   []*lateSpan
	closed  bool
	drainMu sync.Mutex // one drain at a time
	spare   []*lateSpan

	kick chan struct{} // something to end (buffered, 1)
	stop chan struct{} // closed by Shutdown
	done chan struct{} // closed when the goroutine has returned

	shutdownOnce sync.Once
	shutdownErr  error
}

// newTracerProvider wraps sdk and starts its goroutine.
func newTracerProvider(sdk *sdktrace.TracerProvider) *tracerProvider {
	p := &tracerProvider{
		sdk:  sdk,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go p.run()
	return p
}

// Tracer returns the SDK's tracer of that name, wrapped.
func (p *tracerProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &tracer{sdk: p.sdk.Tracer(name, opts...), p: p}
}

// ForceFlush ends the queued spans, then flushes the SDK's provider.
func (p *tracerProvider) ForceFlush(ctx context.Context) error {
	p.drain()
	return p.sdk.ForceFlush(ctx)
}

// Shutdown stops the goroutine after it has ended the queued spans, then
// shuts the SDK's provider down. Later ends run at once (and record
// nothing, the SDK's provider being shut down).
func (p *tracerProvider) Shutdown(ctx context.Context) error {
	p.shutdownOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		close(p.stop)
		<-p.done
		p.drain()
		p.shutdownErr = p.sdk.Shutdown(ctx)
	})
	return p.shutdownErr
}

// push queues s to be ended; false when it must end at once.
func (p *tracerProvider) push(s *lateSpan) bool {
	p.mu.Lock()
	if p.closed || len(p.queue) >= lateEndMax {
		p.mu.Unlock()
		return false
	}
	p.queue = append(p.queue, s)
	n := len(p.queue)
	p.mu.Unlock()
	if n == 1 || n == lateEndBatch {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	return true
}

// run ends queued spans: after lateEndDelay from the first, or when
// lateEndBatch are queued.
func (p *tracerProvider) run() {
	defer close(p.done)
	timer := time.NewTimer(lateEndDelay)
	timer.Stop()
	for {
		select {
		case <-p.kick:
		case <-p.stop:
			return
		}
		p.mu.Lock()
		n := len(p.queue)
		p.mu.Unlock()
		if n > 0 && n < lateEndBatch {
			timer.Reset(lateEndDelay)
			select {
			case <-p.kick:
			case <-timer.C:
			case <-p.stop:
			}
			timer.Stop()
		}
		p.drain()
	}
}

// drain ends every queued span, in the order they were ended.
func (p *tracerProvider) drain() {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	p.mu.Lock()
	batch := p.queue
	p.queue = p.spare[:0]
	p.mu.Unlock()
	for _, s := range batch {
		s.finish()
	}
	clear(batch)
	p.spare = batch
}

// tracer wraps an SDK tracer.
type tracer struct {
	embedded.Tracer
	sdk trace.Tracer
	p   *tracerProvider
}

// Start starts the SDK's span; a recording one is wrapped so that its end
// is queued.
func (t *tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if parent, ok := trace.SpanFromContext(ctx).(*lateSpan); ok {
		// The SDK counts a child only under its own span.
		ctx = trace.ContextWithSpan(ctx, parent.Span)
	}
	ctx, span := t.sdk.Start(ctx, name, opts...)
	if !span.IsRecording() {
		return ctx, span
	}
	s := &lateSpan{Span: span, p: t.p}
	s.attrs = s.attrBuf[:0]
	return trace.ContextWithSpan(ctx, s), s
}

// lateSpan is a recording SDK span whose attributes and end are applied by
// the provider's goroutine. Its other calls go to the SDK's span at once,
// before it ends.
type lateSpan struct {
	trace.Span // the SDK's
	p          *tracerProvider

	mu       sync.Mutex
	ended    bool
	queued   bool                 // ended, waiting for finish
	attrs    []attribute.KeyValue // set, not yet given to the SDK's span
	attrBuf  [lateAttrs]attribute.KeyValue
	endTime  time.Time             // taken by End, or given to it
	opts     []trace.SpanEndOption // End's options, copied
	rec      lateRecord            // a histogram measurement made after End (h nil: none)
	moreRecs []lateRecord          // and any further ones
}

// lateRecord is a histogram measurement made in the context of a queued
// span, recorded after the span's end.
type lateRecord struct {
	h    metric.Float64Histogram // the SDK's
	ctx  context.Context
	v    float64
	opts []metric.RecordOption
	buf  [2]metric.RecordOption // opts, when they fit
}

// SetAttributes keeps kv, in order, for the end.
func (s *lateSpan) SetAttributes(kv ...attribute.KeyValue) {
	s.mu.Lock()
	if !s.ended {
		s.attrs = append(s.attrs, kv...)
	}
	s.mu.Unlock()
}

// IsRecording reports whether the span has not ended.
func (s *lateSpan) IsRecording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended
}

// TracerProvider returns the provider that started the span.
func (s *lateSpan) TracerProvider() trace.TracerProvider { return s.p }

// live runs f on the SDK's span unless the span has ended.
func (s *lateSpan) live(f func(trace.Span)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		f(s.Span)
	}
}

func (s *lateSpan) AddEvent(name string, opts ...trace.EventOption) {
	s.live(func(sp trace.Span) { sp.AddEvent(name, opts...) })
}

func (s *lateSpan) AddLink(link trace.Link) { s.live(func(sp trace.Span) { sp.AddLink(link) }) }

func (s *lateSpan) RecordError(err error, opts ...trace.EventOption) {
	s.live(func(sp trace.Span) { sp.RecordError(err, opts...) })
}

func (s *lateSpan) SetStatus(code codes.Code, description string) {
	s.live(func(sp trace.Span) { sp.SetStatus(code, description) })
}

func (s *lateSpan) SetName(name string) { s.live(func(sp trace.Span) { sp.SetName(name) }) }

// End takes the end time (or the one given) and queues the span's end. A
// span ended by a deferred call during a panic records the panic as the
// SDK does (with the stack when asked, trace.WithStackTrace) and ends at
// once.
func (s *lateSpan) End(opts ...trace.SpanEndOption) {
	now := time.Now()
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended, s.queued = true, true
	cfg := trace.NewSpanEndConfig(opts...)
	s.endTime = now
	if !cfg.Timestamp().IsZero() {
		s.endTime = cfg.Timestamp()
	}
	if len(opts) > 0 {
		s.opts = slices.Clone(opts)
	}
	s.mu.Unlock()

	if r := recover(); r != nil {
		defer panic(r)
		attrs := []attribute.KeyValue{
			attribute.String("exception.type", typeName(r)),
			attribute.String("exception.message", fmt.Sprint(r)),
		}
		if cfg.StackTrace() {
			attrs = append(attrs, attribute.String("exception.stacktrace", string(debug.Stack())))
		}
		s.Span.AddEvent("exception", trace.WithAttributes(attrs...))
		s.finish()
		return
	}
	if !s.p.push(s) {
		s.finish()
	}
}

// record keeps a histogram measurement for after the span's end and
// reports true, or reports false when the span is not queued.
func (s *lateSpan) record(r lateRecord) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.queued {
		return false
	}
	if s.rec.h == nil {
		s.rec = r
		s.rec.opts = append(s.rec.buf[:0:len(s.rec.buf)], r.opts...)
	} else {
		r.opts = slices.Clone(r.opts)
		s.moreRecs = append(s.moreRecs, r)
	}
	return true
}

// finish applies the span's attributes to the SDK's span and ends it.
func (s *lateSpan) finish() {
	s.mu.Lock()
	attrs, end, opts := s.attrs, s.endTime, s.opts
	s.attrs, s.opts = nil, nil
	s.mu.Unlock()
	// The SDK copies the attributes it is given.
	if len(attrs) > 0 {
		s.Span.SetAttributes(attrs...)
	}
	// The SDK takes the last timestamp option.
	s.Span.End(append(opts, trace.WithTimestamp(end))...)

	s.mu.Lock()
	s.queued = false
	// rec's options may lie in s.rec.buf, which stays as it is: nothing
	// is kept once the span is not queued.
	rec, more := s.rec, s.moreRecs
	s.rec.ctx, s.moreRecs = nil, nil
	s.mu.Unlock()
	if rec.h != nil {
		rec.h.Record(rec.ctx, rec.v, rec.opts...)
	}
	for _, r := range more {
		r.h.Record(r.ctx, r.v, r.opts...)
	}
}

// meterProvider wraps an SDK MeterProvider: a histogram measurement made
// in the context of a span that has ended but waits in tp's queue (an
// operation's duration, recorded after its span ends) is recorded right
// after that span's end, on tp's goroutine, rather than on the caller's.
// Its exemplar keeps the span's context; its time is that of the recording
// (at most lateEndDelay later, unless a flush comes first). Other
// instruments and measurements are the SDK's own.
type meterProvider struct {
	membedded.MeterProvider
	sdk *sdkmetric.MeterProvider
	tp  *tracerProvider // nil without traces
}

// Meter returns the SDK's meter of that name, wrapped.
func (p *meterProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return &meter{Meter: p.sdk.Meter(name, opts...)}
}

// ForceFlush ends the spans tp holds (recording their measurements), then
// flushes the SDK's provider.
func (p *meterProvider) ForceFlush(ctx context.Context) error {
	if p.tp != nil {
		p.tp.drain()
	}
	return p.sdk.ForceFlush(ctx)
}

// Shutdown ends the spans tp holds, then shuts the SDK's provider down.
func (p *meterProvider) Shutdown(ctx context.Context) error {
	if p.tp != nil {
		p.tp.drain()
	}
	return p.sdk.Shutdown(ctx)
}

// meter is an SDK meter whose float64 histograms defer measurements made
// in the context of a queued span.
type meter struct{ metric.Meter }

func (m *meter) Float64Histogram(name string, opts ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	h, err := m.Meter.Float64Histogram(name, opts...)
	if err != nil {
		return h, err
	}
	return &lateHistogram{h}, nil
}

type lateHistogram struct{ metric.Float64Histogram }

func (h *lateHistogram) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	if s, ok := trace.SpanFromContext(ctx).(*lateSpan); ok && s.record(lateRecord{h: h.Float64Histogram, ctx: ctx, v: v, opts: opts}) {
		return
	}
	h.Float64Histogram.Record(ctx, v, opts...)
}

// typeName names the type of a recovered panic value as the SDK does:
// package path and type name, or the type for unnamed ones.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "<nil>"
	}
	if t.PkgPath() == "" && t.Name() == "" {
		return t.String()
	}
	return t.PkgPath() + "." + t.Name()
}

var (
	_ flusher = (*tracerProvider)(nil)
	_ flusher = (*meterProvider)(nil)
)
