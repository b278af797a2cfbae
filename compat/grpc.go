package compat

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // accept gzip-compressed requests, as Qdrant does
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/telemetry"
)

// The version and title Qdrant's HealthCheck reports. Clients compare the
// major and minor version with their own.
const (
	qdrantTitle   = "qdrant - vector search engine"
	qdrantVersion = QdrantVersion
)

// QdrantVersion is the version of Qdrant's API that qlite speaks, and
// reports where Qdrant reports its own version.
const QdrantVersion = "1.17.1"

// Services holds the four Qdrant services over one engine.
//
// Every method converts its request to engine calls and the results back to
// Qdrant's protobuf messages, answering as a single-node Qdrant v1.17 does:
// the same defaults, result shapes, status codes and messages. Requests for
// what the engine does not have (multi-dense vectors, prefetch, fusion,
// formulas, MMR, relevance feedback) fail with InvalidArgument naming the
// feature; inference other than BM25 documents fails as on Qdrant without an
// inference service; cluster operations
// fail as they do on a Qdrant node without distributed mode.
//
// The services hold no state of their own and are safe for concurrent use.
// Called in process (see Embedded), they neither modify nor keep their
// requests, and every result is built afresh; a nil request means what an
// empty one does on the wire.
type Services struct {
	Qdrant      qdrant.QdrantServer
	Collections qdrant.CollectionsServer
	Points      qdrant.PointsServer
	Snapshots   qdrant.SnapshotsServer
}

// NewServices returns the services over db with the default Limits. The
// caller keeps ownership of db and closes it after the server stops.
func NewServices(db *engine.DB) *Services { return NewServicesWithLimits(db, nil) }

// NewServicesWithLimits returns the services over db, bounding requests by
// l (nil or zero fields: the defaults).
func NewServicesWithLimits(db *engine.DB, l *Limits) *Services {
	var lim Limits
	if l != nil {
		lim = *l
	}
	return &Services{
		Qdrant:      &qdrantService{},
		Collections: &collectionsService{db: db},
		Points:      &pointsService{db: db, limits: lim.withDefaults()},
		Snapshots:   &snapshotsService{db: db},
	}
}

// Register registers the four services, grpc.health.v1 (SERVING while the
// database can make progress) and server reflection on g.
func (s *Services) Register(g *grpc.Server) {
	qdrant.RegisterQdrantServer(g, s.Qdrant)
	qdrant.RegisterCollectionsServer(g, s.Collections)
	qdrant.RegisterPointsServer(g, s.Points)
	qdrant.RegisterSnapshotsServer(g, s.Snapshots)
	hs := &healthServer{Server: health.NewServer()}
	if c, ok := s.Collections.(*collectionsService); ok {
		hs.db = c.db
	}
	hs.set(healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	reflection.Register(g)
}

// healthServer is grpc.health.v1 over the database: each Check asks
// engine.DB.Health (as /healthz does) and reports SERVING or NOT_SERVING
// for the server and each Qdrant service; watchers see the changes.
type healthServer struct {
	*health.Server
	db *engine.DB // nil: always serving
}

var healthServices = []string{"", "qdrant.Qdrant", "qdrant.Collections", "qdrant.Points", "qdrant.Snapshots"}

func (h *healthServer) set(st healthpb.HealthCheckResponse_ServingStatus) {
	for _, name := range healthServices {
		h.SetServingStatus(name, st)
	}
}

func (h *healthServer) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if h.db != nil {
		hctx, cancel := context.WithTimeout(ctx, healthTimeout)
		err := h.db.Health(hctx)
		cancel()
		if err != nil {
			h.set(healthpb.HealthCheckResponse_NOT_SERVING)
		} else {
			h.set(healthpb.HealthCheckResponse_SERVING)
		}
	}
	return h.Server.Check(ctx, req)
}

// maxRecvMsgSize is the largest request a server accepts by default,
// after decompression: Qdrant's REST limit (max_request_size_mb). Qdrant
// decodes gRPC requests of any size; grpc-go's default is 4 MiB. A larger
// message is refused with ResourceExhausted before it is decoded, and
// decompression stops at the limit.
const maxRecvMsgSize = restDefaultMaxRequestBytes

