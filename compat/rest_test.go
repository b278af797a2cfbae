package compat

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/telemetry"
)

// restTestServer is a REST server over a new database, closed with the
// test, whose invariants are checked at cleanup.
type restTestServer struct {
	t   *testing.T
	db  *engine.DB
	srv *httptest.Server
}

func newRESTTest(t *testing.T, opts *RESTOptions) *restTestServer {
	t.Helper()
	db, err := engine.Open(t.TempDir(), &engine.Options{SealDelay: 20 * time.Millisecond})
	require.NoError(t, err)
	srv := httptest.NewServer(NewREST(db, opts))
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, db.CheckInvariants())
		require.NoError(t, db.Close())
	})
	return &restTestServer{t: t, db: db, srv: srv}
}

// do sends a request and returns the status and body.
func (s *restTestServer) do(method, path, body string) (int, []byte) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	require.NoError(s.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.srv.Client().Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, b
}

// restEnvelopeOut is the envelope with the result kept raw.
type restEnvelopeOut struct {
	Result json.RawMessage `json:"result"`
	Status json.RawMessage `json:"status"`
	Time   *float64        `json:"time"`
}

// ok sends a request that must succeed and returns its result.
func (s *restTestServer) ok(method, path, body string) json.RawMessage {
	s.t.Helper()
	code, b := s.do(method, path, body)
	require.Equal(s.t, http.StatusOK, code, "%s %s: %s", method, path, b)
	var env restEnvelopeOut
	require.NoError(s.t, json.Unmarshal(b, &env), "%s", b)
	require.JSONEq(s.t, `"ok"`, string(env.Status), "%s", b)
	require.NotNil(s.t, env.Time, "%s", b)
	require.GreaterOrEqual(s.t, *env.Time, 0.0)
	return env.Result
}

// failText sends a request that must fail with code and a plain-text
// body (as Qdrant answers failed downloads) starting with prefix, and
// returns the body.
func (s *restTestServer) failText(method, path string, code int, prefix string) string {
	s.t.Helper()
	got, b := s.do(method, path, "")
	require.Equal(s.t, code, got, "%s %s: %s", method, path, b)
	require.False(s.t, json.Valid(b), "%s %s: a JSON body: %s", method, path, b)
	require.True(s.t, strings.HasPrefix(string(b), prefix), "%s %s: body %q does not start with %q", method, path, b, prefix)
	return string(b)
}

// fail sends a request that must fail with code and a message starting
// with prefix, and returns the message.
func (s *restTestServer) fail(method, path, body string, code int, prefix string) string {
	s.t.Helper()
	got, b := s.do(method, path, body)
	require.Equal(s.t, code, got, "%s %s: %s", method, path, b)
	var env struct {
		Result *json.RawMessage `json:"result"`
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
		Time *float64 `json:"time"`
	}
	require.NoError(s.t, json.Unmarshal(b, &env), "%s", b)
	require.Nil(s.t, env.Result, "%s", b)
	require.NotNil(s.t, env.Time, "%s", b)
	require.True(s.t, strings.HasPrefix(env.Status.Error, prefix), "%s %s: error %q does not start with %q", method, path, env.Status.Error, prefix)
	return env.Status.Error
}

// into decodes a result into v, numbers kept exact.
func restInto(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	require.NoError(t, dec.Decode(v), "%s", raw)
}

