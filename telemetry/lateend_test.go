package telemetry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// keptSpans is tracetest's in-memory exporter except that Shutdown keeps
// the spans it holds (tracetest's forgets them), so that what a provider's
// Shutdown exports can be read after it.
type keptSpans struct{ *tracetest.InMemoryExporter }

func (keptSpans) Shutdown(context.Context) error { return nil }

// newSDKTraces returns an SDK provider that exports synchronously to the
// returned exporter, shut down at cleanup.
func newSDKTraces(t *testing.T, opts ...sdktrace.TracerProviderOption) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithSyncer(keptSpans{exp})}, opts...)...)
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	return tp, exp
}

// newLateTraces is newSDKTraces with the SDK provider wrapped by
// newTracerProvider; the wrapper is shut down at cleanup.
func newLateTraces(t *testing.T, opts ...sdktrace.TracerProviderOption) (*tracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := newTracerProvider(sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithSyncer(keptSpans{exp})}, opts...)...))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	return tp, exp
}

// newLateMetrics returns a meterProvider over an SDK provider read by the
// returned manual reader, with trace-based exemplars, holding tp's queued
// measurements; it is shut down at cleanup.
func newLateMetrics(t *testing.T, tp *tracerProvider) (*meterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := &meterProvider{sdk: sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(r),
		sdkmetric.WithExemplarFilter(exemplar.TraceBasedFilter),
	), tp: tp}
	t.Cleanup(func() { require.NoError(t, mp.Shutdown(context.Background())) })
	return mp, r
}

// histogramPoints collects r and returns the data points of the float64
// histogram named name; none when nothing was recorded on it.
func histogramPoints(t *testing.T, r *sdkmetric.ManualReader, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				h, ok := m.Data.(metricdata.Histogram[float64])
				require.True(t, ok, "%s is a float64 histogram, not %T", name, m.Data)
				return h.DataPoints
			}
		}
	}
	return nil
}

// pointCount sums the counts of points.
func pointCount(points []metricdata.HistogramDataPoint[float64]) uint64 {
	var n uint64
	for _, p := range points {
		n += p.Count
	}
	return n
}

// requireExemplarsOf requires p to have exemplars, each carrying sc's trace
// and span ids.
func requireExemplarsOf(t *testing.T, p metricdata.HistogramDataPoint[float64], sc trace.SpanContext) {
	t.Helper()
	require.NotEmpty(t, p.Exemplars)
	tid, sid := sc.TraceID(), sc.SpanID()
	for _, e := range p.Exemplars {
		require.Equal(t, tid[:], e.TraceID)
		require.Equal(t, sid[:], e.SpanID)
	}
}

// stubNamed returns the one span of spans named name.
func stubNamed(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			found = append(found, s)
		}
	}
	require.Len(t, found, 1, "spans named %q", name)
	return found[0]
}

func TestLateEndExportsWhatTheSpanWasGiven(t *testing.T) {
	tp, exp := newLateTraces(t)
	tr := tp.Tracer("qlite/test")

	ctx, span := tr.Start(context.Background(), "search",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("at.start", "yes")))
	require.IsType(t, &lateSpan{}, span)
	require.Same(t, span, trace.SpanFromContext(ctx))
	require.Same(t, tp, span.TracerProvider())
	require.True(t, span.IsRecording())

	_, child := tr.Start(ctx, "child")
	child.End()

	span.SetAttributes(attribute.Int("k", 1), attribute.String("s", "a"))
	span.SetAttributes(attribute.Int("k", 2))
	span.SetAttributes(attribute.Bool("b", true), attribute.Int("k", 3))
	span.AddEvent("visited", trace.WithAttributes(attribute.Int("n", 9)))
	span.SetStatus(codes.Error, "failed")

	before := time.Now()
	span.End()
	after := time.Now()
	time.Sleep(20 * time.Millisecond)
	slept := time.Now()
	require.NoError(t, tp.ForceFlush(context.Background()))

	spans := exp.GetSpans()
	require.Len(t, spans, 2)
	got := stubNamed(t, spans, "search")
	require.Equal(t, span.SpanContext(), got.SpanContext)
	require.False(t, got.Parent.IsValid(), "a root span")
	require.Equal(t, trace.SpanKindClient, got.SpanKind)
	require.Equal(t, "qlite/test", got.InstrumentationScope.Name)
	require.ElementsMatch(t, []attribute.KeyValue{
		attribute.String("at.start", "yes"),
		attribute.Int("k", 3),
		attribute.String("s", "a"),
		attribute.Bool("b", true),
	}, got.Attributes, "the last value of a key wins")
	require.Zero(t, got.DroppedAttributes)
	require.Equal(t, sdktrace.Status{Code: codes.Error, Description: "failed"}, got.Status)
	require.Len(t, got.Events, 1)
	require.Equal(t, "visited", got.Events[0].Name)
	require.Equal(t, []attribute.KeyValue{attribute.Int("n", 9)}, got.Events[0].Attributes)
	require.False(t, got.Events[0].Time.After(before), "the event was added before End")

	require.False(t, got.StartTime.After(before))
	require.False(t, got.EndTime.Before(before), "end %v before End was called (%v)", got.EndTime, before)
	require.False(t, got.EndTime.After(after), "end %v after End returned (%v)", got.EndTime, after)
	require.True(t, got.EndTime.Before(slept), "the end time is End's, not the drain's")

	c := stubNamed(t, spans, "child")
	require.Equal(t, span.SpanContext(), c.Parent)
	require.Equal(t, span.SpanContext().TraceID(), c.SpanContext.TraceID())
}

