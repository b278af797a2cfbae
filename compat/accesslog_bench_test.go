package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
)

// BenchmarkAccessLog measures a search of 10 among 2,000 points of 64
// dimensions, over REST and over gRPC (loopback, one client), on two
// servers over the same database: one without the access log, one writing
// it as JSON records to /dev/null (formatting and one write per record, as
// on stderr). Each run of the benchmark serves both in turn, so that
// -count interleaves them:
//
//	go test ./compat -run XXX -bench BenchmarkAccessLog -count 8 | benchstat -col /log -
func BenchmarkAccessLog(b *testing.B) {
	ctx := context.Background()
	db, err := engine.Open(b.TempDir(), &engine.Options{Log: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n, dim = 2000, 64
	cc := &engine.CreateCollection{Vectors: engine.VectorsConfig{"": {Size: dim, Distance: distance.Cosine}}}
	if err := db.CreateCollection(ctx, "b", cc); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(19, 5))
	vec := func() []float32 {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		return v
	}
	pts := make([]engine.Point, n)
	for i := range pts {
		pts[i] = engine.Point{ID: filter.NumID(uint64(i + 1)), Vectors: map[string][]float32{"": vec()}}
	}
	if _, err := db.Upsert(ctx, "b", &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true}); err != nil {
		b.Fatal(err)
	}
	q := vec()
	body, _ := json.Marshal(map[string]any{"vector": q, "limit": 10})

	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		srv := NewServer(db, &ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
			Logger: slog.New(slog.NewJSONHandler(devnull, nil)), AccessLog: on})
		sctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(sctx) }()
		h, g, err := srv.Addrs(sctx)
		if err != nil {
			b.Fatal(err)
		}
		url := "http://" + h + "/collections/b/points/search"
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		b.Run("proto=rest/log="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
		host, port, _ := net.SplitHostPort(g)
		pn, _ := strconv.Atoi(port)
		c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: pn, SkipCompatibilityCheck: true})
		if err != nil {
			b.Fatal(err)
		}
		req := &qdrant.SearchPoints{CollectionName: "b", Vector: q, Limit: 10}
		b.Run("proto=grpc/log="+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.GetPointsClient().Search(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		client.CloseIdleConnections()
		c.Close()
		stop()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccessRecord measures one access-log record alone, written as
// JSON to /dev/null as BenchmarkAccessLog's are: the cost a request pays
// for the access log, apart from the noise of serving it.
func BenchmarkAccessRecord(b *testing.B) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	t := &serverTelemetry{access: slog.New(slog.NewJSONHandler(devnull, nil))}
	ctx := context.Background()
	b.Run("proto=rest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t.logHTTP(ctx, "POST", "/collections/{collection_name}/points/search", "/collections/b/points/search", "b",
				200, 251*time.Microsecond, 1234, "127.0.0.1:51234")
		}
	})
	b.Run("proto=grpc", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t.logRPC(ctx, "/qdrant.Points/Search", "b", codes.OK, 205*time.Microsecond)
		}
	})
}
