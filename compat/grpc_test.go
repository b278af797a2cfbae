package compat

import (
	"context"
	"fmt"
	"math"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// grpcEnv is a qlite gRPC server on a loopback port over a fresh engine,
// with the official go-client connected to it. The engine is the oracle:
// tests compare what the client gets with what the engine answers directly.
type grpcEnv struct {
	db     *engine.DB
	client *qdrant.Client
	port   int
}

var bg = context.Background()

// newGRPCEnv starts a server and a client. The background optimizer is off,
// so that the engine's state does not change between a call through gRPC
// and the same call made directly. The client skips its version check
// (a test binary does not know the client's version); TestGRPCHealth
// covers HealthCheck.
func newGRPCEnv(t *testing.T) *grpcEnv {
	t.Helper()
	db, err := engine.Open(t.TempDir(), &engine.Options{DisableOptimizer: true, IndexingWorkers: 1})
	require.NoError(t, err)
	srv := grpc.NewServer(ServerOptions()...)
	NewServices(db).Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	port := lis.Addr().(*net.TCPAddr).Port
	client, err := qdrant.NewClient(&qdrant.Config{Host: "127.0.0.1", Port: port, SkipCompatibilityCheck: true})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, client.Close())
		srv.Stop()
		<-done
		require.NoError(t, db.CheckInvariants())
		require.NoError(t, db.Close())
	})
	return &grpcEnv{db: db, client: client, port: port}
}

// requireCode asserts that err is a gRPC status with the code, and that its
// message contains each of the fragments.
func requireCode(t *testing.T, err error, code codes.Code, fragments ...string) {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a status error: %v", err)
	require.Equal(t, code, st.Code(), "message: %s", st.Message())
	for _, f := range fragments {
		require.Contains(t, st.Message(), f)
	}
}

// idString writes a protobuf point id independently of the conversions
// under test.
func idString(p *qdrant.PointId) string {
	switch x := p.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return fmt.Sprint(x.Num)
	case *qdrant.PointId_Uuid:
		return x.Uuid
	}
	return "<none>"
}

// protoToGo turns a protobuf value into plain Go values (int64 for
// integers, float64 for doubles), independently of the conversions under
// test.
func protoToGo(v *qdrant.Value) any {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_IntegerValue:
		return k.IntegerValue
	case *qdrant.Value_DoubleValue:
		return k.DoubleValue
	case *qdrant.Value_StringValue:
		return k.StringValue
	case *qdrant.Value_BoolValue:
		return k.BoolValue
	case *qdrant.Value_ListValue:
		out := []any{}
		for _, e := range k.ListValue.GetValues() {
			out = append(out, protoToGo(e))
		}
		return out
	case *qdrant.Value_StructValue:
		return protoMapToGo(k.StructValue.GetFields())
	}
	return nil
}

func protoMapToGo(m map[string]*qdrant.Value) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = protoToGo(v)
	}
	return out
}

// payloadToGo turns an engine payload into the same plain Go values.
func payloadToGo(v payload.Value) any {
	switch v.Kind() {
	case payload.Bool:
		b, _ := v.Bool()
		return b
	case payload.Int:
		i, _ := v.Int()
		return i
	case payload.Uint, payload.Float:
		f, _ := v.Number()
		return f
	case payload.String:
		s, _ := v.Str()
		return s
	case payload.Array:
		out := []any{}
		for _, e := range v.Array() {
			out = append(out, payloadToGo(e))
		}
		return out
	case payload.Object:
		out := map[string]any{}
		for _, f := range v.Fields() {
			out[f.Key] = payloadToGo(f.Value)
		}
		return out
	}
	return nil
}

// enginePayload returns a record's payload as plain Go values, an empty map
// when it has none (protobuf cannot tell them apart).
func enginePayload(v payload.Value) map[string]any {
	if m, ok := payloadToGo(v).(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// outputVectors returns the dense vectors of a result by name, reading only
// the oneof (qlite must not fill the deprecated fields).
func outputVectors(t *testing.T, v *qdrant.VectorsOutput) map[string][]float32 {
	t.Helper()
	if v == nil {
		return nil
	}
	dense := func(o *qdrant.VectorOutput) []float32 {
		require.Empty(t, o.GetData(), "deprecated data field set")
		require.Nil(t, o.GetIndices())
		require.Nil(t, o.VectorsCount)
		d, ok := o.GetVector().(*qdrant.VectorOutput_Dense)
		require.True(t, ok, "vector is not dense: %v", o)
		return d.Dense.GetData()
	}
	switch x := v.GetVectorsOptions().(type) {
	case *qdrant.VectorsOutput_Vector:
		return map[string][]float32{"": dense(x.Vector)}
	case *qdrant.VectorsOutput_Vectors:
		out := map[string][]float32{}
		for name, o := range x.Vectors.GetVectors() {
			out[name] = dense(o)
		}
		return out
	}
	t.Fatalf("vectors output with nothing set")
	return nil
}

// requireScoredEqual asserts that results from gRPC match the engine's:
// ids in order, scores, versions, payloads and vectors.
func requireScoredEqual(t *testing.T, want []engine.ScoredPoint, got []*qdrant.ScoredPoint) {
	t.Helper()
	require.Len(t, got, len(want), "ids %v vs %v", scoredIDs(want), protoScoredIDs(got))
	for i := range want {
		require.Equal(t, want[i].ID.String(), idString(got[i].GetId()), "result %d", i)
		require.Equal(t, want[i].Score, got[i].GetScore(), "result %d", i)
		require.Equal(t, want[i].Version, got[i].GetVersion(), "result %d", i)
		require.Equal(t, enginePayload(want[i].Payload), protoMapToGo(got[i].GetPayload()), "result %d", i)
		require.Equal(t, want[i].Vectors, outputVectors(t, got[i].GetVectors()), "result %d", i)
	}
}

// requireRecordsEqual is requireScoredEqual for records.
func requireRecordsEqual(t *testing.T, want []engine.Record, got []*qdrant.RetrievedPoint) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].ID.String(), idString(got[i].GetId()), "record %d", i)
		require.Equal(t, enginePayload(want[i].Payload), protoMapToGo(got[i].GetPayload()), "record %d", i)
		require.Equal(t, want[i].Vectors, outputVectors(t, got[i].GetVectors()), "record %d", i)
	}
}

