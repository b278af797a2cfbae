package compat

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
)

// Qdrant 1.17.1's answer to a write on a full disk (its storage on a full
// 20 MiB tmpfs).
const qdrantDiskFull = "Service internal error: No space left on device: WAL buffer size exceeds available disk space"

// faultServer is a server over a database on a small tmpfs.
type faultServer struct {
	t        *testing.T
	mnt      string
	db       *engine.DB
	rest     string
	grpc     *qdrant.Client
	health   healthpb.HealthClient
	stop     func() time.Duration
	nextID   int
	acked    int
	batchLen int
}

// newFaultServer serves a database in a new tmpfs of 32 MiB, with the given
// disk reserve, or skips the test when it cannot mount one.
func newFaultServer(t *testing.T, reserve int64) *faultServer {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; engine's TestDiskFullInjected covers the engine's side")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=32m"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v); engine's TestDiskFullInjected covers the engine's side", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	db, err := engine.Open(filepath.Join(mnt, "db"), &engine.Options{DiskReserve: reserve})
	require.NoError(t, err)
	srv := NewServer(db, &ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	h, g, err := srv.Addrs(ctx)
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(g)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	client, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, SkipCompatibilityCheck: true})
	require.NoError(t, err)
	s := &faultServer{t: t, mnt: mnt, db: db, rest: "http://" + h, grpc: client,
		health: healthpb.NewHealthClient(client.GetConnection()), batchLen: 100}
	stopped := false
	s.stop = func() time.Duration {
		if stopped {
			return 0
		}
		stopped = true
		client.Close()
		start := time.Now()
		cancel()
		<-done
		db.Close()
		return time.Since(start)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// upsert sends a batch of points over REST and returns the status and body.
func (s *faultServer) upsert() (int, string) {
	var b strings.Builder
	b.WriteString(`{"points":[`)
	for i := range s.batchLen {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"vector":[%d,1,2,3],"payload":{"pad":"%s"}}`, s.nextID, s.nextID%7, strings.Repeat("x", 300))
		s.nextID++
	}
	b.WriteString(`]}`)
	code, body := httpDo(s.t, "PUT", s.rest+"/collections/c/points?wait=true", b.String(), nil)
	if code == http.StatusOK {
		s.acked += s.batchLen
	}
	return code, body
}

// readsWork checks that the acknowledged points are there.
func (s *faultServer) readsWork() {
	s.t.Helper()
	code, body := httpDo(s.t, "POST", s.rest+"/collections/c/points/count", `{"exact":true}`, nil)
	require.Equal(s.t, http.StatusOK, code, body)
	require.Contains(s.t, body, fmt.Sprintf(`"count":%d`, s.acked))
	code, body = httpDo(s.t, "POST", s.rest+"/collections/c/points/query", `{"query":[1,0,0,0],"limit":2}`, nil)
	require.Equal(s.t, http.StatusOK, code, body)
}

// healthy checks /healthz, /readyz and gRPC health.
func (s *faultServer) healthy(want bool) {
	s.t.Helper()
	code, body := httpDo(s.t, "GET", s.rest+"/healthz", "", nil)
	require.Equal(s.t, want, code == http.StatusOK, "/healthz: %d %s", code, body)
	code, body = httpDo(s.t, "GET", s.rest+"/readyz", "", nil)
	require.Equal(s.t, want, code == http.StatusOK, "/readyz: %d %s", code, body)
	r, err := s.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(s.t, err)
	require.Equal(s.t, want, r.Status == healthpb.HealthCheckResponse_SERVING, "gRPC health %v", r.Status)
}

// fill writes a file until the file system is full.
func (s *faultServer) fill(name string) string {
	path := filepath.Join(s.mnt, name)
	f, err := os.Create(path)
	require.NoError(s.t, err)
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			require.ErrorIs(s.t, err, syscall.ENOSPC)
			return path
		}
	}
}

// On a full disk the server answers writes as Qdrant does (500, its
// message; gRPC Internal), keeps serving reads and reporting healthy, takes
// writes again once space is freed, and stops promptly.
func TestServerDiskFull(t *testing.T) {
	s := newFaultServer(t, 4<<20)
	code, body := httpDo(t, "PUT", s.rest+"/collections/c", `{"vectors":{"size":4,"distance":"Dot"}}`, nil)
	require.Equal(t, http.StatusOK, code, body)
	code, body = s.upsert()
	require.Equal(t, http.StatusOK, code, body)
	filler := s.fill("filler")

	code, body = s.upsert()
	require.Equal(t, http.StatusInternalServerError, code, body)
	require.Contains(t, body, `"error":"`+qdrantDiskFull+`"`)
	_, err := s.grpc.Upsert(context.Background(), &qdrant.UpsertPoints{CollectionName: "c",
		Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(999999), Vectors: qdrant.NewVectors(1, 2, 3, 4)}}})
	require.Equal(t, codes.Internal, status.Code(err), "%v", err)
	require.Contains(t, err.Error(), "desc = "+qdrantDiskFull)
	s.readsWork()
	s.healthy(true) // as Qdrant: a full disk is not a failure

	require.NoError(t, os.Remove(filler))
	code, body = s.upsert()
	require.Equal(t, http.StatusOK, code, body)
	s.readsWork()
	t.Logf("stopped in %v", s.stop())
}

// When the store itself meets ENOSPC (no reserve), it fails: writes answer
// 500 at once, reads go on, /healthz, /readyz and gRPC health report it,
// and the server still stops within its grace period.
func TestServerStoreFailed(t *testing.T) {
	s := newFaultServer(t, -1)
	code, body := httpDo(t, "PUT", s.rest+"/collections/c", `{"vectors":{"size":4,"distance":"Dot"}}`, nil)
	require.Equal(t, http.StatusOK, code, body)
	s.healthy(true)
	s.fill("filler")
	for range 1000 {
		if code, body = s.upsert(); code != http.StatusOK {
			break
		}
	}
	require.Equal(t, http.StatusInternalServerError, code, body)
	require.Contains(t, body, "store failed")
	s.readsWork()
	s.healthy(false)
	code, body = s.upsert()
	require.Equal(t, http.StatusInternalServerError, code, body)
	took := s.stop()
	require.Less(t, took, 30*time.Second, "stopped within the grace period")
	t.Logf("store failed after %d points; stopped in %v", s.acked, took)
}
