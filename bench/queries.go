package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
)

// The Query API workloads of RunQueries.
const (
	// WorkloadHybrid is hybrid search: a prefetch of a BM25 sparse query
	// and of a dense query, fused with RRF.
	WorkloadHybrid = "hybrid"
	// WorkloadRerank is multivector re-ranking: a prefetch of dense
	// candidates re-scored with a multivector MaxSim query.
	WorkloadRerank = "rerank"
)

// Workloads are the workloads RunQueries knows.
var Workloads = []string{WorkloadHybrid, WorkloadRerank}

// QueryBenchConfig describes a benchmark of a Query API workload
// (RunQueries). RunQueries copies it and fills in the defaults given in
// each field's doc.
type QueryBenchConfig struct {
	// Workload is WorkloadHybrid or WorkloadRerank. Required.
	Workload string
	// CorpusRun's targets are ServerQdrant, ServerQlite, ServerEmbedded or
	// grpc://HOST:PORT. Default: qdrant (when QdrantBin is set) and qlite.
	CorpusRun

	// PrefetchLimit is the limit of each prefetch. Default 100.
	PrefetchLimit int
	// Ef is the hnsw_ef of the dense searches. Default 128.
	Ef int
	// Exact makes the dense searches exact (params exact=true), so that
	// every server must give the same answers up to equal scores.
	// Default false: HNSW searches, whose answers may differ between
	// servers where their graphs do.
	Exact bool
	// Dim is the size of the dense vectors. Default 256.
	Dim int
	// TokenDim is the size of the multivector's vectors, DocTokens the
	// most vectors per document, QueryTokens the vectors of a query
	// (WorkloadRerank). Defaults 128, 32 and 32.
	TokenDim, DocTokens, QueryTokens int

	// Command, when set, is the command line the report says reproduces
	// the run.
	Command string
}

func (c *QueryBenchConfig) withDefaults() (QueryBenchConfig, error) {
	o := *c
	if !slices.Contains(Workloads, o.Workload) {
		return o, fmt.Errorf("bench: unknown workload %q (known: %s)", o.Workload, strings.Join(Workloads, ", "))
	}
	if err := o.CorpusRun.withDefaults(o.Workload, ServerQdrant, ServerQlite); err != nil {
		return o, err
	}
	for _, t := range o.Targets {
		if t != ServerQdrant && t != ServerQlite && t != ServerEmbedded && !strings.HasPrefix(t, "grpc://") {
			return o, fmt.Errorf("bench: %s: unknown target %q (known: %s, %s, %s, grpc://HOST:PORT)", o.Workload, t, ServerQdrant, ServerQlite, ServerEmbedded)
		}
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.PrefetchLimit, 100)
	def(&o.Ef, 128)
	def(&o.Dim, 256)
	def(&o.TokenDim, 128)
	def(&o.DocTokens, 32)
	def(&o.QueryTokens, 32)
	for _, v := range []int{o.Queries, o.K, o.PrefetchLimit, o.Ef, o.Dim, o.TokenDim, o.DocTokens, o.QueryTokens, o.Concurrency, o.Docs} {
		if v < 0 {
			return o, fmt.Errorf("bench: %s: sizes must not be negative", o.Workload)
		}
	}
	if o.K > o.PrefetchLimit {
		return o, fmt.Errorf("bench: %s: k=%d exceeds the prefetch limit %d", o.Workload, o.K, o.PrefetchLimit)
	}
	return o, nil
}

// QueryFigures are the figures of one target of a Query API workload.
type QueryFigures struct {
	Workload     string `json:"workload"`
	Corpus       string `json:"corpus"`
	CorpusSource string `json:"corpus_source"`
	CorpusSHA256 string `json:"corpus_sha256"`
	Docs         int    `json:"docs"`
	// Data says how the vectors were made; Request the query of each
	// kind.
	Data    string            `json:"data"`
	Request map[string]string `json:"request"`

	// UploadSeconds is the time to upsert every document (batches of
	// UploadBatch, wait=true, one client); GreenSeconds the time from the
	// first upsert until the collection was green.
	UploadSeconds float64 `json:"upload_seconds"`
	GreenSeconds  float64 `json:"green_seconds"`
	UploadBatch   int     `json:"upload_batch"`

	// Reference is the target the answers are compared with; Agreement
	// compares them per query kind.
	Reference string           `json:"reference"`
	Agreement []QueryAgreement `json:"agreement"`
	// TreeOverhead is, for each query kind made of prefetches, its time
	// per query one at a time over the sum of the times of its parts
	// measured alone, minus 1.
	TreeOverhead map[string]float64 `json:"tree_overhead,omitempty"`
	// Error is why the target could not be measured, when it could not.
	Error string `json:"error,omitempty"`
}