func scoredIDs(ps []engine.ScoredPoint) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID.String()
	}
	return out
}

func protoScoredIDs(ps []*qdrant.ScoredPoint) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = idString(p.GetId())
	}
	return out
}

// Test data: points with every kind of payload the filters test.

const testDim = 4

var testColors = []string{"red", "green", "blue"}

// testPoints returns n points with deterministic vectors and payloads. Every
// seventh point has a UUID id.
func testPoints(n int) []*qdrant.PointStruct {
	pts := make([]*qdrant.PointStruct, n)
	for i := range n {
		id := qdrant.NewIDNum(uint64(i + 1))
		if i%7 == 6 {
			id = qdrant.NewIDUUID(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i))
		}
		vec := []float32{
			float32(math.Sin(float64(i))), float32(math.Cos(float64(i) * 0.7)),
			float32(i%5) / 5, float32((i*7)%11)/11 - 0.5,
		}
		pl := map[string]any{
			"color": testColors[i%3],
			"n":     i,
			"f":     float64(i) * 0.5,
			"tags":  []any{fmt.Sprintf("t%d", i%4), fmt.Sprintf("t%d", i%5)},
			"city":  map[string]any{"name": fmt.Sprintf("c%d", i%6), "pop": i * 100},
			"loc":   map[string]any{"lon": float64(i%10) - 5, "lat": float64(i%8) - 4},
			"dt":    fmt.Sprintf("2024-01-%02dT%02d:00:00Z", i%28+1, i%24),
			"text":  fmt.Sprintf("the quick brown fox number %d jumps", i),
			"ok":    i%2 == 0,
			"items": []any{map[string]any{"a": i % 3, "b": fmt.Sprintf("x%d", i%2)}, map[string]any{"a": i % 4, "b": "y"}},
		}
		switch i % 5 {
		case 0:
			pl["maybe"] = nil
		case 1:
			pl["maybe"] = []any{}
		case 2:
			pl["maybe"] = 1.0
		}
		if i%6 == 0 {
			pl["one"] = 1
		} else if i%6 == 1 {
			pl["one"] = 1.0
		}
		pts[i] = &qdrant.PointStruct{Id: id, Vectors: qdrant.NewVectorsDense(vec), Payload: qdrant.NewValueMap(pl)}
	}
	return pts
}

// createTestCollection creates collection name with one unnamed vector of
// testDim dimensions through gRPC.
func (e *grpcEnv) createTestCollection(t *testing.T, name string, d qdrant.Distance) {
	t.Helper()
	require.NoError(t, e.client.CreateCollection(bg, &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: testDim, Distance: d}),
	}))
}

// loadTestPoints creates collection name and upserts n test points into it.
func (e *grpcEnv) loadTestPoints(t *testing.T, name string, d qdrant.Distance, n int) []*qdrant.PointStruct {
	t.Helper()
	e.createTestCollection(t, name, d)
	pts := testPoints(n)
	_, err := e.client.Upsert(bg, &qdrant.UpsertPoints{CollectionName: name, Wait: qdrant.PtrOf(true), Points: pts})
	require.NoError(t, err)
	return pts
}

func TestGRPCHealth(t *testing.T) {
	e := newGRPCEnv(t)
	r, err := e.client.HealthCheck(bg)
	require.NoError(t, err)
	require.Equal(t, "qdrant - vector search engine", r.GetTitle())
	require.Equal(t, "1.17.1", r.GetVersion())

	// Server reflection lists Qdrant's services, as on Qdrant's port 6334.
	stream, err := reflectionpb.NewServerReflectionClient(e.client.GetConnection()).ServerReflectionInfo(bg)
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
	rr, err := stream.Recv()
	require.NoError(t, err)
	var services []string
	for _, s := range rr.GetListServicesResponse().GetService() {
		services = append(services, s.GetName())
	}
	require.NoError(t, stream.CloseSend())
	for _, want := range []string{"qdrant.Qdrant", "qdrant.Collections", "qdrant.Points", "qdrant.Snapshots", "grpc.health.v1.Health"} {
		require.Contains(t, services, want)
	}

	h := healthpb.NewHealthClient(e.client.GetConnection())
	for _, svc := range []string{"", "qdrant.Points"} {
		hr, err := h.Check(bg, &healthpb.HealthCheckRequest{Service: svc})
		require.NoError(t, err)
		require.Equal(t, healthpb.HealthCheckResponse_SERVING, hr.GetStatus())
	}
}

