package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/qlite/qlite/telemetry"
)

// root answers GET / with Qdrant's bare version object (no envelope). The
// commit is the build's VCS revision, left out when the build has none, as
// Qdrant leaves out a commit it was not built with (VersionInfo in
// lib/api/src/rest/models.rs). Beside Qdrant's fields, which clients check,
// "qlite" describes the build (telemetry.Build).
func (s *restServer) root(w http.ResponseWriter, r *http.Request) (any, error) {
	b := telemetry.BuildInfo()
	v := struct {
		Title   string          `json:"title"`
		Version string          `json:"version"`
		Commit  string          `json:"commit,omitempty"`
		Qlite   telemetry.Build `json:"qlite"`
	}{qdrantTitle, qdrantVersion, b.Commit, b}
	restWriteJSON(w, http.StatusOK, v)
	return restWritten, nil
}

func restWriteText(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	w.Write([]byte(text))
}

// healthz answers /healthz and /livez: 200 while the database can make
// progress (engine.DB.Health), else 503 with the reason.
func (s *restServer) healthz(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := s.health(r.Context()); err != nil {
		restWriteText(w, http.StatusServiceUnavailable, "healthz check failed: "+err.Error())
		return restWritten, nil
	}
	restWriteText(w, http.StatusOK, "healthz check passed")
	return restWritten, nil
}

// readyz answers /readyz: the engine's one shard is ready while the
// database is open and can make progress.
func (s *restServer) readyz(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := s.health(r.Context()); err != nil {
		restWriteText(w, http.StatusServiceUnavailable, "some shards are not ready")
		return restWritten, nil
	}
	restWriteText(w, http.StatusOK, "all shards are ready")
	return restWritten, nil
}

// healthTimeout bounds a health check: a write lock held longer than this
// makes the server unhealthy.
const healthTimeout = 5 * time.Second

func (s *restServer) health(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	return s.db.Health(ctx)
}

// metrics answers GET /metrics in Prometheus' text format, with Qdrant's
// metric names and labels; per_collection=true reports the REST and gRPC
// responses per collection instead of globally.
func (s *restServer) metrics(w http.ResponseWriter, r *http.Request) (any, error) {
	perCollection, err := restQueryBool(r, "per_collection")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	ctx := r.Context()
	if err := writeMetrics(ctx, &b, s.db, metricsOptions{perCollection: perCollection, tel: telemetryFrom(ctx)}); err != nil {
		return nil, err
	}
	// Qdrant answers text/plain; Prometheus reads it as its text format.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return restWritten, nil
}

// getIssues answers GET /issues: qlite reports no issues.
func (s *restServer) getIssues(w http.ResponseWriter, r *http.Request) (any, error) {
	return map[string][]any{"issues": {}}, nil
}

func (s *restServer) clearIssues(w http.ResponseWriter, r *http.Request) (any, error) {
	return true, nil
}

// clusterStatus answers GET /cluster as a node without distributed mode.
func (s *restServer) clusterStatus(w http.ResponseWriter, r *http.Request) (any, error) {
	return map[string]string{"status": "disabled"}, nil
}

