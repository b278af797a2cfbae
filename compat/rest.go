package compat

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
)

// RESTOptions configures the REST handler. Zero fields take their defaults.
type RESTOptions struct {
	// MaxRequestBytes bounds a request body (default 32 MiB, Qdrant's max_request_size_mb).
	MaxRequestBytes int64
	// Limits bound batches and the memory of a request's results.
	Limits Limits
}

// restDefaultMaxRequestBytes is Qdrant's max_request_size_mb default.
const restDefaultMaxRequestBytes = 32 << 20

// NewREST returns the handler of every operation of Qdrant's openapi.json (v1.17.x). API keys and
// CORS are applied by the caller around it.
//
// Successful answers use Qdrant's envelope {"result": ..., "status": "ok",
// "time": seconds}; failures are {"status": {"error": message}, "time": ...}
// with the HTTP status Qdrant uses: 400 for a body that does not decode
// ("Format error in JSON body: ...") and for bad input, 422 for a body that
// breaks a validation rule ("Validation error in JSON body: [field: ...]"),
// 404 for a missing collection or point, 409 for an existing one. Point ids
// and payload integers go through exactly in both directions. What the engine
// does not have (multivectors, prefetch and fusion, formulas, MMR,
// relevance feedback) is answered with 400 naming the feature; inference
// other than BM25 documents answers as Qdrant without an inference service;
// cluster operations answer as
// a Qdrant node without distributed mode does.
//
// The handler holds no state besides its start time and identity; it is safe
// for concurrent use and does not own db.
func NewREST(db *engine.DB, opts *RESTOptions) http.Handler {
	var o RESTOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = restDefaultMaxRequestBytes
	}
	o.Limits = o.Limits.withDefaults()
	// A random (version 4) UUID identifies the node in telemetry, and a
	// random peer id below 2^53 (exact in JavaScript clients) in cluster
	// information, as a standalone Qdrant has.
	var id [16]byte
	var peer [8]byte
	rand.Read(id[:])
	rand.Read(peer[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	s := &restServer{db: db, opts: o, started: time.Now().UTC(),
		id: filter.UUIDID(id).String(), peerID: binary.LittleEndian.Uint64(peer[:]) >> 11}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.wrap(rt.handler, rt.pattern))
	}
	return &restRouter{mux: mux}
}

// restServer serves the REST API over one engine.
type restServer struct {
	db      *engine.DB
	opts    RESTOptions
	started time.Time
	// id is the telemetry id and peerID the peer id this node reports.
	id     string
	peerID uint64
}

// restFunc handles one operation. It returns the result to put in the
// envelope, or an error; a handler that writes its own response returns
// restWritten.
type restFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// restRoute is one operation: a ServeMux pattern and its handler.
type restRoute struct {
	pattern string
	handler restFunc
}

// restWritten is returned by handlers that wrote the response themselves.
type restWrittenT struct{}

var restWritten = restWrittenT{}

// restAccepted is returned by operations run with wait=false that answer
// 202 {"status": "accepted"}, as Qdrant does for snapshot operations.
type restAcceptedT struct{}

var restAccepted = restAcceptedT{}

