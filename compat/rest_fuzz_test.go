package compat

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// restFuzzKeys are member names of Qdrant's request bodies, so that random
// bodies reach past the first checks.
var restFuzzKeys = []string{
	"points", "batch", "ids", "vectors", "vector", "payload", "payloads", "filter", "must", "should", "must_not",
	"key", "match", "value", "any", "limit", "offset", "with_payload", "with_vector", "with_vectors", "query",
	"prefetch", "nearest", "recommend", "positive", "negative", "discover", "target", "context", "order_by",
	"direction", "start_from", "group_by", "group_size", "with_lookup", "collection", "searches", "operations",
	"upsert", "delete", "set_payload", "overwrite_payload", "delete_payload", "clear_payload", "update_vectors",
	"delete_vectors", "keys", "field_name", "field_schema", "type", "sample", "using", "name", "actions",
	"create_alias", "rename_alias", "alias_name", "collection_name", "old_alias_name", "new_alias_name",
	"location", "shard_key", "update_filter", "update_mode", "strategy", "params", "exact", "hnsw_ef",
	"score_threshold", "include", "exclude", "lookup_from", "indices", "values", "text", "model", "mmr",
	"fusion", "range", "gte", "lt", "has_id", "id", "is_empty", "nested", "min_should", "conditions",
	"min_count", "geo_radius", "center", "radius", "lon", "lat", "values_count", "datetime_range", "exists",
}

// TestRESTMalformedBodies sends random bodies, built from Qdrant's member
// names, to every operation that takes one: none may fail with a server
// error (or break the connection, as a panic would).
func TestRESTMalformedBodies(t *testing.T) {
	s := newRESTTest(t, nil)
	restTestPoints(t, s, "c", "Dot", 30, 11)
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "n", "field_schema": "integer"}`)
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "color", "field_schema": "keyword"}`)
	s.ok("PUT", "/collections/sp", `{"sparse_vectors": {"t": {"modifier": "idf"}, "n": {}}}`)
	s.ok("PUT", "/collections/sp/points?wait=true", `{"points": [{"id": 1, "vector": {"t": {"indices": [1, 2], "values": [1, 2]}}}, {"id": 2, "vector": {"n": {"text": "a b", "model": "qdrant/bm25"}}}]}`)
	params := strings.NewReplacer("{collection_name}", "c", "{peer_id}", "7", "{field_name}", "f",
		"{snapshot_name}", "x.snapshot", "{shard_id}", "0", "{id}", "1")
	rng := rand.New(rand.NewPCG(1, 2))
	fixed := []string{``, `null`, `[]`, `{}`, `"x"`, `12`, `{"a":`, `{"points": null}`, `[{"id": 1}]`, "\xff\xfe"}
	for _, op := range restOperations {
		if op.method == "GET" || op.method == "DELETE" || op.path == "/cluster/recover" {
			continue
		}
		path := params.Replace(op.path)
		if op.method == "PUT" && path == "/collections/c" {
			path = "/collections/fuzzed" // do not replace the collection under test
		}
		var bodies []string
		bodies = append(bodies, fixed...)
		for range 40 {
			b, err := json.Marshal(hostileValue(rng, 0))
			require.NoError(t, err)
			bodies = append(bodies, string(b))
		}
		for _, b := range bodies {
			code, resp := s.do(op.method, path, b)
			require.Less(t, code, 500, "%s %s %s: %s", op.method, op.path, b, resp)
			require.True(t, json.Valid(resp), "%s %s %s: %s", op.method, op.path, b, resp)
		}
	}

	// Valid bodies with one part replaced by a random value.
	for _, tmpl := range restFuzzTemplates {
		var v any
		require.NoError(t, json.Unmarshal([]byte(tmpl.body), &v), tmpl.body)
		for range 60 {
			b, err := json.Marshal(restMutate(rng, v))
			require.NoError(t, err)
			code, resp := s.do(tmpl.method, tmpl.path, string(b))
			if code == http.StatusInternalServerError && strings.Contains(string(resp), "InferenceService URL not configured") {
				continue // a Document naming another model: Qdrant's 500 too
			}
			require.Less(t, code, 500, "%s %s %s: %s", tmpl.method, tmpl.path, b, resp)
			require.True(t, json.Valid(resp), "%s %s %s: %s", tmpl.method, tmpl.path, b, resp)
		}
	}
	code, resp := s.do("GET", "/collections/c", "")
	require.Equal(t, http.StatusOK, code, "%s", resp)
}