// QueryAgreement compares the answers of one query kind with the
// reference target's.
type QueryAgreement struct {
	Query string `json:"query"`
	// SameIDs counts answers with the reference's ids in its order;
	// SameUpToTies those differing from it only where both report equal
	// scores.
	SameIDs      int `json:"same_ids"`
	SameUpToTies int `json:"same_up_to_ties"`
	// Overlap is the mean fraction of the reference's ids found.
	Overlap float64 `json:"overlap"`
	// MatchesModel counts, for a request made of parts, the answers equal
	// up to equal scores (within 1e-5 relative) to what the request
	// computes from this target's own answers to its parts (see
	// queryKind.model); -1 when the kind has no model.
	MatchesModel int `json:"matches_model"`
	// Differing lists a few answers that differ beyond ties.
	Differing []string `json:"differing,omitempty"`
}

// queryKind is one kind of query of a workload; parts names the kinds
// measured alone whose combination it is, and model, when set, computes
// its answer to query qi from the answers of its parts (in parts' order).
type queryKind struct {
	name    string
	request string
	parts   []string
	build   func(qi int) *qdrant.QueryPoints
	model   func(qi int, parts [][]scoredID) []scoredID
	// modelDesc says what model computes.
	modelDesc string
}

// queryWorkload is what a workload uploads and asks.
type queryWorkload struct {
	data   string
	create func(ctx context.Context, cl compat.Client) error
	point  func(i int) *qdrant.PointStruct
	kinds  []queryKind
}

const queryCollection = "qlite_bench_query"

const (
	denseVector = "dense"
	multiVector = "colbert"
)