func (s *restServer) routes() []restRoute {
	const c = "/collections/{collection_name}"
	return []restRoute{
		// Service.
		{"GET /{$}", s.root},
		{"GET /telemetry", s.telemetry},
		{"GET /metrics", s.metrics},
		{"GET /healthz", s.healthz},
		{"GET /livez", s.healthz},
		{"GET /readyz", s.readyz},
		{"GET /issues", s.getIssues},
		{"DELETE /issues", s.clearIssues},
		// Cluster.
		{"GET /cluster", s.clusterStatus},
		{"GET /cluster/telemetry", s.clusterTelemetry},
		{"POST /cluster/recover", s.recoverPeer},
		{"DELETE /cluster/peer/{peer_id}", s.removePeer},
		{"GET " + c + "/cluster", s.collectionCluster},
		{"POST " + c + "/cluster", s.updateCollectionCluster},
		{"PUT " + c + "/shards", s.createShardKey},
		{"GET " + c + "/shards", s.listShardKeys},
		{"POST " + c + "/shards/delete", s.deleteShardKey},
		// Collections and aliases.
		{"GET /collections", s.listCollections},
		{"GET " + c, s.getCollection},
		{"PUT " + c, s.createCollection},
		{"PATCH " + c, s.updateCollection},
		{"DELETE " + c, s.deleteCollection},
		{"GET " + c + "/exists", s.collectionExists},
		{"GET " + c + "/optimizations", s.optimizations},
		{"POST /collections/aliases", s.updateAliases},
		{"GET " + c + "/aliases", s.collectionAliases},
		{"GET /aliases", s.allAliases},
		{"PUT " + c + "/index", s.createIndex},
		{"DELETE " + c + "/index/{field_name}", s.deleteIndex},
		// Snapshots.
		{"POST " + c + "/snapshots/upload", s.uploadSnapshot},
		{"PUT " + c + "/snapshots/recover", s.recoverSnapshot},
		{"GET " + c + "/snapshots", s.listSnapshots},
		{"POST " + c + "/snapshots", s.createSnapshot},
		{"DELETE " + c + "/snapshots/{snapshot_name}", s.deleteSnapshot},
		{"GET " + c + "/snapshots/{snapshot_name}", s.downloadSnapshot},
		{"GET /snapshots", s.listFullSnapshots},
		{"POST /snapshots", s.createFullSnapshot},
		{"DELETE /snapshots/{snapshot_name}", s.deleteFullSnapshot},
		{"GET /snapshots/{snapshot_name}", s.downloadFullSnapshot},
		{"GET " + c + "/shards/{shard_id}/snapshot", s.streamShardSnapshot},
		{"POST " + c + "/shards/{shard_id}/snapshots/upload", s.uploadShardSnapshot},
		{"PUT " + c + "/shards/{shard_id}/snapshots/recover", s.recoverShardSnapshot},
		{"GET " + c + "/shards/{shard_id}/snapshots", s.listShardSnapshots},
		{"POST " + c + "/shards/{shard_id}/snapshots", s.createShardSnapshot},
		{"DELETE " + c + "/shards/{shard_id}/snapshots/{snapshot_name}", s.deleteShardSnapshot},
		{"GET " + c + "/shards/{shard_id}/snapshots/{snapshot_name}", s.downloadShardSnapshot},
		// Points.
		{"GET " + c + "/points/{id}", s.getPoint},
		{"POST " + c + "/points", s.getPoints},
		{"PUT " + c + "/points", s.upsertPoints},
		{"POST " + c + "/points/delete", s.deletePoints},
		{"PUT " + c + "/points/vectors", s.updateVectors},
		{"POST " + c + "/points/vectors/delete", s.deleteVectors},
		{"POST " + c + "/points/payload", s.setPayload},
		{"PUT " + c + "/points/payload", s.overwritePayload},
		{"POST " + c + "/points/payload/delete", s.deletePayload},
		{"POST " + c + "/points/payload/clear", s.clearPayload},
		{"POST " + c + "/points/batch", s.batchUpdate},
		{"POST " + c + "/points/scroll", s.scroll},
		{"POST " + c + "/points/count", s.count},
		{"POST " + c + "/facet", s.facet},
		// Search.
		{"POST " + c + "/points/search", s.search},
		{"POST " + c + "/points/search/batch", s.searchBatch},
		{"POST " + c + "/points/search/groups", s.searchGroups},
		{"POST " + c + "/points/recommend", s.recommend},
		{"POST " + c + "/points/recommend/batch", s.recommendBatch},
		{"POST " + c + "/points/recommend/groups", s.recommendGroups},
		{"POST " + c + "/points/discover", s.discover},
		{"POST " + c + "/points/discover/batch", s.discoverBatch},
		{"POST " + c + "/points/query", s.query},
		{"POST " + c + "/points/query/batch", s.queryBatch},
		{"POST " + c + "/points/query/groups", s.queryGroups},
		{"POST " + c + "/points/search/matrix/pairs", s.matrixPairs},
		{"POST " + c + "/points/search/matrix/offsets", s.matrixOffsets},
	}
}