func TestLateEndKeepsAnExplicitEndTime(t *testing.T) {
	tp, exp := newLateTraces(t)
	_, span := tp.Tracer("t").Start(context.Background(), "s")
	end := time.Now().Add(time.Hour)
	span.End(trace.WithTimestamp(end), trace.WithStackTrace(true))
	require.NoError(t, tp.ForceFlush(context.Background()))
	spans := exp.GetSpans()
	require.Len(t, spans, 1)
	require.True(t, spans[0].EndTime.Equal(end), "end %v, want %v", spans[0].EndTime, end)
	require.Empty(t, spans[0].Events, "a stack trace is only asked for a panic")
}

func TestLateEndQueuesTheEndAndIgnoresLaterCalls(t *testing.T) {
	tp, exp := newLateTraces(t)
	tr := tp.Tracer("t")
	ctx, span := tr.Start(context.Background(), "queued")
	span.SetAttributes(attribute.Int("a", 1))
	end := time.Now()
	span.End()
	require.False(t, span.IsRecording(), "not recording once ended")
	require.Empty(t, exp.GetSpans(), "the end waits in the queue")
	require.True(t, span.(*lateSpan).Span.IsRecording(), "the SDK's span ends later")

	span.SetAttributes(attribute.Int("a", 2), attribute.String("late", "x"))
	span.AddEvent("late")
	span.RecordError(errors.New("late"))
	span.SetStatus(codes.Error, "late")
	span.SetName("renamed")
	span.AddLink(trace.LinkFromContext(ctx))
	span.End(trace.WithTimestamp(end.Add(time.Hour)))
	span.End()
	require.False(t, span.IsRecording())

	require.NoError(t, tp.ForceFlush(context.Background()))
	require.NoError(t, tp.ForceFlush(context.Background()))
	spans := exp.GetSpans()
	require.Len(t, spans, 1, "ended once")
	got := spans[0]
	require.Equal(t, "queued", got.Name)
	require.Equal(t, []attribute.KeyValue{attribute.Int("a", 1)}, got.Attributes)
	require.Empty(t, got.Events)
	require.Empty(t, got.Links)
	require.Equal(t, sdktrace.Status{Code: codes.Unset}, got.Status)
	require.True(t, got.EndTime.Before(end.Add(time.Minute)), "the first End's time")
}

// lateScenario is something done with spans, to be exported alike by the
// SDK's provider and by the wrapped one.
type lateScenario struct {
	name string
	opts []sdktrace.TracerProviderOption
	run  func(tr trace.Tracer)
}

// spanView is what TestLateEndMatchesTheSDK compares of an exported span:
// everything but ids, times and the child count.
type spanView struct {
	Name              string
	Kind              trace.SpanKind
	Parent            string // the parent's name; "" for a root
	Attributes        []attribute.KeyValue
	DroppedAttributes int
	Events            []eventView
	DroppedEvents     int
	Links             [][]attribute.KeyValue
	DroppedLinks      int
	Status            sdktrace.Status
	Scope             string
}

// eventView is an event without its time.
type eventView struct {
	Name       string
	Attributes []attribute.KeyValue
}

