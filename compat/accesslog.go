package compat

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
)

// probeRoutes are the REST routes of health probes and monitoring scrapes,
// which make no spans and no access-log records unless
// ServerConfig.ObserveProbes. Qdrant leaves the same ones out of its
// access log.
var probeRoutes = map[string]bool{
	"/": true, "/healthz": true, "/livez": true, "/readyz": true,
	"/metrics": true, "/telemetry": true,
}

// grpcProbes are the gRPC methods of health checks.
var grpcProbes = map[string]bool{
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/Watch": true,
	"/qdrant.Qdrant/HealthCheck":   true,
}

// Keys of access-log records (see doc.go).
const (
	logMsgAccess  = "access"
	logProto      = "proto"
	logMethod     = "method"
	logRoute      = "route"
	logPath       = "path"
	logCollection = "collection"
	logStatus     = "status"
	logDuration   = "duration_ms"
	logBytes      = "bytes"
	logRemote     = "remote"
	logTraceID    = "trace_id"
)

// durationMillis is d in milliseconds, to the microsecond.
func durationMillis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// logHTTP writes the access-log record of a REST request. route is the
// ServeMux pattern's path ("/collections/{collection_name}/points"); a
// request no route matched is logged with its path instead.
func (t *serverTelemetry) logHTTP(ctx context.Context, method, route, path, coll string, code int, d time.Duration, n int64, remote string) {
	if !t.access.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := accessAttrs(make([]slog.Attr, 0, 10), "rest", method)
	if route != "" {
		attrs = append(attrs, slog.String(logRoute, route))
	} else {
		attrs = append(attrs, slog.String(logPath, path))
	}
	if coll != "" {
		attrs = append(attrs, slog.String(logCollection, coll))
	}
	attrs = append(attrs, slog.Int(logStatus, code), slog.Float64(logDuration, durationMillis(d)),
		slog.Int64(logBytes, n), slog.String(logRemote, remote))
	t.logAccess(ctx, attrs)
}

// logRPC writes the access-log record of a gRPC call.
func (t *serverTelemetry) logRPC(ctx context.Context, fullMethod, coll string, code codes.Code, d time.Duration) {
	if !t.access.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := accessAttrs(make([]slog.Attr, 0, 10), "grpc", fullMethod)
	if coll != "" {
		attrs = append(attrs, slog.String(logCollection, coll))
	}
	attrs = append(attrs, slog.String(logStatus, code.String()), slog.Float64(logDuration, durationMillis(d)))
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		attrs = append(attrs, slog.String(logRemote, p.Addr.String()))
	}
	t.logAccess(ctx, attrs)
}

// accessAttrs appends the first fields of an access record to dst.
func accessAttrs(dst []slog.Attr, proto, method string) []slog.Attr {
	return append(dst, slog.String(logProto, proto), slog.String(logMethod, method))
}

// logAccess writes an access record with attrs and the trace id of ctx's
// span when it is sampled, so that a record leads to its trace.
func (t *serverTelemetry) logAccess(ctx context.Context, attrs []slog.Attr) {
	if sc := trace.SpanContextFromContext(ctx); sc.IsSampled() {
		attrs = append(attrs, slog.String(logTraceID, sc.TraceID().String()))
	}
	t.access.LogAttrs(ctx, slog.LevelInfo, logMsgAccess, attrs...)
}

// httpErrorLog receives the HTTP server's error log: a failed TLS
// handshake (a port scan, a TCP health check on a TLS port) is a debug
// record, anything else (a panic in a handler) an error.
type httpErrorLog struct{ l *slog.Logger }

func (w httpErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	level := slog.LevelError
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		level = slog.LevelDebug
	}
	w.l.Log(context.Background(), level, msg)
	return len(p), nil
}