// newQueryWorkload returns c's workload over corpus.
func newQueryWorkload(c *QueryBenchConfig, corpus *TextCorpus) *queryWorkload {
	w := &queryWorkload{}
	k, pl, ef := uint64(c.K), uint64(c.PrefetchLimit), uint64(c.Ef)
	// The dense query vectors are made once, before any timing.
	qdense := make([][]float32, len(corpus.Queries))
	for i, q := range corpus.Queries {
		qdense[i] = hashedEmbedding(q, c.Dim)
	}
	denseParams := &qdrant.SearchParams{HnswEf: qdrant.PtrOf(ef)}
	searchDesc := fmt.Sprintf("hnsw_ef %d", ef)
	if c.Exact {
		denseParams = &qdrant.SearchParams{Exact: qdrant.PtrOf(true)}
		searchDesc = "exact"
	}
	dense := func(qi int, limit uint64) *qdrant.QueryPoints {
		return &qdrant.QueryPoints{CollectionName: queryCollection, Query: qdrant.NewQueryDense(qdense[qi]),
			Using: qdrant.PtrOf(denseVector), Limit: qdrant.PtrOf(limit), Params: denseParams}
	}
	densePrefetch := func(qi int) *qdrant.PrefetchQuery {
		return &qdrant.PrefetchQuery{Query: qdrant.NewQueryDense(qdense[qi]), Using: qdrant.PtrOf(denseVector),
			Limit: qdrant.PtrOf(pl), Params: denseParams}
	}
	denseDesc := fmt.Sprintf("nearest dense, using %q, limit %d, %s", denseVector, pl, searchDesc)
	switch c.Workload {
	case WorkloadHybrid:
		w.data = fmt.Sprintf("two vectors per document: %q, the text as a qdrant/bm25 document into a sparse vector with modifier idf; "+
			"%q, a %d-dimensional cosine vector, the text's hashed bag-of-words embedding (words and adjacent word pairs, weight 1+ln(tf), "+
			"halved for pairs, each added with a hashed sign to %d hashed coordinates, normalised; bench/embed.go)",
			bm25Vector, denseVector, c.Dim, embedProjections)
		w.create = func(ctx context.Context, cl compat.Client) error {
			return recreate(ctx, cl, &qdrant.CreateCollection{
				CollectionName: queryCollection,
				VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
					denseVector: {Size: uint64(c.Dim), Distance: qdrant.Distance_Cosine},
				}),
				SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{
					bm25Vector: {Modifier: qdrant.Modifier_Idf.Enum()},
				}),
			})
		}
		w.point = func(i int) *qdrant.PointStruct {
			text := corpus.Docs[i].Text
			return &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i + 1)), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				bm25Vector:  qdrant.NewVectorDocument(&qdrant.Document{Text: text, Model: bm25Model}),
				denseVector: qdrant.NewVectorDense(hashedEmbedding(text, c.Dim)),
			})}
		}
		doc := func(qi int) *qdrant.Query {
			return qdrant.NewQueryNearest(qdrant.NewVectorInputDocument(&qdrant.Document{Text: corpus.Queries[qi], Model: bm25Model}))
		}
		w.kinds = []queryKind{
			{name: "sparse", request: fmt.Sprintf("nearest qdrant/bm25 document, using %q, limit %d", bm25Vector, pl),
				build: func(qi int) *qdrant.QueryPoints {
					return &qdrant.QueryPoints{CollectionName: queryCollection, Query: doc(qi), Using: qdrant.PtrOf(bm25Vector), Limit: qdrant.PtrOf(pl)}
				}},
			{name: "dense", request: denseDesc, build: func(qi int) *qdrant.QueryPoints { return dense(qi, pl) }},
			{name: "hybrid", parts: []string{"sparse", "dense"},
				request:   fmt.Sprintf("prefetch [the sparse query, the dense query], fusion rrf, limit %d", k),
				modelDesc: fmt.Sprintf("RRF of the server's own sparse and dense answers: a point scores the sum of 1/(rank+%d) over the lists it is in, rank from 0 (Qdrant's default k=%d), top %d", rrfK, rrfK, k),
				model: func(_ int, parts [][]scoredID) []scoredID {
					return rrfModel(parts, rrfK, int(k))
				},
				build: func(qi int) *qdrant.QueryPoints {
					return &qdrant.QueryPoints{CollectionName: queryCollection,
						Prefetch: []*qdrant.PrefetchQuery{
							{Query: doc(qi), Using: qdrant.PtrOf(bm25Vector), Limit: qdrant.PtrOf(pl)},
							densePrefetch(qi),
						},
						Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF), Limit: qdrant.PtrOf(k)}
				}},
		}
	case WorkloadRerank:
		tokens := newTokenTable(c.TokenDim)
		w.data = fmt.Sprintf("two vectors per document: %q, a %d-dimensional cosine vector, the text's hashed bag-of-words embedding "+
			"(as in the hybrid workload; bench/embed.go); %q, a multivector with comparator max_sim and hnsw m=0 (re-ranking only): "+
			"one %d-dimensional cosine vector per word of the text, its first %d words, each the word's pseudo-random unit vector (seeded by a hash of the word) "+
			"plus half of each neighbouring word's, normalised; a query is %d such vectors, its words' repeated to fill %d, each mixed with a pseudo-random position vector",
			denseVector, c.Dim, multiVector, c.TokenDim, c.DocTokens, c.QueryTokens, c.QueryTokens)
		w.create = func(ctx context.Context, cl compat.Client) error {
			return recreate(ctx, cl, &qdrant.CreateCollection{
				CollectionName: queryCollection,
				VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
					denseVector: {Size: uint64(c.Dim), Distance: qdrant.Distance_Cosine},
					multiVector: {Size: uint64(c.TokenDim), Distance: qdrant.Distance_Cosine,
						MultivectorConfig: &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim},
						HnswConfig:        &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(0))}},
				}),
			})
		}
		w.point = func(i int) *qdrant.PointStruct {
			text := corpus.Docs[i].Text
			return &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i + 1)), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
				denseVector: qdrant.NewVectorDense(hashedEmbedding(text, c.Dim)),
				multiVector: qdrant.NewVectorMulti(tokens.tokenVectors(text, c.DocTokens)),
			})}
		}
		qmulti := make([][][]float32, len(corpus.Queries))
		for i, q := range corpus.Queries {
			qmulti[i] = tokens.queryTokenVectors(q, c.QueryTokens)
		}
		w.kinds = []queryKind{
			{name: "dense", request: denseDesc, build: func(qi int) *qdrant.QueryPoints { return dense(qi, pl) }},
			{name: "rerank", parts: []string{"dense"},
				request:   fmt.Sprintf("prefetch [the dense query], then nearest multivector of %d vectors, using %q, limit %d", c.QueryTokens, multiVector, k),
				modelDesc: fmt.Sprintf("MaxSim (the sum over the query's vectors of the largest cosine with the document's) of every point of the server's own dense answer, computed here, top %d", k),
				model: func(qi int, parts [][]scoredID) []scoredID {
					cands := make([]scoredID, len(parts[0]))
					for j, p := range parts[0] {
						cands[j] = scoredID{ID: p.ID, Score: maxSim(qmulti[qi], tokens.tokenVectors(corpus.Docs[p.ID-1].Text, c.DocTokens))}
					}
					return topScored(cands, int(k))
				},
				build: func(qi int) *qdrant.QueryPoints {
					return &qdrant.QueryPoints{CollectionName: queryCollection,
						Prefetch: []*qdrant.PrefetchQuery{densePrefetch(qi)},
						Query:    qdrant.NewQueryMulti(qmulti[qi]), Using: qdrant.PtrOf(multiVector), Limit: qdrant.PtrOf(k)}
				}},
		}
	}
	return w
}

