package compat

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRESTCollections(t *testing.T) {
	s := newRESTTest(t, nil)
	require.JSONEq(t, `true`, string(s.ok("PUT", "/collections/books", `{"vectors": {"size": 4, "distance": "Cosine"}}`)))
	s.ok("PUT", "/collections/named", `{"vectors": {"img": {"size": 2, "distance": "Euclid"}, "txt": {"size": 3, "distance": "Dot"}},
		"hnsw_config": {"m": 8}, "optimizers_config": {"indexing_threshold": 0}}`)

	require.JSONEq(t, `{"collections": [{"name": "books"}, {"name": "named"}]}`, string(s.ok("GET", "/collections", "")))
	require.JSONEq(t, `{"exists": true}`, string(s.ok("GET", "/collections/books/exists", "")))
	require.JSONEq(t, `{"exists": false}`, string(s.ok("GET", "/collections/nope/exists", "")))

	var info struct {
		Status          string `json:"status"`
		OptimizerStatus string `json:"optimizer_status"`
		PointsCount     *int   `json:"points_count"`
		SegmentsCount   *int   `json:"segments_count"`
		IndexedVectors  *int   `json:"indexed_vectors_count"`
		Config          struct {
			Params struct {
				Vectors           json.RawMessage `json:"vectors"`
				ShardNumber       int             `json:"shard_number"`
				ReplicationFactor int             `json:"replication_factor"`
			} `json:"params"`
			HNSW struct {
				M           int `json:"m"`
				EfConstruct int `json:"ef_construct"`
			} `json:"hnsw_config"`
			Optimizer struct {
				IndexingThreshold *int `json:"indexing_threshold"`
			} `json:"optimizer_config"`
			WAL struct {
				WalCapacityMB int `json:"wal_capacity_mb"`
			} `json:"wal_config"`
		} `json:"config"`
		PayloadSchema map[string]json.RawMessage `json:"payload_schema"`
	}
	restInto(t, s.ok("GET", "/collections/books", ""), &info)
	require.Contains(t, []string{"green", "yellow"}, info.Status)
	require.Equal(t, "ok", info.OptimizerStatus)
	require.NotNil(t, info.PointsCount)
	require.Equal(t, 0, *info.PointsCount)
	require.NotNil(t, info.SegmentsCount)
	require.NotNil(t, info.IndexedVectors)
	require.JSONEq(t, `{"size": 4, "distance": "Cosine"}`, string(info.Config.Params.Vectors))
	require.Equal(t, 1, info.Config.Params.ShardNumber)
	require.Equal(t, 16, info.Config.HNSW.M)
	require.Equal(t, 100, info.Config.HNSW.EfConstruct)
	require.Equal(t, 32, info.Config.WAL.WalCapacityMB)
	require.NotNil(t, info.PayloadSchema)
	require.Empty(t, info.PayloadSchema)

	restInto(t, s.ok("GET", "/collections/named", ""), &info)
	require.JSONEq(t, `{"img": {"size": 2, "distance": "Euclid"}, "txt": {"size": 3, "distance": "Dot"}}`, string(info.Config.Params.Vectors))
	require.Equal(t, 8, info.Config.HNSW.M)
	require.Equal(t, 0, *info.Config.Optimizer.IndexingThreshold)

	// Update: the diff shows in the configuration.
	require.JSONEq(t, `true`, string(s.ok("PATCH", "/collections/books", `{"optimizers_config": {"indexing_threshold": 5000}, "hnsw_config": {"ef_construct": 64}}`)))
	restInto(t, s.ok("GET", "/collections/books", ""), &info)
	require.Equal(t, 5000, *info.Config.Optimizer.IndexingThreshold)
	require.Equal(t, 64, info.Config.HNSW.EfConstruct)

	// Errors.
	s.fail("PUT", "/collections/books", `{"vectors": {"size": 4, "distance": "Cosine"}}`, http.StatusConflict, "Wrong input: Collection `books` already exists!")
	s.fail("PUT", "/collections/x", `{"vectors": {"size": 4, "distance": "Cosine"}, "bogus": 1}`, http.StatusBadRequest, "Format error in JSON body: bogus")
	s.fail("PUT", "/collections/x", `{"vectors": {"size": "four", "distance": "Cosine"}}`, http.StatusBadRequest, "Format error in JSON body: data did not match any variant of untagged enum VectorsConfig at line 1 column 51")
	s.fail("PUT", "/collections/x", `{"vectors": {"size": 4, "distance": "Hamming"}}`, http.StatusBadRequest, "Format error in JSON body: data did not match any variant of untagged enum VectorsConfig at line 1 column 47")
	s.fail("PUT", "/collections/a%3Ab", `{"vectors": {"size": 4, "distance": "Cosine"}}`, http.StatusUnprocessableEntity, "Validation error in path parameters: [collection_name: collection name cannot contain \":\" char]")
	s.fail("PATCH", "/collections/nope", `{}`, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
	s.fail("PATCH", "/collections/books", `{"optimizers_config": {"deleted_threshold": 7}}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [optimizers_config.deleted_threshold: value 7.0 invalid, must be from 0.0 to 1.0]")
	s.fail("GET", "/collections/nope", "", http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")

	// Delete answers whether the collection existed.
	require.JSONEq(t, `true`, string(s.ok("DELETE", "/collections/named", "")))
	require.JSONEq(t, `false`, string(s.ok("DELETE", "/collections/named", "")))
	require.JSONEq(t, `{"collections": [{"name": "books"}]}`, string(s.ok("GET", "/collections", "")))
}

func TestRESTAliases(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/c1", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/c2", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/c1/points?wait=true", `{"points": [{"id": 5, "vector": [1, 0]}]}`)

	require.JSONEq(t, `true`, string(s.ok("POST", "/collections/aliases", `{"actions": [
		{"create_alias": {"collection_name": "c1", "alias_name": "a1"}},
		{"create_alias": {"collection_name": "c2", "alias_name": "a2"}}]}`)))
	require.JSONEq(t, `{"aliases": [{"alias_name": "a1", "collection_name": "c1"}, {"alias_name": "a2", "collection_name": "c2"}]}`,
		string(s.ok("GET", "/aliases", "")))
	require.JSONEq(t, `{"aliases": [{"alias_name": "a1", "collection_name": "c1"}]}`, string(s.ok("GET", "/collections/c1/aliases", "")))

	// An alias resolves wherever a collection name is accepted.
	require.JSONEq(t, `{"count": 1}`, string(s.ok("POST", "/collections/a1/points/count", `{}`)))

	s.ok("POST", "/collections/aliases", `{"actions": [{"rename_alias": {"old_alias_name": "a1", "new_alias_name": "b1"}}, {"delete_alias": {"alias_name": "a2"}}]}`)
	require.JSONEq(t, `{"aliases": [{"alias_name": "b1", "collection_name": "c1"}]}`, string(s.ok("GET", "/aliases", "")))

	// All or nothing: a failing action undoes the others.
	s.fail("POST", "/collections/aliases", `{"actions": [{"create_alias": {"collection_name": "c2", "alias_name": "z"}},
		{"rename_alias": {"old_alias_name": "missing", "new_alias_name": "y"}}]}`, http.StatusNotFound, "Not found: Alias missing does not exists!")
	require.JSONEq(t, `{"aliases": [{"alias_name": "b1", "collection_name": "c1"}]}`, string(s.ok("GET", "/aliases", "")))

	s.fail("POST", "/collections/aliases", `{"actions": [{"create_alias": {"collection_name": "nope", "alias_name": "z"}}]}`, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
	s.fail("POST", "/collections/aliases", `{"actions": [{"create_alias": {"alias_name": "z"}}]}`, http.StatusBadRequest, "Format error in JSON body: data did not match any variant of untagged enum AliasOperations at line 1 column 51")
	s.fail("POST", "/collections/aliases", `{"actions": [{"frobnicate": {}}]}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/aliases", `{}`, http.StatusBadRequest, "Format error in JSON body: missing field `actions`")
	s.fail("GET", "/collections/nope/aliases", "", http.StatusNotFound, "Not found: ")
}

func TestRESTFieldIndexes(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/c/points?wait=true", `{"points": [
		{"id": 1, "vector": [1, 0], "payload": {"color": "red", "n": 1, "price": 1.5, "ok": true, "loc": {"lon": 1, "lat": 2}}},
		{"id": 2, "vector": [0, 1], "payload": {"color": ["blue", "red"], "n": 2}},
		{"id": 3, "vector": [1, 1], "payload": {"other": 1}}]}`)

	var res struct {
		OperationID *uint64 `json:"operation_id"`
		Status      string  `json:"status"`
	}
	restInto(t, s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "color", "field_schema": "keyword"}`), &res)
	require.Equal(t, "completed", res.Status)
	require.NotNil(t, res.OperationID)
	restInto(t, s.ok("PUT", "/collections/c/index", `{"field_name": "n", "field_schema": {"type": "integer", "lookup": true, "range": false}}`), &res)
	require.Equal(t, "acknowledged", res.Status)
	// Without field_schema the type is inferred from the data.
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "price"}`)
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "ok"}`)
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "loc"}`)

	var info struct {
		PayloadSchema map[string]struct {
			DataType string          `json:"data_type"`
			Params   json.RawMessage `json:"params"`
			Points   int             `json:"points"`
		} `json:"payload_schema"`
	}
	restInto(t, s.ok("GET", "/collections/c", ""), &info)
	require.Len(t, info.PayloadSchema, 5)
	require.Equal(t, "keyword", info.PayloadSchema["color"].DataType)
	require.Nil(t, info.PayloadSchema["color"].Params)
	require.Equal(t, "integer", info.PayloadSchema["n"].DataType)
	require.JSONEq(t, `{"type": "integer", "lookup": true, "range": false}`, string(info.PayloadSchema["n"].Params))
	require.Equal(t, "float", info.PayloadSchema["price"].DataType)
	require.Equal(t, "bool", info.PayloadSchema["ok"].DataType)
	require.Equal(t, "geo", info.PayloadSchema["loc"].DataType)
	// points: the number of points with a value at the field (the count
	// of the matching is_empty filter is the oracle).
	for key, pi := range info.PayloadSchema {
		var c struct{ Count int }
		restInto(t, s.ok("POST", "/collections/c/points/count", `{"filter": {"must_not": [{"is_empty": {"key": "`+key+`"}}]}}`), &c)
		require.Equal(t, c.Count, pi.Points, key)
	}

	s.ok("DELETE", "/collections/c/index/price?wait=true", "")
	info.PayloadSchema = nil
	restInto(t, s.ok("GET", "/collections/c", ""), &info)
	require.NotContains(t, info.PayloadSchema, "price")

	s.fail("PUT", "/collections/c/index", `{"field_name": "missing"}`, http.StatusBadRequest, "Wrong input: Unable to infer type for the field 'missing'. Please specify field_type")
	s.fail("PUT", "/collections/c/index", `{"field_name": "n", "field_schema": "complex"}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("PUT", "/collections/c/index", `{"field_schema": "keyword"}`, http.StatusBadRequest, "Format error in JSON body: missing field `field_name`")
	s.fail("PUT", "/collections/nope/index", `{"field_name": "n", "field_schema": "keyword"}`, http.StatusNotFound, "Not found: ")
	// An integer index keeps lookup or range; the body is checked before
	// the collection is looked for.
	const off = "Validation error in JSON body: [field_schema.lookup: Validation error: the 'lookup' and 'range' capabilities can't be both disabled [{}]]"
	for _, coll := range []string{"c", "nope"} {
		msg := s.fail("PUT", "/collections/"+coll+"/index", `{"field_name": "n2", "field_schema": {"type": "integer", "lookup": false, "range": false}}`, http.StatusUnprocessableEntity, off)
		require.Equal(t, off, msg)
	}
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "n2", "field_schema": {"type": "integer", "lookup": false}}`)
}

func TestRESTOptimizations(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/c/points?wait=true", `{"points": [{"id": 1, "vector": [1, 0]}]}`)
	var o struct {
		Summary struct {
			QueuedOptimizations *int `json:"queued_optimizations"`
			QueuedSegments      *int `json:"queued_segments"`
			QueuedPoints        *int `json:"queued_points"`
			IdleSegments        *int `json:"idle_segments"`
		} `json:"summary"`
		Running   []any            `json:"running"`
		Queued    *[]any           `json:"queued"`
		Completed *[]any           `json:"completed"`
		Idle      *json.RawMessage `json:"idle_segments"`
	}
	restInto(t, s.ok("GET", "/collections/c/optimizations", ""), &o)
	require.NotNil(t, o.Summary.QueuedOptimizations)
	require.NotNil(t, o.Summary.QueuedSegments)
	require.NotNil(t, o.Summary.QueuedPoints)
	require.NotNil(t, o.Summary.IdleSegments)
	require.NotNil(t, o.Running)
	require.Nil(t, o.Queued)
	restInto(t, s.ok("GET", "/collections/c/optimizations?with=queued,completed,idle_segments&completed_limit=3", ""), &o)
	require.NotNil(t, o.Queued)
	require.NotNil(t, o.Completed)
	require.NotNil(t, o.Idle)
	// The summary follows the collection's status.
	var info struct {
		Status      string
		PointsCount int `json:"points_count"`
	}
	restInto(t, s.ok("GET", "/collections/c", ""), &info)
	if info.Status == "green" {
		require.Zero(t, *o.Summary.QueuedOptimizations)
	}
	// The lists and the summary agree, and together cover every point.
	type seg struct {
		UUID        string `json:"uuid"`
		PointsCount int    `json:"points_count"`
	}
	var lists struct {
		Summary struct {
			QueuedSegments int `json:"queued_segments"`
			QueuedPoints   int `json:"queued_points"`
			IdleSegments   int `json:"idle_segments"`
		} `json:"summary"`
		Queued []struct{ Segments []seg } `json:"queued"`
		Idle   []seg                      `json:"idle_segments"`
	}
	restInto(t, s.ok("GET", "/collections/c/optimizations?with=queued,idle_segments", ""), &lists)
	require.NotEmpty(t, lists.Idle)
	require.Len(t, lists.Idle, lists.Summary.IdleSegments)
	points, queuedSegs, queuedPoints := 0, 0, 0
	for _, sg := range lists.Idle {
		require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, sg.UUID)
		points += sg.PointsCount
	}
	for _, q := range lists.Queued {
		for _, sg := range q.Segments {
			queuedSegs++
			queuedPoints += sg.PointsCount
		}
	}
	require.Equal(t, lists.Summary.QueuedSegments, queuedSegs)
	require.Equal(t, lists.Summary.QueuedPoints, queuedPoints)
	require.Equal(t, info.PointsCount, points+queuedPoints)
	s.fail("GET", "/collections/c/optimizations?with=everything", "", http.StatusBadRequest, "Wrong input: Unknown field in 'with' parameter: everything")
	s.fail("GET", "/collections/nope/optimizations", "", http.StatusNotFound, "Not found: ")
}
