// Package bench measures vector indexes the way DESIGN.md's benchmark
// protocol asks: the same data, the same exact ground truth and the same
// parameters for qlite and for the reference implementations, with results in
// one JSON layout so that runs can be compared at equal recall.
//
// # Data
//
// LoadDataset reads a named dataset into memory as flat row-major float32
// slices: "fashion-mnist-784-euclidean" and "fashion-mnist-784-angular" (the
// idx files of Debian's dataset-fashion-mnist, pixels as unscaled floats
// 0..255, train = base, t10k = queries), or "fvecs:DIR" for a TEXMEX-layout
// directory (base.fvecs, query.fvecs, optional groundtruth.ivecs; *_base and
// .bvecs variants accepted). Vectors are preprocessed for the metric once, at
// load (normalised for Cosine), as the engine does at write time. Readers and
// writers for .fvecs, .ivecs, .bvecs and idx files are exported; files may be
// gzipped. Fashion-MNIST's class labels (idx1 files) are loaded with the
// images when present.
//
// "fashion-mnist-784-euclidean-xN" (N from 2 to 64) is a base N times
// Fashion-MNIST's, generated at load, the same on every machine: copy 0 is
// the 60000 training images; in copy c >= 1, image i is training image i
// plus Gaussian noise of standard deviation ScaleNoise (8 on the 0..255
// pixel scale) per pixel from a PCG seeded with (c, i), clamped to 0..255.
// The queries are Fashion-MNIST's test images; the exact ground truth is
// computed by brute force and cached like any other.
//
// # Ground truth
//
// Dataset.GroundTruth returns the exact top-100 neighbours (ties broken by
// lower id) of a prefix of the queries, computed by brute force with the
// distance kernels on all cores (ExactKNN), and cached: next to an fvecs
// dataset when its directory is writable, otherwise under the user cache
// directory, keyed by dataset, metric, sizes and a SHA-256 of the data. A
// JSON sidecar records what a cache file was computed from; a file that does
// not match it, or whose data changed, is recomputed; one that covers too few
// queries is extended.
//
// # Runs
//
// Run builds one target and measures it over an ef sweep:
//
//   - "hnsw": qlite's graph (package hnsw) over vectors in one flat slice,
//     built in process with Config.Threads workers. Build time, graph memory
//     (Graph.MemoryBytes, cross-checked against the live-heap growth), and
//     per ef recall@k, QPS with one query at a time on one goroutine (after
//     a warm-up pass) and p50/p99 latency. Optionally a deletion experiment:
//     recall on the survivors of a random deletion for the tombstoned graph,
//     the repaired graph and a fresh build.
//   - "hnswlib": Debian's python3-hnswlib in a child /usr/bin/python3,
//     querying the whole query set as one call on one thread so that the
//     interpreter is not timed per query.
//   - "hnswlib-native": hnswlib's C++ headers (libhnswlib-dev) compiled once
//     with g++ -O3 -march=native into the cache directory, timed per query
//     like "hnsw".
//   - "faiss": FAISS IndexHNSWFlat (Debian's python3-faiss) in a child
//     /usr/bin/python3, built on Config.Threads OpenMP threads and queried
//     one batch per ef on one thread; Cosine is inner product over
//     normalised vectors.
//
// The references read the same vectors from a temporary directory and write
// the ids they found; recall is always scored here, against the same ground
// truth. Peak RSS is the VmHWM of the process that built and queried the
// index, the loaded data included.
//
// # Filtered search
//
// With Config.FilterSelectivity, a run measures filtered search. Every base
// point gets a payload generated from Config.Seed (PointPayload: its class
// label and class name, a uniform integer "rnd", a geo point "loc" and a
// datetime "ts"), and for each selectivity s one filter case is built:
// {"must":[{"key":"rnd","range":{"lt":round(s*1e6)}}]} for every query
// (FilterKindRnd, uncorrelated with the vectors), or each query's own class
// (FilterKindClass, s = 0.1, correlated). The matching ids are computed from
// the generated payloads, independently of the code under test, and each
// case gets its own exact ground truth, the top-100 among the matching
// points by brute force (ExactKNNSubset), cached like the unfiltered one
// under a key that includes the filters and their matching ids.
//
// Target "hnsw" then measures qlite's segment (package segment): the points
// with their payloads, the graph and, unless Config.NoPayloadIndex, indexes
// on every payload field; each query goes through the segment's planner,
// and the plan it chose most often is reported per run. Target "faiss"
// filters with an IDSelectorBitmap of the matching ids, one batch per
// distinct filter. Both measure the unfiltered queries first, then every
// case; each run carries its filter's name and exact selectivity.
//
// Compare reads result files and prints QPS interpolated at recall 0.90, 0.95
// and 0.99 with ratios to the first file (unfiltered runs), then build time
// and memory; for filtered runs, per selectivity, the QPS at recall 0.95
// with its ratio to the first file and to the same file's unfiltered QPS.
//
// # Keyword search
//
// RunBM25 measures keyword search with server-side BM25 (`qlite bench
// bm25`). Its corpus (LoadGoDocCorpus) is every comment paragraph of the Go
// source tree that the toolchain ships (GOROOT/src without testdata and
// generated files, repeats kept once): real technical English, present
// offline wherever Go is, and the same for a given Go release (about 91k
// documents with Go 1.26). One paragraph in 64, chosen by a hash of its
// text, is held out; its first sentence is a query. The extraction is
// cached under the cache directory by Go version.
//
// Each target (the real Qdrant server started from its binary, `qlite
// serve` started from this binary, or qlite embedded through go-client's
// API) gets the documents as {"text", "model": "qdrant/bm25"} in a sparse
// vector with the IDF modifier, in batches with wait=true, until green;
// the run then reads the process's VmHWM and RssAnon, scrolls the stored
// vectors, obtains the queries' vectors the same way (a scratch
// collection), and asks every query one at a time and with concurrent
// workers, as a document and as its sparse vector (weight 1 per token, as
// a qdrant/bm25 query). The first target to complete is the reference: an
// exact BM25 by brute force over its stored vectors, with Qdrant's IDF
// formula, is the ground truth every answer is checked against (scores
// within 1e-5, order up to ties), and every target's vectors and answers
// are compared with the reference's.
//
// # On disk
//
// With Config.OnDiskVectors and Config.OnDiskGraph the collection is
// created with on_disk vectors and hnsw_config.on_disk; before the sweep the
// run reads every file of the server's storage once (WarmSeconds), so that
// queries are timed with a warm page cache. Config.Reopen restarts a server
// the run started over its storage once green, timing it until the
// collection is green again (ReopenSeconds); the sweep then runs on the
// restarted server. The server's RssAnon (anonymous memory: heap and other
// private memory, not the page cache of mapped files) is read once green and
// after the sweep, beside the raw vector bytes.
//
// # Quantisation
//
// With Config.Quantization (targets embedded, grpc, qdrant, qdrant-edge and
// grpc://) the collection is created with that quantization_config (scalar
// int8, binary, product; always_ram) and every search of the sweep passes Config.Oversampling and
// Config.Rescore as params.quantization; recall is measured against the
// same ground truth as float32, so a quantised run and a float32 run of the
// same dataset, made one after the other, give the QPS of each at equal
// recall.
//
// # Datatypes
//
// With Config.Datatype (target embedded) the collection's vector is
// created with that datatype (float16 or uint8): the engine stores the
// vectors in it and scores them with its kernels. Recall is measured
// against the float32 ground truth; EngineFigures.VectorBytes reports the
// bytes of the vector rows after the reopen, beside the raw float32 bytes.
//
// # Servers
//
// Targets "qdrant" and "grpc" are servers the run starts for itself: the
// real Qdrant server from its binary (Config.QdrantBin; Qdrant's
// compiled-in default configuration, as its container image runs) and
// `qlite serve` from the qlite binary (Config.Exe; without one, a server
// in the run's process). Each gets a fresh storage directory and free
// loopback ports, is ready once /readyz (Qdrant) or its log (qlite) says
// so and its gRPC port accepts connections, and is measured the same way
// through go-client over gRPC: the collection is created with the run's M
// and ef_construct (and, in a filtered run, the payload indexes), the base
// uploaded, green awaited, then every sweep of the run (unfiltered,
// filtered at each selectivity, concurrent workers). The result's
// ServerFigures are read from the server's process: VmHWM once green and
// at the end, CPU time (utime + stime of /proc/PID/stat) until green and
// per query, and the storage directory's disk usage once green. The
// server is stopped and its directory removed. The Qdrant binary of
// ../shared/tools is built with a profile a few percent slower than the
// official release; every figure of it says so.
//
// # Query API workloads
//
// RunQueries measures workloads of Qdrant's universal query API on the
// keyword-search corpus, against the same servers: WorkloadHybrid (a
// prefetch of a BM25 query and of a dense query, fused with RRF) and
// WorkloadRerank (a prefetch of dense candidates re-scored by a
// multivector MaxSim query). The dense and token vectors are derived from
// the text deterministically (embed.go: hashed bag-of-words embeddings
// and per-word pseudo-random vectors), so every machine makes the same
// data without a model. Each request is measured beside its parts alone;
// every answer is compared with the first target's up to equal scores, and
// each combined answer with what it computes from the same server's
// answers to its parts (RRF, or MaxSim computed here).
//
// # Concurrency
//
// Run is not meant to run concurrently with other work in the process: it
// measures the Go heap, forces garbage collections and times queries on the
// calling goroutine. A loaded Dataset is immutable and safe to share.
package bench