// viewSpans returns the views of spans, in export order.
func viewSpans(spans tracetest.SpanStubs) []spanView {
	names := map[trace.SpanID]string{}
	for _, s := range spans {
		names[s.SpanContext.SpanID()] = s.Name
	}
	out := make([]spanView, len(spans))
	for i, s := range spans {
		v := spanView{
			Name: s.Name, Kind: s.SpanKind, Attributes: s.Attributes,
			DroppedAttributes: s.DroppedAttributes, DroppedEvents: s.DroppedEvents,
			DroppedLinks: s.DroppedLinks, Status: s.Status, Scope: s.InstrumentationScope.Name,
		}
		if s.Parent.IsValid() {
			v.Parent = names[s.Parent.SpanID()]
		}
		for _, e := range s.Events {
			v.Events = append(v.Events, eventView{e.Name, e.Attributes})
		}
		for _, l := range s.Links {
			v.Links = append(v.Links, l.Attributes)
		}
		out[i] = v
	}
	return out
}

func TestLateEndMatchesTheSDK(t *testing.T) {
	link := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
	})
	scenarios := []lateScenario{
		{name: "attributes", run: func(tr trace.Tracer) {
			_, s := tr.Start(context.Background(), "a", trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.Int("k", 0), attribute.String("first", "x")))
			s.SetAttributes(attribute.Int("k", 1), attribute.String("s", "a"))
			s.SetAttributes(attribute.Int("k", 2), attribute.Int("k", 3))
			s.SetAttributes()
			s.SetAttributes(attribute.StringSlice("list", []string{"x", "y"}), attribute.Int("k", 4))
			s.End()
		}},
		{name: "attribute limits", opts: []sdktrace.TracerProviderOption{
			sdktrace.WithRawSpanLimits(sdktrace.SpanLimits{
				AttributeCountLimit: 3, AttributeValueLengthLimit: 4,
				EventCountLimit: 1, LinkCountLimit: 1,
				AttributePerEventCountLimit: -1, AttributePerLinkCountLimit: -1,
			}),
		}, run: func(tr trace.Tracer) {
			_, s := tr.Start(context.Background(), "limited", trace.WithAttributes(attribute.Int("a", 0)))
			s.SetAttributes(attribute.Int("a", 1), attribute.String("long", "truncated"))
			s.SetAttributes(attribute.Int("b", 1))
			s.SetAttributes(attribute.Int("c", 1), attribute.Int("a", 2))
			s.SetAttributes(attribute.Int("b", 2), attribute.Int("d", 1))
			s.AddEvent("e1")
			s.AddEvent("e2")
			s.AddLink(trace.Link{SpanContext: link})
			s.AddLink(trace.Link{SpanContext: link})
			s.End()
		}},
		{name: "events status links", run: func(tr trace.Tracer) {
			_, s := tr.Start(context.Background(), "e", trace.WithLinks(trace.Link{
				SpanContext: link, Attributes: []attribute.KeyValue{attribute.Int("at", 1)},
			}))
			s.AddEvent("one", trace.WithAttributes(attribute.String("x", "y")))
			s.RecordError(errors.New("broke"))
			s.AddLink(trace.Link{SpanContext: link, Attributes: []attribute.KeyValue{attribute.Int("at", 2)}})
			s.SetStatus(codes.Error, "broke")
			s.SetStatus(codes.Ok, "ignored description")
			s.SetName("e renamed")
			s.End()
		}},
		{name: "calls after End", run: func(tr trace.Tracer) {
			_, s := tr.Start(context.Background(), "ended")
			s.SetAttributes(attribute.Int("a", 1))
			s.End()
			s.SetAttributes(attribute.Int("a", 2))
			s.AddEvent("late")
			s.RecordError(errors.New("late"))
			s.AddLink(trace.Link{SpanContext: link})
			s.SetStatus(codes.Error, "late")
			s.SetName("late name")
			s.End()
		}},
		{name: "parents", run: func(tr trace.Tracer) {
			ctx, root := tr.Start(context.Background(), "root")
			cctx, child := tr.Start(ctx, "child", trace.WithSpanKind(trace.SpanKindInternal))
			_, grand := tr.Start(cctx, "grandchild")
			grand.End()
			child.End()
			_, after := tr.Start(ctx, "started after the parent's child ended")
			root.End()
			after.End()
			_, orphan := tr.Start(cctx, "started after its parent ended")
			orphan.End()
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			sdk, want := newSDKTraces(t, sc.opts...)
			sc.run(sdk.Tracer("oracle"))
			require.NoError(t, sdk.ForceFlush(context.Background()))

			late, got := newLateTraces(t, sc.opts...)
			sc.run(late.Tracer("oracle"))
			require.NoError(t, late.ForceFlush(context.Background()))

			wantViews, gotViews := viewSpans(want.GetSpans()), viewSpans(got.GetSpans())
			require.Len(t, gotViews, len(wantViews))
			require.NotEmpty(t, gotViews)
			for i := range wantViews {
				w, g := wantViews[i], gotViews[i]
				require.ElementsMatch(t, w.Attributes, g.Attributes, "span %q", w.Name)
				w.Attributes, g.Attributes = nil, nil
				require.Equal(t, w, g)
			}
		})
	}
}