// restOperations lists every operation of Qdrant's openapi.json v1.17.1
// (73 operations on 59 paths), as method and path template.
var restOperations = []struct{ method, path string }{
	{"PUT", "/collections/{collection_name}/shards"},         // create_shard_key
	{"GET", "/collections/{collection_name}/shards"},         // list_shard_keys
	{"POST", "/collections/{collection_name}/shards/delete"}, // delete_shard_key
	{"GET", "/"},                                                                             // root
	{"GET", "/telemetry"},                                                                    // telemetry
	{"GET", "/metrics"},                                                                      // metrics
	{"GET", "/healthz"},                                                                      // healthz
	{"GET", "/livez"},                                                                        // livez
	{"GET", "/readyz"},                                                                       // readyz
	{"GET", "/issues"},                                                                       // get_issues
	{"DELETE", "/issues"},                                                                    // clear_issues
	{"GET", "/cluster"},                                                                      // cluster_status
	{"GET", "/cluster/telemetry"},                                                            // cluster_telemetry
	{"POST", "/cluster/recover"},                                                             // recover_current_peer
	{"DELETE", "/cluster/peer/{peer_id}"},                                                    // remove_peer
	{"GET", "/collections"},                                                                  // get_collections
	{"GET", "/collections/{collection_name}"},                                                // get_collection
	{"PUT", "/collections/{collection_name}"},                                                // create_collection
	{"PATCH", "/collections/{collection_name}"},                                              // update_collection
	{"DELETE", "/collections/{collection_name}"},                                             // delete_collection
	{"POST", "/collections/aliases"},                                                         // update_aliases
	{"PUT", "/collections/{collection_name}/index"},                                          // create_field_index
	{"GET", "/collections/{collection_name}/exists"},                                         // collection_exists
	{"DELETE", "/collections/{collection_name}/index/{field_name}"},                          // delete_field_index
	{"GET", "/collections/{collection_name}/cluster"},                                        // collection_cluster_info
	{"POST", "/collections/{collection_name}/cluster"},                                       // update_collection_cluster
	{"GET", "/collections/{collection_name}/optimizations"},                                  // get_optimizations
	{"GET", "/collections/{collection_name}/aliases"},                                        // get_collection_aliases
	{"GET", "/aliases"},                                                                      // get_collections_aliases
	{"POST", "/collections/{collection_name}/snapshots/upload"},                              // recover_from_uploaded_snapshot
	{"PUT", "/collections/{collection_name}/snapshots/recover"},                              // recover_from_snapshot
	{"GET", "/collections/{collection_name}/snapshots"},                                      // list_snapshots
	{"POST", "/collections/{collection_name}/snapshots"},                                     // create_snapshot
	{"DELETE", "/collections/{collection_name}/snapshots/{snapshot_name}"},                   // delete_snapshot
	{"GET", "/collections/{collection_name}/snapshots/{snapshot_name}"},                      // get_snapshot
	{"GET", "/snapshots"},                                                                    // list_full_snapshots
	{"POST", "/snapshots"},                                                                   // create_full_snapshot
	{"DELETE", "/snapshots/{snapshot_name}"},                                                 // delete_full_snapshot
	{"GET", "/snapshots/{snapshot_name}"},                                                    // get_full_snapshot
	{"GET", "/collections/{collection_name}/shards/{shard_id}/snapshot"},                     // stream_shard_snapshot
	{"POST", "/collections/{collection_name}/shards/{shard_id}/snapshots/upload"},            // recover_shard_from_uploaded_snapshot
	{"PUT", "/collections/{collection_name}/shards/{shard_id}/snapshots/recover"},            // recover_shard_from_snapshot
	{"GET", "/collections/{collection_name}/shards/{shard_id}/snapshots"},                    // list_shard_snapshots
	{"POST", "/collections/{collection_name}/shards/{shard_id}/snapshots"},                   // create_shard_snapshot
	{"DELETE", "/collections/{collection_name}/shards/{shard_id}/snapshots/{snapshot_name}"}, // delete_shard_snapshot
	{"GET", "/collections/{collection_name}/shards/{shard_id}/snapshots/{snapshot_name}"},    // get_shard_snapshot
	{"GET", "/collections/{collection_name}/points/{id}"},                                    // get_point
	{"POST", "/collections/{collection_name}/points"},                                        // get_points
	{"PUT", "/collections/{collection_name}/points"},                                         // upsert_points
	{"POST", "/collections/{collection_name}/points/delete"},                                 // delete_points
	{"PUT", "/collections/{collection_name}/points/vectors"},                                 // update_vectors
	{"POST", "/collections/{collection_name}/points/vectors/delete"},                         // delete_vectors
	{"POST", "/collections/{collection_name}/points/payload"},                                // set_payload
	{"PUT", "/collections/{collection_name}/points/payload"},                                 // overwrite_payload
	{"POST", "/collections/{collection_name}/points/payload/delete"},                         // delete_payload
	{"POST", "/collections/{collection_name}/points/payload/clear"},                          // clear_payload
	{"POST", "/collections/{collection_name}/points/batch"},                                  // batch_update
	{"POST", "/collections/{collection_name}/points/scroll"},                                 // scroll_points
	{"POST", "/collections/{collection_name}/points/search"},                                 // search_points
	{"POST", "/collections/{collection_name}/points/search/batch"},                           // search_batch_points
	{"POST", "/collections/{collection_name}/points/search/groups"},                          // search_point_groups
	{"POST", "/collections/{collection_name}/points/recommend"},                              // recommend_points
	{"POST", "/collections/{collection_name}/points/recommend/batch"},                        // recommend_batch_points
	{"POST", "/collections/{collection_name}/points/recommend/groups"},                       // recommend_point_groups
	{"POST", "/collections/{collection_name}/points/discover"},                               // discover_points
	{"POST", "/collections/{collection_name}/points/discover/batch"},                         // discover_batch_points
	{"POST", "/collections/{collection_name}/points/count"},                                  // count_points
	{"POST", "/collections/{collection_name}/facet"},                                         // facet
	{"POST", "/collections/{collection_name}/points/query"},                                  // query_points
	{"POST", "/collections/{collection_name}/points/query/batch"},                            // query_batch_points
	{"POST", "/collections/{collection_name}/points/query/groups"},                           // query_points_groups
	{"POST", "/collections/{collection_name}/points/search/matrix/pairs"},                    // search_matrix_pairs
	{"POST", "/collections/{collection_name}/points/search/matrix/offsets"},                  // search_matrix_offsets
}

