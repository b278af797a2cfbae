// Package segment is qlite's unit of storage and search: points (dense
// internal offsets), their vectors and payloads, payload field indexes, and
// an HNSW graph over the vectors.
//
// Search plans each query against its filter: when the filter's estimated
// number of matching points is small, it scores the matching points exactly
// (full recall); otherwise it searches the graph with the filter as the
// accept predicate, stepping through rejected nodes to their neighbours when
// the filter is selective, so that recall holds. Filters are correct without
// any payload index: unindexed conditions are evaluated on the payloads.
//
// A Segment is safe for concurrent use: searches run in parallel with each
// other and with appends.
package segment
