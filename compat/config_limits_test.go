package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
)

// grpcServes checks that every collection of db takes an upsert and
// answers a search through the gRPC services.
func grpcServes(t *testing.T, db *engine.DB) {
	t.Helper()
	ctx := context.Background()
	c := NewEmbedded(db)
	names, err := db.ListCollections(ctx)
	require.NoError(t, err)
	for _, name := range names {
		info, err := db.CollectionInfo(ctx, name)
		require.NoError(t, err)
		require.NotEqual(t, engine.StatusRed, info.Status, info.Reason)
		vecs := map[string]*qdrant.Vector{}
		var using string
		var query []float32
		for n, vp := range info.Config.Params.Vectors {
			v := make([]float32, vp.Size)
			v[0] = 1
			vecs[n], using, query = qdrant.NewVectorDense(v), n, v
		}
		_, err = c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: name, Wait: qdrant.PtrOf(true),
			Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(vecs)}}})
		require.NoError(t, err)
		res, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: name, Query: qdrant.NewQueryDense(query), Using: &using})
		require.NoError(t, err)
		require.Len(t, res, 1)
	}
}

// TestConfigLimitsGRPC creates and updates collections over gRPC with
// values Qdrant accepts and qlite cannot serve, and with values around
// every limit: a refusal is InvalidArgument and changes nothing, and after
// each request the store reopens and serves.
func TestConfigLimitsGRPC(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	open := func() *engine.DB {
		db, err := engine.Open(dir, &engine.Options{DisableOptimizer: true, IndexingWorkers: 1})
		require.NoError(t, err)
		return db
	}
	db := open()
	c := NewEmbedded(db)
	vec := qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Dot})

	err := c.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "x", VectorsConfig: vec,
		HnswConfig: &qdrant.HnswConfigDiff{M: qdrant.PtrOf[uint64](5000)}})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "hnsw_config.m: value 5000 invalid, qlite supports m from 2 to 1024")
	require.NoError(t, c.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "c", VectorsConfig: vec}))
	err = c.UpdateCollection(ctx, &qdrant.UpdateCollection{CollectionName: "c",
		HnswConfig: &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf[uint64](1 << 20)}})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "qlite supports ef_construct from 4 to 65536")
	require.NoError(t, db.Close())

	db = open()
	names, err := db.ListCollections(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, names)
	info, err := db.CollectionInfo(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, 100, info.Config.HNSW.EfConstruct, "the refused update changed nothing")
	grpcServes(t, db)
	require.NoError(t, db.Close())

	// Random values around the limits, create then update.
	rng := rand.New(rand.NewPCG(20, 2))
	vals := []uint64{0, 1, 2, 4, 10, 1024, 1025, 65536, 65537, 1 << 40, 1<<63 - 1, 1<<63 + 5, 1<<64 - 1}
	pick := func() *uint64 {
		if rng.IntN(2) == 0 {
			return nil
		}
		return qdrant.PtrOf(vals[rng.IntN(len(vals))])
	}
	hnsw := func() *qdrant.HnswConfigDiff {
		return &qdrant.HnswConfigDiff{M: pick(), EfConstruct: pick(), FullScanThreshold: pick(), MaxIndexingThreads: pick(), PayloadM: pick()}
	}
	opt := func() *qdrant.OptimizersConfigDiff {
		return &qdrant.OptimizersConfigDiff{VacuumMinVectorNumber: pick(), DefaultSegmentNumber: pick(), MaxSegmentSize: pick(),
			MemmapThreshold: pick(), IndexingThreshold: pick(), FlushIntervalSec: pick()}
	}
	for i := range 30 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			db := open()
			defer func() { require.NoError(t, db.Close()) }()
			c := NewEmbedded(db)
			_, err := db.DeleteCollection(ctx, "r")
			require.NoError(t, err)
			size := []uint64{0, 1, 4, 65537}[rng.IntN(4)]
			req := &qdrant.CreateCollection{CollectionName: "r", HnswConfig: hnsw(), OptimizersConfig: opt(),
				VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: size, Distance: qdrant.Distance_Dot, HnswConfig: hnsw()})}
			if err := c.CreateCollection(ctx, req); err != nil {
				require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
			} else if err := c.UpdateCollection(ctx, &qdrant.UpdateCollection{CollectionName: "r", HnswConfig: hnsw(), OptimizersConfig: opt()}); err != nil {
				require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
			}
			require.NoError(t, db.Close())
			db = open()
			grpcServes(t, db)
		})
	}
}