// rrfK is Qdrant's default RRF rank constant.
const rrfK = 2

// rrfModel fuses lists by reciprocal rank fusion as Qdrant does: a point
// scores the sum over the lists it appears in of 1/(rank+k), rank from 0;
// the top limit by score.
func rrfModel(lists [][]scoredID, k, limit int) []scoredID {
	score := map[uint64]float64{}
	var out []scoredID
	for _, l := range lists {
		for rank, p := range l {
			if _, ok := score[p.ID]; !ok {
				out = append(out, scoredID{ID: p.ID})
			}
			score[p.ID] += 1 / float64(rank+k)
		}
	}
	for i := range out {
		out[i].Score = score[out[i].ID]
	}
	return topScored(out, limit)
}

// topScored returns the limit highest-scored points of s, ties by lower id.
func topScored(s []scoredID, limit int) []scoredID {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b scoredID) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return s[:min(len(s), limit)]
}

// maxSim returns the MaxSim score of query vectors q against document
// vectors d, all of unit length: the sum over q of the largest dot product
// with a vector of d.
func maxSim(q, d [][]float32) float64 {
	var sum float64
	for _, qv := range q {
		best := math.Inf(-1)
		for _, dv := range d {
			var dot float64
			for i := range qv {
				dot += float64(qv[i]) * float64(dv[i])
			}
			best = max(best, dot)
		}
		sum += best
	}
	return sum
}

// recreate deletes the collection when it exists and creates it.
func recreate(ctx context.Context, cl compat.Client, cc *qdrant.CreateCollection) error {
	if ok, err := cl.CollectionExists(ctx, cc.CollectionName); err != nil {
		return err
	} else if ok {
		if err := cl.DeleteCollection(ctx, cc.CollectionName); err != nil {
			return err
		}
	}
	return cl.CreateCollection(ctx, cc)
}