// TestGRPCServerOptions checks the options a server needs for the
// go-client: large requests and the client's keepalive pings.
func TestGRPCServerOptions(t *testing.T) {
	e := newGRPCEnv(t)
	e.createTestCollection(t, "big", qdrant.Distance_Dot)
	// A request well over grpc-go's default 4 MiB limit.
	const n = 60000
	pts := make([]*qdrant.PointStruct, n)
	for i := range pts {
		pts[i] = &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsDense([]float32{1, 2, 3, float32(i)}),
			Payload: qdrant.NewValueMap(map[string]any{"s": "some padding to make the request larger"})}
	}
	_, err := e.client.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "big", Points: pts, Wait: qdrant.PtrOf(true)})
	require.NoError(t, err)
	n2, err := e.client.Count(bg, &qdrant.CountPoints{CollectionName: "big"})
	require.NoError(t, err)
	require.EqualValues(t, n, n2)

	// gzip-compressed requests are accepted, and answered compressed.
	resp, err := e.client.GetPointsClient().Count(bg, &qdrant.CountPoints{CollectionName: "big"}, grpc.UseCompressor(gzip.Name))
	require.NoError(t, err)
	require.EqualValues(t, n, resp.GetResult().GetCount())
}

func TestGRPCCollections(t *testing.T) {
	e := newGRPCEnv(t)
	c := e.client
	quantile := float32(0.99)
	err := c.CreateCollection(bg, &qdrant.CreateCollection{
		CollectionName: "named",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"text":  {Size: 8, Distance: qdrant.Distance_Cosine, HnswConfig: &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(32))}},
			"image": {Size: 3, Distance: qdrant.Distance_Euclid, OnDisk: qdrant.PtrOf(true), Datatype: qdrant.Datatype_Float32.Enum()},
		}),
		HnswConfig:        &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf(uint64(64))},
		OptimizersConfig:  &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(0)), MaxOptimizationThreads: qdrant.NewMaxOptimizationThreads(2)},
		WalConfig:         &qdrant.WalConfigDiff{WalCapacityMb: qdrant.PtrOf(uint64(64))},
		ReplicationFactor: qdrant.PtrOf(uint32(2)),
		QuantizationConfig: qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{
			Type: qdrant.QuantizationType_Int8, Quantile: &quantile, AlwaysRam: qdrant.PtrOf(true)}),
		StrictModeConfig: &qdrant.StrictModeConfig{Enabled: qdrant.PtrOf(true), MaxQueryLimit: qdrant.PtrOf(uint32(100)),
			SearchMaxOversampling: qdrant.PtrOf(float32(1.5)),
			MultivectorConfig: &qdrant.StrictModeMultivectorConfig{MultivectorConfig: map[string]*qdrant.StrictModeMultivector{
				"text": {MaxVectors: qdrant.PtrOf(uint64(4))}}}},
		Metadata: qdrant.NewValueMap(map[string]any{"owner": "me", "n": 3}),
	})
	require.NoError(t, err)

	// The engine stored what was asked, in Qdrant's REST shapes.
	cfg := mustInfo(t, e.db, "named").Config
	require.Equal(t, uint64(8), cfg.Params.Vectors["text"].Size)
	require.Equal(t, distance.Cosine, cfg.Params.Vectors["text"].Distance)
	require.Equal(t, 32, *cfg.Params.Vectors["text"].HNSW.M)
	require.Equal(t, distance.Euclid, cfg.Params.Vectors["image"].Distance)
	require.Equal(t, 64, cfg.HNSW.EfConstruct)
	require.Equal(t, 16, cfg.HNSW.M, "default m")
	require.Equal(t, 0, *cfg.Optimizers.IndexingThreshold)
	require.Equal(t, 2, *cfg.Optimizers.MaxOptimizationThreads)
	require.Equal(t, 64, cfg.WAL.WalCapacityMB)
	require.EqualValues(t, 2, cfg.Params.ReplicationFactor)
	require.JSONEq(t, `{"scalar":{"type":"int8","quantile":0.99,"always_ram":true}}`, string(cfg.Quantization))
	require.JSONEq(t, `{"enabled":true,"max_query_limit":100,"search_max_oversampling":1.5,"multivector_config":{"text":{"max_vectors":4}}}`, string(cfg.StrictMode))
	require.JSONEq(t, `"me"`, string(cfg.Metadata["owner"]))

	// And Get reports it back, defaults filled in.
	info, err := c.GetCollectionInfo(bg, "named")
	require.NoError(t, err)
	require.Equal(t, qdrant.CollectionStatus_Green, info.GetStatus())
	require.True(t, info.GetOptimizerStatus().GetOk())
	require.EqualValues(t, 0, info.GetPointsCount())
	pc := info.GetConfig().GetParams()
	require.EqualValues(t, 1, pc.GetShardNumber())
	require.EqualValues(t, 2, pc.GetReplicationFactor())
	require.EqualValues(t, 1, pc.GetWriteConsistencyFactor())
	require.True(t, pc.GetOnDiskPayload())
	vm := pc.GetVectorsConfig().GetParamsMap().GetMap()
	require.Len(t, vm, 2)
	require.EqualValues(t, 8, vm["text"].GetSize())
	require.Equal(t, qdrant.Distance_Cosine, vm["text"].GetDistance())
	require.EqualValues(t, 32, vm["text"].GetHnswConfig().GetM())
	require.Equal(t, qdrant.Distance_Euclid, vm["image"].GetDistance())
	require.True(t, vm["image"].GetOnDisk())
	require.Equal(t, qdrant.Datatype_Float32, vm["image"].GetDatatype())
	h := info.GetConfig().GetHnswConfig()
	require.EqualValues(t, 16, h.GetM())
	require.EqualValues(t, 64, h.GetEfConstruct())
	require.EqualValues(t, 10000, h.GetFullScanThreshold())
	require.NotNil(t, h.MaxIndexingThreads)
	o := info.GetConfig().GetOptimizerConfig()
	require.Equal(t, 0.2, o.GetDeletedThreshold())
	require.EqualValues(t, 1000, o.GetVacuumMinVectorNumber())
	require.EqualValues(t, 0, o.GetIndexingThreshold())
	require.NotNil(t, o.IndexingThreshold)
	require.EqualValues(t, 5, o.GetFlushIntervalSec())
	require.EqualValues(t, 2, o.GetMaxOptimizationThreads().GetValue())
	w := info.GetConfig().GetWalConfig()
	require.EqualValues(t, 64, w.GetWalCapacityMb())
	require.EqualValues(t, 0, w.GetWalSegmentsAhead())
	require.EqualValues(t, 1, w.GetWalRetainClosed())
	sq := info.GetConfig().GetQuantizationConfig().GetScalar()
	require.Equal(t, qdrant.QuantizationType_Int8, sq.GetType())
	require.Equal(t, quantile, sq.GetQuantile())
	require.True(t, sq.GetAlwaysRam())
	sm := info.GetConfig().GetStrictModeConfig()
	require.True(t, sm.GetEnabled())
	require.EqualValues(t, 100, sm.GetMaxQueryLimit())
	require.Equal(t, float32(1.5), sm.GetSearchMaxOversampling())
	require.EqualValues(t, 4, sm.GetMultivectorConfig().GetMultivectorConfig()["text"].GetMaxVectors())
	require.Equal(t, map[string]any{"owner": "me", "n": int64(3)}, protoMapToGo(info.GetConfig().GetMetadata()))

	// Update: diffs are merged, metadata merged key by key, quantization disabled.
	err = c.UpdateCollection(bg, &qdrant.UpdateCollection{
		CollectionName: "named",
		VectorsConfig: qdrant.NewVectorsConfigDiffMap(map[string]*qdrant.VectorParamsDiff{
			"image": {HnswConfig: &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(8))}}}),
		HnswConfig:         &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(24))},
		OptimizersConfig:   &qdrant.OptimizersConfigDiff{MaxOptimizationThreads: qdrant.NewMaxOptimizationThreadsSetting(qdrant.MaxOptimizationThreads_Auto)},
		Params:             &qdrant.CollectionParamsDiff{OnDiskPayload: qdrant.PtrOf(false)},
		QuantizationConfig: qdrant.NewQuantizationDiffDisabled(),
		Metadata:           qdrant.NewValueMap(map[string]any{"n": 4.5}),
	})
	require.NoError(t, err)
	cfg = mustInfo(t, e.db, "named").Config
	require.Equal(t, 24, cfg.HNSW.M)
	require.Equal(t, 8, *cfg.Params.Vectors["image"].HNSW.M)
	require.Nil(t, cfg.Optimizers.MaxOptimizationThreads)
	require.False(t, cfg.Params.OnDiskPayload)
	require.Nil(t, cfg.Quantization)
	info, err = c.GetCollectionInfo(bg, "named")
	require.NoError(t, err)
	require.Nil(t, info.GetConfig().GetQuantizationConfig())
	require.Equal(t, qdrant.MaxOptimizationThreads_Auto, info.GetConfig().GetOptimizerConfig().GetMaxOptimizationThreads().GetSetting())
	require.Nil(t, info.GetConfig().GetOptimizerConfig().DeprecatedMaxOptimizationThreads)
	require.Equal(t, map[string]any{"owner": "me", "n": 4.5}, protoMapToGo(info.GetConfig().GetMetadata()))

	// An unnamed vector is reported as single params.
	e.createTestCollection(t, "single", qdrant.Distance_Dot)
	info, err = c.GetCollectionInfo(bg, "single")
	require.NoError(t, err)
	require.EqualValues(t, testDim, info.GetConfig().GetParams().GetVectorsConfig().GetParams().GetSize())
	require.Nil(t, info.GetConfig().GetParams().GetVectorsConfig().GetParamsMap())

	names, err := c.ListCollections(bg)
	require.NoError(t, err)
	want, err := e.db.ListCollections(bg)
	require.NoError(t, err)
	require.Equal(t, want, names)
	require.Equal(t, []string{"named", "single"}, names)

	ok, err := c.CollectionExists(bg, "named")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = c.CollectionExists(bg, "nope")
	require.NoError(t, err)
	require.False(t, ok)

	// Errors.
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "named",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot})})
	requireCode(t, err, codes.AlreadyExists, "Collection `named` already exists!")
	_, err = c.GetCollectionInfo(bg, "nope")
	requireCode(t, err, codes.NotFound, "Not found: Collection `nope` doesn't exist!")
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "a/b",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot})})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body", "collection_name")
	_, err = c.GetCollectionInfo(bg, "")
	requireCode(t, err, codes.InvalidArgument, "Validation error in body")
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "shards",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}), ShardNumber: qdrant.PtrOf(uint32(0))})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body: [shard_number: value 0 invalid, must be 1 or larger]")
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "zero",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 0, Distance: qdrant.Distance_Dot})})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body: [vectors_config.config.size: value 0 invalid, must be from 1 to 65536]")
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "nodist",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2})})
	requireCode(t, err, codes.InvalidArgument, "distance")
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "sparse",
		VectorsConfig:       qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}})})
	require.NoError(t, err)
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "sparse2",
		VectorsConfig:       qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{"s": {Size: 2, Distance: qdrant.Distance_Dot}}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}})})
	requireCode(t, err, codes.InvalidArgument, "Wrong input: Dense and sparse vector names must be unique - duplicate found with 's'")
	err = c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "multi",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot,
			MultivectorConfig: &qdrant.MultiVectorConfig{}})})
	require.NoError(t, err)
	err = c.UpdateCollection(bg, &qdrant.UpdateCollection{CollectionName: "nope"})
	requireCode(t, err, codes.NotFound)

	// Delete reports whether the collection existed.
	resp, err := c.GetCollectionsClient().Delete(bg, &qdrant.DeleteCollection{CollectionName: "single"})
	require.NoError(t, err)
	require.True(t, resp.GetResult())
	require.GreaterOrEqual(t, resp.GetTime(), 0.0)
	resp, err = c.GetCollectionsClient().Delete(bg, &qdrant.DeleteCollection{CollectionName: "single"})
	require.NoError(t, err)
	require.False(t, resp.GetResult())
	ok, err = e.db.CollectionExists(bg, "single")
	require.NoError(t, err)
	require.False(t, ok)
}

