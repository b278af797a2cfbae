package deploy

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
)

// server is a qlite server on ports chosen by the system.
type server struct {
	http, grpc string // host:port
}

// startServer starts qlite's REST and gRPC servers over a new database,
// stopped at cleanup.
func startServer(t *testing.T) *server {
	t.Helper()
	db, err := engine.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	h, g, err := srv.Addrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &server{http: h, grpc: g}
}

// do sends a REST request and returns the status and body.
func (s *server) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.http+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// must sends a REST request that has to answer want.
func (s *server) must(t *testing.T, want int, method, path, body string) string {
	t.Helper()
	code, b := s.do(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
	}
	return b
}

// client is an official Qdrant gRPC client of s.
func (s *server) client(t *testing.T) *qdrant.Client {
	t.Helper()
	host, port, err := net.SplitHostPort(s.grpc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, SkipCompatibilityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// workload makes s report every family of its /metrics: a collection with
// points, REST and gRPC searches that succeed and fail.
func (s *server) workload(t *testing.T) {
	t.Helper()
	s.must(t, 200, "PUT", "/collections/docs", `{"vectors":{"size":2,"distance":"Cosine"}}`)
	s.must(t, 200, "PUT", "/collections/docs/points?wait=true",
		`{"points":[{"id":1,"vector":[0.6,0.8],"payload":{"lang":"en"}},{"id":2,"vector":[1,0]},{"id":3,"vector":[0,1]}]}`)
	s.must(t, 200, "POST", "/collections/docs/points/query", `{"query":[1,0],"limit":2}`)
	s.must(t, 200, "POST", "/collections/docs/points/search", `{"vector":[1,0],"limit":2}`)
	s.must(t, 404, "POST", "/collections/nope/points/query", `{"query":[1,0]}`)
	c := s.client(t)
	ctx := context.Background()
	if _, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "docs", Query: qdrant.NewQuery(1, 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "nope", Query: qdrant.NewQuery(1, 0)}); err == nil {
		t.Fatal("gRPC query of a missing collection: no error")
	}
}
