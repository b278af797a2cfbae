package bench

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
)

// Targets lists the values Config.Target accepts.
var Targets = []string{"hnsw", "embedded", TargetEngine, TargetServe, TargetQdrant, "hnswlib", "hnswlib-native", "faiss", "qdrant-edge"}

// The server targets: the run starts the server over a fresh storage
// directory on free loopback ports, measures it through go-client over
// gRPC, reads its process's peak RSS, CPU time and disk usage, and stops it.
const (
	// TargetServe is `qlite serve` (Config.Exe) in a process of its own;
	// without Exe, compat.NewServer in the run's process.
	TargetServe = "grpc"
	// TargetQdrant is the real Qdrant server (Config.QdrantBin) with its
	// default configuration.
	TargetQdrant = "qdrant"
)

// TargetEngine is target "embedded" searched through engine.DB.Search
// rather than go-client's API (compat.NewEmbedded): the same database,
// built and measured the same way, without the API's conversions.
const TargetEngine = "engine"

// DefaultEf is the ef sweep used when Config.Ef is empty.
var DefaultEf = []int{10, 16, 24, 32, 48, 64, 96, 128}

// Config describes one benchmark run. Run copies it and fills in the
// defaults given in each field's doc.
type Config struct {
	// Dataset names the data, see LoadDataset. Required.
	Dataset string
	// Metric is the metric of an "fvecs:DIR" dataset (cosine, euclid,
	// dot). Default Euclid; named datasets fix their own.
	Metric string
	// FashionMNISTDir overrides where the Fashion-MNIST files are read
	// from. Default DefaultFashionMNISTDir.
	FashionMNISTDir string
	// Points limits the base set to its first Points vectors. Default 0:
	// all of them.
	Points int
	// Queries limits the query set to its first Queries vectors. Default
	// 0: all of them.
	Queries int

	// Target is the index under test: "hnsw" (qlite's graph, in process;
	// with FilterSelectivity, qlite's segment with payloads and payload
	// indexes), "embedded" (the whole engine: a database in a temporary
	// directory, points upserted in batches, indexed in the background,
	// reopened, searched through go-client's API), TargetEngine (the same,
	// searched through engine.DB.Search), "qdrant-edge" (Qdrant's own engine in process,
	// PyPI's qdrant-edge-py in a virtualenv made on first use in the cache
	// directory), "hnswlib" (the Python bindings, batch queries on one
	// thread), "hnswlib-native" (hnswlib's C++ index compiled on this
	// machine, one query at a time) or "faiss" (FAISS IndexHNSWFlat
	// through its Python bindings, batch queries on one thread), a server
	// the run starts (TargetServe, TargetQdrant) or one already running
	// (grpc://HOST:PORT, http://HOST:PORT). Default "hnsw".
	Target string
	// QdrantBin is the Qdrant server binary of target TargetQdrant.
	QdrantBin string
	// Exe is the qlite binary whose `serve` is target TargetServe. Empty:
	// the server runs in the run's process.
	Exe string
	// M is the graph degree on upper levels (2*M on level 0). Default 16.
	M int
	// EfConstruct is the candidate list size while building. Default 100.
	EfConstruct int
	// PayloadM is M of the payload links the hnsw target builds from its
	// payload indexes (segment.VectorSpec.PayloadM). Default 0: none, as
	// in qlite's collections unless hnsw_config.payload_m is set.
	PayloadM int
	// Ef lists the search candidate list sizes to measure. Default
	// DefaultEf.
	Ef []int
	// K is how many neighbours a query asks for; recall is recall@K.
	// Default 10.
	K int
	// Repeat is the number of timed passes over the queries at each ef;
	// the fastest is reported, which filters out interference from other
	// work on the machine. Default 1.
	Repeat int
	// Threads is the number of build workers. Default: all cores
	// (GOMAXPROCS).
	Threads int
	// Seed makes the graph and the deletion experiment reproducible.
	Seed uint64
	// DeleteFraction, when positive, deletes that fraction of the base
	// after the build and measures recall on the survivors for the
	// tombstoned graph, the repaired graph and a fresh build (target hnsw
	// only). Default 0: no deletion experiment.
	DeleteFraction float64

	// FilterSelectivity, when not empty, makes the run a filtered search
	// benchmark: every base point gets a generated payload (see
	// PointPayload), and the queries are measured unfiltered and then with
	// a filter of each listed selectivity, each in (0, 1). Every target
	// filters: qlite's with payload indexes (unless NoPayloadIndex), the
	// references with their own means. Default: none, an unfiltered run.
	FilterSelectivity []float64
	// FilterKind is the filter family: FilterKindRnd (a range on the
	// uniform "rnd" field, the same filter for every query) or
	// FilterKindClass (each query's own label, selectivity 0.1 only).
	// Default FilterKindRnd; with FilterKindClass, FilterSelectivity
	// defaults to [0.1].
	FilterKind string
	// NoPayloadIndex runs a filtered benchmark of qlite (targets hnsw,
	// embedded, grpc://, http://) without payload indexes, so that every
	// condition is evaluated on the payloads.
	// Default false: the fields class, class_name, rnd, loc and ts are
	// indexed.
	NoPayloadIndex bool

	// OnDiskVectors creates the collection with "on_disk": true on its
	// vector, OnDiskGraph with "hnsw_config": {"on_disk": true}: the
	// engine keeps them in memory-mapped files rather than in the heap
	// (targets embedded, grpc, qdrant, grpc://, http://). The run then
	// reads every file of the server's storage once before the sweep, so
	// that the page cache is warm when queries are timed. Default false.
	OnDiskVectors, OnDiskGraph bool
	// Quantization creates the collection with a quantization_config
	// (target embedded): "scalar" (int8, always_ram), "binary-1bit",
	// "binary-1.5bit", "binary-2bit" or "pq-x4" to "pq-x64". Searches
	// then pass Oversampling (when above 1) and Rescore ("true", "false",
	// or "" for Qdrant's default). Default "": float32 only.
	Quantization string
	Oversampling float64
	Rescore      string
	// Datatype creates the collection's vector with that datatype (target
	// embedded): "float32", "float16" or "uint8" (each component rounded
	// toward zero into 0..255: meant for datasets of small non-negative
	// integers, such as Fashion-MNIST's pixels). Default "": float32.
	// Recall is measured against the float32 ground truth.
	Datatype string
	// Reopen restarts a server the run started (target grpc with Exe, or
	// qdrant) over the same storage once the collection is green, timing
	// the restart until the collection is green again; the sweep then
	// runs on the restarted server. Target embedded always reopens.
	Reopen bool

	// Concurrency, when above 1, also measures throughput with that many
	// concurrent query workers (targets embedded and servers).
	Concurrency int
	// APIKey is sent to a remote server target.
	APIKey string

	// JSONPath is where the result JSON goes; empty writes none.
	JSONPath string
	// CSVPath is where the result CSV goes. Default: JSONPath with the
	// extension replaced by ".csv"; "-" writes none.
	CSVPath string
	// CacheDir holds cached ground truth and compiled reference runners.
	// Default os.UserCacheDir()/qlite.
	CacheDir string
	// Python is the interpreter for the hnswlib and faiss targets; it must
	// import numpy and hnswlib or faiss. Default "/usr/bin/python3".
	Python string

	// Out receives the human-readable result table. Default io.Discard.
	Out io.Writer
	// Log receives progress lines. Default io.Discard.
	Log io.Writer
	// Progress, when set, shows progress bars, redrawn in place: the
	// upload of targets embedded and remote servers (points), the graph
	// build of target hnsw (nodes) and each ef of the query sweeps of
	// targets hnsw, embedded and remote servers (queries). It is meant for
	// a terminal, usually the one Log writes to: the bar is erased before
	// the log line that follows it. Default nil: no bars.
	Progress io.Writer
}