func mustInfo(t *testing.T, db *engine.DB, name string) *engine.CollectionInfo {
	t.Helper()
	info, err := db.CollectionInfo(bg, name)
	require.NoError(t, err)
	return info
}

func TestGRPCAliases(t *testing.T) {
	e := newGRPCEnv(t)
	c := e.client
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 5)
	e.createTestCollection(t, "other", qdrant.Distance_Dot)

	require.NoError(t, c.CreateAlias(bg, "a1", "coll"))
	require.NoError(t, c.UpdateAliases(bg, []*qdrant.AliasOperations{
		qdrant.NewAliasCreate("a2", "coll"), qdrant.NewAliasCreate("b1", "other")}))
	as, err := c.ListCollectionAliases(bg, "coll")
	require.NoError(t, err)
	require.Equal(t, []string{"a1", "a2"}, as)
	all, err := c.ListAliases(bg)
	require.NoError(t, err)
	want, err := e.db.ListAliases(bg, "")
	require.NoError(t, err)
	require.Len(t, all, len(want))
	for i := range want {
		require.Equal(t, want[i].Alias, all[i].GetAliasName())
		require.Equal(t, want[i].Collection, all[i].GetCollectionName())
	}

	// An alias works wherever a collection name does.
	n, err := c.Count(bg, &qdrant.CountPoints{CollectionName: "a1"})
	require.NoError(t, err)
	require.EqualValues(t, 5, n)

	require.NoError(t, c.RenameAlias(bg, "a1", "a3"))
	require.NoError(t, c.DeleteAlias(bg, "a2"))
	as, err = c.ListCollectionAliases(bg, "coll")
	require.NoError(t, err)
	require.Equal(t, []string{"a3"}, as)

	// As in Qdrant, deleting an alias that does not exist succeeds;
	// renaming one is NotFound.
	require.NoError(t, c.DeleteAlias(bg, "a1"))
	err = c.RenameAlias(bg, "a1", "a4")
	requireCode(t, err, codes.NotFound, "a1")
	err = c.CreateAlias(bg, "x", "nope")
	requireCode(t, err, codes.NotFound, "nope")
	_, err = c.ListCollectionAliases(bg, "nope")
	requireCode(t, err, codes.NotFound)
	err = c.UpdateAliases(bg, []*qdrant.AliasOperations{{}})
	requireCode(t, err, codes.InvalidArgument, "Malformed AliasOperation type")
	// All or nothing: the failing second action undoes the first.
	err = c.UpdateAliases(bg, []*qdrant.AliasOperations{qdrant.NewAliasCreate("c1", "coll"), qdrant.NewAliasRename("missing", "c2")})
	requireCode(t, err, codes.NotFound)
	as, err = c.ListCollectionAliases(bg, "coll")
	require.NoError(t, err)
	require.Equal(t, []string{"a3"}, as)
}

