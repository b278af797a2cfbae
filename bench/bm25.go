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
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// BM25Config describes a keyword-search benchmark (RunBM25). RunBM25 copies
// it and fills in the defaults given in each field's doc.
type BM25Config struct {
	// CorpusRun's targets are any of BM25Targets or grpc://HOST:PORT.
	// Default: qdrant (when QdrantBin is set), qlite and embedded. The
	// ground truth is computed from the sparse vectors the reference
	// target stored, and every other target's vectors are compared with
	// its too.
	CorpusRun
}

func (c *BM25Config) withDefaults() (BM25Config, error) {
	o := *c
	if err := o.CorpusRun.withDefaults("bm25", BM25TargetQdrant, BM25TargetQlite, BM25TargetEmbedded); err != nil {
		return o, err
	}
	for _, t := range o.Targets {
		if !slices.Contains(BM25Targets, t) && !strings.HasPrefix(t, "grpc://") {
			return o, fmt.Errorf("bench: bm25: unknown target %q (known: %s, grpc://HOST:PORT)", t, strings.Join(BM25Targets, ", "))
		}
	}
	return o, nil
}

// BM25Figures are the figures of one target of a keyword-search run.
type BM25Figures struct {
	Corpus       string `json:"corpus"`
	CorpusSource string `json:"corpus_source"`
	CorpusSHA256 string `json:"corpus_sha256"`
	Docs         int    `json:"docs"`

	// UploadSeconds is the time to upsert every document (batches of
	// UploadBatch, wait=true, one client); GreenSeconds the time from the
	// first upsert until the collection was green. DocsPerSecond is Docs
	// over GreenSeconds.
	UploadSeconds float64 `json:"upload_seconds"`
	GreenSeconds  float64 `json:"green_seconds"`
	DocsPerSecond float64 `json:"docs_per_second"`
	UploadBatch   int     `json:"upload_batch"`

	// VmHWMBytes and RSSAnonBytes are the target process's peak resident
	// set and anonymous resident memory once green, before any query. For
	// an in-process target (InProcess) they are the benchmark's own and
	// include the corpus; HeapDeltaBytes is then the live Go heap growth
	// across the upload.
	VmHWMBytes     int64 `json:"vm_hwm_bytes,omitempty"`
	RSSAnonBytes   int64 `json:"rss_anon_bytes,omitempty"`
	HeapDeltaBytes int64 `json:"heap_delta_bytes,omitempty"`
	InProcess      bool  `json:"in_process,omitempty"`

	// Reference is the target whose stored vectors made the ground truth.
	// DocVectorsDiffering and QueryVectorsDiffering count the documents
	// and queries whose BM25 vector as this target computed it differs
	// from the reference's (indices, or values beyond 1e-5 relative).
	Reference             string `json:"reference"`
	DocVectorsDiffering   int    `json:"doc_vectors_differing"`
	QueryVectorsDiffering int    `json:"query_vectors_differing"`
	// EmptyQueries counts queries whose BM25 vector is empty (stopwords
	// only); they are asked like the others.
	EmptyQueries int `json:"empty_queries"`

	Agreement []BM25Agreement `json:"agreement"`
	// Error is why the target could not be measured, when it could not.
	Error string `json:"error,omitempty"`
}

// BM25Agreement checks the answers of one query kind against the exact
// ground truth and against the reference target.
type BM25Agreement struct {
	Query string `json:"query"`
	// Exact counts answers with the ground truth's ids in its order (ties
	// by lower id); TieEqual those that are a correct top k, differing at
	// most in the order of equal scores or in which of the points tied at
	// the k-th score were returned.
	Exact    int `json:"exact"`
	TieEqual int `json:"tie_equal"`
	// SameAsReference counts answers with the reference's ids in its
	// order; SameAsReferenceUpToTies those that differ from the
	// reference's only where both report equal scores (Qdrant itself
	// orders equal scores differently from one fresh server to the next).
	SameAsReference         int `json:"same_as_reference"`
	SameAsReferenceUpToTies int `json:"same_as_reference_up_to_ties"`
	// MaxScoreRelErr is the largest relative error of a reported score
	// against the exact one.
	MaxScoreRelErr float64 `json:"max_score_rel_err"`
	// Differing lists a few queries answered otherwise than the ground
	// truth (beyond ties).
	Differing []string `json:"differing,omitempty"`
}

// bm25Run is one target's measurement and what the comparisons need.
type bm25Run struct {
	targetRun
	docs    []sparseVec // as the target stored them
	queries []sparseVec // as the target embeds them
}

