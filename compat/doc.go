// Package compat is Qdrant's protocol over the engine: the gRPC services of
// github.com/qdrant/go-client (Qdrant, Collections, Points, Snapshots) and
// the REST API of Qdrant's OpenAPI spec, both answering as a single-node
// Qdrant v1.17 does; and Client, the method set of go-client's
// *qdrant.Client, satisfied both by *qdrant.Client (any Qdrant server,
// qlite's or Qdrant's own) and by NewEmbedded, which calls the engine in
// process without serialising anything.
//
// NewServer serves both APIs with Qdrant's API keys, CORS, and OpenTelemetry:
// a SERVER span per request continuing the caller's W3C trace context, and
// Prometheus text at /metrics with Qdrant's metric names, then qlite's own
// (qlite_collection_*: points, segments, memory by kind, disk) and the Go
// runtime's. A collection's REST info adds one section of qlite's own,
// result.qlite (memory by kind and disk bytes), which Qdrant's answer lacks
// and its clients ignore; gRPC's CollectionInfo has no room for it.
//
// With ServerConfig.AccessLog, each REST request and gRPC call makes one
// log/slog record at level info when it ends, message "access", with the
// fields proto (rest or grpc), method (the HTTP method, or the gRPC full
// method), route (the ServeMux route template; path instead when no route
// matched), collection (when the path or request names one), status (the
// HTTP status, or the gRPC code's name), duration_ms, bytes (of a REST
// response body), remote (the client's address) and trace_id (when the
// request's span is sampled). Health probes (GET /, /healthz, /livez,
// /readyz; gRPC's health checks) and scrapes of /metrics and /telemetry
// make neither spans nor records unless ServerConfig.ObserveProbes.
//
// No one request can exhaust or hang a Server (see ServerConfig): API keys
// are checked before a body or message is read (over gRPC, from the call's
// headers, before its stream exists); bodies and messages are capped after
// decompression (MaxRequestBytes, 32 MiB); batches are counted before
// they are decoded and the results of search requests are estimated
// before they run (Limits); idle connections and slow headers are cut off
// (IdleTimeout, HeaderTimeout). REST paths are routed as Qdrant's actix
// server routes them, and never redirected: "." and ".." are literal
// names, not steps up the path.
//
// Sparse vectors go through every request that takes a vector, with
// Qdrant's validation (unique indices, as many values as indices) and its
// messages. Documents ({"text", "model", "options"}) with Qdrant's built-in
// model "qdrant/bm25" are embedded where a vector is accepted (payload/bm25:
// the document side in writes, the query side in the universal query API);
// other models, images and inference objects answer as a Qdrant server
// without an inference service does (500, "InferenceService URL not
// configured").
//
// The universal query takes every variant of Qdrant 1.17's Query, with
// prefetches: nearest (with or without MMR), recommend, discover, context,
// order_by, sample, fusion (rrf, dbsf), formula and relevance_feedback, over
// dense, sparse and multivectors; search params (hnsw_ef, exact,
// quantization, indexed_only, acorn) are validated as Qdrant validates them
// and the ones an engine with full vectors has no use for are accepted.
//
// Operations that need what the engine does not have (custom sharding,
// distributed cluster operations) answer as a single-node Qdrant does where
// that is defined, and otherwise fail with InvalidArgument (HTTP 400)
// naming the unsupported feature.
package compat