func TestGRPCCluster(t *testing.T) {
	e := newGRPCEnv(t)
	c := e.client
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 9)

	ci, err := c.GetCollectionClusterInfo(bg, "coll")
	require.NoError(t, err)
	require.EqualValues(t, 1, ci.GetShardCount())
	require.Len(t, ci.GetLocalShards(), 1)
	require.EqualValues(t, 9, ci.GetLocalShards()[0].GetPointsCount())
	require.Equal(t, qdrant.ReplicaState_Active, ci.GetLocalShards()[0].GetState())
	require.Empty(t, ci.GetRemoteShards())
	_, err = c.GetCollectionClusterInfo(bg, "nope")
	requireCode(t, err, codes.NotFound)

	err = c.CreateShardKey(bg, "coll", &qdrant.CreateShardKey{ShardKey: qdrant.NewShardKey("k")})
	requireCode(t, err, codes.InvalidArgument, "Bad request: Distributed mode disabled")
	err = c.CreateShardKey(bg, "coll", &qdrant.CreateShardKey{})
	requireCode(t, err, codes.InvalidArgument, "Shard key is not specified")
	err = c.DeleteShardKey(bg, "coll", &qdrant.DeleteShardKey{ShardKey: qdrant.NewShardKeyNum(1)})
	requireCode(t, err, codes.InvalidArgument, "Bad request: Distributed mode disabled")
	keys, err := c.ListShardKeys(bg, "coll")
	require.NoError(t, err)
	require.Empty(t, keys)
	_, err = c.ListShardKeys(bg, "nope")
	requireCode(t, err, codes.NotFound)
	err = c.UpdateClusterCollectionSetup(bg, qdrant.NewUpdateCollectionClusterMoveShard("coll", &qdrant.MoveShard{ShardId: 0, FromPeerId: 1, ToPeerId: 2}))
	requireCode(t, err, codes.InvalidArgument, "Bad request: Distributed mode disabled")
	err = c.UpdateClusterCollectionSetup(bg, &qdrant.UpdateCollectionClusterSetupRequest{CollectionName: "coll"})
	requireCode(t, err, codes.InvalidArgument, "empty operation")
}

