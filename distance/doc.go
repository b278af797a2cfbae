// Package distance implements qlite's vector metrics and their float32 kernels.
//
// Four metrics follow Qdrant's conventions:
//
//   - Cosine: vectors are normalised once, at write time (and queries at query
//     time); the score is the dot product of the normalised vectors, higher is
//     better.
//   - Dot: the raw dot product, higher is better.
//   - Euclid: the L2 distance, lower is better.
//   - Manhattan: the L1 distance, lower is better.
//
// Internally every metric is also available as a "distance", a number where
// lower always means closer; the HNSW graph orders candidates by it. For Euclid
// the distance is the squared L2 distance (the square root is applied only to
// scores reported to users), for Manhattan the L1 distance, and for Cosine and
// Dot it is 1 - dot.
//
// Kernels never allocate and never take a context. They assume their inputs
// have equal length; validation (length, NaN, Inf) belongs at the API edge, see
// Validate. On amd64 with AVX2 and FMA (or AVX-512) the kernels run in
// assembly; elsewhere, and for short vectors where a call into assembly does
// not pay, they run in plain Go. Both paths are tested to agree.
package distance
