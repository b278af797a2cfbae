package bench

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/qdrant/go-client/qdrant"
)

// targetRun is what the corpus benchmarks (RunBM25, RunQueries) keep of
// one target: its result, its answers per query kind, and why it failed.
type targetRun struct {
	target  string
	res     *Result
	answers map[string][][]scoredID
	err     error
}

func (r *targetRun) base() *targetRun { return r }

// loadCorpus makes the output directory dir and loads the Go comments
// corpus cut to docs documents and queries queries.
func loadCorpus(ctx context.Context, what, dir, goroot, cacheDir string, docs, queries int, log io.Writer) (*TextCorpus, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", what, err)
	}
	full, err := LoadGoDocCorpus(ctx, &GoDocCorpusOptions{GOROOT: goroot, CacheDir: cacheDir})
	if err != nil {
		return nil, err
	}
	corpus := full.Slice(docs, queries)
	fmt.Fprintf(log, "corpus %s (%s): %d documents, %d queries\n", corpus.Name, corpus.Source, len(corpus.Docs), len(corpus.Queries))
	return corpus, nil
}

// measureTargets measures every target in order, newRun making its run
// and measure filling it, and logs each failure. It returns the runs, the
// first run that completed (the reference; ok is false when none did) and
// the failures; a cancelled ctx stops it with ctx's error.
func measureTargets[R interface{ base() *targetRun }](ctx context.Context, targets []string, log io.Writer,
	newRun func(target string) R, measure func(R) error) (runs []R, ref R, ok bool, errs []error, err error) {
	for _, t := range targets {
		r := newRun(t)
		runs = append(runs, r)
		b := r.base()
		b.target = t
		b.err = measure(r)
		if err := ctx.Err(); err != nil {
			return nil, ref, false, nil, err
		}
		if b.err != nil {
			fmt.Fprintf(log, "FAIL %s: %v\n", t, b.err)
			errs = append(errs, fmt.Errorf("%s: %w", t, b.err))
		} else if !ok {
			ref, ok = r, true
		}
	}
	return runs, ref, ok, errs, nil
}

// scoredIDs returns the ids and scores of an answer.
func scoredIDs(pts []*qdrant.ScoredPoint) []scoredID {
	out := make([]scoredID, len(pts))
	for j, p := range pts {
		out[j] = scoredID{ID: p.GetId().GetNum(), Score: float64(p.GetScore())}
	}
	return out
}
