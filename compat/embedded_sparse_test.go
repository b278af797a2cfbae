package compat

import (
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestEmbeddedSparseMatchesServer runs sparse vector and BM25 document
// requests through the embedded client and through go-client against qlite
// serve, and requires the same answers.
func TestEmbeddedSparseMatchesServer(t *testing.T) {
	w := embNewTwin(t)
	const coll = "sp"
	wait := qdrant.PtrOf(true)
	w.ok("create", func(c Client) (any, error) {
		return nil, c.CreateCollection(embCtx, &qdrant.CreateCollection{
			CollectionName: coll,
			VectorsConfig:  qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{"d": {Size: 2, Distance: qdrant.Distance_Dot}}),
			SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{
				"t": {Modifier: qdrant.Modifier_Idf.Enum()},
				"n": {Index: &qdrant.SparseIndexConfig{OnDisk: qdrant.PtrOf(true)}},
			}),
		})
	})
	info := w.ok("info", func(c Client) (any, error) { return c.GetCollectionInfo(embCtx, coll) }).(*qdrant.CollectionInfo)
	require.Equal(t, qdrant.Modifier_Idf, info.GetConfig().GetParams().GetSparseVectorsConfig().GetMap()["t"].GetModifier())

	doc := func(text string) *qdrant.Vector {
		return qdrant.NewVectorDocument(&qdrant.Document{Text: text, Model: "qdrant/bm25"})
	}
	w.ok("upsert", func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: coll, Wait: wait, Points: []*qdrant.PointStruct{
			{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"t": doc("the quick brown fox"), "n": qdrant.NewVectorSparse([]uint32{5, 1}, []float32{0.5, 2}), "d": qdrant.NewVectorDense([]float32{1, 0}),
			}), Payload: qdrant.NewValueMap(map[string]any{"g": 1})},
			{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"t": doc("a lazy brown dog"), "n": {Data: []float32{1, 1}, Indices: &qdrant.SparseIndices{Data: []uint32{1, 7}}},
			}), Payload: qdrant.NewValueMap(map[string]any{"g": 2})},
			{Id: qdrant.NewIDNum(3), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				"t": doc("quick quick dog"), "n": qdrant.NewVectorSparse([]uint32{7}, []float32{3}),
			}), Payload: qdrant.NewValueMap(map[string]any{"g": 1})},
		}})
	})
	got := w.ok("get", func(c Client) (any, error) {
		return c.Get(embCtx, &qdrant.GetPoints{CollectionName: coll, Ids: []*qdrant.PointId{qdrant.NewIDNum(1), qdrant.NewIDNum(2)}, WithVectors: qdrant.NewWithVectors(true)})
	}).([]*qdrant.RetrievedPoint)
	require.Equal(t, []uint32{1, 5}, got[0].GetVectors().GetVectors().GetVectors()["n"].GetSparse().GetIndices())
	require.Equal(t, []float32{2, 0.5}, got[0].GetVectors().GetVectors().GetVectors()["n"].GetSparse().GetValues())
	require.NotEmpty(t, got[1].GetVectors().GetVectors().GetVectors()["t"].GetSparse().GetIndices())

	query := func(q *qdrant.Query, using string) func(c Client) (any, error) {
		return func(c Client) (any, error) {
			return c.Query(embCtx, &qdrant.QueryPoints{CollectionName: coll, Query: q, Using: qdrant.PtrOf(using), WithPayload: qdrant.NewWithPayload(true)})
		}
	}
	hits := w.ok("query sparse", query(qdrant.NewQuerySparse([]uint32{1, 7}, []float32{1, 1}), "n")).([]*qdrant.ScoredPoint)
	require.Len(t, hits, 3)
	hits = w.ok("query document", query(qdrant.NewQueryNearest(qdrant.NewVectorInputDocument(&qdrant.Document{Text: "quick dog", Model: "qdrant/bm25"})), "t")).([]*qdrant.ScoredPoint)
	require.Equal(t, uint64(3), hits[0].GetId().GetNum())
	w.ok("query by id", query(qdrant.NewQueryID(qdrant.NewIDNum(2)), "t"))
	w.ok("recommend", query(qdrant.NewQueryRecommend(&qdrant.RecommendInput{
		Positive: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(1)), qdrant.NewVectorInputSparse([]uint32{7}, []float32{1})},
		Negative: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(2))},
	}), "n"))
	w.ok("discover", query(qdrant.NewQueryDiscover(&qdrant.DiscoverInput{
		Target:  qdrant.NewVectorInputID(qdrant.NewIDNum(1)),
		Context: &qdrant.ContextInput{Pairs: []*qdrant.ContextInputPair{{Positive: qdrant.NewVectorInputID(qdrant.NewIDNum(3)), Negative: qdrant.NewVectorInputSparse([]uint32{5}, []float32{1})}}},
	}), "n"))
	w.ok("groups", func(c Client) (any, error) {
		return c.QueryGroups(embCtx, &qdrant.QueryPointGroups{CollectionName: coll, Query: qdrant.NewQuerySparse([]uint32{1, 7}, []float32{1, 1}), Using: qdrant.PtrOf("n"), GroupBy: "g"})
	})
	w.ok("batch", func(c Client) (any, error) {
		return c.QueryBatch(embCtx, &qdrant.QueryBatchPoints{CollectionName: coll, QueryPoints: []*qdrant.QueryPoints{
			{CollectionName: coll, Query: qdrant.NewQuerySparse([]uint32{1}, []float32{1}), Using: qdrant.PtrOf("t")},
			{CollectionName: coll, Query: qdrant.NewQueryNearest(qdrant.NewVectorInputDocument(&qdrant.Document{Text: "brown", Model: "qdrant/bm25"})), Using: qdrant.PtrOf("t")},
		}})
	})
	w.ok("update vectors", func(c Client) (any, error) {
		return c.UpdateVectors(embCtx, &qdrant.UpdatePointVectors{CollectionName: coll, Wait: wait, Points: []*qdrant.PointVectors{
			{Id: qdrant.NewIDNum(3), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"n": qdrant.NewVectorSparse([]uint32{2}, []float32{4})})},
		}})
	})
	w.ok("delete vectors", func(c Client) (any, error) {
		return c.DeleteVectors(embCtx, &qdrant.DeletePointVectors{CollectionName: coll, Wait: wait,
			PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(2)), Vectors: &qdrant.VectorsSelector{Names: []string{"t"}}})
	})
	n := w.ok("count has_vector", func(c Client) (any, error) {
		return c.Count(embCtx, &qdrant.CountPoints{CollectionName: coll, Exact: qdrant.PtrOf(true), Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasVector("t")}}})
	}).(uint64)
	require.Equal(t, uint64(2), n)

	// Errors.
	w.fails("duplicate indices", codes.InvalidArgument, func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: coll, Wait: wait, Points: []*qdrant.PointStruct{
			{Id: qdrant.NewIDNum(9), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"n": qdrant.NewVectorSparse([]uint32{1, 1}, []float32{1, 2})})},
		}})
	})
	w.fails("unnamed sparse", codes.InvalidArgument, func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: coll, Wait: wait, Points: []*qdrant.PointStruct{
			{Id: qdrant.NewIDNum(9), Vectors: qdrant.NewVectorsSparse([]uint32{1}, []float32{1})},
		}})
	})
	w.fails("other model", codes.Internal, query(qdrant.NewQueryNearest(qdrant.NewVectorInputDocument(&qdrant.Document{Text: "x", Model: "other"})), "t"))
	w.fails("sparse query on a dense vector", codes.InvalidArgument, query(qdrant.NewQuerySparse([]uint32{1}, []float32{1}), "d"))
}