// TestLateEndCountsChildSpansAsTheSDKDoes compares the child span count
// the SDK exports for a parent (ReadOnlySpan.ChildSpanCount).
func TestLateEndCountsChildSpansAsTheSDKDoes(t *testing.T) {
	run := func(tr trace.Tracer) {
		ctx, parent := tr.Start(context.Background(), "parent")
		for range 3 {
			_, c := tr.Start(ctx, "child")
			c.End()
		}
		parent.End()
	}
	sdk, want := newSDKTraces(t)
	run(sdk.Tracer("t"))
	late, got := newLateTraces(t)
	run(late.Tracer("t"))
	require.NoError(t, late.ForceFlush(context.Background()))

	w := stubNamed(t, want.GetSpans(), "parent")
	require.Equal(t, 3, w.ChildSpanCount, "the oracle")
	require.Equal(t, w.ChildSpanCount, stubNamed(t, got.GetSpans(), "parent").ChildSpanCount,
		"the SDK counts a child only when the parent in its context is the SDK's own span")
}

func TestLateEndExportsEverySpanOnceInOrder(t *testing.T) {
	const n = 1000
	require.Greater(t, n, 2*lateEndBatch)

	t.Run("one goroutine", func(t *testing.T) {
		tp, exp := newLateTraces(t)
		tr := tp.Tracer("t")
		want := spanNamesN("s", n)
		for i, name := range want {
			_, s := tr.Start(context.Background(), name)
			s.SetAttributes(attribute.Int("i", i))
			s.End()
		}
		require.NoError(t, tp.ForceFlush(context.Background()))
		spans := exp.GetSpans()
		got := make([]string, len(spans))
		for i, s := range spans {
			got[i] = s.Name
			require.Equal(t, []attribute.KeyValue{attribute.Int("i", i)}, s.Attributes)
		}
		require.Equal(t, want, got, "in the order they were ended")
	})

	t.Run("several goroutines", func(t *testing.T) {
		tp, exp := newLateTraces(t)
		tr := tp.Tracer("t")
		const workers = 8
		var wg sync.WaitGroup
		stop := make(chan struct{})
		flushed := make(chan struct{})
		go func() { // flushes concurrently with the ends
			defer close(flushed)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := tp.ForceFlush(context.Background()); err != nil {
					panic(err)
				}
				time.Sleep(time.Millisecond)
			}
		}()
		for w := range workers {
			wg.Go(func() {
				for i := w; i < n; i += workers {
					ctx, s := tr.Start(context.Background(), fmt.Sprintf("s%d", i))
					s.SetAttributes(attribute.Int("i", i))
					_, c := tr.Start(ctx, fmt.Sprintf("c%d", i))
					c.End()
					s.SetAttributes(attribute.Int("i", i), attribute.Int("w", w))
					s.End()
					s.SetAttributes(attribute.Int("i", -1))
				}
			})
		}
		wg.Wait()
		close(stop)
		<-flushed
		require.NoError(t, tp.ForceFlush(context.Background()))

		seen := map[string]int{}
		for _, s := range exp.GetSpans() {
			seen[s.Name]++
			if s.Name[0] == 's' {
				var i int64
				for _, kv := range s.Attributes {
					if kv.Key == "i" {
						i = kv.Value.AsInt64()
					}
				}
				require.Equal(t, s.Name, fmt.Sprintf("s%d", i))
			}
		}
		require.Len(t, seen, 2*n)
		for name, c := range seen {
			require.Equal(t, 1, c, "span %s exported %d times", name, c)
		}
	})
}