func TestGRPCSnapshots(t *testing.T) {
	e := newGRPCEnv(t)
	c := e.client
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 5)

	d, err := c.CreateSnapshot(bg, "coll")
	require.NoError(t, err)
	require.Contains(t, d.GetName(), "coll-")
	require.Greater(t, d.GetSize(), int64(0))
	require.Len(t, d.GetChecksum(), 64)
	require.WithinDuration(t, time.Now(), d.GetCreationTime().AsTime(), time.Minute)

	list, err := c.ListSnapshots(bg, "coll")
	require.NoError(t, err)
	want, err := e.db.ListSnapshots(bg, "coll")
	require.NoError(t, err)
	require.Len(t, list, len(want))
	require.Equal(t, want[0].Name, list[0].GetName())
	require.Equal(t, want[0].Checksum, list[0].GetChecksum())
	require.Equal(t, want[0].Size, list[0].GetSize())

	require.NoError(t, c.DeleteSnapshot(bg, "coll", d.GetName()))
	list, err = c.ListSnapshots(bg, "coll")
	require.NoError(t, err)
	require.Empty(t, list)
	err = c.DeleteSnapshot(bg, "coll", d.GetName())
	requireCode(t, err, codes.NotFound)
	_, err = c.CreateSnapshot(bg, "nope")
	requireCode(t, err, codes.NotFound)

	full, err := c.ListFullSnapshots(bg)
	require.NoError(t, err)
	require.Empty(t, full)
	fd, err := c.CreateFullSnapshot(bg)
	require.NoError(t, err)
	full, err = c.ListFullSnapshots(bg)
	require.NoError(t, err)
	require.Len(t, full, 1)
	require.Equal(t, fd.GetName(), full[0].GetName())
	require.Equal(t, fd.GetChecksum(), full[0].GetChecksum())
	require.NoError(t, c.DeleteFullSnapshot(bg, fd.GetName()))
	err = c.DeleteFullSnapshot(bg, fd.GetName())
	requireCode(t, err, codes.NotFound, "Snapshot "+fd.GetName()+" not found")
}

