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
// Prometheus text at /metrics with Qdrant's metric names.
//
// Operations that need what the engine does not have (sparse vectors,
// multivectors, prefetch and fusion, formula queries, quantised storage,
// distributed cluster operations) answer as a single-node Qdrant does where
// that is defined, and otherwise fail with InvalidArgument (HTTP 400) naming
// the unsupported feature.
package compat