// migConfigSource reports its collections with an HNSW m of 5000, which
// Qdrant accepts and qlite cannot store.
type migConfigSource struct{ Client }

func (s migConfigSource) GetCollectionInfo(ctx context.Context, name string) (*qdrant.CollectionInfo, error) {
	info, err := s.Client.GetCollectionInfo(ctx, name)
	if err == nil {
		info.Config.HnswConfig.M = qdrant.PtrOf[uint64](5000)
	}
	return info, err
}

// TestConfigLimitsMigrate migrates a collection whose configuration qlite
// cannot serve: the migration fails before anything is written, naming
// qlite's limit, and the target store reopens without the collection.
func TestConfigLimitsMigrate(t *testing.T) {
	src := embOpenDB(t, t.TempDir())
	from := NewEmbedded(src)
	migFill(t, from, 20)
	path := filepath.Join(t.TempDir(), "db")
	to, err := OpenEndpoint(path, nil)
	require.NoError(t, err)
	err = Migrate(context.Background(), migConfigSource{from}, to, &MigrateOptions{Collections: []string{"plain"}, StateDir: t.TempDir()})
	require.ErrorContains(t, err, "qlite supports m from 2 to 1024")
	require.NoError(t, to.Close())

	db := embOpenDB(t, path)
	names, err := db.ListCollections(context.Background())
	require.NoError(t, err)
	require.Empty(t, names)
}

// TestFailedCollectionReported opens a store holding a collection record
// that does not decode (written straight into the store, as the engine's
// format puts it: key 0x03 and the name) and checks that REST and gRPC
// report it red with the reason, refuse requests to it with a clear error,
// serve the other collection, and delete it.
func TestFailedCollectionReported(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	db, err := engine.Open(dir, &engine.Options{DisableOptimizer: true})
	require.NoError(t, err)
	require.NoError(t, db.CreateCollection(ctx, "good", &engine.CreateCollection{Vectors: engine.VectorsConfig{"": {Size: 4, Distance: 1}}}))
	require.NoError(t, db.Close())
	store, err := pebble.Open(filepath.Join(dir, "pebble"), &pebble.Options{})
	require.NoError(t, err)
	require.NoError(t, store.Set(append([]byte{0x03}, "bad"...), []byte("garbage"), pebble.Sync))
	require.NoError(t, store.Close())

	var log strings.Builder
	db, err = engine.Open(dir, &engine.Options{DisableOptimizer: true, Log: &log})
	require.NoError(t, err)
	defer db.Close()
	require.Contains(t, log.String(), `collection "bad" failed to load`)
	srv := httptest.NewServer(NewREST(db, nil))
	defer srv.Close()
	get := func(method, path string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	code, out := get("GET", "/collections/bad")
	require.Equal(t, 200, code)
	res := out["result"].(map[string]any)
	require.Equal(t, "red", res["status"])
	require.Contains(t, res["optimizer_status"].(map[string]any)["error"], "collection record")
	code, out = get("POST", "/collections/bad/points/scroll")
	require.Equal(t, 500, code)
	require.Contains(t, out["status"].(map[string]any)["error"], "delete it to recover")
	info, err := NewEmbedded(db).GetCollectionInfo(ctx, "bad")
	require.NoError(t, err)
	require.Equal(t, qdrant.CollectionStatus_Red, info.GetStatus())
	require.NotEmpty(t, info.GetOptimizerStatus().GetError())
	code, _ = get("POST", "/collections/good/points/scroll")
	require.Equal(t, 200, code)
	code, _ = get("DELETE", "/collections/bad")
	require.Equal(t, 200, code)
	grpcServes(t, db)
}
