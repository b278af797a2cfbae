package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// migFill creates, through c, the collections the migration tests copy:
//
//   - "plain": an unnamed Cosine vector of dimension 8, custom HNSW and
//     optimizer settings and metadata, n points (numeric ids and UUIDs)
//     with payloads, and keyword, integer (with parameters) and text
//     indexes;
//   - "named": vectors "img" (Dot, 4, with its own HNSW setting) and "txt"
//     (Euclid, 3), sparse vectors "kw" (IDF, with index parameters) and
//     "tags"; every third point has no "txt", every fifth no "kw", and
//     every seventh an empty "tags".
func migFill(t *testing.T, c Client, n int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName:   "plain",
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 8, Distance: qdrant.Distance_Cosine}),
		HnswConfig:       &qdrant.HnswConfigDiff{M: qdrant.PtrOf[uint64](12), EfConstruct: qdrant.PtrOf[uint64](64)},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf[uint64](5000)},
		OnDiskPayload:    qdrant.PtrOf(false),
		Metadata:         qdrant.NewValueMap(map[string]any{"owner": "tests"}),
	}))
	require.NoError(t, c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "named",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"img": {Size: 4, Distance: qdrant.Distance_Dot, HnswConfig: &qdrant.HnswConfigDiff{M: qdrant.PtrOf[uint64](6)}},
			"txt": {Size: 3, Distance: qdrant.Distance_Euclid},
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{
			"kw": {Modifier: qdrant.Modifier_Idf.Enum(), Index: &qdrant.SparseIndexConfig{
				FullScanThreshold: qdrant.PtrOf[uint64](500), Datatype: qdrant.Datatype_Float16.Enum()}},
			"tags": {},
		}),
	}))
	kw, integer, text := qdrant.FieldType_FieldTypeKeyword, qdrant.FieldType_FieldTypeInteger, qdrant.FieldType_FieldTypeText
	for _, ix := range []*qdrant.CreateFieldIndexCollection{
		{FieldName: "color", FieldType: &kw},
		{FieldName: "n", FieldType: &integer, FieldIndexParams: qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{
			Lookup: qdrant.PtrOf(false), Range: qdrant.PtrOf(true),
		})},
		{FieldName: "title", FieldType: &text},
	} {
		ix.CollectionName, ix.Wait = "plain", qdrant.PtrOf(true)
		_, err := c.CreateFieldIndex(ctx, ix)
		require.NoError(t, err)
	}

	rng := rand.New(rand.NewPCG(uint64(n), 3))
	vec := func(dim int) []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return v
	}
	var plain, named []*qdrant.PointStruct
	for i := range n {
		id := qdrant.NewIDNum(uint64(i) * 3)
		if i%10 == 9 {
			id = qdrant.NewIDUUID(fmt.Sprintf("%08x-0000-4000-8000-%012x", rng.Uint32(), i))
		}
		pl := map[string]any{"color": []string{"red", "green", "blue"}[i%3], "n": int64(i), "title": fmt.Sprintf("point number %d", i)}
		if i%4 == 0 {
			pl["nested"] = map[string]any{"a": []any{1.5, "x", nil, true}}
		}
		plain = append(plain, &qdrant.PointStruct{Id: id, Vectors: qdrant.NewVectorsDense(vec(8)), Payload: qdrant.NewValueMap(pl)})
		vs := map[string]*qdrant.Vector{"img": qdrant.NewVectorDense(vec(4))}
		if i%3 != 0 {
			vs["txt"] = qdrant.NewVectorDense(vec(3))
		}
		if i%5 != 0 {
			vs["kw"] = qdrant.NewVectorSparse([]uint32{uint32(i % 17), uint32(100 + i%5), uint32(1000 + i)}, vec(3))
		}
		if i%7 == 0 {
			vs["tags"] = qdrant.NewVectorSparse([]uint32{}, []float32{})
		} else {
			vs["tags"] = qdrant.NewVectorSparse([]uint32{uint32(i % 3)}, []float32{1})
		}
		named = append(named, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsMap(vs), Payload: qdrant.NewValueMap(map[string]any{"i": int64(i)})})
	}
	for coll, pts := range map[string][]*qdrant.PointStruct{"plain": plain, "named": named} {
		for len(pts) > 0 {
			k := min(len(pts), 100)
			_, err := c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: coll, Wait: qdrant.PtrOf(true), Points: pts[:k]})
			require.NoError(t, err)
			pts = pts[k:]
		}
	}
}

