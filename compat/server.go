package compat

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/qlite/qlite/compat/dashboard"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/telemetry"
)

// ServerConfig configures a Server. Zero fields take their defaults.
type ServerConfig struct {
	// HTTPAddr and GRPCAddr are the REST and gRPC listen addresses.
	// Default ":6333" and ":6334" (Qdrant's ports); "127.0.0.1:0" picks a
	// free port (see Server.HTTPAddr and GRPCAddr).
	HTTPAddr, GRPCAddr string
	// APIKey, when set, is required of every request (header api-key or
	// Authorization: Bearer) except to /, /healthz, /livez, /readyz and the
	// web UI's files under /dashboard.
	// ReadOnlyAPIKey, when set, allows reads only.
	APIKey, ReadOnlyAPIKey string
	// DisableCORS turns off the CORS headers Qdrant sends by default.
	DisableCORS bool
	// DisableDashboard turns off the web UI at /dashboard (Qdrant's
	// service.enable_static_content: false). The UI's files need no API
	// key, as in Qdrant; the calls it makes do.
	DisableDashboard bool
	// MaxRequestBytes bounds a REST body and a gRPC message, after
	// decompression. Default 32 MiB (Qdrant's max_request_size_mb; Qdrant
	// has no gRPC limit, qlite applies the same one).
	MaxRequestBytes int64
	// IdleTimeout closes a REST keep-alive connection or a gRPC connection
	// that has had no request for this long, whatever its last answer was
	// (a 401 included). Default 2 minutes.
	IdleTimeout time.Duration
	// HeaderTimeout bounds how long a client may take to send a REST
	// request's headers, and to complete a gRPC connection's handshake.
	// Default 10s.
	HeaderTimeout time.Duration
	// ShutdownTimeout bounds how long Serve waits for in-flight requests
	// when its context ends. Default 30s.
	ShutdownTimeout time.Duration
	// Limits bound batches and the memory of a request's results, over
	// REST and gRPC.
	Limits Limits
	// TLS, when set, serves REST (HTTPS) and gRPC over TLS with this
	// configuration; health checks are served over it too. NextProtos is
	// filled with h2 and http/1.1 when empty (a config returned by
	// GetConfigForClient must list them itself). TLSFiles.TLSConfig makes
	// one that follows certificate files as they are rotated. Default nil:
	// plain TCP.
	TLS *tls.Config
	// Telemetry, when set, traces every request with a SERVER span that
	// continues the client's W3C trace context and is the parent of the
	// engine's spans, and records request durations. Default nil: no
	// spans; GET /metrics counts responses either way. The caller shuts
	// the providers down after Serve returns.
	Telemetry *telemetry.Providers
	// Logger receives the server's records: the access log (see
	// AccessLog) and the HTTP server's errors (a panic in a handler at
	// level error, a failed TLS handshake at level debug). Default
	// slog.Default().
	Logger *slog.Logger
	// AccessLog logs one record per REST request and gRPC call, at level
	// info, when it ends: its route or method, collection, status and
	// duration (see doc.go). Default false; qlite serve turns it on.
	AccessLog bool
	// ObserveProbes traces and access-logs health probes (GET /, /healthz,
	// /livez, /readyz and gRPC's health checks) and scrapes of /metrics
	// and /telemetry as well. Default false: they make no spans (nor do
	// the engine calls under them) and no access-log records, so that a
	// probe every few seconds adds no noise. They are counted in the
	// request metrics either way.
	ObserveProbes bool
}

// The timeouts a Server applies when its config leaves them zero.
const (
	defaultIdleTimeout   = 2 * time.Minute
	defaultHeaderTimeout = 10 * time.Second
)

// Server serves Qdrant's REST and gRPC APIs over one engine.
type Server struct {
	db   *engine.DB
	cfg  ServerConfig
	http *http.Server
	grpc *grpc.Server

	mu        sync.Mutex
	httpLn    net.Listener
	grpcLn    net.Listener
	listening chan struct{}
}