func TestLateEndLeavesUnsampledSpansToTheSDK(t *testing.T) {
	tp, exp := newLateTraces(t, sdktrace.WithSampler(sdktrace.NeverSample()))
	tr := tp.Tracer("t")
	ctx, span := tr.Start(context.Background(), "unsampled")
	require.IsNotType(t, &lateSpan{}, span)
	require.False(t, span.IsRecording())
	require.False(t, span.SpanContext().IsSampled())
	_, child := tr.Start(ctx, "child")
	require.IsNotType(t, &lateSpan{}, child)
	span.SetAttributes(attribute.Int("a", 1))
	child.End()
	span.End()
	require.NoError(t, tp.ForceFlush(context.Background()))
	require.Empty(t, exp.GetSpans())
}

func TestLateEndShutdown(t *testing.T) {
	tp, exp := newLateTraces(t)
	tr := tp.Tracer("t")
	for _, name := range []string{"a", "b", "c"} {
		_, s := tr.Start(context.Background(), name)
		s.End()
	}
	_, open := tr.Start(context.Background(), "ended after Shutdown")
	require.IsType(t, &lateSpan{}, open)
	require.Empty(t, exp.GetSpans())

	require.NoError(t, tp.Shutdown(context.Background()))
	spans := exp.GetSpans()
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name
	}
	require.Equal(t, []string{"a", "b", "c"}, names, "Shutdown ends the queued spans")

	ended := make(chan struct{})
	go func() {
		defer close(ended)
		open.SetAttributes(attribute.Int("a", 1))
		open.End()
		_, after := tr.Start(context.Background(), "started after Shutdown")
		after.End()
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("End after Shutdown blocks")
	}
	require.False(t, open.IsRecording())
	require.NoError(t, tp.ForceFlush(context.Background()))
	require.NoError(t, tp.Shutdown(context.Background()), "a second Shutdown")
	require.Len(t, exp.GetSpans(), 3, "nothing ended after Shutdown is exported")
}

// lateEndError is a panic value of a named type of this package.
type lateEndError struct{ code int }

func (e lateEndError) Error() string { return fmt.Sprintf("code %d", e.code) }

// panicInSpan starts a span, panics with v in the function that ends it by
// a deferred End, and returns what it recovers of the panic outside.
func panicInSpan(tr trace.Tracer, v any, opts ...trace.SpanEndOption) (recovered any) {
	defer func() { recovered = recover() }()
	func() {
		_, span := tr.Start(context.Background(), "panics")
		defer span.End(opts...)
		span.SetAttributes(attribute.String("before", "panic"))
		panic(v)
	}()
	return nil
}

// eventAttrs returns the attributes of e as a map.
func eventAttrs(e sdktrace.Event) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range e.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestLateEndRecordsAPanic(t *testing.T) {
	tests := []struct {
		name  string
		value any
		stack bool
		// sameType: the exception.type is the SDK's. For a value of a
		// predeclared type the SDK writes a leading dot (".string") and
		// typeName does not ("string"), so only the key is compared.
		sameType bool
	}{
		{name: "error", value: errors.New("boom"), sameType: true},
		{name: "named type", value: lateEndError{7}, sameType: true},
		{name: "pointer to named type", value: &lateEndError{8}, sameType: true},
		{name: "string", value: "boom"},
		{name: "int", value: 42},
		{name: "with stack", value: errors.New("deep"), stack: true, sameType: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []trace.SpanEndOption
			if tt.stack {
				opts = append(opts, trace.WithStackTrace(true))
			}
			sdk, wantExp := newSDKTraces(t)
			require.Equal(t, tt.value, panicInSpan(sdk.Tracer("t"), tt.value, opts...), "the oracle")

			late, gotExp := newLateTraces(t)
			require.Equal(t, tt.value, panicInSpan(late.Tracer("t"), tt.value, opts...), "the panic goes on")
			got := gotExp.GetSpans()
			require.Len(t, got, 1, "a span ended by a panic is exported at once")
			want := wantExp.GetSpans()
			require.Len(t, want, 1)

			require.Equal(t, want[0].Attributes, got[0].Attributes)
			require.Len(t, got[0].Events, 1)
			require.Len(t, want[0].Events, 1)
			w, g := want[0].Events[0], got[0].Events[0]
			require.Equal(t, "exception", g.Name)
			require.Equal(t, w.Name, g.Name)
			wa, ga := eventAttrs(w), eventAttrs(g)
			require.ElementsMatch(t, keysOf(wa), keysOf(ga))
			require.Contains(t, ga, attribute.Key("exception.type"))
			require.NotEmpty(t, ga["exception.type"].AsString())
			require.Equal(t, fmt.Sprint(tt.value), ga["exception.message"].AsString())
			require.Equal(t, wa["exception.message"], ga["exception.message"])
			if tt.sameType {
				require.Equal(t, wa["exception.type"], ga["exception.type"])
			}
			if tt.stack {
				require.Contains(t, ga["exception.stacktrace"].AsString(), "panicInSpan")
			}
			require.False(t, g.Time.Before(got[0].StartTime))
		})
	}
}