// RunQueries measures a Query API workload (c.Workload) over the Go source
// comments corpus on every target of c.Targets: upload until green, the
// server's memory, disk and CPU, then every query kind of the workload
// (its parts alone, then the combined request) one at a time and with
// c.Concurrency workers; every answer is compared with the reference
// target's. It writes WORKLOAD-TARGET.json per target and report.md into
// c.Dir, prints the table to c.Out and returns the results; a target that
// fails is reported and the others are measured, and the error joins the
// failures.
func RunQueries(ctx context.Context, cfg *QueryBenchConfig) ([]*Result, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	corpus, err := loadCorpus(ctx, c.Workload, c.Dir, c.GOROOT, c.CacheDir, c.Docs, c.Queries, c.Log)
	if err != nil {
		return nil, err
	}
	w := newQueryWorkload(&c, corpus)
	runs, ref, ok, errs, err := measureTargets(ctx, c.Targets, c.Log, func(string) *targetRun { return &targetRun{} },
		func(r *targetRun) error { return measureQueryTarget(ctx, &c, corpus, w, r) })
	if err != nil {
		return nil, err
	}
	var results []*Result
	for _, r := range runs {
		if r.res == nil {
			continue
		}
		if ok {
			compareQueries(r, ref, w, corpus)
		}
		if r.err != nil {
			r.res.Query.Error = r.err.Error()
		} else {
			results = append(results, r.res)
		}
		path := filepath.Join(c.Dir, c.Workload+"-"+fileSafe(r.target)+".json")
		if err := writeFile(path, r.res.WriteJSON); err != nil {
			errs = append(errs, err)
		}
	}
	rep := queryReport(&c, corpus, w, runs)
	if err := os.WriteFile(filepath.Join(c.Dir, "report.md"), []byte(rep), 0o644); err != nil {
		errs = append(errs, err)
	}
	writeQueryTable(c.Out, w, runs)
	if len(errs) > 0 {
		return results, fmt.Errorf("bench: %s: %w", c.Workload, errors.Join(errs...))
	}
	return results, nil
}

// measureQueryTarget starts target, uploads, measures and queries it.
func measureQueryTarget(ctx context.Context, c *QueryBenchConfig, corpus *TextCorpus, w *queryWorkload, r *targetRun) error {
	s, err := openServer(ctx, serverSpec{qdrantBin: c.QdrantBin, exe: c.Exe, log: c.Log}, r.target)
	if err != nil {
		return err
	}
	err = measureOpenQueries(ctx, c, corpus, w, s, r)
	return errors.Join(err, s.stop())
}