// ServerOptions returns the grpc.ServerOptions a qlite gRPC server needs: a
// 32 MiB receive limit, a keepalive enforcement policy that tolerates the
// go-client's pings (every 10 s, with or without active streams), and the gzip
// codec, registered by importing this package. Authentication interceptors
// are the caller's. An interceptor sets the "retry-after" trailer of calls
// refused by a strict mode rate limit.
//
// Two options cut the server's CPU per call:
//
//   - Calls run on a pool of long-lived goroutines (streamWorkers) rather
//     than one new goroutine each: a search needs a deeper stack than a new
//     goroutine's, and growing it (copying the stack) cost about 20 us of
//     a 300 us query; a pooled goroutine keeps its grown stack. A call that
//     finds every worker busy still gets a goroutine of its own.
//   - Flow control windows are fixed (recvWindow per stream and per
//     connection) rather than sized by bandwidth-delay estimation, which
//     sends a PING with the data of a request whenever the previous PING
//     has been acknowledged, and reads the acknowledgement: with a client
//     asking one query at a time, fixed windows saved 0.2 of the 2.4
//     writes per call (and 8% of the server's CPU per call).
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(retryAfterUnary),
		grpc.MaxRecvMsgSize(maxRecvMsgSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             5 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.NumStreamWorkers(streamWorkers()),
		grpc.InitialWindowSize(recvWindow),
		grpc.InitialConnWindowSize(recvWindow),
	}
}

// recvWindow is the flow control window of a gRPC server, per stream and
// per connection: what a client may send before the server has read it.
// 4 MiB lets an upload stream at loopback and LAN speeds (a window per
// round trip: 400 MiB/s at 10 ms) while bounding what one connection can
// make the server buffer.
const recvWindow = 4 << 20

// streamWorkers is the number of goroutines that run gRPC calls: four per
// usable CPU, at least 16, so that the usual number of concurrent calls
// finds an idle worker.
func streamWorkers() uint32 { return uint32(max(16, 4*runtime.GOMAXPROCS(0))) }

// qdrantService is the qdrant.Qdrant service.
type qdrantService struct {
	qdrant.UnimplementedQdrantServer
}

// HealthCheck reports Qdrant's title and the version qlite is compatible
// with, and the VCS revision qlite was built from when the build recorded it.
func (qdrantService) HealthCheck(context.Context, *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	r := &qdrant.HealthCheckReply{Title: qdrantTitle, Version: qdrantVersion}
	if c := buildCommit(); c != "" {
		r.Commit = &c
	}
	return r, nil
}

// buildCommit returns the VCS revision recorded in the binary, or "".
func buildCommit() string { return telemetry.BuildInfo().Commit }

// orEmpty returns r, or an empty request for nil: a nil request (possible
// in process, through Embedded) means what an empty one does on the wire.
func orEmpty[T any, P interface{ *T }](r P) P {
	if r == nil {
		return new(T)
	}
	return r
}

// withTimeout bounds ctx by a request's timeout in seconds, when given (and
// not 0).
func withTimeout(ctx context.Context, seconds *uint64) (context.Context, context.CancelFunc) {
	if seconds == nil || *seconds == 0 {
		return ctx, func() {}
	}
	// The timeout asked for, which strict mode bounds.
	ctx = engine.WithRequestTimeout(ctx, *seconds)
	const maxSeconds = uint64(math.MaxInt64 / int64(time.Second))
	return context.WithTimeout(ctx, time.Duration(min(*seconds, maxSeconds))*time.Second)
}

// since returns the seconds elapsed since start, as responses report time.
func since(start time.Time) float64 { return time.Since(start).Seconds() }

// invalidArg is an InvalidArgument error with Qdrant's message for a request
// that cannot be converted.
func invalidArg(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// validationErr is the InvalidArgument error Qdrant returns when a request
// fails validation: "Validation error in body: [field: message]".
func validationErr(field, format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "Validation error in body: [%s: %s]", field, fmt.Sprintf(format, args...))
}

// checkCollectionName validates a collection name given in a request, as
// Qdrant validates every request (see collectionNameProblem).
func checkCollectionName(field, name string) error {
	if msg := collectionNameProblem(name, false); msg != "" {
		return validationErr(field, "%s", msg)
	}
	return nil
}

// checkNewCollectionName applies the full rule for the name of a
// collection or alias being created.
func checkNewCollectionName(field, name string) error {
	if msg := collectionNameProblem(name, true); msg != "" {
		return validationErr(field, "%s", msg)
	}
	return nil
}