// wrap turns the restFunc of a route pattern into an http.Handler that
// checks the collection name in the path, then runs h and writes the
// envelope. Format errors are placed in the body by the route's rule, and
// validation errors name the route's request struct.
func (s *restServer) wrap(h restFunc, pattern string) http.Handler {
	pos, prefix := restPosRule(pattern), restValidationPrefix(pattern)
	hasColl := strings.Contains(pattern, "{collection_name}")
	create := pattern == "PUT /collections/{collection_name}"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if hasColl {
			if err := restCheckCollectionPath(r.PathValue("collection_name"), create); err != nil {
				restWriteError(w, start, err)
				return
			}
		}
		if t, err := strconv.ParseUint(r.URL.Query().Get("timeout"), 10, 64); err == nil {
			// The timeout asked for, which strict mode bounds.
			r = r.WithContext(engine.WithRequestTimeout(r.Context(), t))
		}
		st := &restRequestState{}
		r = r.WithContext(context.WithValue(r.Context(), restStateKey{}, st))
		res, err := h(w, r)
		switch {
		case err != nil:
			restWriteError(w, start, restPrefixValidation(restPlace(err, pos, st.body), prefix))
		case res == restWritten:
		case res == restAccepted:
			restWriteJSON(w, http.StatusAccepted, restEnvelope{Status: "accepted", Time: time.Since(start).Seconds()})
		default:
			restWriteResult(w, start, res)
		}
	})
}

// restEnvelope is Qdrant's response envelope. Result is omitted when nil.
type restEnvelope struct {
	Result any     `json:"result,omitempty"`
	Status any     `json:"status"`
	Time   float64 `json:"time"`
}

// restWriteResult writes a successful answer. The result is always
// present, even when it is false or empty.
func restWriteResult(w http.ResponseWriter, start time.Time, res any) {
	body, err := json.Marshal(struct {
		Result any     `json:"result"`
		Status string  `json:"status"`
		Time   float64 `json:"time"`
	}{res, "ok", time.Since(start).Seconds()})
	if err != nil {
		restWriteError(w, start, fmt.Errorf("qlite: encoding the response: %w", err))
		return
	}
	restWriteBody(w, http.StatusOK, body)
}

func restWriteJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		body = []byte(`{"status":{"error":"Service internal error: encoding the response"},"time":0}`)
		code = http.StatusInternalServerError
	}
	restWriteBody(w, code, body)
}

func restWriteBody(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(body)
}

// restError is an error with its HTTP status and Qdrant's message.
type restError struct {
	status int
	msg    string
}

func (e *restError) Error() string { return e.msg }

// restFormatError is Qdrant's answer to a body that does not decode: 400
// "Format error in JSON body: ...".
func restFormatError(format string, args ...any) error {
	return &restError{http.StatusBadRequest, "Format error in JSON body: " + fmt.Sprintf(format, args...)}
}

// restValidationError is Qdrant's answer to a body that breaks a validation
// rule: 422 "Validation error in JSON body: [field: message]".
func restValidationError(field, format string, args ...any) error {
	return &restError{http.StatusUnprocessableEntity, fmt.Sprintf("Validation error in JSON body: [%s: %s]", field, fmt.Sprintf(format, args...))}
}

// restQueryError is Qdrant's answer to a query parameter that does not
// decode.
func restQueryError(format string, args ...any) error {
	return &restError{http.StatusBadRequest, "Deserialize error in query parameters: " + fmt.Sprintf(format, args...)}
}

// restBadRequest is a StorageError::BadRequest: 400 "Bad request: ...".
func restBadRequest(format string, args ...any) error {
	return &restError{http.StatusBadRequest, "Bad request: " + fmt.Sprintf(format, args...)}
}

// restNotFound is a StorageError::NotFound: 404 "Not found: ...".
func restNotFound(format string, args ...any) error {
	return &restError{http.StatusNotFound, "Not found: " + fmt.Sprintf(format, args...)}
}

// restErrorStatus returns the HTTP status and message of err.
func restErrorStatus(err error) (int, string) {
	var re *restError
	if errors.As(err, &re) {
		return re.status, re.msg
	}
	var ve *engine.ValidationError
	if errors.As(err, &ve) {
		return http.StatusUnprocessableEntity, fmt.Sprintf("Validation error in JSON body: [%s: %s]", ve.Path, ve.Msg)
	}
	code, _, msg := Status(err)
	return code, msg
}

func restWriteError(w http.ResponseWriter, start time.Time, err error) {
	code, msg := restErrorStatus(err)
	if d := RetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(d/time.Second), 10))
	}
	restWriteJSON(w, code, restEnvelope{Status: map[string]string{"error": msg}, Time: time.Since(start).Seconds()})
}