// NewServer returns a server over db; Serve starts it.
func NewServer(db *engine.DB, cfg *ServerConfig) *Server {
	var c ServerConfig
	if cfg != nil {
		c = *cfg
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = ":6333"
	}
	if c.GRPCAddr == "" {
		c.GRPCAddr = ":6334"
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.MaxRequestBytes <= 0 {
		c.MaxRequestBytes = restDefaultMaxRequestBytes
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = defaultIdleTimeout
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = defaultHeaderTimeout
	}
	if c.TLS != nil {
		c.TLS = c.TLS.Clone()
		if len(c.TLS.NextProtos) == 0 {
			c.TLS.NextProtos = tlsProtos
		}
	}
	s := &Server{db: db, cfg: c, listening: make(chan struct{})}
	auth := &authenticator{key: c.APIKey, readOnly: c.ReadOnlyAPIKey, dashboard: !c.DisableDashboard}

	c.Limits = c.Limits.withDefaults()
	rest := NewREST(db, &RESTOptions{MaxRequestBytes: c.MaxRequestBytes, Limits: c.Limits})
	var route func(*http.Request) string
	if rt, ok := rest.(*restRouter); ok {
		route = rt.route
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	tel := newServerTelemetry(c.Telemetry, route)
	if c.AccessLog {
		tel.access = c.Logger
	}
	tel.observeProbes = c.ObserveProbes
	var api http.Handler = rest
	if !c.DisableDashboard {
		api = withDashboard(rest)
	}
	h := auth.httpMiddleware(api)
	if !c.DisableCORS {
		h = cors(h)
	}
	h = tel.httpMiddleware(h)
	// Keys, CORS and telemetry see the path the router takes.
	h = restNormalizing(h)
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: c.HeaderTimeout, IdleTimeout: c.IdleTimeout,
		ErrorLog: log.New(httpErrorLog{c.Logger}, "", 0)}

	// Keys are checked in the transport, from the call's headers, before
	// its message is read or decompressed.
	opts := append(ServerOptions(),
		grpc.InTapHandle(auth.tap),
		grpc.ForceServerCodecV2(batchCodec{CodecV2: encoding.GetCodecV2(proto.Name), max: c.Limits.MaxBatch}),
		grpc.MaxRecvMsgSize(int(min(c.MaxRequestBytes, math.MaxInt32))),
		grpc.ConnectionTimeout(c.HeaderTimeout),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: c.IdleTimeout}),
		grpc.ChainUnaryInterceptor(tel.unary, conditionsInterceptor(c.Limits.MaxFilterConditions)),
		grpc.ChainStreamInterceptor(tel.stream),
	)
	if c.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(c.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	NewServicesWithLimits(db, &c.Limits).Register(s.grpc)
	return s
}

// Serve listens on both addresses and serves until ctx ends, then stops
// accepting requests, lets in-flight ones finish (up to ShutdownTimeout)
// and returns. It does not close the engine.
func (s *Server) Serve(ctx context.Context) error {
	hl, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("qlite: REST listener: %w", err)
	}
	gl, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		hl.Close()
		return fmt.Errorf("qlite: gRPC listener: %w", err)
	}
	s.mu.Lock()
	s.httpLn, s.grpcLn = hl, gl
	s.mu.Unlock()
	close(s.listening)
	if s.cfg.TLS != nil {
		// Handshakes are bounded by the server's header timeout.
		hl = tls.NewListener(hl, s.cfg.TLS)
	}

	errc := make(chan error, 2)
	go func() {
		if err := s.http.Serve(hl); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("qlite: REST: %w", err)
			return
		}
		errc <- nil
	}()
	go func() {
		if err := s.grpc.Serve(gl); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			errc <- fmt.Errorf("qlite: gRPC: %w", err)
			return
		}
		errc <- nil
	}()

	var first error
	select {
	case <-ctx.Done():
	case first = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	herr := s.http.Shutdown(sctx)
	select {
	case <-stopped:
	case <-sctx.Done():
		s.grpc.Stop()
	}
	if first == nil {
		first = <-errc
	}
	return errors.Join(first, herr)
}