// migAll returns every point of a collection, with vectors and payload, in
// id order.
func migAll(t *testing.T, c Client, coll string) []*qdrant.RetrievedPoint {
	t.Helper()
	pts, next, err := c.ScrollAndOffset(context.Background(), &qdrant.ScrollPoints{
		CollectionName: coll, Limit: qdrant.PtrOf[uint32](1 << 20),
		WithPayload: qdrant.NewWithPayload(true), WithVectors: qdrant.NewWithVectors(true),
	})
	require.NoError(t, err)
	require.Nil(t, next)
	return pts
}

// migRequireCopied requires the target collection to be a copy of the
// source's: the same configuration, payload schema, points (ids, vectors,
// payloads) and count.
func migRequireCopied(t *testing.T, from, to Client, coll string) {
	t.Helper()
	ctx := context.Background()
	src, err := from.GetCollectionInfo(ctx, coll)
	require.NoError(t, err)
	dst, err := to.GetCollectionInfo(ctx, coll)
	require.NoError(t, err)
	require.True(t, proto.Equal(src.GetConfig(), dst.GetConfig()), "config\nsource: %v\ntarget: %v", src.GetConfig(), dst.GetConfig())
	require.Equal(t, len(src.GetPayloadSchema()), len(dst.GetPayloadSchema()))
	for key, s := range src.GetPayloadSchema() {
		require.True(t, proto.Equal(s, dst.GetPayloadSchema()[key]), "payload index %q: %v, %v", key, s, dst.GetPayloadSchema()[key])
	}
	a, b := migAll(t, from, coll), migAll(t, to, coll)
	require.NotEmpty(t, a)
	if coll == "named" {
		// The sparse vectors are there to copy.
		require.Equal(t, []uint32{1, 101, 1001}, a[1].GetVectors().GetVectors().GetVectors()["kw"].GetSparse().GetIndices())
	}
	require.Equal(t, len(a), len(b))
	for i := range a {
		require.True(t, proto.Equal(a[i], b[i]), "point %d\nsource: %v\ntarget: %v", i, a[i], b[i])
	}
	na, err := from.Count(ctx, &qdrant.CountPoints{CollectionName: coll, Exact: qdrant.PtrOf(true)})
	require.NoError(t, err)
	nb, err := to.Count(ctx, &qdrant.CountPoints{CollectionName: coll, Exact: qdrant.PtrOf(true)})
	require.NoError(t, err)
	require.Equal(t, na, nb)
	require.Equal(t, uint64(len(a)), na)
}

