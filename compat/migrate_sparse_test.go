package compat

import (
	"context"
	"fmt"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// TestMigrateSparseFromQdrant copies a collection with sparse vectors, some
// of them BM25 documents embedded by Qdrant, from the real Qdrant server
// (QDRANT_BIN) into an embedded database, and requires the same sparse
// configuration and the same points, sparse vectors included.
func TestMigrateSparseFromQdrant(t *testing.T) {
	q := realQdrant(t)
	require.NoError(t, q.reset())
	ctx := context.Background()
	from, err := OpenEndpoint("grpc://"+q.grpcAddr, nil)
	require.NoError(t, err)
	defer from.Close()
	require.NoError(t, from.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "sp",
		VectorsConfig:  qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{"d": {Size: 2, Distance: qdrant.Distance_Dot}}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{
			"bm25": {Modifier: qdrant.Modifier_Idf.Enum()},
			"s":    {Index: &qdrant.SparseIndexConfig{FullScanThreshold: qdrant.PtrOf[uint64](100), Datatype: qdrant.Datatype_Float16.Enum()}},
		}),
	}))
	var pts []*qdrant.PointStruct
	for i := range 120 {
		vs := map[string]*qdrant.Vector{
			"bm25": qdrant.NewVectorDocument(&qdrant.Document{Text: fmt.Sprintf("document number %d about topic %d", i, i%7), Model: "qdrant/bm25"}),
		}
		if i%3 != 0 {
			vs["s"] = qdrant.NewVectorSparse([]uint32{uint32(1000 - i), uint32(i % 11)}, []float32{float32(i) / 10, -1})
		}
		if i%4 == 0 {
			vs["d"] = qdrant.NewVectorDense([]float32{float32(i), 1})
		}
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsMap(vs),
			Payload: qdrant.NewValueMap(map[string]any{"i": int64(i)})})
	}
	_, err = from.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "sp", Wait: qdrant.PtrOf(true), Points: pts})
	require.NoError(t, err)

	to := NewEmbedded(embOpenDB(t, t.TempDir()))
	require.NoError(t, Migrate(ctx, from, to, &MigrateOptions{BatchSize: 50, StateDir: t.TempDir()}))
	src, err := from.GetCollectionInfo(ctx, "sp")
	require.NoError(t, err)
	dst, err := to.GetCollectionInfo(ctx, "sp")
	require.NoError(t, err)
	require.True(t, proto.Equal(src.GetConfig().GetParams().GetSparseVectorsConfig(), dst.GetConfig().GetParams().GetSparseVectorsConfig()),
		"sparse config\nsource: %v\ntarget: %v", src.GetConfig().GetParams().GetSparseVectorsConfig(), dst.GetConfig().GetParams().GetSparseVectorsConfig())
	a, b := migAll(t, from, "sp"), migAll(t, to, "sp")
	require.Len(t, a, 120)
	require.Len(t, b, 120)
	for i := range a {
		require.True(t, proto.Equal(a[i], b[i]), "point %d\nsource: %v\ntarget: %v", i, a[i], b[i])
	}
	require.NotEmpty(t, b[1].GetVectors().GetVectors().GetVectors()["bm25"].GetSparse().GetIndices())
}