// RunBM25 measures keyword search with server-side BM25 on every target of
// c.Targets over the Go source comments corpus (LoadGoDocCorpus): upload
// of the documents as qdrant/bm25 documents into a sparse vector with the
// IDF modifier until green, the target's memory, then every query one at a
// time and with c.Concurrency workers, sent as a document and as its
// sparse vector. Answers are checked against an exact brute-force BM25
// over the reference target's vectors, and compared between targets. It
// writes bm25-TARGET.json per target and report.md into c.Dir, prints the
// table to c.Out, and returns the results; a target that fails is
// reported and the others are measured, and the error joins the failures.
func RunBM25(ctx context.Context, cfg *BM25Config) ([]*Result, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	corpus, err := loadCorpus(ctx, "bm25", c.Dir, c.GOROOT, c.CacheDir, c.Docs, c.Queries, c.Log)
	if err != nil {
		return nil, err
	}
	runs, ref, ok, errs, err := measureTargets(ctx, c.Targets, c.Log, func(string) *bm25Run { return &bm25Run{} },
		func(r *bm25Run) error { return measureBM25Target(ctx, &c, corpus, r) })
	if err != nil {
		return nil, err
	}
	var results []*Result
	if ok {
		fmt.Fprintf(c.Log, "ground truth: exact BM25 over %s's vectors\n", ref.target)
		truth := newBM25Truth(ref.docs)
		gt := truth.topK(ref.queries, c.K)
		for _, r := range runs {
			if r.err != nil {
				continue
			}
			compareBM25(r, ref, truth, gt, corpus, c.K)
			results = append(results, r.res)
		}
	}
	for _, r := range runs {
		if r.res == nil {
			continue
		}
		if r.err != nil {
			r.res.BM25.Error = r.err.Error()
		}
		path := filepath.Join(c.Dir, "bm25-"+fileSafe(r.target)+".json")
		if err := writeFile(path, r.res.WriteJSON); err != nil {
			errs = append(errs, err)
		}
	}
	rep := bm25Report(&c, corpus, runs)
	if err := os.WriteFile(filepath.Join(c.Dir, "report.md"), []byte(rep), 0o644); err != nil {
		errs = append(errs, err)
	}
	writeBM25Table(c.Out, runs)
	if len(errs) > 0 {
		return results, fmt.Errorf("bench: bm25: %w", errors.Join(errs...))
	}
	return results, nil
}

// measureBM25Target uploads, measures and queries one target, filling r.
func measureBM25Target(ctx context.Context, c *BM25Config, corpus *TextCorpus, r *bm25Run) error {
	t, err := openServer(ctx, serverSpec{qdrantBin: c.QdrantBin, exe: c.Exe, log: c.Log}, r.target)
	if err != nil {
		return err
	}
	err = measureOpenBM25(ctx, c, corpus, t, r)
	return errors.Join(err, t.stop())
}