// TestGRPCErrors checks the codes and messages of common mistakes.
func TestGRPCErrors(t *testing.T) {
	e := newGRPCEnv(t)
	c := e.client
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 5)

	_, err := c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "nope", Points: testPoints(1)})
	requireCode(t, err, codes.NotFound, "Collection `nope` doesn't exist!")
	_, err = c.Query(bg, &qdrant.QueryPoints{CollectionName: "nope"})
	requireCode(t, err, codes.NotFound)

	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectors(1, 2)}}})
	requireCode(t, err, codes.InvalidArgument, "Vector dimension error: expected dim: 4, got 2")
	_, err = c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Query: qdrant.NewQuery(1, 2, 3)})
	requireCode(t, err, codes.InvalidArgument, "Vector dimension error: expected dim: 4, got 3")

	_, err = c.Get(bg, &qdrant.GetPoints{CollectionName: "coll", Ids: []*qdrant.PointId{qdrant.NewIDUUID("not-a-uuid")}})
	requireCode(t, err, codes.InvalidArgument, "Unable to parse UUID: not-a-uuid")
	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDUUID("zz"), Vectors: qdrant.NewVectors(1, 2, 3, 4)}}})
	requireCode(t, err, codes.InvalidArgument, "Unable to parse UUID: zz")
	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{{Vectors: qdrant.NewVectors(1, 2, 3, 4)}}})
	requireCode(t, err, codes.InvalidArgument, "Empty ID is not allowed")
	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(1)}}})
	requireCode(t, err, codes.InvalidArgument, "Expected some vectors")
	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectors(1, 2, 3, 4), Payload: map[string]*qdrant.Value{"x": qdrant.NewValueDouble(math.NaN())}}}})
	requireCode(t, err, codes.InvalidArgument, "cannot convert to json number")
	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"nope": qdrant.NewVector(1, 2, 3, 4)})}}})
	requireCode(t, err, codes.InvalidArgument, "Not existing vector name error: nope")

	_, err = c.Scroll(bg, &qdrant.ScrollPoints{CollectionName: "coll", Limit: qdrant.PtrOf(uint32(0))})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body", "limit")
	_, err = c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Limit: qdrant.PtrOf(uint64(0))})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body", "limit")
	_, err = c.GetPointsClient().Search(bg, &qdrant.SearchPoints{CollectionName: "coll", Vector: []float32{1, 2, 3, 4}})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body", "limit")
	_, err = c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Query: &qdrant.Query{}})
	requireCode(t, err, codes.InvalidArgument, "Query variant is missing")
	_, err = c.Count(bg, &qdrant.CountPoints{CollectionName: "coll", Filter: &qdrant.Filter{Must: []*qdrant.Condition{
		{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{Key: "color"}}}}}})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body", "At least one field condition must be specified")
	_, err = c.Count(bg, &qdrant.CountPoints{CollectionName: "coll", Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("a b", "x")}}})
	requireCode(t, err, codes.InvalidArgument, "Invalid json path: 'a b'")
	_, err = c.Delete(bg, &qdrant.DeletePoints{CollectionName: "coll"})
	requireCode(t, err, codes.InvalidArgument, "PointSelector is missing")
	_, err = c.SetPayload(bg, &qdrant.SetPayloadPoints{CollectionName: "coll", Payload: qdrant.NewValueMap(map[string]any{"a": 1})})
	requireCode(t, err, codes.InvalidArgument, "points_selector is expected")
	_, err = c.UpdateVectors(bg, &qdrant.UpdatePointVectors{CollectionName: "coll", Points: []*qdrant.PointVectors{
		{Id: qdrant.NewIDNum(999), Vectors: qdrant.NewVectors(1, 2, 3, 4)}}})
	requireCode(t, err, codes.NotFound, "No point with id 999 found")
	_, err = c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "color"})
	requireCode(t, err, codes.InvalidArgument, "cannot convert field_type")
	_, err = c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "color",
		FieldType: qdrant.FieldType_FieldTypeKeyword.Enum(), FieldIndexParams: qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{})})
	requireCode(t, err, codes.InvalidArgument, "field_type (Keyword) and field_index_params do not match")
	_, err = c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Query: qdrant.NewQueryOrderBy(&qdrant.OrderBy{Key: "n"})})
	requireCode(t, err, codes.InvalidArgument, "No range index for `order_by` key: `n`")
	_, err = c.Facet(bg, &qdrant.FacetCounts{CollectionName: "coll", Key: "color"})
	requireCode(t, err, codes.InvalidArgument)
}

// mustParseFilter parses a REST filter, for the engine side of comparisons.
func mustParseFilter(t *testing.T, js string) *filter.Filter {
	t.Helper()
	f, err := filter.ParseJSON([]byte(js))
	require.NoError(t, err, js)
	return f
}

