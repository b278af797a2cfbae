// Package hnsw implements a Hierarchical Navigable Small World graph
// (Malkov and Yashunin, 2016) for approximate nearest-neighbour search.
//
// The package holds the graph and nothing else. Nodes are dense uint32 ids
// chosen by the owner (typically offsets into the owner's vector storage), and
// the graph reaches vectors only through the Vectors interface the owner
// supplies, so the same graph works over any storage.
//
// # Concurrency
//
// Insert, Delete and Search may be called from any number of goroutines at
// once. Search takes no locks: link lists are read and written with atomic word
// operations, so a concurrent search sees every link list either before or
// after (or, briefly, during) an update, and every id it reads names a node that
// exists. Insert locks only the nodes whose link lists it changes, plus a short
// lock on the entry point when the new node rises above the top level. An
// insert chooses its neighbours on every level before it links any, then links
// from level 0 up, so that other inserts reach the new node on a level only
// once its lists below are in place. Repair excludes Insert and Delete for its
// duration (searches continue). Build runs inserts on all cores.
//
// # Deletion
//
// Delete marks a node as a tombstone: it is never returned again, but searches
// still walk through it, so the graph stays navigable. Repair removes the
// tombstones from the graph, giving each node that linked to one a new
// neighbour list chosen from its remaining and its lost neighbours' links, and
// reconnects any node left unreachable. After Repair, a deleted id may be
// inserted again as a new node; a tombstone may also be inserted again
// directly, which relinks it in place.
//
// # Memory
//
// Memory follows the node ids inserted, never a capacity: an empty graph holds
// no node storage. Level-0 link lists live in flat []uint32 chunks of 1024
// nodes (count word, then M0 ids), allocated with their node metadata when an
// id past the allocated chunks is first inserted (or, by Read, for the ids a
// serialised graph holds); the chunk directory then grows by a quarter, so
// growth is amortised. Chunks are never moved or freed while the Graph lives.
// Upper-level lists are allocated only for the few nodes that have them, when
// the node is inserted. Search scratch (visited set, heaps) is pooled: the
// visited set covers the allocated node ids and grows with the graph, and
// the candidate lists grow to the ef they are used with, so a search in
// steady state allocates nothing beyond the result slice, and SearchInto not
// even that.
//
// # Graphs in place
//
// WriteInPlace writes a sealed graph in a layout that OpenInPlace searches
// directly from a byte slice, typically a read-only memory-mapped file: the
// level-0 lists are the same flat arrays, viewed in place, and node states,
// levels (as offsets into one flat array of upper-level lists) and the entry
// point are read from the slice too, so such a graph holds no per-node Go
// memory and opening it loads nothing in proportion to its size (with
// InPlaceOptions.Trusted; otherwise one pass checks every link). Searches of
// it equal searches of the same graph in RAM. The slice is never written
// and must outlive the graph: Delete marks nodes in a bitset of the heap
// (a bit per node, made on the first Delete), and Insert, Repair and Build
// return ErrReadOnly.
package hnsw