// body reads the request body within the size limit, decompressing it
// as Qdrant does for Content-Encoding gzip, deflate and zstd (others are
// read as they come). The limit bounds the decompressed size: reading
// stops one byte past it. Qdrant answers an oversized body with 400 and
// actix's message.
func (s *restServer) body(r *http.Request) ([]byte, error) {
	limit := s.opts.MaxRequestBytes
	if r.ContentLength > limit {
		return nil, &restError{http.StatusBadRequest, fmt.Sprintf("Payload error: JSON payload (%d bytes) is larger than allowed (limit: %d bytes).", r.ContentLength, limit)}
	}
	rd, err := restDecompress(r.Body, r.Header.Get("Content-Encoding"), limit)
	if err != nil {
		return nil, &restError{http.StatusBadRequest, "Payload error: " + err.Error()}
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, &restError{http.StatusBadRequest, "Payload error: " + err.Error()}
	}
	if int64(len(b)) > limit {
		return nil, &restError{http.StatusBadRequest, fmt.Sprintf("Payload error: JSON payload has exceeded limit (%d bytes).", limit)}
	}
	if st, ok := r.Context().Value(restStateKey{}).(*restRequestState); ok {
		st.body = b
	}
	return b, nil
}

// restZstdMaxWindow bounds the window a zstd body may ask the decoder to
// allocate (zstd's own default allows 512 MiB); level 19 uses 8 MiB.
const restZstdMaxWindow = 32 << 20

// restDecompress returns a reader of body decoded as encoding says.
func restDecompress(body io.Reader, encoding string, limit int64) (io.ReadCloser, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "gzip", "x-gzip":
		return gzip.NewReader(body)
	case "deflate":
		return zlib.NewReader(body)
	case "zstd":
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(restZstdMaxWindow),
			zstd.WithDecoderMaxMemory(max(uint64(limit)+1, restZstdMaxWindow)))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(body), nil
}

// decodeBatch reads the body of a batch request, refuses it when its
// searches hold more than the batch limit or a null (as Qdrant, naming the
// struct elem), and decodes it into v.
func (s *restServer) decodeBatch(r *http.Request, elem string, v any) error {
	b, err := s.body(r)
	if err != nil {
		return err
	}
	if err := restCheckBatch(b, "searches", elem, s.opts.Limits.MaxBatch); err != nil {
		return err
	}
	if err := restDecode(b, v); err != nil {
		return err
	}
	return restCheckConditions(v, s.opts.Limits.MaxFilterConditions)
}

// decodeBody reads the body and decodes it into v (see restDecode).
func (s *restServer) decodeBody(r *http.Request, v any) error {
	b, err := s.body(r)
	if err != nil {
		return err
	}
	if err := restDecode(b, v); err != nil {
		return err
	}
	return restCheckConditions(v, s.opts.Limits.MaxFilterConditions)
}

// restWait reads the wait query parameter (default false).
func restWait(r *http.Request) (bool, error) {
	return restBoolParam(r, "wait", false)
}

func restBoolParam(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	switch v {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, restQueryError("provided string was not `true` or `false`")
}

// restWriteOptions reads the parameters of an update: wait, and ordering
// and timeout, which are checked and otherwise ignored.
func restWriteOptions(r *http.Request) (*engine.WriteOptions, error) {
	wait, err := restWait(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	switch q.Get("ordering") {
	case "", "weak", "medium", "strong":
	default:
		return nil, restQueryError("unknown variant `%s`, expected one of `weak`, `medium`, `strong`", q.Get("ordering"))
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	return &engine.WriteOptions{Wait: wait}, nil
}

// restCheckTimeout validates the timeout parameter (seconds, at least 1),
// which qlite accepts and ignores.
func restCheckTimeout(r *http.Request) error {
	v := r.URL.Query().Get("timeout")
	if v == "" {
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return restQueryError("invalid digit found in string")
	}
	if n < 1 {
		return &restError{http.StatusUnprocessableEntity, "Validation error in query parameters: [timeout: value 0 invalid, must be 1 or larger]"}
	}
	return nil
}

// restReadOptions checks the parameters of a read: consistency and timeout,
// which are accepted and ignored.
func restReadOptions(r *http.Request) error {
	switch c := r.URL.Query().Get("consistency"); c {
	case "", "majority", "quorum", "all":
	default:
		if _, err := strconv.ParseUint(c, 10, 64); err != nil {
			return restQueryError("failed to deserialize read consistency query parameter value '%s'", c)
		}
	}
	return restCheckTimeout(r)
}