// keysOf returns the keys of m.
func keysOf(m map[attribute.Key]attribute.Value) []attribute.Key {
	out := make([]attribute.Key, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestLateEndHistogramRecordsAfterTheSpanEnds(t *testing.T) {
	drains := []struct {
		name  string
		drain func(t *testing.T, tp *tracerProvider, mp *meterProvider, exp *tracetest.InMemoryExporter)
	}{
		{"meter provider ForceFlush", func(t *testing.T, _ *tracerProvider, mp *meterProvider, _ *tracetest.InMemoryExporter) {
			require.NoError(t, mp.ForceFlush(context.Background()))
		}},
		{"tracer provider ForceFlush", func(t *testing.T, tp *tracerProvider, _ *meterProvider, _ *tracetest.InMemoryExporter) {
			require.NoError(t, tp.ForceFlush(context.Background()))
		}},
		{"the delay", func(t *testing.T, _ *tracerProvider, _ *meterProvider, exp *tracetest.InMemoryExporter) {
			require.Eventually(t, func() bool { return len(exp.GetSpans()) == 1 }, 2*time.Second, 5*time.Millisecond)
		}},
	}
	for _, d := range drains {
		t.Run(d.name, func(t *testing.T) {
			tp, exp := newLateTraces(t)
			mp, r := newLateMetrics(t, tp)
			h, err := mp.Meter("m").Float64Histogram("op.duration")
			require.NoError(t, err)
			require.IsType(t, &lateHistogram{}, h)

			ctx, span := tp.Tracer("t").Start(context.Background(), "op")
			span.End()
			opts := []metric.RecordOption{metric.WithAttributes(attribute.String("op", "search"))}
			h.Record(ctx, 0.25, opts...)
			h.Record(ctx, 0.5, opts...)
			h.Record(ctx, 7, opts...)
			opts[0] = metric.WithAttributes(attribute.String("op", "changed after Record"))

			require.Zero(t, pointCount(histogramPoints(t, r, "op.duration")), "recorded after the span's end")
			require.Empty(t, exp.GetSpans())

			d.drain(t, tp, mp, exp)
			require.Len(t, exp.GetSpans(), 1)
			var points []metricdata.HistogramDataPoint[float64]
			require.Eventually(t, func() bool { // the delay: measurements follow the span's end
				points = histogramPoints(t, r, "op.duration")
				return pointCount(points) == 3
			}, 2*time.Second, 5*time.Millisecond)
			require.Len(t, points, 1)
			p := points[0]
			require.Equal(t, uint64(3), p.Count)
			require.InDelta(t, 7.75, p.Sum, 1e-12)
			require.Equal(t, attribute.NewSet(attribute.String("op", "search")), p.Attributes)
			requireExemplarsOf(t, p, span.SpanContext())
		})
	}
}

func TestLateEndHistogramRecordsAtOnceOutsideAQueuedSpan(t *testing.T) {
	sdk, _ := newSDKTraces(t)
	tests := []struct {
		name string
		// ctx returns the measurement's context, and the span context its
		// exemplar carries (invalid: no exemplar).
		ctx func(tr trace.Tracer) (context.Context, trace.SpanContext)
	}{
		{"no span", func(trace.Tracer) (context.Context, trace.SpanContext) {
			return context.Background(), trace.SpanContext{}
		}},
		{"live span", func(tr trace.Tracer) (context.Context, trace.SpanContext) {
			ctx, s := tr.Start(context.Background(), "live")
			return ctx, s.SpanContext()
		}},
		{"ended SDK span", func(trace.Tracer) (context.Context, trace.SpanContext) {
			ctx, s := sdk.Tracer("sdk").Start(context.Background(), "sdk")
			s.End()
			return ctx, s.SpanContext()
		}},
		{"span ended by a drain", func(tr trace.Tracer) (context.Context, trace.SpanContext) {
			ctx, s := tr.Start(context.Background(), "drained")
			s.End()
			require.NoError(t, s.(*lateSpan).p.ForceFlush(context.Background()))
			return ctx, s.SpanContext()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, _ := newLateTraces(t)
			mp, r := newLateMetrics(t, tp)
			h, err := mp.Meter("m").Float64Histogram("op.duration")
			require.NoError(t, err)

			ctx, sc := tt.ctx(tp.Tracer("t"))
			h.Record(ctx, 1.5, metric.WithAttributes(attribute.Int("n", 1)))
			points := histogramPoints(t, r, "op.duration")
			require.Len(t, points, 1, "recorded at once")
			p := points[0]
			require.Equal(t, uint64(1), p.Count)
			require.InDelta(t, 1.5, p.Sum, 1e-12)
			require.Equal(t, attribute.NewSet(attribute.Int("n", 1)), p.Attributes)
			if sc.IsValid() {
				requireExemplarsOf(t, p, sc)
			} else {
				require.Empty(t, p.Exemplars)
			}

			if s, ok := trace.SpanFromContext(ctx).(*lateSpan); ok {
				s.End()
			}
			require.NoError(t, mp.ForceFlush(context.Background()))
			require.Equal(t, uint64(1), pointCount(histogramPoints(t, r, "op.duration")), "recorded once")
		})
	}
}

func TestLateEndDrainsAfterTheDelay(t *testing.T) {
	tp, exp := newLateTraces(t)
	_, span := tp.Tracer("t").Start(context.Background(), "alone")
	start := time.Now()
	span.End()
	require.Empty(t, exp.GetSpans())
	require.Eventually(t, func() bool { return len(exp.GetSpans()) == 1 }, 2*time.Second, 5*time.Millisecond,
		"ended by the provider's goroutine without a flush")
	require.GreaterOrEqual(t, time.Since(start), lateEndDelay/2, "not long before the delay")

	// And again once the goroutine is idle.
	_, span = tp.Tracer("t").Start(context.Background(), "again")
	span.End()
	require.Eventually(t, func() bool { return len(exp.GetSpans()) == 2 }, 2*time.Second, 5*time.Millisecond)
}

// gate is a span processor that, ending a span named blocker, reports
// it on entered and waits for released to close. It holds no lock, so
// other spans end meanwhile.
type gate struct {
	blocker  string
	entered  chan struct{}
	released chan struct{}
}

func (g gate) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (g gate) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.Name() == g.blocker {
		close(g.entered)
		<-g.released
	}
}

func (g gate) Shutdown(context.Context) error   { return nil }
func (g gate) ForceFlush(context.Context) error { return nil }

func TestLateEndEndsAtOnceWhenTheQueueIsFull(t *testing.T) {
	g := gate{blocker: "blocker", entered: make(chan struct{}), released: make(chan struct{})}
	tp, exp := newLateTraces(t, sdktrace.WithSpanProcessor(g))
	release := sync.OnceFunc(func() { close(g.released) })
	t.Cleanup(release) // before Shutdown, should the test fail while it holds
	mp, r := newLateMetrics(t, tp)
	h, err := mp.Meter("m").Float64Histogram("op.duration")
	require.NoError(t, err)
	tr := tp.Tracer("t")

	_, blocker := tr.Start(context.Background(), "blocker")
	blocker.End()
	select { // the provider's goroutine is held in the exporter
	case <-g.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the queued span was not ended")
	}
	for range lateEndMax {
		_, s := tr.Start(context.Background(), "queued")
		s.End()
	}
	require.Len(t, exp.GetSpans(), 1, "only the blocker, exported before the gate")

	ctx, overflow := tr.Start(context.Background(), "overflow")
	overflow.End()
	spans := exp.GetSpans()
	require.Len(t, spans, 2, "ended on the caller's goroutine")
	require.Equal(t, "overflow", spans[1].Name)
	h.Record(ctx, 2, metric.WithAttributes(attribute.Int("n", 1)))
	require.Equal(t, uint64(1), pointCount(histogramPoints(t, r, "op.duration")), "recorded at once")

	release()
	require.NoError(t, tp.ForceFlush(context.Background()))
	counts := map[string]int{}
	for _, s := range exp.GetSpans() {
		counts[s.Name]++
	}
	require.Equal(t, map[string]int{"blocker": 1, "queued": lateEndMax, "overflow": 1}, counts)
}