// migReadState reads a collection's state file.
func migReadState(t *testing.T, dir, coll string) migState {
	t.Helper()
	b, err := os.ReadFile(MigrateStatePath(dir, coll))
	require.NoError(t, err)
	var s migState
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

// TestMigrateEmbeddedToServer copies every collection of an embedded
// database to a qlite server, reached as grpc://HOST:PORT.
func TestMigrateEmbeddedToServer(t *testing.T) {
	from := NewEmbedded(embOpenDB(t, t.TempDir()))
	migFill(t, from, 300)
	_, addr := embServe(t, embOpenDB(t, t.TempDir()), &ServerConfig{APIKey: "secret"})
	to, err := OpenEndpoint("grpc://"+addr, &EndpointOptions{APIKey: "secret"})
	require.NoError(t, err)
	defer to.Close()

	dir := t.TempDir()
	var progress, log bytes.Buffer
	require.NoError(t, Migrate(context.Background(), from, to, &MigrateOptions{BatchSize: 64, StateDir: dir, Progress: &progress, Log: &log}))
	for _, coll := range []string{"named", "plain"} {
		migRequireCopied(t, from, to, coll)
		st := migReadState(t, dir, coll)
		require.True(t, st.Done)
		require.Equal(t, uint64(300), st.Copied)
	}
	require.Contains(t, progress.String(), "plain")
	require.Contains(t, progress.String(), "300/300")
	require.Contains(t, log.String(), `payload index "n" (integer) created`)

	// A rerun finds both collections done and checks their counts only.
	log.Reset()
	require.NoError(t, Migrate(context.Background(), from, to, &MigrateOptions{StateDir: dir, Log: &log}))
	require.NotContains(t, log.String(), "copied")
	require.Contains(t, log.String(), "named: done: 300 points")
	require.Equal(t, migState{Collection: "named", Copied: 300, Done: true}, migReadState(t, dir, "named"))

	// Without its state, the target collection holding points is refused.
	require.NoError(t, os.Remove(MigrateStatePath(dir, "plain")))
	err = Migrate(context.Background(), from, to, &MigrateOptions{StateDir: dir, Collections: []string{"plain"}})
	require.ErrorContains(t, err, "exists and holds 300 points")

	// A wrong API key is the server's error.
	bad, err := OpenEndpoint("grpc://"+addr, &EndpointOptions{APIKey: "wrong"})
	require.NoError(t, err)
	defer bad.Close()
	err = Migrate(context.Background(), from, bad, &MigrateOptions{StateDir: t.TempDir()})
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
}

// TestMigrateServerToEmbedded copies one named collection from a qlite
// server to a database directory, opened by OpenEndpoint, and reopens the
// directory to check it.
func TestMigrateServerToEmbedded(t *testing.T) {
	src, addr := embServe(t, embOpenDB(t, t.TempDir()), nil)
	migFill(t, src, 250)
	from, err := OpenEndpoint("grpc://"+addr, nil)
	require.NoError(t, err)
	defer from.Close()

	path := filepath.Join(t.TempDir(), "db")
	_, err = OpenEndpoint(path, &EndpointOptions{MustExist: true})
	require.Error(t, err)
	to, err := OpenEndpoint(path, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, Migrate(context.Background(), from, to, &MigrateOptions{Collections: []string{"named"}, BatchSize: 40, StateDir: dir}))
	require.NoError(t, to.Close())
	require.NoError(t, to.Close())

	db := embOpenDB(t, path)
	names, err := db.ListCollections(context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{"named"}, names)
	migRequireCopied(t, from, NewEmbedded(db), "named")
	_, err = os.Stat(MigrateStatePath(dir, "plain"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// migCountingClient counts the upserts that reach a client, and cancels
// the migration's context after a number of them.
type migCountingClient struct {
	Client
	upserts     atomic.Int64
	cancelAfter int64
	cancel      context.CancelFunc
}

func (c *migCountingClient) Upsert(ctx context.Context, r *qdrant.UpsertPoints) (*qdrant.UpdateResult, error) {
	res, err := c.Client.Upsert(ctx, r)
	if err == nil && c.upserts.Add(1) == c.cancelAfter {
		c.cancel()
	}
	return res, err
}

// TestMigrateResume interrupts a migration after some batches, then runs it
// again: it continues from the state file, writes only the remaining
// batches and ends with equal counts and points.
func TestMigrateResume(t *testing.T) {
	from := NewEmbedded(embOpenDB(t, t.TempDir()))
	migFill(t, from, 500)
	target, _ := embServe(t, embOpenDB(t, t.TempDir()), nil)
	dir := t.TempDir()
	const batch = 30
	batches := (500 + batch - 1) / batch

	ctx, cancel := context.WithCancel(context.Background())
	to := &migCountingClient{Client: target, cancelAfter: 5, cancel: cancel}
	err := Migrate(ctx, from, to, &MigrateOptions{Collections: []string{"plain"}, BatchSize: batch, StateDir: dir})
	require.Equal(t, codes.Canceled, status.Code(err), "%v", err)
	st := migReadState(t, dir, "plain")
	require.False(t, st.Done)
	require.Equal(t, uint64(5*batch), st.Copied)
	require.NotNil(t, st.NextOffset)
	n, err := target.Count(context.Background(), &qdrant.CountPoints{CollectionName: "plain", Exact: qdrant.PtrOf(true)})
	require.NoError(t, err)
	require.Equal(t, st.Copied, n)

	// The recorded offset is the id of the first point not copied.
	all := migAll(t, from, "plain")
	require.True(t, proto.Equal(all[5*batch].GetId(), st.NextOffset.id()), "%v", st.NextOffset)

	to = &migCountingClient{Client: target}
	require.NoError(t, Migrate(context.Background(), from, to, &MigrateOptions{Collections: []string{"plain"}, BatchSize: batch, StateDir: dir}))
	require.Equal(t, int64(batches-5), to.upserts.Load())
	migRequireCopied(t, from, target, "plain")
	st = migReadState(t, dir, "plain")
	require.True(t, st.Done)
	require.Equal(t, uint64(500), st.Copied)
}

// TestMigrateExistingTarget covers target collections that exist before the
// migration: empty with the same vectors is used, other vectors are
// refused, and a target that gained points fails the count check.
func TestMigrateExistingTarget(t *testing.T) {
	ctx := context.Background()
	from := NewEmbedded(embOpenDB(t, t.TempDir()))
	migFill(t, from, 50)
	to := NewEmbedded(embOpenDB(t, t.TempDir()))
	require.NoError(t, to.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "plain",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 8, Distance: qdrant.Distance_Cosine}),
	}))
	require.NoError(t, to.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "named",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Dot}),
	}))
	dir := t.TempDir()
	err := Migrate(ctx, from, to, &MigrateOptions{Collections: []string{"named"}, StateDir: dir})
	require.ErrorContains(t, err, `vector "img" (size 4, Dot) is missing`)

	require.NoError(t, Migrate(ctx, from, to, &MigrateOptions{Collections: []string{"plain"}, StateDir: dir}))
	pts, err := to.Get(ctx, &qdrant.GetPoints{CollectionName: "plain", Ids: []*qdrant.PointId{qdrant.NewIDNum(3)}, WithVectors: qdrant.NewWithVectors(true)})
	require.NoError(t, err)
	want, err := from.Get(ctx, &qdrant.GetPoints{CollectionName: "plain", Ids: []*qdrant.PointId{qdrant.NewIDNum(3)}, WithVectors: qdrant.NewWithVectors(true)})
	require.NoError(t, err)
	require.Len(t, pts, 1)
	require.True(t, proto.Equal(want[0], pts[0]))

	_, err = to.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "plain", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsDense([]float32{1, 0, 0, 0, 0, 0, 0, 0})},
	}})
	require.NoError(t, err)
	err = Migrate(ctx, from, to, &MigrateOptions{Collections: []string{"plain"}, StateDir: dir})
	require.ErrorContains(t, err, "count check: the source has 50 points, the target 51")
	require.False(t, migReadState(t, dir, "plain").Done)
}

// TestMigrateOptions checks option validation and endpoint parsing.
func TestMigrateOptions(t *testing.T) {
	e := NewEmbedded(embOpenDB(t, t.TempDir()))
	require.ErrorContains(t, Migrate(context.Background(), e, e, &MigrateOptions{BatchSize: -1}), "batch size")
	err := Migrate(context.Background(), e, e, &MigrateOptions{Collections: []string{"missing"}, StateDir: t.TempDir()})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	for _, bad := range []string{"http://localhost:6333", "grpc://", "grpc://host:port", "grpc://host:0"} {
		_, err := OpenEndpoint(bad, nil)
		require.Error(t, err, bad)
	}
	require.Equal(t, filepath.Join("d", ".qlite-migrate-a%2Fb.json"), MigrateStatePath("d", "a/b"))
	require.True(t, strings.HasSuffix(MigrateStatePath("", "plain"), ".qlite-migrate-plain.json"))
}