func measureOpenBM25(ctx context.Context, c *BM25Config, corpus *TextCorpus, t *served, r *bm25Run) error {
	fig := &BM25Figures{
		Corpus: corpus.Name, CorpusSource: corpus.Source, CorpusSHA256: corpus.SHA256,
		Docs: len(corpus.Docs), UploadBatch: uploadBatch, InProcess: t.inProcess,
	}
	r.res = &Result{
		Dataset: corpus.Name, Target: r.target, Metric: "bm25-idf",
		Params: Params{K: c.K, QueryThreads: 1, Repeat: c.Repeat, Concurrency: c.Concurrency},
		Points: len(corpus.Docs), Queries: len(corpus.Queries), QueryMode: "single",
		BM25: fig, Env: currentEnv(),
	}
	if t.qdrant {
		r.res.Env.Reference = t.name
	}
	sf := &ServerFigures{Name: t.name, InProcess: t.inProcess}
	if t.qdrant {
		sf.Note = qdrantBinaryNote
	}
	r.res.Server = sf
	cpu0 := t.cpuSeconds()
	if err := createBM25Collection(ctx, t.c, bm25Collection); err != nil {
		return fmt.Errorf("bench: create collection: %w", err)
	}
	var heap0 uint64
	if t.inProcess {
		heap0 = liveHeap()
	}
	bar := startProgress(c.Progress, "upload", len(corpus.Docs), nil)
	start := time.Now()
	err := uploadTexts(ctx, t.c, bm25Collection, func(i int) string { return corpus.Docs[i].Text }, len(corpus.Docs), bar)
	bar.Stop()
	if err != nil {
		return err
	}
	fig.UploadSeconds = time.Since(start).Seconds()
	if err := waitGreen(ctx, t.c, bm25Collection); err != nil {
		return err
	}
	fig.GreenSeconds = time.Since(start).Seconds()
	fig.DocsPerSecond = float64(len(corpus.Docs)) / fig.GreenSeconds
	r.res.BuildSeconds = fig.GreenSeconds
	fig.VmHWMBytes, fig.RSSAnonBytes = t.peakRSS(), t.rssAnon()
	sf.GreenRSSBytes, sf.DiskBytes, sf.BuildCPUSeconds = fig.VmHWMBytes, t.diskBytes(), t.cpuSeconds()-cpu0
	r.res.BuildCPUSeconds = sf.BuildCPUSeconds
	defer func() { sf.PeakRSSBytes = t.peakRSS() }()
	r.res.RSSBytes = fig.VmHWMBytes
	if t.inProcess {
		fig.HeapDeltaBytes = int64(liveHeap()) - int64(heap0)
	}
	fmt.Fprintf(c.Log, "%s: %d documents uploaded in %.1fs, green after %.1fs (%.0f docs/s), VmHWM %s, RssAnon %s\n",
		r.target, len(corpus.Docs), fig.UploadSeconds, fig.GreenSeconds, fig.DocsPerSecond, mib(fig.VmHWMBytes), mib(fig.RSSAnonBytes))

	if r.docs, err = fetchSparse(ctx, t.c, bm25Collection, len(corpus.Docs)); err != nil {
		return err
	}
	if r.queries, err = embedQueries(ctx, t.c, corpus.Queries); err != nil {
		return err
	}
	for _, q := range r.queries {
		if len(q.Indices) == 0 {
			fig.EmptyQueries++
		}
	}

	r.answers = map[string][][]scoredID{}
	for _, kind := range bm25QueryKinds {
		ask := func(i int) ([]scoredID, error) {
			return searchBM25(ctx, t.c, kind, corpus.Queries[i], r.queries[i], c.K)
		}
		t0 := t.cpuSeconds()
		m, answers, err := timeSingle(ctx, c.Repeat, c.Progress, kind, len(corpus.Queries), ask)
		if err != nil {
			return fmt.Errorf("bench: %s queries: %w", kind, err)
		}
		// timeSingle asks every query once untimed, then c.Repeat times.
		m.ServerCPUMicros = 1e6 * (t.cpuSeconds() - t0) / float64((1+c.Repeat)*len(corpus.Queries))
		r.answers[kind] = answers
		r.res.Runs = append(r.res.Runs, m)
		cm, err := timeConcurrent(ctx, c.Repeat, c.Concurrency, kind, len(corpus.Queries), ask)
		if err != nil {
			return fmt.Errorf("bench: %s queries, %d workers: %w", kind, c.Concurrency, err)
		}
		r.res.RunsConcurrent = append(r.res.RunsConcurrent, cm)
		fmt.Fprintf(c.Log, "%s: %s queries: %.0f QPS one at a time (p50 %.2f ms, p99 %.2f ms), %.0f QPS with %d workers\n",
			r.target, kind, m.QPS, m.P50Ms, m.P99Ms, cm.QPS, c.Concurrency)
	}
	return nil
}

// liveHeap returns the live Go heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// timeSingle asks every query once untimed (the answers kept), then
// repeat timed passes one query at a time; the fastest pass is reported
// with its latency percentiles.
func timeSingle(ctx context.Context, repeat int, progress io.Writer, kind string, nq int, ask func(int) ([]scoredID, error)) (Measurement, [][]scoredID, error) {
	m := Measurement{Query: kind}
	answers := make([][]scoredID, nq)
	for i := range nq {
		a, err := ask(i)
		if err != nil {
			return m, nil, err
		}
		answers[i] = a
	}
	lat := make([]float64, nq)
	for range repeat {
		bar := startProgress(progress, kind+" queries", nq, nil)
		start := time.Now()
		for i := range nq {
			if err := ctx.Err(); err != nil {
				bar.Stop()
				return m, nil, err
			}
			t0 := time.Now()
			if _, err := ask(i); err != nil {
				bar.Stop()
				return m, nil, err
			}
			lat[i] = float64(time.Since(t0).Microseconds()) / 1e3
			bar.Add(1)
		}
		qps := float64(nq) / time.Since(start).Seconds()
		bar.Stop()
		if qps > m.QPS {
			m.QPS = qps
			sorted := slices.Clone(lat)
			slices.Sort(sorted)
			m.P50Ms = sorted[nq/2]
			m.P99Ms = sorted[min(nq-1, int(math.Ceil(float64(nq)*0.99))-1)]
		}
	}
	return m, answers, nil
}

