// Package segment is qlite's unit of storage and search: point versions in
// slots (dense uint32 offsets), their vectors in one or more named vector
// spaces, payloads, payload field indexes, and one HNSW graph per vector
// space.
//
// # Model
//
// A Segment has a fixed capacity of slots, chosen at New: a limit, not a
// reservation (see Lifetimes). Append places a
// point version in the next slot and returns it; the slot is live until
// Delete masks it. A masked slot keeps its data (PointAt, Payload and
// Vector still read it) but is never returned by Search, Count, Match or
// Lookup again; a graph that holds it keeps it as a tombstone to navigate
// through. A point may lack some of the segment's vectors: it is never a
// result of a search in that space, and has_vector tells.
//
// Payloads are held in memory, or, with Options.Payloads, read from a
// PayloadSource by point id and version whenever a read needs them
// (Payload, and filters on conditions no field index answers); the segment
// then keeps none, only the field indexes it builds from the payloads given
// to Append and Fill. A single read is one point lookup (LoadPayload); a
// scan that tests slots in ascending order reads the payloads of the next
// slots it will test in one batch, and only the top-level keys its filter
// reads (LoadPayloads). A version the source has lost (replaced since: the
// slot is masked) reads as null; a failure of the source is returned by
// the call that met it (Search, SearchSparse, Count, Match, Matches,
// Payload, CreateFieldIndex).
//
// Seal ends appends. A sealed segment changes only by Delete (and by
// BuildGraph for slots no graph covers yet). A persisted segment is loaded
// with NewLoading, Fill for each slot, LoadGraph for each vector space and
// Seal; until Seal it belongs to the loader.
//
// # Search
//
// Search plans each query against its filter: when the filter's estimated
// number of matching points is small, it scores the matching points exactly
// (full recall); otherwise it searches the graph with the filter as the
// accept predicate, stepping through rejected nodes to their neighbours when
// the filter is selective, so that recall holds. A space with PayloadM above
// 0 gets payload links when its graph is built (BuildPayloadLinks): extra
// level-0 links among the points of each payload block of the indexed
// fields, which a selective filtered search follows so that the matching
// points stay connected without the detour through rejected ones (plan
// graph-links). Filters are correct without
// any payload index: unindexed conditions are evaluated on the payloads.
// has_id resolves through the segment's id lookup, has_vector through the
// vector spaces' presence sets. Slots appended since the last BuildGraph are
// scored by scan.
//
// # Sparse vectors
//
// A segment may also have named sparse vectors (Options.Sparse), or no
// vectors at all. A sparse vector is stored sorted by index, in pages of
// 64Ki (index, value) pairs that slots reference (no Go pointer per slot),
// and indexed by an inverted index: per dimension, the slots that have it,
// ascending, with their values. An appendable segment adds a slot to its
// posting lists when the slot becomes live; Seal rebuilds them from the
// live slots into two flat arrays, which is also how a loading segment gets
// its index (Fill does not build it). A deleted slot stays in the posting
// lists until then, and searches skip it by its live bit; the per-dimension
// counts of live points (SparseStats, for IDF) follow deletes at once.
// SearchSparse scores exact dot products: it walks the query's posting
// lists, accumulating per slot, unless a filter matches fewer points than
// the vector's full scan threshold, in which case it scores those points
// directly. Points that share no index with the query are not results.
// Sparse searches share the filtered reads' lock.
//
// # Multivectors
//
// A vector space may hold multivectors (VectorSpec.Multi): each point has
// one or more Dim-long vectors, stored back to back in flat pages of 4 MiB
// (a longer multivector gets a page of its own) that a per-slot reference
// (page, offset, count) points into; no Go slice per point. Vector returns
// a slot's vectors back to back, aliasing its page. Searches and the graph
// score points by MaxSim (distance.Metric.MaxSim): the graph's nodes are
// points, and the distance between two is the MaxSim of the first's
// vectors against the second's. A space with NoGraph (Qdrant's m = 0) has
// no graph: BuildGraph marks it indexed, and every search scans.
//
// # Lifetimes
//
// Storage grows with the slots used, never with the capacity: an empty
// Segment holds no slot storage. Slot data (ids, versions, payloads,
// liveness and presence bits) lives in chunks of 1024 slots, and each
// vector space's rows in chunks of up to 1024 rows and at most 4 MiB,
// 64-byte aligned; a chunk is allocated when the first slot in it is placed
// (at Append, or at NewLoading for the slots it reserves) and freed only
// with the Segment. Chunks never move and are never reallocated, so vectors
// never move: a slice returned by Vector aliases a chunk and stays valid
// (read only) as long as the Segment. Readers reach the chunks through a
// directory that Append replaces, copy-on-write, before it publishes the
// slot; a chunk has no payload array when payloads come from a
// PayloadSource. Payload values are immutable and stay valid. Slot offsets stay
// meaningful for the Segment's life; they are never reused.
//
// # Datatypes
//
// A dense space keeps its rows as float32 unless VectorSpec.Datatype says
// Float16 or Uint8: its chunks then hold 2 or 1 bytes an element (the same
// chunk directory, allocation and mapping; see datatype.go), Append
// converts vectors as Qdrant 1.17 stores them, queries are converted the
// same way, and the float16 and uint8 kernels of package distance score
// them. Vector returns such a row widened to float32 in a new slice rather
// than an alias.
//
// # Mapped rows
//
// A sealed segment may read a dense space's rows from memory it does not
// own (Rows: typically a read-only memory mapping of a file the engine
// wrote with WriteRows), through the same chunk directory: MapRows switches
// a sealed segment to them (its own chunks are freed once no reader holds
// them), Options.Rows gives them to a loading segment, whose Fill then
// ignores that space's vectors and whose presence bits come from Rows. The
// kernels and the graph read such rows as they read chunks. A slice
// returned by Vector then aliases that memory, which the owner keeps
// readable as long as readers can reach the segment (the engine releases a
// mapping only once the segment has left its collection under the
// exclusive segment lock). Multivector spaces keep their own pages.
//
// # Concurrency
//
// A Segment is safe for concurrent use. Appends are serialised with each
// other; searches, counts, lookups, deletes and a graph build run beside them
// and beside each other. Unfiltered searches take no lock. Filtered reads
// (filtered Search, Count, Match, Matches, Lookup) share a lock that
// Append, Delete and field index changes take briefly, and CreateFieldIndex
// for the length of the index build. BuildGraph holds no lock that appends,
// deletes or searches need; builds are serialised with each other. Match
// calls its function without any lock held. CheckInvariants must not run
// beside Delete or WriteGraph.
package segment