// TestRESTRoutesEveryOperation checks that every operation of the spec
// reaches a handler: the answer is never the router's own empty 404, and
// every JSON answer is an envelope (or, for GET /, the version object).
func TestRESTRoutesEveryOperation(t *testing.T) {
	require.Len(t, restOperations, 73)
	paths := map[string]bool{}
	for _, op := range restOperations {
		paths[op.path] = true
	}
	require.Len(t, paths, 59)

	s := newRESTTest(t, nil)
	params := strings.NewReplacer("{collection_name}", "nope", "{peer_id}", "7", "{field_name}", "f",
		"{snapshot_name}", "x.snapshot", "{shard_id}", "0", "{id}", "1")
	for _, op := range restOperations {
		path := params.Replace(op.path)
		body := ""
		if op.method != "GET" && op.method != "DELETE" {
			body = "{}"
		}
		code, b := s.do(op.method, path, body)
		require.False(t, code == http.StatusNotFound && len(b) == 0, "%s %s is not routed", op.method, op.path)
		if json.Valid(b) && op.path != "/" {
			var env map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(b, &env), "%s %s: %s", op.method, op.path, b)
			require.Contains(t, env, "status", "%s %s: %s", op.method, op.path, b)
			require.Contains(t, env, "time", "%s %s: %s", op.method, op.path, b)
		}
	}
	// Something that is not an operation is not routed.
	code, b := s.do("GET", "/collections/nope/points/1/nothing", "")
	require.Equal(t, http.StatusNotFound, code)
	require.Empty(t, b)
}

func TestRESTEnvelope(t *testing.T) {
	s := newRESTTest(t, nil)
	code, b := s.do("GET", "/collections", "")
	require.Equal(t, http.StatusOK, code)
	var env map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &env))
	require.JSONEq(t, `{"collections": []}`, string(env["result"]))
	require.JSONEq(t, `"ok"`, string(env["status"]))
	var tm float64
	require.NoError(t, json.Unmarshal(env["time"], &tm))
	resp, err := http.Get(s.srv.URL + "/collections")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	msg := s.fail("GET", "/collections/missing", "", http.StatusNotFound, "Not found: ")
	require.Equal(t, "Not found: Collection `missing` doesn't exist!", msg)
}

