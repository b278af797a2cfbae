package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/qlite/qlite/bench"
)

func newBenchBM25Cmd() *cobra.Command {
	var (
		cfg       bench.BM25Config
		quiet     bool
		inProcess bool
	)
	cmd := &cobra.Command{
		Use:   "bm25",
		Short: "Measure keyword search with server-side BM25 on qlite and a real Qdrant server",
		Long: `Measure keyword search with server-side BM25. The corpus is every comment paragraph of the
Go source tree (GOROOT/src, testdata and generated files left out, repeats kept once), about
90k documents with Go 1.26; one paragraph in 64 is held out and its first sentence is a
query. Each target gets the documents as {"text": ..., "model": "qdrant/bm25"} in a sparse
vector with modifier idf, until green; then the process's VmHWM and RssAnon are read, and
the queries are asked one at a time and with --concurrency workers, as documents and as
sparse vectors. Every answer is checked against an exact brute-force BM25 over the vectors
the first target stored, and compared with that target's answers.

Targets: qdrant (the server binary --qdrant-bin, started on free loopback ports with a
fresh storage directory and its default configuration), qlite (this binary's serve in a
process of its own), embedded (qlite in this process through go-client's API), or
grpc://HOST:PORT. Servers are reached through go-client over gRPC. Writes
bm25-TARGET.json per target and report.md into --out, and prints the table.`,
		Example: `  qlite bench bm25 --qdrant-bin /root/.cache/qdrant-1.17.1/qdrant --out results/bm25
  qlite bench bm25 --target qlite,embedded --docs 20000 --queries 200 --out /tmp/bm25`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Out, cfg.Log, cfg.Progress = benchOutput(cmd, quiet)
			exe, err := serveExe(inProcess)
			if err != nil {
				return err
			}
			cfg.Exe = exe
			_, err = bench.RunBM25(cmd.Context(), &cfg)
			return err
		},
	}
	f := cmd.Flags()
	corpusRunFlags(f, &cfg.CorpusRun, "any of "+strings.Join(bench.BM25Targets, ", ")+
		", grpc://HOST:PORT; the first is the reference (default: qdrant when --qdrant-bin is given, qlite, embedded)", &quiet, &inProcess)
	cmd.MarkFlagRequired("out")
	return cmd
}

// corpusRunFlags declares the flags of the corpus benchmarks' shared
// settings (bench.CorpusRun), quiet and inProcess; targets describes the
// --target values.
func corpusRunFlags(f *pflag.FlagSet, c *bench.CorpusRun, targets string, quiet, inProcess *bool) {
	f.StringVar(&c.Dir, "out", "", "directory for the result files and report.md (required)")
	f.StringSliceVar(&c.Targets, "target", nil, "targets in order, "+targets)
	f.StringVar(&c.QdrantBin, "qdrant-bin", os.Getenv("QDRANT_BIN"), "Qdrant server binary of target qdrant (default $QDRANT_BIN)")
	f.IntVar(&c.Docs, "docs", 0, "use only the first N documents (0: all)")
	f.IntVar(&c.Queries, "queries", 1000, "use only the first N queries")
	f.IntVar(&c.K, "k", 10, "points per answer")
	f.IntVar(&c.Concurrency, "concurrency", 4, "query workers of the throughput measurement")
	f.IntVar(&c.Repeat, "repeat", 1, "timed passes over the queries; the fastest is reported")
	f.StringVar(&c.GOROOT, "goroot", "", "Go tree whose comments are the corpus (default: go env GOROOT)")
	f.StringVar(&c.CacheDir, "cache-dir", "", "cache for the extracted corpus (default: the user cache dir/qlite)")
	f.BoolVarP(quiet, "quiet", "q", false, "no progress output")
	f.BoolVar(inProcess, "in-process", false, "serve target qlite from this process rather than a child qlite serve")
}