// clusterTelemetry answers GET /cluster/telemetry for the one local node:
// each collection with its one shard, and a disabled cluster.
func (s *restServer) clusterTelemetry(w http.ResponseWriter, r *http.Request) (any, error) {
	if d := r.URL.Query().Get("details_level"); d != "" {
		if _, err := strconv.ParseUint(d, 10, 64); err != nil {
			return nil, restQueryError("invalid digit found in string")
		}
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	ctx := r.Context()
	names, err := s.db.ListCollections(ctx)
	if err != nil {
		return nil, err
	}
	type shard struct {
		ID          uint32 `json:"id"`
		PointsCount int    `json:"points_count"`
		State       string `json:"state"`
	}
	type coll struct {
		ID             string  `json:"id"`
		Shards         []shard `json:"shards"`
		Reshardings    []any   `json:"reshardings"`
		ShardTransfers []any   `json:"shard_transfers"`
	}
	colls := map[string]coll{}
	for _, n := range names {
		info, err := s.db.CollectionInfo(ctx, n)
		if err != nil {
			continue
		}
		colls[n] = coll{ID: n, Shards: []shard{{0, info.PointsCount, "Active"}}, Reshardings: []any{}, ShardTransfers: []any{}}
	}
	return map[string]any{
		"collections": colls,
		"cluster":     map[string]any{"enabled": false, "peers": map[string]any{}},
	}, nil
}

// restDistributedDisabled is Qdrant's answer to cluster changes on a node
// without distributed mode.
func restDistributedDisabled() error { return restBadRequest("Distributed mode disabled") }

func (s *restServer) recoverPeer(w http.ResponseWriter, r *http.Request) (any, error) {
	return nil, &restError{http.StatusInternalServerError, "Service internal error: Qdrant is running in standalone mode"}
}

func (s *restServer) removePeer(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := strconv.ParseUint(r.PathValue("peer_id"), 10, 64); err != nil {
		return nil, &restError{http.StatusNotFound, "Not found: no peer " + r.PathValue("peer_id")}
	}
	if _, err := restBoolParam(r, "force", false); err != nil {
		return nil, err
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	return nil, restBadRequest("Distributed mode disabled.")
}

// collectionCluster answers GET /collections/{c}/cluster: one local shard
// holding every point.
func (s *restServer) collectionCluster(w http.ResponseWriter, r *http.Request) (any, error) {
	info, err := s.db.CollectionInfo(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	type local struct {
		ShardID     uint32 `json:"shard_id"`
		PointsCount int    `json:"points_count"`
		State       string `json:"state"`
	}
	return struct {
		PeerID         uint64  `json:"peer_id"`
		ShardCount     int     `json:"shard_count"`
		LocalShards    []local `json:"local_shards"`
		RemoteShards   []any   `json:"remote_shards"`
		ShardTransfers []any   `json:"shard_transfers"`
	}{s.peerID, 1, []local{{0, info.PointsCount, "Active"}}, []any{}, []any{}}, nil
}

// updateCollectionCluster answers POST /collections/{c}/cluster as a node
// without distributed mode does, once the body decodes: Qdrant checks for
// consensus before it looks at the collection.
func (s *restServer) updateCollectionCluster(w http.ResponseWriter, r *http.Request) (any, error) {
	var ops map[string]json.RawMessage
	if err := s.decodeBody(r, &ops); err != nil {
		return nil, err
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	if len(ops) != 1 {
		return nil, restFormatError("data did not match any variant of untagged enum ClusterOperations")
	}
	for k := range ops {
		switch k {
		case "move_shard", "replicate_shard", "abort_transfer", "drop_replica", "create_sharding_key",
			"drop_sharding_key", "restart_transfer", "start_resharding", "abort_resharding", "replicate_points":
		default:
			return nil, restFormatError("data did not match any variant of untagged enum ClusterOperations")
		}
	}
	return nil, restDistributedDisabled()
}

// restShardKeyBody is CreateShardingKey and DropShardingKey.
type restShardKeyBody struct {
	ShardKey json.RawMessage `json:"shard_key"`
}

func (s *restServer) shardKeyBody(r *http.Request) error {
	var b restShardKeyBody
	if err := s.decodeBody(r, &b); err != nil {
		return err
	}
	switch c := restFirst(b.ShardKey); {
	case c == '"' || (c >= '0' && c <= '9'):
	case c == 0 || c == 'n':
		return restMissing("", "shard_key")
	default:
		return restFormatError("shard_key: data did not match any variant of untagged enum ShardKey")
	}
	return restCheckTimeout(r)
}

// createShardKey and deleteShardKey answer as a node without distributed
// mode does: shard keys are created and dropped through consensus.
func (s *restServer) createShardKey(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := s.shardKeyBody(r); err != nil {
		return nil, err
	}
	return nil, restDistributedDisabled()
}

func (s *restServer) deleteShardKey(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.createShardKey(w, r)
}

// listShardKeys answers GET /collections/{c}/shards: no shard keys; the
// list is absent for auto sharding, as in Qdrant.
func (s *restServer) listShardKeys(w http.ResponseWriter, r *http.Request) (any, error) {
	info, err := s.db.CollectionInfo(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	if info.Config.Params.ShardingMethod == "custom" {
		return map[string][]any{"shard_keys": {}}, nil
	}
	return struct{}{}, nil
}
