package bench

import (
	"errors"
	"io"
	"slices"
)

// CorpusRun is what the corpus benchmarks (RunBM25, RunQueries) share: where
// the results go, which targets are measured, how much of the corpus and of
// its queries is used, and how the queries are timed. Each benchmark copies
// it and fills in the defaults given in each field's doc.
type CorpusRun struct {
	// Dir receives one result JSON per target and report.md. Created when
	// missing. Required.
	Dir string
	// Targets are measured in this order (the benchmark's doc lists the
	// known ones and the default). The first target that completes is the
	// reference every other target's answers are compared with.
	Targets []string
	// QdrantBin is the Qdrant server binary of target qdrant.
	QdrantBin string
	// Exe is the qlite binary whose `serve` is target qlite. Empty: the
	// server runs in this process.
	Exe string

	// Docs and Queries cut the corpus (LoadGoDocCorpus) to its first Docs
	// documents and first Queries queries. Default: every document, 1000
	// queries.
	Docs, Queries int
	// K is the number of points per answer. Default 10.
	K int
	// Concurrency is the number of query workers of the throughput
	// measurement. Default 4.
	Concurrency int
	// Repeat is the number of timed passes over the queries per query
	// kind; the fastest is reported. Default 1.
	Repeat int

	// GOROOT and CacheDir are passed to LoadGoDocCorpus.
	GOROOT, CacheDir string

	// Out receives the table; Log the progress lines. Default io.Discard.
	Out, Log io.Writer
	// Progress, when set, receives progress bars.
	Progress io.Writer
}

// withDefaults fills in c's defaults in place: targets (a copy of the
// given ones, else qdrant first when a binary is given, then the rest of
// defaults), sizes and writers. name prefixes its errors.
func (c *CorpusRun) withDefaults(name, qdrant string, defaults ...string) error {
	if c.Dir == "" {
		return errors.New("bench: " + name + ": no output directory given")
	}
	c.Targets = slices.Clone(c.Targets)
	if len(c.Targets) == 0 {
		if c.QdrantBin != "" {
			c.Targets = append(c.Targets, qdrant)
		}
		c.Targets = append(c.Targets, defaults...)
	}
	if c.Queries == 0 {
		c.Queries = 1000
	}
	if c.K == 0 {
		c.K = 10
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	c.Repeat = max(c.Repeat, 1)
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return nil
}
