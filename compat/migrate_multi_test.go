package compat

import (
	"context"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// TestMigrateMultivectorsFromQdrant copies a collection with multivectors
// (one of them with m = 0) from the real Qdrant server (QDRANT_BIN) into an
// embedded database, and requires the same vector configuration and the
// same points, multivectors included, and the same MaxSim answer.
func TestMigrateMultivectorsFromQdrant(t *testing.T) {
	q := realQdrant(t)
	require.NoError(t, q.reset())
	ctx := context.Background()
	from, err := OpenEndpoint("grpc://"+q.grpcAddr, nil)
	require.NoError(t, err)
	defer from.Close()
	maxSim := &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim}
	require.NoError(t, from.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "mv",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"c": {Size: 3, Distance: qdrant.Distance_Cosine, MultivectorConfig: maxSim},
			"e": {Size: 2, Distance: qdrant.Distance_Euclid, MultivectorConfig: maxSim, HnswConfig: &qdrant.HnswConfigDiff{M: qdrant.PtrOf[uint64](0)}},
			"d": {Size: 2, Distance: qdrant.Distance_Dot},
		}),
	}))
	var pts []*qdrant.PointStruct
	for i := range 90 {
		f := float32(i)
		vs := map[string]*qdrant.Vector{"c": qdrant.NewVectorMulti([][]float32{{f, 1, -f}, {1, f / 2, 3}}[:1+i%2])}
		if i%3 != 0 {
			vs["e"] = qdrant.NewVectorMulti([][]float32{{f / 7, 1}, {-1, f / 3}, {0.5, 0.25}}[:1+i%3])
		}
		if i%4 == 0 {
			vs["d"] = qdrant.NewVectorDense([]float32{f, 1})
		}
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsMap(vs)})
	}
	_, err = from.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "mv", Wait: qdrant.PtrOf(true), Points: pts})
	require.NoError(t, err)

	to := NewEmbedded(embOpenDB(t, t.TempDir()))
	require.NoError(t, Migrate(ctx, from, to, &MigrateOptions{BatchSize: 40, StateDir: t.TempDir()}))
	src, err := from.GetCollectionInfo(ctx, "mv")
	require.NoError(t, err)
	dst, err := to.GetCollectionInfo(ctx, "mv")
	require.NoError(t, err)
	require.True(t, proto.Equal(src.GetConfig().GetParams().GetVectorsConfig(), dst.GetConfig().GetParams().GetVectorsConfig()),
		"vectors config\nsource: %v\ntarget: %v", src.GetConfig().GetParams().GetVectorsConfig(), dst.GetConfig().GetParams().GetVectorsConfig())
	a, b := migAll(t, from, "mv"), migAll(t, to, "mv")
	require.Len(t, a, 90)
	require.Len(t, b, 90)
	for i := range a {
		require.True(t, proto.Equal(a[i], b[i]), "point %d\nsource: %v\ntarget: %v", i, a[i], b[i])
	}
	require.Len(t, b[5].GetVectors().GetVectors().GetVectors()["e"].GetMultiDense().GetVectors(), 3)
	for _, using := range []string{"c", "e"} {
		query := &qdrant.QueryPoints{CollectionName: "mv", Using: qdrant.PtrOf(using), Limit: qdrant.PtrOf[uint64](5),
			Query: qdrant.NewQueryMulti([][]float32{{0.5, 0.25, 1}, {1, -1, 0.5}}[:1])}
		if using == "e" {
			query.Query = qdrant.NewQueryMulti([][]float32{{0.5, 0.25}, {1, -1}})
		}
		want, err := from.Query(ctx, query)
		require.NoError(t, err)
		got, err := to.Query(ctx, query)
		require.NoError(t, err)
		require.Len(t, got, len(want))
		// Ranks must hold points of equal scores (points with equal
		// scores may come in either order).
		for i := range want {
			require.InDelta(t, want[i].GetScore(), got[i].GetScore(), 1e-5*max(1, float64(want[i].GetScore())), "%s rank %d", using, i)
		}
	}
}