// TestGRPCNilRequests calls every method of the services in process, as
// Embedded does, with nil requests, empty ones, and requests holding nil
// messages: each returns a result or an error, never panics.
func TestGRPCNilRequests(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 5)
	s := NewServices(e.db)
	// Collections last: its Delete removes the collection the others use.
	for _, svc := range []any{s.Qdrant, s.Points, s.Snapshots, s.Collections} {
		v := reflect.ValueOf(svc)
		for i := range v.NumMethod() {
			m := v.Method(i)
			if m.Type().NumIn() != 2 {
				continue
			}
			name := v.Type().Method(i).Name
			req := m.Type().In(1)
			empty := reflect.New(req.Elem())
			if f := empty.Elem().FieldByName("CollectionName"); f.IsValid() {
				f.SetString("coll")
			}
			for _, arg := range []reflect.Value{reflect.Zero(req), reflect.New(req.Elem()), empty} {
				require.NotPanics(t, func() { m.Call([]reflect.Value{reflect.ValueOf(bg), arg}) }, "%T.%s(%v)", svc, name, arg)
			}
		}
	}

	if ok, err := e.db.CollectionExists(bg, "coll"); err == nil && !ok {
		e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 5)
	}
	calls := map[string]func() error{
		"nil vector": func() error {
			_, err := s.Points.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{
				nil, {Id: qdrant.NewIDNum(1), Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{}}}}})
			return err
		},
		"nil named vector": func() error {
			_, err := s.Points.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Points: []*qdrant.PointStruct{
				{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"": nil})}}})
			return err
		},
		"nil conditions": func() error {
			_, err := s.Points.Count(bg, &qdrant.CountPoints{CollectionName: "coll", Filter: &qdrant.Filter{
				Must: []*qdrant.Condition{nil, {ConditionOneOf: &qdrant.Condition_Field{}}, {ConditionOneOf: &qdrant.Condition_Filter{}},
					{ConditionOneOf: &qdrant.Condition_Nested{}}, {ConditionOneOf: &qdrant.Condition_HasId{}}, {ConditionOneOf: &qdrant.Condition_IsEmpty{}}},
				MinShould: &qdrant.MinShould{Conditions: []*qdrant.Condition{{ConditionOneOf: &qdrant.Condition_IsNull{}}}}}})
			return err
		},
		"nil field parts": func() error {
			_, err := s.Points.Count(bg, &qdrant.CountPoints{CollectionName: "coll", Filter: &qdrant.Filter{Must: []*qdrant.Condition{
				fieldCond(&qdrant.FieldCondition{Key: "a", Match: &qdrant.Match{MatchValue: &qdrant.Match_Keywords{}},
					GeoPolygon: &qdrant.GeoPolygon{Exterior: &qdrant.GeoLineString{}, Interiors: []*qdrant.GeoLineString{nil}}})}}})
			return err
		},
		"nil index params": func() error {
			_, err := s.Points.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "t",
				FieldType: qdrant.FieldType_FieldTypeText.Enum(), FieldIndexParams: &qdrant.PayloadIndexParams{IndexParams: &qdrant.PayloadIndexParams_TextIndexParams{}}})
			return err
		},
		"nil integer index params": func() error {
			_, err := s.Points.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "n",
				FieldType: qdrant.FieldType_FieldTypeInteger.Enum(), FieldIndexParams: &qdrant.PayloadIndexParams{IndexParams: &qdrant.PayloadIndexParams_IntegerIndexParams{}}})
			return err
		},
		"nil batch parts": func() error {
			_, err := s.Points.UpdateBatch(bg, &qdrant.UpdateBatchPoints{CollectionName: "coll", Operations: []*qdrant.PointsUpdateOperation{
				{Operation: &qdrant.PointsUpdateOperation_SetPayload_{}}, {Operation: &qdrant.PointsUpdateOperation_Upsert{}}, nil}})
			return err
		},
		"nil query parts": func() error {
			_, err := s.Points.QueryBatch(bg, &qdrant.QueryBatchPoints{CollectionName: "coll", QueryPoints: []*qdrant.QueryPoints{
				nil, {Query: &qdrant.Query{Variant: &qdrant.Query_Recommend{}}}, {Query: &qdrant.Query{Variant: &qdrant.Query_Discover{}}},
				{Query: &qdrant.Query{Variant: &qdrant.Query_Context{}}}, {Query: &qdrant.Query{Variant: &qdrant.Query_OrderBy{}}},
				{Query: &qdrant.Query{Variant: &qdrant.Query_Nearest{}}}}})
			return err
		},
		"nil batch searches": func() error {
			_, err := s.Points.SearchBatch(bg, &qdrant.SearchBatchPoints{CollectionName: "coll", SearchPoints: []*qdrant.SearchPoints{nil}})
			return err
		},
		"nil collection parts": func() error {
			_, err := s.Collections.Create(bg, &qdrant.CreateCollection{CollectionName: "c2",
				VectorsConfig:      &qdrant.VectorsConfig{Config: &qdrant.VectorsConfig_ParamsMap{ParamsMap: &qdrant.VectorParamsMap{Map: map[string]*qdrant.VectorParams{"a": nil}}}},
				QuantizationConfig: &qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Binary{}}})
			return err
		},
		"nil update parts": func() error {
			_, err := s.Collections.Update(bg, &qdrant.UpdateCollection{CollectionName: "coll",
				VectorsConfig:    &qdrant.VectorsConfigDiff{Config: &qdrant.VectorsConfigDiff_Params{}},
				OptimizersConfig: &qdrant.OptimizersConfigDiff{MaxOptimizationThreads: &qdrant.MaxOptimizationThreads{}}})
			return err
		},
	}
	for name, call := range calls {
		require.NotPanics(t, func() { _ = call() }, name)
	}
}
