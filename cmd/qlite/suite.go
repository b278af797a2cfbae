package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qlite/qlite/bench"
)

func newBenchSuiteCmd() *cobra.Command {
	var (
		cfg       bench.SuiteConfig
		quiet     bool
		inProcess bool
	)
	cmd := &cobra.Command{
		Use:   "suite",
		Short: "Run the standard benchmark set and write results, charts and a report",
		Long: `Run the standard benchmark set: Fashion-MNIST euclidean and angular, unfiltered, on
targets hnsw, embedded, grpc (qlite serve on loopback, started by the run), qdrant (the real
Qdrant server of --qdrant-bin or $QDRANT_BIN, started the same way; skipped without one),
qdrant-edge, hnswlib, hnswlib-native and faiss, and both again with filters on every target but the hnswlib
ones (whose filter, a deletion mask, takes about 20 minutes per sweep at 0.1% selectivity).
Each run is a child process (qlite bench run), so that each reports its own peak RSS;
--in-process runs them all in this process instead. Targets whose prerequisites are
missing are skipped and listed with the reason in DIR/report.md, next to the result
files, one recall/QPS chart per dataset and the comparison tables.`,
		Example: `  qlite bench suite --out results/
  qlite bench suite --out /tmp/quick --quick`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Out = cmd.OutOrStdout()
			cfg.Log = cmd.ErrOrStderr()
			if quiet {
				cfg.Log = io.Discard
			}
			if !inProcess {
				exe, err := os.Executable()
				if err != nil {
					return fmt.Errorf("finding this binary for the child runs (use --in-process): %w", err)
				}
				cfg.Exe = exe
			}
			return bench.Suite(cmd.Context(), &cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "out", "", "directory for the result files, charts and report.md (required)")
	f.BoolVar(&cfg.Quick, "quick", false, "a small run: 5000 points, 200 queries, ef 16,64")
	f.StringSliceVar(&cfg.Datasets, "dataset", nil, "datasets measured unfiltered (default: fashion-mnist-784-euclidean,fashion-mnist-784-angular)")
	f.StringVar(&cfg.Metric, "metric", "", "metric of fvecs:DIR datasets: cosine, euclid or dot (default euclid)")
	f.StringSliceVar(&cfg.Targets, "target", nil, "unfiltered targets, any of "+strings.Join(bench.Targets, ", ")+", grpc (default: "+strings.Join(bench.SuiteTargets, ",")+")")
	f.StringSliceVar(&cfg.FilterTargets, "filter-target", nil, "targets of the filtered runs (default: the unfiltered targets among "+strings.Join(bench.SuiteFilterTargets, ",")+"; hnswlib filters through its deletion mask, slowly)")
	f.StringSliceVar(&cfg.FilterDatasets, "filter-dataset", nil, "datasets of the filtered runs (default: the unfiltered datasets)")
	f.Float64SliceVar(&cfg.FilterSelectivity, "filter-selectivity", nil, "selectivities of the filtered runs (default: 0.001,0.01,0.1,0.5,0.9)")
	f.BoolVar(&cfg.NoFilter, "no-filter", false, "skip the filtered runs")
	f.StringSliceVar(&cfg.Quantization, "quantization", nil, "also measure each dataset quantised this way on the quantisation targets: scalar, binary-1bit, binary-1.5bit, binary-2bit, pq-x4 ... pq-x64 (default none)")
	f.StringSliceVar(&cfg.QuantTargets, "quant-target", nil, "targets of the quantised runs (default: the unfiltered targets among "+strings.Join(bench.SuiteQuantTargets, ",")+")")
	f.Float64Var(&cfg.Oversampling, "oversampling", 0, "quantization oversampling of the quantised runs' searches")
	f.StringVar(&cfg.Rescore, "rescore", "", `quantization rescore of the quantised runs' searches: "true", "false" or "" (Qdrant's default)`)
	f.StringVar(&cfg.FashionMNISTDir, "fashion-mnist-dir", bench.DefaultFashionMNISTDir, "directory of the Fashion-MNIST idx files")
	f.IntVar(&cfg.Points, "points", 0, "use only the first N base vectors (default: all; 5000 with --quick)")
	f.IntVar(&cfg.Queries, "queries", 0, "use only the first N queries (default: 1000; 200 with --quick)")
	f.IntSliceVar(&cfg.Ef, "ef", nil, "search candidate list sizes to measure (default: the run default; 16,64 with --quick)")
	f.IntVar(&cfg.Threads, "threads", runtime.GOMAXPROCS(0), "build threads")
	f.IntVar(&cfg.Repeat, "repeat", 1, "timed passes over the queries per ef; the fastest is reported")
	f.Uint64Var(&cfg.Seed, "seed", 42, "seed of the graph levels")
	f.StringVar(&cfg.CacheDir, "cache-dir", "", "cache for ground truth and compiled runners (default: the user cache dir/qlite)")
	f.StringVar(&cfg.Python, "python", "/usr/bin/python3", "python interpreter with numpy and hnswlib or faiss")
	f.StringVar(&cfg.QdrantBin, "qdrant-bin", os.Getenv("QDRANT_BIN"), "Qdrant server binary of target qdrant (default $QDRANT_BIN; without one the target is skipped)")
	f.IntVar(&cfg.Concurrency, "concurrency", 0, "also measure throughput with this many query workers on the embedded and server targets")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output from the runs")
	f.BoolVar(&inProcess, "in-process", false, "make every run in this process (peak RSS is then shared) rather than in child processes")
	cmd.MarkFlagRequired("out")
	return cmd
}
