package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
)

// The targets of the keyword-search benchmark.
const (
	// BM25TargetQdrant is the real Qdrant server (BM25Config.QdrantBin),
	// started by the run.
	BM25TargetQdrant = "qdrant"
	// BM25TargetQlite is `qlite serve` (BM25Config.Exe) in a process of its
	// own, started by the run; without Exe, compat.NewServer in the run's
	// process.
	BM25TargetQlite = "qlite"
	// BM25TargetEmbedded is qlite in process through go-client's API
	// (compat.NewEmbedded).
	BM25TargetEmbedded = "embedded"
)

// BM25Targets are the named targets of RunBM25; a grpc://HOST:PORT server
// is measured too.
var BM25Targets = []string{BM25TargetQdrant, BM25TargetQlite, BM25TargetEmbedded}

const (
	bm25Collection      = "qlite_bench_bm25"
	bm25QueryCollection = "qlite_bench_bm25_queries"
	bm25Vector          = "bm25"
	bm25Model           = "qdrant/bm25"
)

// bm25Target is one open target: a go-client API and, for a server in a
// process of its own, that process's id.
type bm25Target struct {
	c   compat.Client
	pid int
	// inProcess: the target runs in the benchmark's process, whose memory
	// figures then include the corpus and the client.
	inProcess bool
	version   string
	stop      func() error
}

// openBM25Target starts (or connects to) target.
func openBM25Target(ctx context.Context, c *BM25Config, target string) (*bm25Target, error) {
	switch {
	case target == BM25TargetQdrant:
		if c.QdrantBin == "" {
			return nil, errors.New("bench: target qdrant needs the Qdrant server binary (--qdrant-bin)")
		}
		q, err := startQdrant(ctx, c.QdrantBin)
		if err != nil {
			return nil, err
		}
		cl, err := dialGRPC(q.grpc)
		if err != nil {
			return nil, errors.Join(err, q.stop())
		}
		return &bm25Target{c: cl, pid: q.cmd.Process.Pid, version: q.version,
			stop: func() error { return errors.Join(cl.Close(), q.stop()) }}, nil
	case target == BM25TargetQlite && c.Exe != "":
		s, err := serveChild(ctx, c.Exe, c.Log)
		if err != nil {
			return nil, err
		}
		cl, err := dialGRPC(s.grpc)
		if err != nil {
			return nil, errors.Join(err, s.stop())
		}
		return &bm25Target{c: cl, pid: s.cmd.Process.Pid,
			stop: func() error { return errors.Join(cl.Close(), s.stop()) }}, nil
	case target == BM25TargetQlite, target == BM25TargetEmbedded:
		dir, err := os.MkdirTemp("", "qlite-bench-bm25-")
		if err != nil {
			return nil, err
		}
		db, err := engine.Open(dir, nil)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		closeDB := func() error { return errors.Join(db.Close(), os.RemoveAll(dir)) }
		if target == BM25TargetEmbedded {
			cl := compat.NewEmbedded(db)
			return &bm25Target{c: cl, inProcess: true, stop: func() error { return errors.Join(cl.Close(), closeDB()) }}, nil
		}
		srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
		sctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(sctx) }()
		_, addr, err := srv.Addrs(ctx)
		var cl *qdrant.Client
		if err == nil {
			cl, err = dialGRPC(addr)
		}
		if err != nil {
			cancel()
			return nil, errors.Join(err, <-served, closeDB())
		}
		return &bm25Target{c: cl, inProcess: true, stop: func() error {
			err := cl.Close()
			cancel()
			return errors.Join(err, <-served, closeDB())
		}}, nil
	case strings.HasPrefix(target, "grpc://"):
		cl, err := dialGRPC(strings.TrimPrefix(target, "grpc://"))
		if err != nil {
			return nil, fmt.Errorf("bench: target %s: %w", target, err)
		}
		return &bm25Target{c: cl, stop: cl.Close}, nil
	}
	return nil, fmt.Errorf("bench: unknown keyword-search target %q (known: %s, grpc://HOST:PORT)", target, strings.Join(BM25Targets, ", "))
}