func TestRESTService(t *testing.T) {
	s := newRESTTest(t, nil)
	code, b := s.do("GET", "/", "")
	require.Equal(t, http.StatusOK, code)
	var root struct {
		Title, Version string
		Result         json.RawMessage
		Qlite          telemetry.Build
	}
	require.NoError(t, json.Unmarshal(b, &root))
	require.Equal(t, "qdrant - vector search engine", root.Title)
	require.Equal(t, "1.17.1", root.Version)
	require.Nil(t, root.Result)
	require.Equal(t, telemetry.BuildInfo(), root.Qlite)
	require.NotEmpty(t, root.Qlite.Version)

	for _, p := range []string{"/healthz", "/livez"} {
		code, b := s.do("GET", p, "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "healthz check passed", string(b))
	}
	code, b = s.do("GET", "/readyz", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "all shards are ready", string(b))

	s.ok("PUT", "/collections/a", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	var tel struct {
		ID  string
		App struct {
			Name, Version string
		}
		Collections struct {
			NumberOfCollections int `json:"number_of_collections"`
		}
	}
	restInto(t, s.ok("GET", "/telemetry", ""), &tel)
	require.Equal(t, "qdrant", tel.App.Name)
	require.Regexp(t, `^\d+\.\d+\.\d+$`, tel.App.Version)
	require.Equal(t, 1, tel.Collections.NumberOfCollections)
	require.NotEmpty(t, tel.ID)

	code, b = s.do("GET", "/metrics", "")
	require.Equal(t, http.StatusOK, code)
	m := string(b)
	require.Contains(t, m, "# HELP app_info information about qdrant server\n")
	require.Contains(t, m, "# TYPE app_info gauge\n")
	require.Contains(t, m, `app_info{name="qdrant",version="1.17.1"} 1`)
	require.Contains(t, m, "collections_total 1\n")
	code, b = s.do("GET", "/metrics?per_collection=true", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(b), `collection_points{collection="a"} 0`)

	require.JSONEq(t, `{"issues": []}`, string(s.ok("GET", "/issues", "")))
	require.JSONEq(t, `true`, string(s.ok("DELETE", "/issues", "")))
	require.JSONEq(t, `{"status": "disabled"}`, string(s.ok("GET", "/cluster", "")))
	var ct struct {
		Collections map[string]struct {
			ID     string
			Shards []struct {
				PointsCount int `json:"points_count"`
			}
		}
	}
	restInto(t, s.ok("GET", "/cluster/telemetry", ""), &ct)
	require.Equal(t, "a", ct.Collections["a"].ID)
	s.fail("POST", "/cluster/recover", "", http.StatusInternalServerError, "Service internal error: ")
	s.fail("DELETE", "/cluster/peer/12", "", http.StatusBadRequest, "Bad request: Distributed mode disabled")

	var ci struct {
		PeerID      uint64 `json:"peer_id"`
		ShardCount  int    `json:"shard_count"`
		LocalShards []struct {
			ShardID     int    `json:"shard_id"`
			PointsCount int    `json:"points_count"`
			State       string `json:"state"`
		} `json:"local_shards"`
		RemoteShards []any `json:"remote_shards"`
	}
	s.ok("PUT", "/collections/a/points?wait=true", `{"points": [{"id": 1, "vector": [1, 2]}]}`)
	restInto(t, s.ok("GET", "/collections/a/cluster", ""), &ci)
	require.Equal(t, 1, ci.ShardCount)
	require.Len(t, ci.LocalShards, 1)
	require.Equal(t, 1, ci.LocalShards[0].PointsCount)
	require.Equal(t, "Active", ci.LocalShards[0].State)
	require.NotNil(t, ci.RemoteShards)
	s.fail("GET", "/collections/b/cluster", "", http.StatusNotFound, "Not found: Collection `b`")
	s.fail("POST", "/collections/a/cluster", `{"move_shard": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}}`, http.StatusBadRequest, "Bad request: Distributed mode disabled")
	s.fail("POST", "/collections/a/cluster", `{"bogus": {}}`, http.StatusBadRequest, "Format error in JSON body: ")

	// Shard keys, as on a node without distributed mode.
	require.JSONEq(t, `{}`, string(s.ok("GET", "/collections/a/shards", "")))
	s.fail("PUT", "/collections/a/shards", `{"shard_key": "k"}`, http.StatusBadRequest, "Bad request: Distributed mode disabled")
	s.fail("POST", "/collections/a/shards/delete", `{"shard_key": 3}`, http.StatusBadRequest, "Bad request: Distributed mode disabled")
	s.fail("PUT", "/collections/a/shards", `{}`, http.StatusBadRequest, "Format error in JSON body: missing field `shard_key`")
	s.ok("PUT", "/collections/custom", `{"vectors": {"size": 2, "distance": "Dot"}, "sharding_method": "custom"}`)
	require.JSONEq(t, `{"shard_keys": []}`, string(s.ok("GET", "/collections/custom/shards", "")))
}

func TestRESTBodyErrors(t *testing.T) {
	s := newRESTTest(t, &RESTOptions{MaxRequestBytes: 200})
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`)

	big := `{"points": [{"id": 1, "vector": [1, 2], "payload": {"pad": "` + strings.Repeat("x", 300) + `"}}]}`
	msg := s.fail("PUT", "/collections/c/points", big, http.StatusBadRequest, "Payload error: JSON payload (")
	require.Regexp(t, regexp.MustCompile(`is larger than allowed \(limit: 200 bytes\)`), msg)

	s.fail("POST", "/collections/c/points/scroll", `{"limit": `, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points/scroll", `{"limit": "ten"}`, http.StatusBadRequest, "Format error in JSON body: invalid type: string \"ten\", expected usize at line 1 column 16")
	s.fail("POST", "/collections/c/points/scroll", `{"limit": -1}`, http.StatusBadRequest, "Format error in JSON body: invalid value: integer `-1`, expected usize at line 1 column 13")
	s.fail("POST", "/collections/c/points/scroll", `{"limit": 0}`, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [scroll_request.limit: value 0 invalid, must be 1 or larger]")
	s.fail("POST", "/collections/c/points/scroll", `[1]`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("PUT", "/collections/c/points?wait=maybe", `{"points": []}`, http.StatusBadRequest, "Deserialize error in query parameters: ")
	s.fail("PUT", "/collections/c/points?ordering=chaotic", `{"points": []}`, http.StatusBadRequest, "Deserialize error in query parameters: ")
	s.fail("PUT", "/collections/c/points?timeout=0", `{"points": []}`, http.StatusUnprocessableEntity, "Validation error in query parameters: ")
	s.ok("PUT", "/collections/c/points?wait=true&ordering=strong&timeout=5", `{"points": [{"id": 7, "vector": [1, 0]}]}`)
	s.ok("POST", "/collections/c/points/scroll?consistency=majority&timeout=3", `{}`)
	s.ok("POST", "/collections/c/points/scroll?consistency=2", ``)

	// A gzip-compressed body is read decompressed; the limit applies to
	// what it expands to.
	gz := func(body string) *http.Request {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(body))
		zw.Close()
		req, err := http.NewRequest("PUT", s.srv.URL+"/collections/c/points?wait=true", &b)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		return req
	}
	resp, err := s.srv.Client().Do(gz(`{"points": [{"id": 7, "vector": [1, 2]}]}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var cnt struct{ Count int }
	restInto(t, s.ok("POST", "/collections/c/points/count", `{}`), &cnt)
	require.Equal(t, 1, cnt.Count)
	resp, err = s.srv.Client().Do(gz(big))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(b), "Payload error: JSON payload has exceeded limit (200 bytes).")
}