// restFuzzTemplates are valid requests that TestRESTMalformedBodies
// mutates.
var restFuzzTemplates = []struct{ method, path, body string }{
	{"PUT", "/collections/c/points", `{"points": [{"id": 1, "vector": [1, 2, 3, 4], "payload": {"n": 1}}], "update_filter": {"must": [{"key": "n", "match": {"value": 1}}]}}`},
	{"PUT", "/collections/c/points", `{"batch": {"ids": [2, 3], "vectors": [[1, 2, 3, 4], [4, 3, 2, 1]], "payloads": [{"a": 1}, null]}}`},
	{"POST", "/collections/c/points/search", `{"vector": [1, 2, 3, 4], "limit": 3, "filter": {"should": [{"key": "color", "match": {"any": ["red"]}}]}, "with_payload": ["n"], "params": {"exact": true}}`},
	{"POST", "/collections/c/points/query", `{"query": {"recommend": {"positive": [1, [1, 2, 3, 4]], "negative": [2], "strategy": "best_score"}}, "limit": 3, "with_vector": true}`},
	{"POST", "/collections/c/points/query", `{"query": {"discover": {"target": [1, 2, 3, 4], "context": [{"positive": 1, "negative": 2}]}}, "using": "", "lookup_from": {"collection": "c"}}`},
	{"POST", "/collections/c/points/query", `{"query": {"order_by": {"key": "n", "direction": "desc", "start_from": 3}}, "filter": {"must": [{"key": "n", "range": {"gte": 1}}]}}`},
	{"POST", "/collections/c/points/query/groups", `{"query": [1, 2, 3, 4], "group_by": "color", "group_size": 2, "limit": 3, "with_lookup": {"collection": "c", "with_payload": true}}`},
	{"POST", "/collections/c/points/scroll", `{"limit": 3, "offset": 1, "order_by": "n", "with_payload": {"exclude": ["n"]}, "with_vector": ["x"]}`},
	{"POST", "/collections/c/points/recommend/groups", `{"positive": [1], "group_by": "n", "group_size": 1, "limit": 2}`},
	{"POST", "/collections/c/points/discover/batch", `{"searches": [{"target": 1, "context": [{"positive": 2, "negative": 3}], "limit": 2}]}`},
	{"POST", "/collections/c/points/batch", `{"operations": [{"set_payload": {"payload": {"x": 1}, "filter": {"must": [{"has_id": [1]}]}, "key": "y"}}, {"delete_vectors": {"points": [1], "vector": [""]}}]}`},
	{"POST", "/collections/c/facet", `{"key": "color", "limit": 2, "filter": {"must_not": [{"is_empty": {"key": "n"}}]}}`},
	{"POST", "/collections/c/points/search/matrix/offsets", `{"sample": 5, "limit": 2, "filter": {"min_should": {"conditions": [{"key": "n", "range": {"lt": 5}}], "min_count": 1}}}`},
	{"PUT", "/collections/sp/points", `{"points": [{"id": 3, "vector": {"t": {"indices": [5, 1], "values": [0.5, 1]}, "n": {"text": "the quick fox", "model": "qdrant/bm25", "options": {"k": 1.5}}}}]}`},
	{"PUT", "/collections/sp/points/vectors", `{"points": [{"id": 1, "vector": {"n": {"indices": [3], "values": [2]}}}]}`},
	{"POST", "/collections/sp/points/search", `{"vector": {"name": "t", "vector": {"indices": [1, 2], "values": [1, 1]}}, "limit": 2, "with_vector": true}`},
	{"POST", "/collections/sp/points/query", `{"query": {"recommend": {"positive": [1, {"indices": [1], "values": [1]}], "negative": [{"text": "fox", "model": "qdrant/bm25"}]}}, "using": "t"}`},
	{"POST", "/collections/sp/points/query/batch", `{"searches": [{"query": {"text": "quick", "model": "qdrant/bm25"}, "using": "n"}, {"query": {"context": [{"positive": 1, "negative": {"indices": [2], "values": [1]}}]}, "using": "t"}]}`},
	{"PATCH", "/collections/c", `{"optimizers_config": {"deleted_threshold": 0.5}, "hnsw_config": {"ef_construct": 50}}`},
	{"POST", "/collections/aliases", `{"actions": [{"create_alias": {"collection_name": "c", "alias_name": "al"}}, {"delete_alias": {"alias_name": "al"}}]}`},
}

// restMutate returns a copy of v with one node, chosen at random, replaced
// by a random value.
func restMutate(rng *rand.Rand, v any) any {
	if rng.IntN(4) == 0 {
		return hostileValue(rng, 2)
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		for k, e := range x {
			out[k] = e
			keys = append(keys, k)
		}
		if len(keys) == 0 {
			return out
		}
		slices.Sort(keys)
		k := keys[rng.IntN(len(keys))]
		out[k] = restMutate(rng, x[k])
		return out
	case []any:
		out := slices.Clone(x)
		if len(out) > 0 {
			i := rng.IntN(len(out))
			out[i] = restMutate(rng, out[i])
		}
		return out
	}
	return hostileValue(rng, 2)
}