func dialGRPC(addr string) (*qdrant.Client, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("port: %w", err)
	}
	return qdrant.NewClient(&qdrant.Config{Host: host, Port: p, SkipCompatibilityCheck: true})
}

// qdrantServer is a Qdrant server binary running in a child process.
type qdrantServer struct {
	cmd     *exec.Cmd
	dir     string
	grpc    string
	version string
	exited  chan error
}

// startQdrant starts the Qdrant server bin over a new storage directory on
// free loopback ports, as the official container image runs it: its
// compiled-in default configuration (RUN_MODE=production and a working
// directory without config/), telemetry off. It waits until /readyz
// answers, up to a minute.
func startQdrant(ctx context.Context, bin string) (*qdrantServer, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	version := ""
	if out, err := exec.CommandContext(ctx, bin, "--version").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	dir, httpPort, grpcPort, err := serverDir("qlite-bench-qdrant-")
	if err != nil {
		return nil, err
	}
	work := filepath.Join(dir, "run")
	if err := os.MkdirAll(filepath.Join(work, "snapshots"), 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &qdrantServer{dir: dir, grpc: net.JoinHostPort("127.0.0.1", strconv.Itoa(grpcPort)), version: version, exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, "--disable-telemetry")
	s.cmd.Dir = work
	s.cmd.Env = append(os.Environ(),
		"RUN_MODE=production",
		"QDRANT__SERVICE__HOST=127.0.0.1",
		"QDRANT__SERVICE__HTTP_PORT="+strconv.Itoa(httpPort),
		"QDRANT__SERVICE__GRPC_PORT="+strconv.Itoa(grpcPort),
		"QDRANT__STORAGE__STORAGE_PATH="+filepath.Join(dir, "storage"),
		"QDRANT__STORAGE__SNAPSHOTS_PATH="+filepath.Join(work, "snapshots"),
		"QDRANT__TELEMETRY_DISABLED=true",
	)
	// The server's log is kept for the error of a failed start, not
	// copied: it logs every collection operation.
	tail := &tailWriter{}
	s.cmd.Stdout, s.cmd.Stderr = tail, tail
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bench: start qdrant: %w", err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort)
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := hc.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("bench: qdrant exited: %v: %s", err, lastLine(tail.String()))
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
		}
		s.cmd.Process.Kill()
		<-s.exited
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bench: qdrant not ready: %s", lastLine(tail.String()))
	}
}

// stop stops the server with SIGTERM (SIGKILL after 30 s) and removes its
// directories.
func (s *qdrantServer) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	return os.RemoveAll(s.dir)
}

// createBM25Collection (re)creates coll with one sparse vector "bm25"
// with the IDF modifier and Qdrant's defaults otherwise.
func createBM25Collection(ctx context.Context, cl compat.Client, coll string) error {
	if ok, err := cl.CollectionExists(ctx, coll); err != nil {
		return err
	} else if ok {
		if err := cl.DeleteCollection(ctx, coll); err != nil {
			return err
		}
	}
	return cl.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: coll,
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{
			bm25Vector: {Modifier: qdrant.Modifier_Idf.Enum()},
		}),
	})
}

// uploadTexts upserts texts[i] as point id i+1, a qdrant/bm25 document in
// vector "bm25", in batches of uploadBatch with wait, counting on bar.
func uploadTexts(ctx context.Context, cl compat.Client, coll string, texts func(i int) string, n int, bar *progress) error {
	pts := make([]*qdrant.PointStruct, 0, uploadBatch)
	for from := 0; from < n; from += uploadBatch {
		pts = pts[:0]
		for i := from; i < min(n, from+uploadBatch); i++ {
			pts = append(pts, &qdrant.PointStruct{
				Id: qdrant.NewIDNum(uint64(i + 1)),
				Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
					bm25Vector: qdrant.NewVectorDocument(&qdrant.Document{Text: texts(i), Model: bm25Model}),
				}),
			})
		}
		if _, err := cl.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: coll, Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
			return fmt.Errorf("bench: upload to %s: %w", coll, err)
		}
		bar.Add(len(pts))
	}
	return nil
}

