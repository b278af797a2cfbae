// Package quant implements the quantisers behind Qdrant's
// quantization_config, with Qdrant's semantics: scalar int8 (Scalar),
// binary (Binary: one_bit, two_bits, one_and_half_bits codes and default,
// scalar4bits, scalar8bits query encodings) and product quantisation
// (Product: x4 to x64). It is the library layer only: segments, the
// optimizer and the API decide when to train, where rows live and when to
// rescore.
//
// # Model
//
// A quantiser is trained once from a collection's vectors (TrainScalar,
// TrainBinary, TrainProduct take a Vectors and are deterministic for a given
// seed) and is then immutable. It encodes each vector into a fixed-size row
// of RowSize bytes; the caller keeps the rows of many vectors in one flat
// []byte (row i at i*RowSize; AlignedRows allocates one), so a segment holds
// no per-vector Go pointers. To search, a query is prepared once
// (PrepareQuery: encoded, or a lookup table for PQ) and scored against the
// rows named by a list of ids with Distances, the batch call that an HNSW
// expansion or a brute-force scan makes. Distances are estimates in qlite's
// convention (lower is closer, see distance.Metric; binary estimates only
// rank); the caller rescores the best candidates with the original vectors
// (Qdrant's rescore and oversampling).
//
// Bytes per vector: Scalar Dim+4 (a quarter of float32's plus the
// correction term), Binary 8 per 64 code bits (Dim, 2·Dim or 1.5·Dim bits),
// Product Dim·4/ratio.
//
// # Lifetimes and concurrency
//
// Quantisers are safe for concurrent use (Encode too). A trainer may call
// a Vectors' At from several goroutines (ProductOptions.Workers). A Query
// is owned by one goroutine at a time and reused across PrepareQuery calls
// (no allocation once its buffers have grown). Distances and PrepareQuery never allocate. AppendBinary
// serialises a quantiser (FORMAT.md); Open reads one back, aliasing the
// input's float array when it can, so that buffer must outlive the
// quantiser and stay unmodified (a memory-mapped file works).
//
// # Errors
//
// Bad options and training input return errors wrapping ErrBadOptions or
// distance.ErrDimMismatch; damaged serialised data returns ErrCorrupt.
// Broken call contracts (a row id outside the rows, a short dst) panic with
// a "quant: BUG" message.
package quant
