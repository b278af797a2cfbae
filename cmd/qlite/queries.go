package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qlite/qlite/bench"
)

// newBenchQueriesCmd returns the command of a Query API workload:
// bench.WorkloadHybrid or bench.WorkloadRerank.
func newBenchQueriesCmd(workload string) *cobra.Command {
	var (
		cfg        bench.QueryBenchConfig
		quiet      bool
		inProcess  bool
		cpuProfile string
	)
	short := map[string]string{
		bench.WorkloadHybrid: "Measure hybrid search (BM25 and dense prefetches fused with RRF) on qlite serve and a real Qdrant server",
		bench.WorkloadRerank: "Measure multivector re-ranking (dense prefetch, MaxSim re-score) on qlite serve and a real Qdrant server",
	}[workload]
	long := map[string]string{
		bench.WorkloadHybrid: `Measure hybrid search over the corpus of qlite bench bm25 (the comment paragraphs of the Go
source tree). Every document gets a BM25 sparse vector (a qdrant/bm25 document, modifier idf)
and a dense vector, its hashed bag-of-words embedding (words and adjacent word pairs projected
onto --dim coordinates by hashing, normalised: deterministic, no model needed). Queries are
measured as their parts alone (the sparse and the dense search, limit --prefetch-limit) and
as one request: a prefetch of both fused with RRF, limit --k.`,
		bench.WorkloadRerank: `Measure multivector re-ranking over the corpus of qlite bench bm25 (the comment paragraphs
of the Go source tree). Every document gets a dense vector (its hashed bag-of-words embedding)
and a multivector with comparator max_sim and hnsw m=0: one vector per word (its first
--doc-tokens words), each a pseudo-random vector of the word mixed with its neighbours'
(deterministic, no model needed). Queries are measured as the dense search alone (limit
--prefetch-limit) and as one request: that search as a prefetch, re-scored by a MaxSim query
of --query-tokens vectors, limit --k.`,
	}[workload]
	cmd := &cobra.Command{
		Use:   workload,
		Short: short,
		Long: long + `

Targets: qdrant (the server binary --qdrant-bin, default $QDRANT_BIN), qlite (this binary's
serve), each started in a process of its own over a fresh directory on free loopback ports
with its default configuration, embedded (qlite in this process through go-client's API), or
grpc://HOST:PORT. Each target's answers are compared with the first target's; its upload
time, peak RSS, disk and CPU per query are recorded. Writes ` + workload + `-TARGET.json per
target and report.md into --out, and prints the table.`,
		Example: "  qlite bench " + workload + " --qdrant-bin /root/.cache/qdrant-1.17.1/qdrant --out results/" + workload + "\n" +
			"  qlite bench " + workload + " --target qlite --docs 20000 --queries 200 --out /tmp/" + workload,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Workload = workload
			cfg.Command = "qlite " + strings.Join(os.Args[1:], " ")
			cfg.Out, cfg.Log, cfg.Progress = benchOutput(cmd, quiet)
			exe, err := serveExe(inProcess)
			if err != nil {
				return err
			}
			cfg.Exe = exe
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			_, err = bench.RunQueries(cmd.Context(), &cfg)
			return err
		},
	}
	f := cmd.Flags()
	corpusRunFlags(f, &cfg.CorpusRun, "any of qdrant, qlite, embedded or grpc://HOST:PORT; the first is the reference (default: qdrant when a binary is given, qlite)", &quiet, &inProcess)
	f.IntVar(&cfg.PrefetchLimit, "prefetch-limit", 100, "limit of each prefetch")
	f.IntVar(&cfg.Ef, "ef", 128, "hnsw_ef of the dense searches")
	f.BoolVar(&cfg.Exact, "exact", false, "exact dense searches (every server must then give the same answers up to equal scores)")
	f.IntVar(&cfg.Dim, "dim", 256, "size of the dense vectors")
	if workload == bench.WorkloadRerank {
		f.IntVar(&cfg.TokenDim, "token-dim", 128, "size of the multivector's vectors")
		f.IntVar(&cfg.DocTokens, "doc-tokens", 32, "most vectors per document")
		f.IntVar(&cfg.QueryTokens, "query-tokens", 32, "vectors per query")
	}
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (with --in-process, the qlite server's too) to this file")
	cmd.MarkFlagRequired("out")
	return cmd
}