// timeConcurrent measures the throughput of workers goroutines each
// asking queries one after another, the fastest of repeat passes.
func timeConcurrent(ctx context.Context, repeat, workers int, kind string, nq int, ask func(int) ([]scoredID, error)) (Measurement, error) {
	m := Measurement{Query: kind, Concurrency: workers}
	for range repeat {
		var next atomic.Int64
		var wg sync.WaitGroup
		var once sync.Once
		var firstErr error
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= nq || ctx.Err() != nil {
						return
					}
					if _, err := ask(i); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
				}
			})
		}
		wg.Wait()
		if firstErr != nil {
			return m, firstErr
		}
		if err := ctx.Err(); err != nil {
			return m, err
		}
		m.QPS = max(m.QPS, float64(nq)/time.Since(start).Seconds())
	}
	return m, nil
}

// compareBM25 checks r's vectors and answers against the reference's and
// the ground truth gt, filling r's figures and its runs' recall.
func compareBM25(r, ref *bm25Run, truth *bm25Truth, gt [][]scoredID, corpus *TextCorpus, k int) {
	fig := r.res.BM25
	fig.Reference = ref.target
	for i := range r.docs {
		if !equalSparse(r.docs[i], ref.docs[i], scoreTol) {
			fig.DocVectorsDiffering++
		}
	}
	for i := range r.queries {
		if !equalSparse(r.queries[i], ref.queries[i], scoreTol) {
			fig.QueryVectorsDiffering++
		}
	}
	for ri, kind := range bm25QueryKinds {
		ag := BM25Agreement{Query: kind}
		found, total := 0, 0
		for qi, got := range r.answers[kind] {
			ids := make([]uint64, len(got))
			for j, g := range got {
				ids[j] = g.ID
			}
			ch := checkAnswer(gt[qi], got, truth.scores(ref.queries[qi], ids))
			found += ch.found
			total += len(gt[qi])
			ag.MaxScoreRelErr = max(ag.MaxScoreRelErr, ch.maxRelErr)
			if ch.exact {
				ag.Exact++
			}
			if ch.tieEqual {
				ag.TieEqual++
			} else if len(ag.Differing) < 5 {
				ag.Differing = append(ag.Differing, fmt.Sprintf("query %d %q: got %s, want %s",
					qi, corpus.Queries[qi], fmtScored(got), fmtScored(gt[qi])))
			}
			want := ref.answers[kind][qi]
			if slices.EqualFunc(got, want, func(a, b scoredID) bool { return a.ID == b.ID }) {
				ag.SameAsReference++
			}
			if slices.EqualFunc(got, want, func(a, b scoredID) bool { return a.ID == b.ID || closeRel(a.Score, b.Score, scoreTol) }) {
				ag.SameAsReferenceUpToTies++
			}
		}
		fig.Agreement = append(fig.Agreement, ag)
		if total > 0 {
			r.res.Runs[ri].Recall = float64(found) / float64(total)
		} else {
			r.res.Runs[ri].Recall = 1
		}
	}
}

