// Package engine is qlite's embedded database: durable collections of
// points (vectors and JSON payloads) with Qdrant's semantics, in one
// directory, with no server.
//
//	db, err := engine.Open("data", nil)
//	...
//	defer db.Close()
//
// # Model
//
// A DB holds collections. A collection holds points, each with a Qdrant point
// id (an unsigned integer or a UUID), one vector per configured vector name
// ("" is the unnamed default vector), possibly some sparse vectors, and a
// payload; a collection may have dense vectors, sparse vectors, both or
// none. Sparse vectors are searched by exact dot product through an
// inverted index (per-dimension posting lists) in each segment, with the
// IDF modifier weighing queries by the collection's live document
// frequencies at query time. A dense vector with a multivector_config
// (comparator max_sim) holds one or more vectors per point (Point.Multi),
// scored by MaxSim: the sum, over the query's vectors, of the best
// similarity to any of the point's vectors; its graph's nodes are points.
// A dense vector whose effective hnsw m is 0 has no graph (Qdrant's
// re-scoring vectors): it costs no graph memory and every search of it
// scans; a segment made before m changed to or from 0 is rebuilt by the
// optimizer, as Qdrant rebuilds it. Points live in segments:
// one appendable segment takes writes and is searched by scan (and, once it
// passes the indexing threshold, through a graph built in the background);
// sealed segments are immutable, indexed and persisted. A background
// optimizer indexes the appendable segment, seals it, and rebuilds sealed
// segments that have accumulated deletions (vacuum).
//
// # Payloads
//
// With on_disk_payload (Qdrant's default) a collection's segments, sealed
// and appendable, keep no payload values: the payloads live only in the
// point records of the store, and reads (with_payload, filters on fields
// without a payload index, facets, groups, order_by, payload updates, the
// optimizer's rebuilds) fetch them through one payload cache the DB's
// collections share, a least-recently-used cache bounded by
// Options.PayloadCacheBytes (estimated bytes of decoded payloads). The
// appendable segment reads from the store too, since it holds up to a whole
// segment of points: keeping its payloads would tie memory to
// max_segment_size. Payload indexes are built from the payloads as points
// arrive and stay in memory, so that indexed conditions read nothing from
// the store. Answers are the same either way. Point lookups (with_payload,
// the graph search's filter checks) go through the cache; a scan that
// tests a filter on unindexed fields reads the records of the points it
// tests in key order with one store iterator per batch, decoding only the
// top-level fields the filter reads, past the cache. Either costs a store
// read per point (index the fields you filter on), but not of the point's
// vectors: the store keeps a point's dense vectors in a record of their own,
// beside the point record that holds its payload. With on_disk_payload
// false the payloads are held decoded in memory. A change of
// on_disk_payload applies to segments created after it (the next
// appendable segment, and segments the optimizer seals or rebuilds) and
// to every segment when the database is next opened. A payload that cannot
// be read (a store error: ErrStoreFailed; a corrupt record: ErrCorrupt)
// fails the read or write that needed it; it never reads as null.
//
// # Durability
//
// Every write is one Pebble batch, synced to Pebble's write-ahead log before
// the call returns, whatever its Wait option: an acknowledged write survives
// a crash or kill -9. A point's two records (payload and sparse vectors;
// dense vectors) are written and deleted in the same batch, so no crash
// separates them. A write is visible to searches when the call returns.
// Sealed segments' graphs are persisted, so reopening a collection never
// rebuilds a graph that was already built; the appendable segment is rebuilt
// from the stored points on open. The on-disk format is in segment/FORMAT.md.
//
// # Vectors on disk
//
// A dense vector configured with on_disk true keeps the vectors of sealed
// segments in segment files beside the store (DIR/segments/), written by the
// optimizer when it seals, merges or vacuums, synced before the manifest
// that names them commits, and read in place through read-only memory
// mappings (the page cache holds them, not the heap; where mapping is not
// available they are read into the heap). The appendable segment keeps its
// vectors in RAM, as do multivectors. Open checks each file's length,
// header and CRC-32C (a bad or missing file fails the collection with an
// error wrapping ErrCorrupt that names it) and copies none of their vectors
// into the heap. A mapping is released when its segment leaves the
// collection under the exclusive segment lock, so no search reads a
// released mapping; segments of a deleted or closed collection release
// theirs when the garbage collector finds them unreachable. Changing
// on_disk rewrites the sealed segments in the background. The store still
// holds every vector (vector records), so snapshots are unchanged; open
// reads no vector record of a point whose sealed slot has every vector in
// files. Once a sealed segment reads its vectors from files, the optimizer
// runs a full garbage collection and returns the freed heap to the
// operating system (runtime/debug.FreeOSMemory), so that the rows it held
// leave the process's anonymous memory at once rather than minutes later.
// Every seal ends with a flush of Pebble's memtable, which starts a new
// log: the old log writer's blocks, as many as the seal's unsynced
// artefact batches queued, are freed with it. Pebble's memtables are 2 MiB
// (two are kept: the one written and one for reuse).
//
// Restoring a snapshot (RestoreSnapshot, RecoverSnapshot,
// RestoreFullSnapshot) is atomic, also across a crash: the snapshot is read
// and verified into a staged collection, and one synced batch swaps it in;
// until then the collection it replaces is untouched, and Open deletes what
// an interrupted restore left.
//
// # Storage faults
//
// A write that would leave less than Options.DiskReserve free on the file
// system fails with ErrNoSpace before it reaches the store; reads go on,
// and writes succeed again once space is freed. An I/O failure the store
// cannot recover from (Pebble's fatal errors) fails the store: later writes
// fail at once with ErrStoreFailed, reads go on (payloads on disk are read
// from the store while it can serve them; a read that needs a payload the
// store fails to serve returns the error), and
// Close returns within seconds; reopening the directory recovers every
// acknowledged write. Health reports a failed store, and a write lock held
// past its context's deadline.
//
// # Concurrency
//
// A DB is safe for concurrent use. Writes to one collection are serialised;
// searches, gets, scrolls and counts run in parallel with each other and with
// the optimizer, and see each write batch whole or not at all (a batch is
// applied to the segments under a short exclusive lock). Index builds hold no
// lock that readers or writers wait for.
//
// # Strict mode
//
// A collection's strict_mode_config is enforced by the engine, before a
// request runs and as Qdrant 1.17 does: with "enabled" true, limits on
// query limits, timeouts (the one a server records with WithRequestTimeout),
// batch sizes, exact search and search parameters, filters on unindexed
// keys, filter size, upsert size, collection size and payload index count
// refuse requests with ErrStrictMode; read_rate_limit and write_rate_limit
// are token buckets (refilled continuously, a minute's worth at most) that
// refuse requests with a *RateLimitError, whatever "enabled" says. A batch
// is checked as a whole. Reads a server makes on its own behalf take a
// context from Internal and are not checked. Collection sizes are measured
// exactly, where Qdrant uses estimates refreshed in the background.
//
// # Configurations
//
// Every configuration is checked whole by CollectionConfig.Validate before
// it is stored, whatever stores it (create, update, snapshot restore): the
// ranges Qdrant validates, and what qlite derives from it (graph
// parameters within hnsw's limits, segment sizes computed without
// overflow). A value Qdrant accepts but qlite cannot serve, such as an HNSW
// m above 1024, is refused up front with a *ValidationError naming qlite's
// limit. A stored collection that still cannot be loaded (a record written
// by an older build, a damaged store) does not stop Open: the collection
// is reported as failed, with the reason, on Options.Log and in
// CollectionInfo (StatusRed), requests to it fail with ErrUnavailable, and
// DeleteCollection removes it; every other collection is served.
//
// # Errors
//
// Errors wrap one of the package's sentinels (ErrNotFound, ErrBadRequest,
// ErrConflict, ErrClosed, ErrCorrupt, ErrUnavailable, ErrStrictMode,
// ErrRateLimited, ErrNoSpace, ErrStoreFailed, ErrUnhealthy), with
// the detail after the sentinel's text, so that callers can map them to
// status codes with errors.Is.
package engine
