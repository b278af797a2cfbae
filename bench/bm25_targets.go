package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
)

// The targets of the keyword-search benchmark.
const (
	// BM25TargetQdrant is the real Qdrant server (BM25Config.QdrantBin),
	// started by the run.
	BM25TargetQdrant = ServerQdrant
	// BM25TargetQlite is `qlite serve` (BM25Config.Exe) in a process of its
	// own, started by the run; without Exe, compat.NewServer in the run's
	// process.
	BM25TargetQlite = ServerQlite
	// BM25TargetEmbedded is qlite in process through go-client's API
	// (compat.NewEmbedded).
	BM25TargetEmbedded = ServerEmbedded
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
	return scoredIDs(pts), nil
}
