package compat

import (
	"encoding/json"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// getTelemetry gets GET /telemetry with query and returns its result.
func getTelemetry(t *testing.T, base, query string) map[string]any {
	t.Helper()
	code, body := httpDo(t, "GET", base+"/telemetry"+query, "", nil)
	require.Equal(t, 200, code, body)
	var out struct{ Result map[string]any }
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out.Result
}

// dig follows a path of object keys and array indexes ("0").
func dig(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[k]
			require.True(t, ok, "no %s in %v", k, x)
			v = e
		case []any:
			require.NotEmpty(t, x, "empty at %s", k)
			v = x[0]
		default:
			t.Fatalf("%s: %v is not a container", path, v)
		}
	}
	return v
}

// TestTelemetryLevels checks what each details_level adds, that the
// request counts follow the traffic, and that anonymize hides names.
func TestTelemetryLevels(t *testing.T) {
	db, h, _ := startServer(t, nil)
	base := "http://" + h
	code, body := httpDo(t, "PUT", base+"/collections/secret", `{"vectors": {"size": 2, "distance": "Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "PUT", base+"/collections/secret/points?wait=true", `{"points": [{"id": 1, "vector": [1, 0]}, {"id": 2, "vector": [0, 1]}]}`, nil)
	require.Equal(t, 200, code, body)
	for range 3 {
		code, body = httpDo(t, "POST", base+"/collections/secret/points/query", `{"query": [1, 0]}`, nil)
		require.Equal(t, 200, code, body)
	}
	code, _ = httpDo(t, "POST", base+"/collections/nope/points/query", `{"query": [1, 0]}`, nil)
	require.Equal(t, 404, code)
	code, _ = httpDo(t, "GET", base+"/metrics", "", nil)
	require.Equal(t, 200, code)

	l0 := getTelemetry(t, base, "")
	require.EqualValues(t, 1, dig(t, l0, "collections.number_of_collections"))
	require.Equal(t, false, dig(t, l0, "cluster.enabled"))
	query := dig(t, l0, "requests.rest.responses").(map[string]any)["POST /collections/{collection_name}/points/query"].(map[string]any)
	require.EqualValues(t, 3, query["200"].(map[string]any)["count"])
	require.EqualValues(t, 1, query["404"].(map[string]any)["count"])
	require.NotContains(t, query["200"], "min_duration_micros", "level 0 has counts and averages only")
	require.NotContains(t, dig(t, l0, "requests.rest.responses"), "GET /metrics", "scrapes are not counted")
	for _, k := range []string{"memory", "hardware"} {
		require.NotContains(t, l0, k)
	}
	require.NotContains(t, l0["app"], "features")

	l1 := getTelemetry(t, base, "?details_level=1")
	require.Contains(t, dig(t, l1, "requests.rest.responses.POST /collections/{collection_name}/points/query.200"), "last_responded")
	require.EqualValues(t, 2, dig(t, l1, "collections.collections.0.vectors"))
	require.Equal(t, false, dig(t, l1, "app.features.gpu"))
	require.Greater(t, dig(t, l1, "memory.allocated_bytes").(float64), 0.0)
	require.Empty(t, dig(t, l1, "collections.snapshots"))

	code, body = httpDo(t, "POST", base+"/collections/secret/snapshots?wait=true", "", nil)
	require.Equal(t, 200, code, body)
	l2 := getTelemetry(t, base, "?details_level=2")
	require.Equal(t, "secret", dig(t, l2, "collections.collections.0.id"))
	require.Nil(t, dig(t, l2, "collections.collections.0.config.uuid"))
	require.EqualValues(t, 1, dig(t, l2, "collections.snapshots.0.total_snapshot_creations"))
	require.Contains(t, dig(t, l2, "cluster"), "config")
	require.NotContains(t, dig(t, l2, "collections.collections.0"), "shards")

	info, err := db.CollectionInfo(t.Context(), "secret")
	require.NoError(t, err)
	l3 := getTelemetry(t, base, "?details_level=3")
	local := dig(t, l3, "collections.collections.0.shards.0.local").(map[string]any)
	require.EqualValues(t, 2, local["num_points"])
	require.EqualValues(t, info.LastOperation, dig(t, local, "update_queue.op_num"))
	require.NotContains(t, local, "segments")

	l4 := getTelemetry(t, base, "?details_level=4")
	segs := dig(t, l4, "collections.collections.0.shards.0.local.segments").([]any)
	points := 0.0
	for _, s := range segs {
		points += dig(t, s, "info.num_points").(float64)
	}
	require.Equal(t, 2.0, points)

	anon := getTelemetry(t, base, "?details_level=4&anonymize=true")
	b, err := json.Marshal(anon["collections"])
	require.NoError(t, err)
	require.NotContains(t, string(b), "secret")
	require.NotContains(t, anon["app"], "runtime_features")

	for _, q := range []string{"?details_level=x", "?details_level=-1", "?anonymize=maybe"} {
		code, _ := httpDo(t, "GET", base+"/telemetry"+q, "", nil)
		require.Equal(t, 400, code, q)
	}
}

// TestRootCommit checks that GET / reports the build's VCS revision, and
// leaves the field out when the build has none (as test binaries do).
func TestRootCommit(t *testing.T) {
	_, h, _ := startServer(t, nil)
	code, body := httpDo(t, "GET", "http://"+h+"/", "", nil)
	require.Equal(t, 200, code, body)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, qdrantTitle, got["title"])
	require.Equal(t, qdrantVersion, got["version"])
	want := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				want = s.Value
			}
		}
	}
	if want == "" {
		require.NotContains(t, got, "commit")
	} else {
		require.Equal(t, want, got["commit"])
	}
}

// TestTelemetryMultivectorBytes checks vectors_size_bytes of a multivector
// collection: every vector of the points' multivectors counts (not one a
// point), shard and segments alike, as the documents count them and, with
// QDRANT_BIN, as the Qdrant server reports them. (Qdrant's figure is an
// average a point times the points, rounded down: the documents here have
// a whole average.)
func TestTelemetryMultivectorBytes(t *testing.T) {
	_, h, _ := startServer(t, nil)
	servers := []string{"http://" + h}
	if os.Getenv("QDRANT_BIN") != "" {
		q := realQdrant(t)
		require.NoError(t, q.reset())
		servers = append(servers, "http://"+q.httpAddr)
	}
	docs := map[int][][]float32{1: {{1, 2}, {3, 4}, {5, 6}}, 2: {{1, 0}}, 3: {{0, 1}, {1, 1}, {2, 1}, {1, 2}, {2, 2}}}
	held := func() int {
		n := 0
		for _, d := range docs {
			n += len(d)
		}
		return n * 2 * 4
	}
	upsert := func(base string) {
		t.Helper()
		var pts []map[string]any
		for id, d := range docs {
			pts = append(pts, map[string]any{"id": id, "vector": map[string]any{"m": d}})
		}
		b, err := json.Marshal(map[string]any{"points": pts})
		require.NoError(t, err)
		code, body := httpDo(t, "PUT", base+"/collections/mv/points?wait=true", string(b), nil)
		require.Equal(t, 200, code, body)
	}
	sizes := func(base string) (shard, segs float64) {
		t.Helper()
		for _, c := range dig(t, getTelemetry(t, base, "?details_level=4"), "collections.collections").([]any) {
			if dig(t, c, "id") != "mv" {
				continue
			}
			local := dig(t, c, "shards.0.local")
			for _, s := range dig(t, local, "segments").([]any) {
				segs += dig(t, s, "info.vectors_size_bytes").(float64)
			}
			return dig(t, local, "vectors_size_bytes").(float64), segs
		}
		t.Fatal("no collection mv in the telemetry")
		return 0, 0
	}
	for _, base := range servers {
		code, body := httpDo(t, "PUT", base+"/collections/mv", `{"vectors": {"m": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}}}`, nil)
		require.Equal(t, 200, code, body)
		upsert(base)
		shard, segs := sizes(base)
		require.EqualValues(t, held(), shard, base)
		require.EqualValues(t, held(), segs, base)
	}

	// Replaced and deleted points' vectors no longer count.
	base := servers[0]
	docs[1] = [][]float32{{9, 9}}
	upsert(base)
	delete(docs, 3)
	code, body := httpDo(t, "POST", base+"/collections/mv/points/delete?wait=true", `{"points": [3]}`, nil)
	require.Equal(t, 200, code, body)
	shard, segs := sizes(base)
	require.EqualValues(t, held(), shard)
	require.EqualValues(t, held(), segs)
}