func fmtScored(s []scoredID) string {
	parts := make([]string, len(s))
	for i, p := range s {
		parts[i] = fmt.Sprintf("%d:%.6g", p.ID, p.Score)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// writeBM25Table prints one line per target.
func writeBM25Table(w io.Writer, runs []*bm25Run) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\tdocs/s\tgreen s\tVmHWM MiB\tRssAnon MiB\tdoc QPS\tdoc p50 ms\tsparse QPS\tsparse p50 ms\tdoc QPS xN\tsparse QPS xN\texact\tties ok\tsame as ref\tup to ties\t\n")
	for _, r := range runs {
		if r.res == nil || r.err != nil {
			msg := "not measured"
			if r.err != nil {
				msg = "FAILED: " + oneLine(r.err.Error())
			}
			fmt.Fprintf(tw, "%s\t%s\t\n", r.target, msg)
			continue
		}
		f := r.res.BM25
		var qps, p50, cqps []float64
		for _, m := range r.res.Runs {
			qps, p50 = append(qps, m.QPS), append(p50, m.P50Ms)
		}
		for _, m := range r.res.RunsConcurrent {
			cqps = append(cqps, m.QPS)
		}
		agree := func(get func(BM25Agreement) int) string {
			var s []string
			for _, a := range f.Agreement {
				s = append(s, fmt.Sprintf("%d/%d", get(a), r.res.Queries))
			}
			return strings.Join(s, " ")
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.1f\t%.1f\t%.0f\t%.2f\t%.0f\t%.2f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t\n",
			r.target, f.DocsPerSecond, f.GreenSeconds, float64(f.VmHWMBytes)/(1<<20), float64(f.RSSAnonBytes)/(1<<20),
			at(qps, 0), at(p50, 0), at(qps, 1), at(p50, 1), at(cqps, 0), at(cqps, 1),
			agree(func(a BM25Agreement) int { return a.Exact }),
			agree(func(a BM25Agreement) int { return a.TieEqual }),
			agree(func(a BM25Agreement) int { return a.SameAsReference }),
			agree(func(a BM25Agreement) int { return a.SameAsReferenceUpToTies }))
	}
	tw.Flush()
}

func at(s []float64, i int) float64 {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// bm25Report returns report.md: the machine, the corpus, the table, the
// agreement details and the failures.
func bm25Report(c *BM25Config, corpus *TextCorpus, runs []*bm25Run) string {
	var b strings.Builder
	env := currentEnv()
	fmt.Fprintf(&b, "# qlite keyword-search benchmark (server-side BM25)\n\n")
	fmt.Fprintf(&b, "- Machine: %s, %d cores (GOMAXPROCS %d), %s/%s, %s, load average at the end %s\n",
		orUnknown(env.CPU), env.NumCPU, env.GOMAXPROCS, env.OS, env.Arch, runtime.Version(), orUnknown(env.LoadAvg))
	fmt.Fprintf(&b, "- Corpus: %s, %d documents and %d held-out queries (the comments of %s, one document per paragraph; "+
		"queries are the first sentences of held-out paragraphs), sha256 %s\n",
		corpus.Name, len(corpus.Docs), len(corpus.Queries), corpus.Source, corpus.SHA256)
	fmt.Fprintf(&b, "- Collection: one sparse vector %q with modifier idf; documents as {text, model: %q}, uploaded in batches of %d with wait=true by one client; k=%d; "+
		"%d worker(s) in the concurrent measurement; best of %d pass(es)\n",
		bm25Vector, bm25Model, uploadBatch, c.K, c.Concurrency, c.Repeat)
	fmt.Fprintf(&b, "- Servers are reached through go-client over loopback gRPC; each server is a fresh process with its default configuration.\n")
	for _, r := range runs {
		if r.target == BM25TargetQdrant && r.res != nil {
			fmt.Fprintf(&b, "- Qdrant: %s. This binary is built with the perf profile (no LTO), a few percent slower than the official release binary.\n",
				orUnknown(r.res.Env.Reference))
		}
	}
	b.WriteString("\n```\n")
	writeBM25Table(&b, runs)
	b.WriteString("```\n\n")
	b.WriteString("docs/s: documents over the time from the first upsert to green. VmHWM and RssAnon: the server process once green, before any query ")
	b.WriteString("(in-process targets: the benchmark's own process, corpus included). QPS: one query at a time, then xN concurrent workers. ")
	b.WriteString("exact / ties ok / same as ref: answers (document queries, then sparse queries) equal to the exact BM25 top k in order, equal up to ties, ")
	b.WriteString("equal in ids and order to the reference target's, and equal to them but where both report equal scores ")
	b.WriteString("(two fresh Qdrant servers given the same upload order equal scores differently).\n\n")
	for _, r := range runs {
		if r.res == nil || r.err != nil {
			continue
		}
		f := r.res.BM25
		fmt.Fprintf(&b, "## %s\n\n", r.target)
		fmt.Fprintf(&b, "- Reference %s; document vectors differing from it: %d, query vectors differing: %d; queries with an empty vector: %d\n",
			f.Reference, f.DocVectorsDiffering, f.QueryVectorsDiffering, f.EmptyQueries)
		if f.InProcess {
			fmt.Fprintf(&b, "- In process: live heap growth over the upload %s\n", mib(f.HeapDeltaBytes))
		}
		for _, a := range f.Agreement {
			fmt.Fprintf(&b, "- %s queries: exact %d, ties ok %d, same as reference %d (up to ties %d) of %d; largest relative score error %.2g\n",
				a.Query, a.Exact, a.TieEqual, a.SameAsReference, a.SameAsReferenceUpToTies, r.res.Queries, a.MaxScoreRelErr)
			for _, d := range a.Differing {
				fmt.Fprintf(&b, "  - %s\n", d)
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