func measureOpenQueries(ctx context.Context, c *QueryBenchConfig, corpus *TextCorpus, w *queryWorkload, s *served, r *targetRun) error {
	fig := &QueryFigures{
		Workload: c.Workload, Corpus: corpus.Name, CorpusSource: corpus.Source, CorpusSHA256: corpus.SHA256,
		Docs: len(corpus.Docs), Data: w.data, Request: map[string]string{}, UploadBatch: uploadBatch,
	}
	for _, k := range w.kinds {
		fig.Request[k.name] = k.request
	}
	sf := &ServerFigures{Name: s.name, InProcess: s.inProcess}
	r.res = &Result{
		Dataset: corpus.Name, Target: r.target, Metric: c.Workload,
		Params: Params{K: c.K, QueryThreads: 1, Repeat: c.Repeat, Concurrency: c.Concurrency, Ef: []int{c.Ef}},
		Points: len(corpus.Docs), Dims: c.Dim, Queries: len(corpus.Queries), QueryMode: "single",
		Query: fig, Server: sf, Env: currentEnv(),
	}
	if s.qdrant {
		r.res.Env.Reference = s.name
		sf.Note = qdrantBinaryNote
	}
	defer func() {
		sf.PeakRSSBytes = s.peakRSS()
		r.res.RSSBytes = sf.PeakRSSBytes
	}()
	cpu0 := s.cpuSeconds()
	if err := w.create(ctx, s.c); err != nil {
		return fmt.Errorf("bench: create collection: %w", err)
	}
	bar := startProgress(c.Progress, "upload", len(corpus.Docs), nil)
	start := time.Now()
	pts := make([]*qdrant.PointStruct, 0, uploadBatch)
	for from := 0; from < len(corpus.Docs); from += uploadBatch {
		pts = pts[:0]
		for i := from; i < min(len(corpus.Docs), from+uploadBatch); i++ {
			pts = append(pts, w.point(i))
		}
		if _, err := s.c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: queryCollection, Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
			bar.Stop()
			return fmt.Errorf("bench: upload: %w", err)
		}
		bar.Add(len(pts))
	}
	bar.Stop()
	fig.UploadSeconds = time.Since(start).Seconds()
	if err := waitGreen(ctx, s.c, queryCollection); err != nil {
		return err
	}
	fig.GreenSeconds = time.Since(start).Seconds()
	r.res.BuildSeconds = fig.GreenSeconds
	sf.BuildCPUSeconds = s.cpuSeconds() - cpu0
	r.res.BuildCPUSeconds = sf.BuildCPUSeconds
	sf.GreenRSSBytes, sf.DiskBytes = s.peakRSS(), s.diskBytes()
	fmt.Fprintf(c.Log, "%s: %d documents uploaded in %.1fs, green after %.1fs, %.1fs server CPU, VmHWM %s, disk %s\n",
		r.target, len(corpus.Docs), fig.UploadSeconds, fig.GreenSeconds, sf.BuildCPUSeconds, mib(sf.GreenRSSBytes), mib(sf.DiskBytes))

	r.answers = map[string][][]scoredID{}
	for _, kind := range w.kinds {
		ask := func(i int) ([]scoredID, error) {
			pts, err := s.c.Query(ctx, kind.build(i))
			if err != nil {
				return nil, err
			}
			return scoredIDs(pts), nil
		}
		t0 := s.cpuSeconds()
		m, answers, err := timeSingle(ctx, c.Repeat, c.Progress, kind.name, len(corpus.Queries), ask)
		if err != nil {
			return fmt.Errorf("bench: %s queries: %w", kind.name, err)
		}
		// timeSingle asks every query once untimed, then c.Repeat times.
		cpu := 1e6 * (s.cpuSeconds() - t0) / float64((1+c.Repeat)*len(corpus.Queries))
		r.answers[kind.name] = answers
		m.Ef, m.ServerCPUMicros = c.Ef, cpu
		r.res.Runs = append(r.res.Runs, m)
		cm, err := timeConcurrent(ctx, c.Repeat, c.Concurrency, kind.name, len(corpus.Queries), ask)
		if err != nil {
			return fmt.Errorf("bench: %s queries, %d workers: %w", kind.name, c.Concurrency, err)
		}
		cm.Ef = c.Ef
		r.res.RunsConcurrent = append(r.res.RunsConcurrent, cm)
		fmt.Fprintf(c.Log, "%s: %s queries: %.0f QPS one at a time (p50 %.2f ms, p99 %.2f ms, server CPU %.0f us per query), %.0f QPS with %d workers\n",
			r.target, kind.name, m.QPS, m.P50Ms, m.P99Ms, cpu, cm.QPS, c.Concurrency)
	}
	fig.TreeOverhead = map[string]float64{}
	for _, kind := range w.kinds {
		if len(kind.parts) == 0 {
			continue
		}
		var sum float64
		for _, p := range kind.parts {
			sum += 1 / r.single(p).QPS
		}
		fig.TreeOverhead[kind.name] = (1/r.single(kind.name).QPS)/sum - 1
	}
	return nil
}

// single returns the one-at-a-time measurement of query kind.
func (r *targetRun) single(kind string) Measurement {
	for _, m := range r.res.Runs {
		if m.Query == kind {
			return m
		}
	}
	return Measurement{}
}

func (r *targetRun) concurrent(kind string) Measurement {
	for _, m := range r.res.RunsConcurrent {
		if m.Query == kind {
			return m
		}
	}
	return Measurement{}
}

// compareQueries compares r's answers of every query kind it answered with
// ref's.
func compareQueries(r, ref *targetRun, w *queryWorkload, corpus *TextCorpus) {
	fig := r.res.Query
	fig.Reference = ref.target
	for _, kind := range w.kinds {
		if r.answers[kind.name] == nil || ref.answers[kind.name] == nil {
			continue
		}
		ag := QueryAgreement{Query: kind.name, MatchesModel: -1}
		if kind.model != nil {
			ag.MatchesModel = 0
			parts := make([][]scoredID, len(kind.parts))
			for qi, got := range r.answers[kind.name] {
				for j, p := range kind.parts {
					parts[j] = r.answers[p][qi]
				}
				if sameUpToTies(got, kind.model(qi, parts)) {
					ag.MatchesModel++
				}
			}
		}
		var overlap float64
		for qi, got := range r.answers[kind.name] {
			want := ref.answers[kind.name][qi]
			if slices.EqualFunc(got, want, func(a, b scoredID) bool { return a.ID == b.ID }) {
				ag.SameIDs++
			}
			if sameUpToTies(got, want) {
				ag.SameUpToTies++
			} else if len(ag.Differing) < 5 {
				ag.Differing = append(ag.Differing, fmt.Sprintf("query %d %q: got %s, %s has %s",
					qi, corpus.Queries[qi], fmtScored(got), ref.target, fmtScored(want)))
			}
			found := 0
			for _, a := range want {
				if slices.ContainsFunc(got, func(b scoredID) bool { return a.ID == b.ID }) {
					found++
				}
			}
			if len(want) > 0 {
				overlap += float64(found) / float64(len(want))
			} else {
				overlap++
			}
		}
		if n := len(r.answers[kind.name]); n > 0 {
			ag.Overlap = overlap / float64(n)
		}
		fig.Agreement = append(fig.Agreement, ag)
	}
}