// waitGreen polls coll's status until it is green.
func waitGreen(ctx context.Context, cl compat.Client, coll string) error {
	for {
		info, err := cl.GetCollectionInfo(ctx, coll)
		if err != nil {
			return err
		}
		if info.GetStatus() == qdrant.CollectionStatus_Green {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fetchSparse scrolls coll and returns the "bm25" vector of points 1..n
// (empty for a point stored without one).
func fetchSparse(ctx context.Context, cl compat.Client, coll string, n int) ([]sparseVec, error) {
	out := make([]sparseVec, n)
	var offset *qdrant.PointId
	for {
		pts, next, err := cl.ScrollAndOffset(ctx, &qdrant.ScrollPoints{
			CollectionName: coll, Offset: offset, Limit: qdrant.PtrOf(uint32(1000)),
			WithVectors: qdrant.NewWithVectors(true), WithPayload: qdrant.NewWithPayload(false),
		})
		if err != nil {
			return nil, fmt.Errorf("bench: scroll %s: %w", coll, err)
		}
		for _, p := range pts {
			id := p.GetId().GetNum()
			if id == 0 || id > uint64(n) {
				return nil, fmt.Errorf("bench: scroll %s: unexpected point id %v", coll, p.GetId())
			}
			v := p.GetVectors().GetVectors().GetVectors()[bm25Vector]
			if v == nil {
				continue
			}
			if s := v.GetSparse(); s != nil {
				out[id-1] = sortedSparse(s.GetIndices(), s.GetValues())
			} else {
				//lint:ignore SA1019 servers may still answer with the deprecated fields
				out[id-1] = sortedSparse(v.GetIndices().GetData(), v.GetData())
			}
		}
		if next == nil || len(pts) == 0 {
			return out, nil
		}
		offset = next
	}
}

// embedQueries returns the query-side BM25 vectors of texts as the target
// computes them: each text is uploaded as a document into a scratch
// collection, its stored indices read back and given weight 1 each, the
// weight a qdrant/bm25 query gives every distinct token. The scratch
// collection is deleted.
func embedQueries(ctx context.Context, cl compat.Client, texts []string) ([]sparseVec, error) {
	if err := createBM25Collection(ctx, cl, bm25QueryCollection); err != nil {
		return nil, err
	}
	err := uploadTexts(ctx, cl, bm25QueryCollection, func(i int) string { return texts[i] }, len(texts), nil)
	var vecs []sparseVec
	if err == nil {
		vecs, err = fetchSparse(ctx, cl, bm25QueryCollection, len(texts))
	}
	err = errors.Join(err, cl.DeleteCollection(ctx, bm25QueryCollection))
	if err != nil {
		return nil, err
	}
	for i := range vecs {
		vecs[i].Values = make([]float32, len(vecs[i].Indices))
		for j := range vecs[i].Values {
			vecs[i].Values[j] = 1
		}
	}
	return vecs, nil
}

// bm25QueryKinds are the two ways a query is sent: as a qdrant/bm25
// document (the server embeds it) and as the precomputed sparse vector.
var bm25QueryKinds = []string{"document", "sparse"}

// searchBM25 runs query i of kind ("document": text; "sparse": vec) and
// returns the points found with their scores.
func searchBM25(ctx context.Context, cl compat.Client, kind, text string, vec sparseVec, k int) ([]scoredID, error) {
	var q *qdrant.Query
	if kind == "document" {
		q = qdrant.NewQueryNearest(qdrant.NewVectorInputDocument(&qdrant.Document{Text: text, Model: bm25Model}))
	} else {
		q = qdrant.NewQuerySparse(vec.Indices, vec.Values)
	}
	pts, err := cl.Query(ctx, &qdrant.QueryPoints{
		CollectionName: bm25Collection,
		Query:          q,
		Using:          qdrant.PtrOf(bm25Vector),
		Limit:          qdrant.PtrOf(uint64(k)),
	})
	if err != nil {
		return nil, err
	}
	out := make([]scoredID, len(pts))
	for j, p := range pts {
		out[j] = scoredID{ID: p.GetId().GetNum(), Score: float64(p.GetScore())}
	}
	return out, nil
}
