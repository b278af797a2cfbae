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
// Dot it is 1 - dot. Metric.Score turns a distance into the reported score.
//
// # Kernels
//
// DotProduct, SquaredL2 and L1 score one pair of vectors. Three batch forms
// score one query against many rows in a single call, the first two against
// a row-major matrix (row r of base is base[r*dim : r*dim+dim]):
//
//   - DotGather, SquaredL2Gather, L1Gather and Metric.Gather score the rows
//     named by a list of ids, as an HNSW node expansion needs. While one row is
//     scored the next ones are prefetched, which hides much of the memory
//     latency when the matrix does not fit in cache.
//   - DotBatch, SquaredL2Batch, L1Batch and Metric.Batch score every row, for
//     brute-force search.
//   - DotChunks, SquaredL2Chunks, L1Chunks and Metric.GatherChunks score the
//     rows named by ids in chunked storage (a list of equal-width matrices
//     that grows without moving rows), with the same checks and prefetching
//     as the gather forms. SquaredL2ChunksBelow, L1ChunksBelow and
//     Metric.GatherChunksBelow serve top-k scans: given the k-th best
//     distance as a bound, they stop reading a row once its partial sum
//     reaches it (AVX2), returning the exact distance of every row below it.
//
// Every form of a kernel returns bit-identical results for the same pair of
// vectors, so a distance computed by Gather can be compared with one computed
// by Distance.
//
// Kernels never allocate, never take a context and are safe for concurrent
// use. The single-pair kernels
// read len(a) elements and panic if len(b) < len(a); the batch forms check
// their contract once per call and panic with a "distance: BUG" message when
// it is broken. Validation of user input (length, NaN, Inf) belongs at the API
// edge, see Validate.
//
// # Implementations
//
// On amd64 the kernels run in assembly: an AVX-512 flavour where the CPU and
// OS support AVX-512F, otherwise an AVX2+FMA flavour, chosen once at start-up.
// The choice is refined by length, where measurements showed a winner:
// vectors shorter than 6 elements are scored in Go, since a call into
// assembly costs more than it saves there, and under AVX-512 vectors shorter
// than 64 elements use the AVX2 kernels, whose reduction is shorter. Gather,
// batch and chunk forms choose by dim in the same way. Elsewhere (or built with the
// purego tag, or on CPUs without AVX2 and FMA) every kernel runs in portable
// Go. All paths are tested to agree with a float64 reference; KERNELS.md has
// the measurements behind the choices.
//
// # Quantised and narrow rows
//
// DotU8, SquaredL2U8 and L1U8 score byte vectors exactly (uint32 sums, exact
// up to Qdrant's largest dimension, 65536): scalar int8 codes (0..127) and
// uint8 datatype rows. DotF16, SquaredL2F16 and L1F16 score a float32 query
// against float16 rows, DotU8F32, SquaredL2U8F32 and L1U8F32 against uint8
// rows; F16FromF32, F32FromF16 and U8FromF32 convert whole vectors as Qdrant
// 1.17 stores them. XorPopcount, AndPopcount and XorPopcountPlanes score
// binary codes held in uint64 words; PQScore and PQGather sum a product
// quantisation lookup table over a row's codes. Their assembly uses
// AVX-512BW with AVX512_VNNI (bytes), AVX512_VPOPCNTDQ (popcounts) and F16C
// where the CPU has them, AVX2 otherwise, and pure Go elsewhere;
// QuantKernels reports the choice. The quantisers built on them are in
// package quant.
//
// The environment variable QLITE_DISTANCE_KERNELS, read at start-up, caps the
// flavour: "purego", "avx2" or "avx512". Kernels reports the flavour in use.
package distance