// sameUpToTies reports whether two answers have the same ids in the same
// order but where both have equal scores at the same rank.
func sameUpToTies(a, b []scoredID) bool {
	return slices.EqualFunc(a, b, func(x, y scoredID) bool { return x.ID == y.ID || closeRel(x.Score, y.Score, scoreTol) })
}

// writeQueryTable prints one line per target: upload, memory, disk, and
// per query kind the QPS one at a time and concurrently, with the ratio to
// the reference (the first target measured).
func writeQueryTable(w io.Writer, wl *queryWorkload, runs []*targetRun) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\tgreen s\tbuild CPU s\tpeak RSS MiB\tdisk MiB\t")
	for _, k := range wl.kinds {
		fmt.Fprintf(tw, "%s QPS\tp50 ms\tCPU us/q\tQPS xN\t", k.name)
	}
	fmt.Fprintf(tw, "same ids\tup to ties\tas its parts\t\n")
	var first *targetRun
	for _, r := range runs {
		if r.res == nil {
			fmt.Fprintf(tw, "%s\tFAILED\t\n", r.target)
			continue
		}
		name := r.target
		if r.err != nil {
			name += " (FAILED)"
		} else if first == nil {
			first = r
		}
		sf := r.res.Server
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t", name, r.res.Query.GreenSeconds, sf.BuildCPUSeconds,
			float64(sf.PeakRSSBytes)/(1<<20), float64(sf.DiskBytes)/(1<<20))
		for _, k := range wl.kinds {
			m, cm := r.single(k.name), r.concurrent(k.name)
			fmt.Fprintf(tw, "%.0f\t%.2f\t%.0f\t%.0f\t", m.QPS, m.P50Ms, m.ServerCPUMicros, cm.QPS)
		}
		var same, ties, model []string
		for _, a := range r.res.Query.Agreement {
			same = append(same, fmt.Sprintf("%d/%d", a.SameIDs, r.res.Queries))
			ties = append(ties, fmt.Sprintf("%d/%d", a.SameUpToTies, r.res.Queries))
			if a.MatchesModel >= 0 {
				model = append(model, fmt.Sprintf("%d/%d", a.MatchesModel, r.res.Queries))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", strings.Join(same, " "), strings.Join(ties, " "), strings.Join(model, " "))
	}
	if first != nil {
		for _, r := range runs {
			if r == first || r.res == nil {
				continue
			}
			fmt.Fprintf(tw, "%s / %s\t\t\t%s\t%s\t", r.target, first.target,
				ratio(float64(r.res.Server.PeakRSSBytes), float64(first.res.Server.PeakRSSBytes)),
				ratio(float64(r.res.Server.DiskBytes), float64(first.res.Server.DiskBytes)))
			for _, k := range wl.kinds {
				fmt.Fprintf(tw, "%s\t\t\t%s\t", ratio(r.single(k.name).QPS, first.single(k.name).QPS),
					ratio(r.concurrent(k.name).QPS, first.concurrent(k.name).QPS))
			}
			fmt.Fprintf(tw, "\t\n")
		}
	}
	tw.Flush()
}