// Addrs waits until Serve listens and returns the REST and gRPC addresses.
func (s *Server) Addrs(ctx context.Context) (httpAddr, grpcAddr string, err error) {
	select {
	case <-s.listening:
	case <-ctx.Done():
		return "", "", ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpLn.Addr().String(), s.grpcLn.Addr().String(), nil
}

// authenticator checks API keys as Qdrant does.
type authenticator struct {
	key, readOnly string
	// dashboard lets the web UI's files through without a key.
	dashboard bool
}

func (a *authenticator) enabled() bool { return a.key != "" || a.readOnly != "" }

// Access levels.
const (
	accessNone = iota
	accessRead
	accessWrite
)

// check returns the access a presented key grants, or the error to send.
func (a *authenticator) check(presented string, found bool) (int, error) {
	if !found {
		return accessNone, status.Error(codes.Unauthenticated, "Must provide an API key or an Authorization bearer token")
	}
	if a.key != "" && subtle.ConstantTimeCompare([]byte(a.key), []byte(presented)) == 1 {
		return accessWrite, nil
	}
	if a.readOnly != "" && subtle.ConstantTimeCompare([]byte(a.readOnly), []byte(presented)) == 1 {
		return accessRead, nil
	}
	return accessNone, status.Error(codes.Unauthenticated, "Invalid API key or JWT")
}

var errReadOnly = status.Error(codes.PermissionDenied, "Forbidden: Write access denied")

// openPaths need no key, as in Qdrant.
func openPath(p string) bool {
	return p == "/" || p == "/healthz" || strings.HasPrefix(p, "/readyz") || strings.HasPrefix(p, "/livez")
}

// dashboardPath reports whether p is the web UI's.
func dashboardPath(p string) bool {
	return p == dashboard.Path || strings.HasPrefix(p, dashboard.Path+"/")
}

// withDashboard serves the web UI at /dashboard and the API elsewhere.
func withDashboard(api http.Handler) http.Handler {
	ui := dashboard.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if dashboardPath(r.URL.Path) {
			ui.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// restReads are the REST operations a read-only key may call besides GETs:
// the POSTs that only read.
var restReadSuffixes = []string{
	"/points/search", "/points/search/batch", "/points/search/groups",
	"/points/recommend", "/points/recommend/batch", "/points/recommend/groups",
	"/points/discover", "/points/discover/batch",
	"/points/query", "/points/query/batch", "/points/query/groups",
	"/points/scroll", "/points/count", "/facet",
	"/points/search/matrix/pairs", "/points/search/matrix/offsets",
}

func restIsRead(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	case http.MethodPost:
		p := strings.TrimSuffix(r.URL.Path, "/")
		if strings.HasPrefix(p, "/collections/") && strings.HasSuffix(p, "/points") {
			return true // retrieve points by ids
		}
		for _, s := range restReadSuffixes {
			if strings.HasSuffix(p, s) {
				return true
			}
		}
	}
	return false
}

func (a *authenticator) httpMiddleware(next http.Handler) http.Handler {
	if !a.enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// As Qdrant, with its UI on, takes every path that starts with
		// /dashboard without a key (those outside the UI then answer 404).
		uiOpen := a.dashboard && strings.HasPrefix(r.URL.Path, dashboard.Path)
		if openPath(r.URL.Path) || uiOpen || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		key, found := r.Header.Get("api-key"), r.Header.Get("api-key") != ""
		if !found {
			if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				key, found = v, true
			}
		}
		access, err := a.check(key, found)
		if err != nil {
			http.Error(w, status.Convert(err).Message(), http.StatusUnauthorized)
			return
		}
		if access == accessRead && !restIsRead(r) {
			writeRESTError(w, http.StatusForbidden, status.Convert(errReadOnly).Message())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// grpcReads are the gRPC methods a read-only key may call.
var grpcReads = map[string]bool{
	"/qdrant.Qdrant/HealthCheck":                                     true,
	"/grpc.health.v1.Health/Check":                                   true,
	"/grpc.health.v1.Health/Watch":                                   true,
	"/qdrant.Collections/Get":                                        true,
	"/qdrant.Collections/List":                                       true,
	"/qdrant.Collections/ListCollectionAliases":                      true,
	"/qdrant.Collections/ListAliases":                                true,
	"/qdrant.Collections/CollectionClusterInfo":                      true,
	"/qdrant.Collections/CollectionExists":                           true,
	"/qdrant.Collections/ListShardKeys":                              true,
	"/qdrant.Points/Get":                                             true,
	"/qdrant.Points/Search":                                          true,
	"/qdrant.Points/SearchBatch":                                     true,
	"/qdrant.Points/SearchGroups":                                    true,
	"/qdrant.Points/Scroll":                                          true,
	"/qdrant.Points/Recommend":                                       true,
	"/qdrant.Points/RecommendBatch":                                  true,
	"/qdrant.Points/RecommendGroups":                                 true,
	"/qdrant.Points/Discover":                                        true,
	"/qdrant.Points/DiscoverBatch":                                   true,
	"/qdrant.Points/Count":                                           true,
	"/qdrant.Points/Query":                                           true,
	"/qdrant.Points/QueryBatch":                                      true,
	"/qdrant.Points/QueryGroups":                                     true,
	"/qdrant.Points/Facet":                                           true,
	"/qdrant.Points/SearchMatrixPairs":                               true,
	"/qdrant.Points/SearchMatrixOffsets":                             true,
	"/qdrant.Snapshots/List":                                         true,
	"/qdrant.Snapshots/ListFull":                                     true,
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      true,
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": true,
}

func (a *authenticator) grpcCheckMD(md metadata.MD, method string) error {
	if !a.enabled() || method == "/qdrant.Qdrant/HealthCheck" || strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	key, found := "", false
	if v := md.Get("api-key"); len(v) > 0 && v[0] != "" {
		key, found = v[0], true
	} else if v := md.Get("authorization"); len(v) > 0 {
		key, found = strings.CutPrefix(v[0], "Bearer ")
	}
	access, err := a.check(key, found)
	if err != nil {
		return err
	}
	if access == accessRead && !grpcReads[method] {
		return errReadOnly
	}
	return nil
}

// tap checks a gRPC call's key when its headers arrive, before the
// stream exists and before any of its message is read: a refused call
// costs neither memory nor decompression, unary or streaming alike.
func (a *authenticator) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	return ctx, a.grpcCheckMD(info.Header, info.FullMethodName)
}

// cors answers preflight requests and allows any origin, as Qdrant does by
// default.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
				if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
					h.Set("Access-Control-Allow-Headers", req)
				} else {
					h.Set("Access-Control-Allow-Headers", "*")
				}
				h.Set("Access-Control-Max-Age", "3600")
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeRESTError writes Qdrant's error envelope.
func writeRESTError(w http.ResponseWriter, code int, msg string) {
	body, _ := json.Marshal(map[string]any{"status": map[string]string{"error": msg}, "time": 0})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(body)
}
