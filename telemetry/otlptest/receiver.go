// Package otlptest provides an in-process OTLP/gRPC collector for tests.
//
// A Receiver implements the OTLP trace and metrics collector services on a
// loopback port and keeps every request it is sent. Exporters under test
// point at Endpoint (over plain gRPC, for example with
// OTEL_EXPORTER_OTLP_ENDPOINT=http://ENDPOINT) and tests read back what
// arrived with Spans, Metrics and Headers, or wait for it with WaitSpans and
// WaitMetrics.
//
// All methods are safe for concurrent use. The server stops when the test
// that started it finishes; exports after that fail at the exporter.
package otlptest

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // exporters may compress requests
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Receiver is an in-process OTLP/gRPC collector. Create one with Start.
type Receiver struct {
	addr string
	srv  *grpc.Server

	// mu guards everything received: the resource spans and resource
	// metrics in arrival order, the metadata of the latest request of
	// either kind, and changed, which is closed and replaced whenever one
	// of them changes so that waiters can re-check their predicate.
	mu      sync.Mutex
	spans   []*tracepb.ResourceSpans
	metrics []*metricspb.ResourceMetrics
	headers metadata.MD
	changed chan struct{}
	// discard, once set by Discard, drops what arrives after counting
	// its spans in nspans.
	discard bool
	nspans  int
}

// Discard makes the receiver count the spans it is sent from now on
// without keeping them, so that a long benchmark does not grow its memory.
func (r *Receiver) Discard() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.discard = true
}

// SpanCount returns the number of spans received, kept or discarded.
func (r *Receiver) SpanCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nspans
}

// Start listens on 127.0.0.1 on a free port, serves the OTLP trace and
// metrics services there, and registers a cleanup with t that stops the
// server.
func Start(t testing.TB) *Receiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlptest: listen: %v", err)
	}
	r := &Receiver{
		addr:    lis.Addr().String(),
		srv:     grpc.NewServer(),
		changed: make(chan struct{}),
	}
	colltracepb.RegisterTraceServiceServer(r.srv, traceService{r: r})
	collmetricspb.RegisterMetricsServiceServer(r.srv, metricsService{r: r})
	donec := make(chan struct{})
	go func() {
		defer close(donec)
		_ = r.srv.Serve(lis) // returns once Stop has run
	}()
	t.Cleanup(func() {
		r.srv.Stop()
		<-donec
	})
	return r
}

// Endpoint returns the address the receiver listens on, "127.0.0.1:PORT".
func (r *Receiver) Endpoint() string { return r.addr }

// ResourceSpans returns copies of every ResourceSpans received, in arrival
// order.
func (r *Receiver) ResourceSpans() []*tracepb.ResourceSpans {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*tracepb.ResourceSpans, len(r.spans))
	for i, rs := range r.spans {
		out[i] = proto.Clone(rs).(*tracepb.ResourceSpans)
	}
	return out
}

// Spans returns copies of every span received, in arrival order, without
// their resource and scope.
func (r *Receiver) Spans() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spansLocked()
}

func (r *Receiver) spansLocked() []*tracepb.Span {
	var out []*tracepb.Span
	for _, rs := range r.spans {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				out = append(out, proto.Clone(s).(*tracepb.Span))
			}
		}
	}
	return out
}

// ResourceMetrics returns copies of every ResourceMetrics received, in
// arrival order.
func (r *Receiver) ResourceMetrics() []*metricspb.ResourceMetrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*metricspb.ResourceMetrics, len(r.metrics))
	for i, rm := range r.metrics {
		out[i] = proto.Clone(rm).(*metricspb.ResourceMetrics)
	}
	return out
}

// Metrics returns copies of every metric received, in arrival order,
// without their resource and scope. A metric exported several times (as
// cumulative metrics are, once per collection) appears once per export.
func (r *Receiver) Metrics() []*metricspb.Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.metricsLocked()
}

func (r *Receiver) metricsLocked() []*metricspb.Metric {
	var out []*metricspb.Metric
	for _, rm := range r.metrics {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				out = append(out, proto.Clone(m).(*metricspb.Metric))
			}
		}
	}
	return out
}

// Headers returns a copy of the gRPC metadata of the latest export request,
// traces or metrics, or nil if none has arrived.
func (r *Receiver) Headers() metadata.MD {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.headers == nil {
		return nil
	}
	return r.headers.Copy()
}

// WaitSpans waits until pred, called with every span received so far,
// returns true. It fails t if that has not happened within timeout.
func (r *Receiver) WaitSpans(t testing.TB, pred func([]*tracepb.Span) bool, timeout time.Duration) {
	t.Helper()
	if !r.wait(func() bool { return pred(r.spansLocked()) }, timeout) {
		t.Fatalf("otlptest: spans not as expected after %v; received %d spans", timeout, len(r.Spans()))
	}
}

// WaitMetrics waits until pred, called with every metric received so far,
// returns true. It fails t if that has not happened within timeout.
func (r *Receiver) WaitMetrics(t testing.TB, pred func([]*metricspb.Metric) bool, timeout time.Duration) {
	t.Helper()
	if !r.wait(func() bool { return pred(r.metricsLocked()) }, timeout) {
		t.Fatalf("otlptest: metrics not as expected after %v; received %d metrics", timeout, len(r.Metrics()))
	}
}

// wait evaluates check under r.mu now and after every change until it
// returns true or timeout passes.
func (r *Receiver) wait(check func() bool, timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok := check()
		changed := r.changed
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return false
		}
	}
}

// record stores one request's data and metadata and wakes the waiters.
func (r *Receiver) record(ctx context.Context, add func()) {
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	add()
	r.headers = md.Copy()
	close(r.changed)
	r.changed = make(chan struct{})
}

type traceService struct {
	colltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(ctx context.Context, req *colltracepb.ExportTraceServiceRequest) (*colltracepb.ExportTraceServiceResponse, error) {
	s.r.record(ctx, func() {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				s.r.nspans += len(ss.GetSpans())
			}
		}
		if !s.r.discard {
			s.r.spans = append(s.r.spans, req.GetResourceSpans()...)
		}
	})
	return &colltracepb.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	collmetricspb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s metricsService) Export(ctx context.Context, req *collmetricspb.ExportMetricsServiceRequest) (*collmetricspb.ExportMetricsServiceResponse, error) {
	s.r.record(ctx, func() {
		if !s.r.discard {
			s.r.metrics = append(s.r.metrics, req.GetResourceMetrics()...)
		}
	})
	return &collmetricspb.ExportMetricsServiceResponse{}, nil
}