// queryReport returns report.md: the machine, the corpus, the data, the
// requests, the table and the agreement details.
func queryReport(c *QueryBenchConfig, corpus *TextCorpus, w *queryWorkload, runs []*targetRun) string {
	var b strings.Builder
	env := currentEnv()
	title := map[string]string{WorkloadHybrid: "hybrid search (BM25 + dense, RRF)", WorkloadRerank: "multivector re-ranking (dense prefetch, MaxSim)"}[c.Workload]
	fmt.Fprintf(&b, "# qlite Query API benchmark: %s\n\n", title)
	if c.Command != "" {
		fmt.Fprintf(&b, "- Command: `%s`\n", c.Command)
	}
	fmt.Fprintf(&b, "- Machine: %s, %d cores (GOMAXPROCS %d), %s/%s, %s, load average at the end %s\n",
		orUnknown(env.CPU), env.NumCPU, env.GOMAXPROCS, env.OS, env.Arch, runtime.Version(), orUnknown(env.LoadAvg))
	fmt.Fprintf(&b, "- Corpus: %s, %d documents and %d held-out queries (the comments of %s, one document per paragraph; "+
		"queries are the first sentences of held-out paragraphs), sha256 %s\n",
		corpus.Name, len(corpus.Docs), len(corpus.Queries), corpus.Source, corpus.SHA256)
	fmt.Fprintf(&b, "- Data: %s\n", w.data)
	fmt.Fprintf(&b, "- Uploaded in batches of %d with wait=true by one client, until green; k=%d; %d worker(s) in the concurrent measurement; best of %d pass(es)\n",
		uploadBatch, c.K, c.Concurrency, c.Repeat)
	fmt.Fprintf(&b, "- Queries, each kind measured alone:\n")
	for _, k := range w.kinds {
		fmt.Fprintf(&b, "  - %s: %s\n", k.name, k.request)
		if k.model != nil {
			fmt.Fprintf(&b, "    - checked against: %s\n", k.modelDesc)
		}
	}
	fmt.Fprintf(&b, "- Servers are reached through go-client over loopback gRPC; each is a fresh process over a fresh directory with its default configuration.\n")
	for _, r := range runs {
		if r.res != nil && r.res.Server != nil && r.res.Server.Note != "" {
			fmt.Fprintf(&b, "- %s: %s: %s.\n", r.target, r.res.Server.Name, r.res.Server.Note)
		}
	}
	b.WriteString("\n```\n")
	writeQueryTable(&b, w, runs)
	b.WriteString("```\n\n")
	b.WriteString("green s: from the first upsert until the collection was green. build CPU s: the server process's CPU time (user and system) " +
		"from the collection's creation until green. peak RSS: the server process's VmHWM at the end. disk: its storage directory once green. " +
		"QPS and p50: one query at a time; CPU us/q: the server's CPU time per query over those passes; QPS xN: N concurrent workers. " +
		"same ids: answers (per kind, in the order above) with the reference target's ids in its order; up to ties: the same but where both report equal scores " +
		"at the same rank; as its parts: answers of the combined request equal (up to equal scores) to what it computes from the same server's answers to its parts " +
		"(the check below each request). The last line gives each target's ratio to the first.\n\n")
	for _, r := range runs {
		if r.res == nil {
			continue
		}
		f := r.res.Query
		fmt.Fprintf(&b, "## %s\n\n", r.target)
		fmt.Fprintf(&b, "- Server: %s\n", r.res.Server.Name)
		for _, a := range f.Agreement {
			fmt.Fprintf(&b, "- %s queries: same ids as %s %d, same up to equal scores %d, of %d; mean overlap %.4f\n",
				a.Query, f.Reference, a.SameIDs, a.SameUpToTies, r.res.Queries, a.Overlap)
			if a.MatchesModel >= 0 {
				fmt.Fprintf(&b, "  - equal (up to equal scores) to the %s computed here from this server's own answers to the parts: %d of %d\n",
					a.Query, a.MatchesModel, r.res.Queries)
			}
			for _, d := range a.Differing {
				fmt.Fprintf(&b, "  - %s\n", d)
			}
		}
		for _, k := range w.kinds {
			if o, ok := f.TreeOverhead[k.name]; ok {
				fmt.Fprintf(&b, "- %s: one query takes %+.1f%% over the sum of its parts (%s) measured alone\n", k.name, 100*o, strings.Join(k.parts, " + "))
			}
		}
		b.WriteString("\n")
	}
	for _, r := range runs {
		if r.err != nil {
			fmt.Fprintf(&b, "- FAILED %s: %s\n", r.target, oneLine(r.err.Error()))
		}
	}
	return b.String()
}