// quantizationTarget reports whether target can create a quantized
// collection (Config.Quantization).
func quantizationTarget(target string) bool {
	switch target {
	case "embedded", TargetServe, TargetQdrant, "qdrant-edge":
		return true
	}
	return strings.HasPrefix(target, "grpc://")
}

func (c *Config) withDefaults() (Config, error) {
	o := *c
	if o.Target == "" {
		o.Target = "hnsw"
	}
	if o.M == 0 {
		o.M = 16
	}
	if o.EfConstruct == 0 {
		o.EfConstruct = 100
	}
	if len(o.Ef) == 0 {
		o.Ef = slices.Clone(DefaultEf)
	} else {
		o.Ef = slices.Clone(o.Ef)
	}
	if o.K == 0 {
		o.K = 10
	}
	if o.Repeat <= 0 {
		o.Repeat = 1
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	if o.CSVPath == "" && o.JSONPath != "" {
		o.CSVPath = strings.TrimSuffix(o.JSONPath, ".json") + ".csv"
	}
	if o.CSVPath == "-" {
		o.CSVPath = ""
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	if o.FilterKind == "" && len(o.FilterSelectivity) > 0 {
		o.FilterKind = FilterKindRnd
	}
	if o.FilterKind == FilterKindClass && len(o.FilterSelectivity) == 0 {
		o.FilterSelectivity = []float64{classSelectivity}
	}
	o.FilterSelectivity = slices.Clone(o.FilterSelectivity)
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}

	switch {
	case o.Dataset == "":
		return o, fmt.Errorf("bench: no dataset given")
	case !slices.Contains(Targets, o.Target) && !isRemoteTarget(o.Target):
		return o, fmt.Errorf("bench: unknown target %q (known: %s, grpc://HOST:PORT, http://HOST:PORT)", o.Target, strings.Join(Targets, ", "))
	case o.M < 2:
		return o, fmt.Errorf("bench: m must be at least 2, got %d", o.M)
	case o.EfConstruct < 1:
		return o, fmt.Errorf("bench: ef-construct must be positive, got %d", o.EfConstruct)
	case o.K < 1:
		return o, fmt.Errorf("bench: k must be positive, got %d", o.K)
	case o.K > GroundTruthK:
		return o, fmt.Errorf("bench: k must be at most %d, got %d", GroundTruthK, o.K)
	case o.Points < 0 || o.Queries < 0:
		return o, fmt.Errorf("bench: points and queries must not be negative")
	case o.DeleteFraction < 0 || o.DeleteFraction >= 1:
		return o, fmt.Errorf("bench: delete fraction must be in [0, 1), got %v", o.DeleteFraction)
	case o.Target == TargetQdrant && o.QdrantBin == "":
		return o, fmt.Errorf("bench: target qdrant needs the Qdrant server binary (--qdrant-bin or QDRANT_BIN)")
	case o.DeleteFraction > 0 && o.Target != "hnsw":
		return o, fmt.Errorf("bench: the deletion experiment runs on target hnsw only")
	case (o.Quantization != "" || o.Oversampling != 0 || o.Rescore != "") && !quantizationTarget(o.Target):
		return o, fmt.Errorf("bench: quantization runs on targets embedded, %s, %s, qdrant-edge and grpc://, not %s", TargetServe, TargetQdrant, o.Target)
	case o.Quantization == "" && (o.Oversampling != 0 || o.Rescore != ""):
		return o, fmt.Errorf("bench: --oversampling and --rescore need --quantization")
	}
	if _, _, err := quantizationOf(&o); err != nil {
		return o, err
	}
	if o.FilterKind != "" && !slices.Contains(FilterKinds, o.FilterKind) {
		return o, fmt.Errorf("bench: unknown filter kind %q (known: %s)", o.FilterKind, strings.Join(FilterKinds, ", "))
	}
	if len(o.FilterSelectivity) > 0 {
		switch {
		case o.DeleteFraction > 0:
			return o, fmt.Errorf("bench: the deletion experiment and filtered runs do not combine")
		}
		for i, s := range o.FilterSelectivity {
			if !(s > 0 && s < 1) {
				return o, fmt.Errorf("bench: filter selectivity must be in (0, 1), got %v", s)
			}
			if o.FilterKind == FilterKindClass && s != classSelectivity {
				return o, fmt.Errorf("bench: filter kind class has selectivity %v only, not %v", classSelectivity, s)
			}
			if slices.Contains(o.FilterSelectivity[:i], s) {
				return o, fmt.Errorf("bench: filter selectivity %v listed twice", s)
			}
		}
	}
	for _, ef := range o.Ef {
		if ef < 1 {
			return o, fmt.Errorf("bench: ef must be positive, got %d", ef)
		}
	}
	return o, nil
}
