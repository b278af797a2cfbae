package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/qlite/qlite/bench"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "qlite",
		Short:         "qlite, an embedded vector database compatible with Qdrant",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newBenchCmd())
	root.AddCommand(newServeCmd())
	root.AddCommand(newMigrateCmd())
	root.AddCommand(newVersionCmd())
	root.AddCommand(newHealthcheckCmd())
	return root
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure recall, QPS, latency, build time and memory of vector indexes",
	}
	cmd.AddCommand(newBenchRunCmd(), newBenchCompareCmd())
	cmd.AddCommand(newBenchSuiteCmd(), newBenchBM25Cmd())
	cmd.AddCommand(newBenchQueriesCmd(bench.WorkloadHybrid), newBenchQueriesCmd(bench.WorkloadRerank))
	return cmd
}

func newBenchRunCmd() *cobra.Command {
	var (
		cfg          bench.Config
		quiet        bool
		payloadIndex bool
		cpuProfile   string
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Build an index over a dataset and measure it over an ef sweep",
		Example: `  qlite bench run --dataset fashion-mnist-784-euclidean --target hnsw --json hnsw.json
  qlite bench run --dataset fashion-mnist-784-euclidean --target hnswlib --json hnswlib.json
  qlite bench run --dataset fvecs:/data/sift --metric euclid --queries 1000 --delete-fraction 0.1
  qlite bench run --target hnsw --filter-selectivity 0.001,0.01,0.1,0.5,0.9 --json filtered-hnsw.json
  qlite bench run --target hnsw --filter-selectivity 0.01,0.5 --payload-index=false --json filtered-noindex.json
  qlite bench run --target faiss --filter-kind class --json filtered-class-faiss.json
  qlite bench run --target grpc://127.0.0.1:6334 --concurrency 8 --json grpc.json
  qlite bench run --target qdrant --qdrant-bin /path/to/qdrant --concurrency 8 --json qdrant.json
  qlite bench run --target grpc --filter-selectivity 0.001,0.01,0.1,0.5,0.9 --json grpc-filtered.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Out, cfg.Log, cfg.Progress = benchOutput(cmd, quiet)
			cfg.NoPayloadIndex = !payloadIndex
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			exe, err := serveExe(cfg.Target != bench.TargetServe)
			if err != nil {
				return err
			}
			cfg.Exe = exe
			_, err = bench.Run(cmd.Context(), &cfg)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dataset, "dataset", "fashion-mnist-784-euclidean",
		"dataset: "+strings.Join(bench.DatasetNames, ", ")+", or fvecs:DIR")
	f.StringVar(&cfg.Metric, "metric", "", "metric of an fvecs:DIR dataset: cosine, euclid or dot (default euclid)")
	f.StringVar(&cfg.FashionMNISTDir, "fashion-mnist-dir", bench.DefaultFashionMNISTDir, "directory of the Fashion-MNIST idx files")
	f.IntVar(&cfg.Points, "points", 0, "use only the first N base vectors (0: all)")
	f.IntVar(&cfg.Queries, "queries", 1000, "use only the first N queries (0: all)")
	f.StringVar(&cfg.Target, "target", "hnsw", "index under test: "+strings.Join(bench.Targets, ", ")+
		" (embedded: qlite's engine in process through go-client's API, compat.NewEmbedded; engine: the same database searched through engine.DB.Search;"+
		" grpc: this binary's qlite serve and qdrant: the Qdrant server of --qdrant-bin, each started in a process of its own over a fresh directory on free loopback ports and measured through go-client with the server's peak RSS, CPU and disk;"+
		" qdrant-edge: Qdrant's engine in process through pip's qdrant-edge-py, in a virtualenv made once in the cache dir), or a running server: grpc://HOST:PORT (go-client) or http://HOST:PORT (REST)")
	f.StringVar(&cfg.QdrantBin, "qdrant-bin", os.Getenv("QDRANT_BIN"), "Qdrant server binary of target qdrant (default $QDRANT_BIN)")
	f.IntVar(&cfg.M, "m", 16, "HNSW links per node on upper levels (2*m on level 0)")
	f.IntVar(&cfg.EfConstruct, "ef-construct", 100, "HNSW candidate list size while building")
	f.IntVar(&cfg.PayloadM, "payload-m", 0, "M of the payload links the hnsw target builds from its payload indexes (0: none)")
	f.IntSliceVar(&cfg.Ef, "ef", bench.DefaultEf, "search candidate list sizes to measure")
	f.IntVar(&cfg.K, "k", 10, "neighbours per query; recall is recall@k")
	f.IntVar(&cfg.Repeat, "repeat", 1, "timed passes over the queries per ef; the fastest is reported")
	f.IntVar(&cfg.Threads, "threads", runtime.GOMAXPROCS(0), "build threads")
	f.Uint64Var(&cfg.Seed, "seed", 42, "seed of the graph levels and of the deletion experiment")
	f.Float64Var(&cfg.DeleteFraction, "delete-fraction", 0, "delete this fraction of the base after the build and measure the survivors (target hnsw)")
	f.Float64SliceVar(&cfg.FilterSelectivity, "filter-selectivity", nil,
		"filtered search benchmark: measure with a filter matching each of these fractions of the base (every target; hnswlib 0.6 filters through its deletion mask)")
	f.StringVar(&cfg.FilterKind, "filter-kind", bench.FilterKindRnd,
		"filter family: rnd (a range on a uniform payload field, one filter for all queries) or class (each query's own label, selectivity 0.1)")
	f.BoolVar(&payloadIndex, "payload-index", true, "index the payload fields in filtered runs of qlite's targets (hnsw, embedded, grpc://, http://)")
	f.BoolVar(&cfg.OnDiskVectors, "on-disk-vectors", false, "create the collection with on_disk vectors (memory-mapped files); the page cache is warmed before the sweep (targets embedded, grpc, qdrant, grpc://, http://)")
	f.StringVar(&cfg.Quantization, "quantization", "", "create the collection with this quantization (targets embedded, grpc, qdrant, qdrant-edge, grpc://): scalar, binary-1bit, binary-1.5bit, binary-2bit, pq-x4 ... pq-x64")
	f.Float64Var(&cfg.Oversampling, "oversampling", 0, "quantization oversampling of the searches (with --quantization)")
	f.StringVar(&cfg.Datatype, "datatype", "", "create the collection's vector with this datatype (target embedded): float32, float16 or uint8")
	f.StringVar(&cfg.Rescore, "rescore", "", `quantization rescore of the searches: "true", "false" or "" (Qdrant's default)`)
	f.BoolVar(&cfg.OnDiskGraph, "on-disk-graph", false, "create the collection with hnsw_config.on_disk (graph links in memory-mapped files; same targets)")
	f.BoolVar(&cfg.Reopen, "reopen", false, "restart a server the run started (targets grpc, qdrant) over its storage once green, timing it; the sweep runs on the restarted server")
	f.IntVar(&cfg.Concurrency, "concurrency", 0, "also measure throughput with this many concurrent query workers (targets embedded, grpc, qdrant, grpc://, http://)")
	f.StringVar(&cfg.APIKey, "api-key", "", "API key for a grpc:// or http:// target")
	f.StringVar(&cfg.JSONPath, "json", "", "write the result JSON to this file")
	f.StringVar(&cfg.CSVPath, "csv", "", `write the result CSV to this file (default: the JSON path with .csv; "-" for none)`)
	f.StringVar(&cfg.CacheDir, "cache-dir", "", "cache for ground truth and compiled runners (default: the user cache dir/qlite)")
	f.StringVar(&cfg.Python, "python", "/usr/bin/python3", "python interpreter with numpy and hnswlib or faiss, for targets hnswlib and faiss")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output (log lines, and progress bars when stderr is a terminal)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (build and queries) to this file")
	return cmd
}

// startCPUProfile starts a CPU profile of this process into path, when
// path is not empty, and returns the function that ends it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// serveExe returns this binary, whose serve the benchmarks start as a
// server of their own, or "" when inProcess asks them to serve from this
// process.
func serveExe(inProcess bool) (string, error) {
	if inProcess {
		return "", nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding this binary for its qlite serve (use --in-process): %w", err)
	}
	return exe, nil
}

// benchOutput returns where a bench command writes its table (stdout), its
// log lines (stderr, or nowhere when quiet) and its progress bars (stderr
// when it is a terminal and not quiet).
func benchOutput(cmd *cobra.Command, quiet bool) (out, log, progress io.Writer) {
	if quiet {
		return cmd.OutOrStdout(), io.Discard, nil
	}
	return cmd.OutOrStdout(), cmd.ErrOrStderr(), terminal(cmd.ErrOrStderr())
}

// terminal returns w when it is a terminal, where progress bars can be
// redrawn in place, and nil otherwise.
func terminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

func newBenchCompareCmd() *cobra.Command {
	var plotPath string
	cmd := &cobra.Command{
		Use:   "compare RESULT.json...",
		Short: "Compare result files at equal recall: QPS at recall 0.90/0.95/0.99, build time, memory, filtered QPS per selectivity",
		Example: `  qlite bench compare hnsw.json hnswlib.json faiss.json
  qlite bench compare --plot recall-qps.png hnsw.json hnswlib.json faiss.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if err := bench.Compare(cmd.OutOrStdout(), files); err != nil {
				return err
			}
			if plotPath == "" {
				return nil
			}
			written, err := bench.PlotFiles(plotPath, files)
			for _, p := range written {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", p)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&plotPath, "plot", "",
		"also draw recall against QPS (log scale) of every file to this image (.png, .svg, .pdf), plus one chart per filter next to it")
	return cmd
}
