package compat

import (
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// scrollAll reads every point of a collection through the engine, with
// payload and vectors.
func scrollAll(t *testing.T, db *engine.DB, coll string) []engine.Record {
	t.Helper()
	res, err := db.Scroll(bg, coll, &engine.ScrollRequest{Limit: 1 << 20, WithPayload: engine.AllPayload, WithVectors: engine.AllVectors})
	require.NoError(t, err)
	return res.Points
}

// requireSameCollections asserts that two collections hold the same points.
func requireSameCollections(t *testing.T, db *engine.DB, a, b string) {
	t.Helper()
	ra, rb := scrollAll(t, db, a), scrollAll(t, db, b)
	require.Len(t, rb, len(ra))
	for i := range ra {
		require.Equal(t, ra[i].ID, rb[i].ID)
		require.Equal(t, payloadToGo(ra[i].Payload), payloadToGo(rb[i].Payload), "point %s", ra[i].ID)
		require.Equal(t, ra[i].Vectors, rb[i].Vectors, "point %s", ra[i].ID)
	}
}

// TestGRPCUpsertStoresInput checks what an upsert stores against the
// request itself: ids (UUIDs normalised), payloads with integers and
// doubles kept apart, and vectors.
func TestGRPCUpsertStoresInput(t *testing.T) {
	e := newGRPCEnv(t)
	pts := e.loadTestPoints(t, "coll", qdrant.Distance_Euclid, 30)
	recs := scrollAll(t, e.db, "coll")
	require.Len(t, recs, len(pts))
	byID := map[string]engine.Record{}
	for _, r := range recs {
		byID[r.ID.String()] = r
	}
	for _, p := range pts {
		r, ok := byID[idString(p.GetId())]
		require.True(t, ok, "point %s missing", idString(p.GetId()))
		require.Equal(t, protoMapToGo(p.GetPayload()), payloadToGo(r.Payload))
		require.Equal(t, p.GetVectors().GetVector().GetDense().GetData(), r.Vectors[""])
	}
	one := map[any]int{}
	for _, r := range recs {
		if v, ok := r.Payload.Get("one"); ok {
			one[payloadToGo(v)]++
		}
	}
	require.Equal(t, map[any]int{int64(1): 5, float64(1): 5}, one)

	// UUIDs in any form Qdrant accepts are stored and returned canonical;
	// the deprecated data field of Vector is accepted too.
	_, err := e.client.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDUUID("{AABBCCDD-0000-4000-8000-00000000000F}"),
			Vectors: &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: []float32{9, 8, 7, 6}}}}},
	}})
	require.NoError(t, err)
	got, err := e.client.Get(bg, &qdrant.GetPoints{CollectionName: "coll", Ids: []*qdrant.PointId{qdrant.NewID("aabbccdd00004000800000000000000f")},
		WithVectors: qdrant.NewWithVectors(true)})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "aabbccdd-0000-4000-8000-00000000000f", got[0].GetId().GetUuid())
	require.Equal(t, map[string][]float32{"": {9, 8, 7, 6}}, outputVectors(t, got[0].GetVectors()))
	require.Empty(t, got[0].GetPayload())
}

func TestGRPCGet(t *testing.T) {
	e := newGRPCEnv(t)
	pts := e.loadTestPoints(t, "coll", qdrant.Distance_Cosine, 20)
	c := e.client
	ids := []*qdrant.PointId{qdrant.NewIDNum(3), pts[6].GetId(), qdrant.NewIDNum(999), qdrant.NewIDNum(1), qdrant.NewIDNum(3)}
	eids := []filter.PointID{filter.NumID(3), mustUUID(t, pts[6].GetId().GetUuid()), filter.NumID(999), filter.NumID(1), filter.NumID(3)}

	cases := []struct {
		name string
		wp   *qdrant.WithPayloadSelector
		wv   *qdrant.WithVectorsSelector
		ro   engine.ReadOptions
	}{
		{"defaults: neither payload nor vectors, as Qdrant 1.17", nil, nil, engine.ReadOptions{}},
		{"vectors", qdrant.NewWithPayload(true), qdrant.NewWithVectors(true), engine.ReadOptions{WithPayload: engine.AllPayload, WithVectors: engine.AllVectors}},
		{"no payload", qdrant.NewWithPayload(false), nil, engine.ReadOptions{}},
		{"include", qdrant.NewWithPayloadInclude("color", "city.pop"), nil,
			engine.ReadOptions{WithPayload: engine.PayloadSelector{Include: []string{"color", "city.pop"}}}},
		{"exclude", qdrant.NewWithPayloadExclude("tags", "city"), qdrant.NewWithVectorsInclude(""),
			engine.ReadOptions{WithPayload: engine.PayloadSelector{Enable: true, Exclude: []string{"tags", "city"}}, WithVectors: engine.VectorSelector{Names: []string{""}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Get(bg, &qdrant.GetPoints{CollectionName: "coll", Ids: ids, WithPayload: tc.wp, WithVectors: tc.wv})
			require.NoError(t, err)
			want, err := e.db.Get(bg, "coll", eids, &tc.ro)
			require.NoError(t, err)
			require.Len(t, want, 3)
			requireRecordsEqual(t, want, got)
		})
	}
	got, err := c.Get(bg, &qdrant.GetPoints{CollectionName: "coll", Ids: []*qdrant.PointId{qdrant.NewIDNum(12345)}})
	require.NoError(t, err)
	require.Empty(t, got)
}

func mustUUID(t *testing.T, s string) filter.PointID {
	t.Helper()
	id, err := filter.ParseUUID(s)
	require.NoError(t, err)
	return id
}

func TestGRPCScrollAndCount(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 37)
	c := e.client

	// Pages through gRPC are the engine's pages.
	var offset *qdrant.PointId
	var eoff *filter.PointID
	seen := 0
	for page := 0; ; page++ {
		require.Less(t, page, 20)
		resp, err := c.GetPointsClient().Scroll(bg, &qdrant.ScrollPoints{CollectionName: "coll", Limit: qdrant.PtrOf(uint32(4)), Offset: offset,
			Filter: &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewMatch("color", "blue")}}})
		require.NoError(t, err)
		want, err := e.db.Scroll(bg, "coll", &engine.ScrollRequest{Limit: 4, Offset: eoff, WithPayload: engine.AllPayload,
			Filter: mustParseFilter(t, `{"must_not": {"key": "color", "match": {"value": "blue"}}}`)})
		require.NoError(t, err)
		requireRecordsEqual(t, want.Points, resp.GetResult())
		seen += len(resp.GetResult())
		if want.NextPageOffset == nil {
			require.Nil(t, resp.GetNextPageOffset())
			break
		}
		require.Equal(t, want.NextPageOffset.String(), idString(resp.GetNextPageOffset()))
		offset, eoff = resp.GetNextPageOffset(), want.NextPageOffset
	}
	n, err := e.db.Count(bg, "coll", mustParseFilter(t, `{"must_not": {"key": "color", "match": {"value": "blue"}}}`), true)
	require.NoError(t, err)
	require.Equal(t, n, seen)

	// Defaults: 10 points with payload.
	resp, err := c.GetPointsClient().Scroll(bg, &qdrant.ScrollPoints{CollectionName: "coll"})
	require.NoError(t, err)
	require.Len(t, resp.GetResult(), 10)
	require.NotEmpty(t, resp.GetResult()[0].GetPayload())
	require.Nil(t, resp.GetResult()[0].GetVectors())
	require.NotNil(t, resp.GetNextPageOffset())

	cnt, err := c.Count(bg, &qdrant.CountPoints{CollectionName: "coll", Filter: &qdrant.Filter{Must: []*qdrant.Condition{
		qdrant.NewRange("n", &qdrant.Range{Gte: qdrant.PtrOf(10.0)})}}})
	require.NoError(t, err)
	n, err = e.db.Count(bg, "coll", mustParseFilter(t, `{"must": [{"key": "n", "range": {"gte": 10}}]}`), true)
	require.NoError(t, err)
	require.EqualValues(t, n, cnt)
	require.EqualValues(t, 27, cnt)
	cnt, err = c.Count(bg, &qdrant.CountPoints{CollectionName: "coll", Exact: qdrant.PtrOf(false)})
	require.NoError(t, err)
	require.EqualValues(t, 37, cnt)
}

func TestGRPCScrollOrderBy(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 25)
	c := e.client
	for field, ft := range map[string]qdrant.FieldType{"n": qdrant.FieldType_FieldTypeInteger, "f": qdrant.FieldType_FieldTypeFloat, "dt": qdrant.FieldType_FieldTypeDatetime} {
		_, err := c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: field, FieldType: ft.Enum(), Wait: qdrant.PtrOf(true)})
		require.NoError(t, err)
	}
	cases := []struct {
		name string
		ob   *qdrant.OrderBy
		eob  engine.OrderBy
		kind string
	}{
		{"int desc", &qdrant.OrderBy{Key: "n", Direction: qdrant.Direction_Desc.Enum()}, engine.OrderBy{Key: "n", Descending: true}, "int"},
		{"int start", &qdrant.OrderBy{Key: "n", StartFrom: qdrant.NewStartFromInt(7)}, engine.OrderBy{Key: "n", StartFrom: qdrant.PtrOf(7.0)}, "int"},
		{"float", &qdrant.OrderBy{Key: "f", StartFrom: qdrant.NewStartFromFloat(3.5)}, engine.OrderBy{Key: "f", StartFrom: qdrant.PtrOf(3.5)}, "float"},
		{"datetime", &qdrant.OrderBy{Key: "dt", StartFrom: qdrant.NewStartFromDatetime("2024-01-05T00:00:00Z")},
			engine.OrderBy{Key: "dt", StartFrom: qdrant.PtrOf(float64(mustTime(t, "2024-01-05T00:00:00Z").UnixMicro()))}, "int"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.GetPointsClient().Scroll(bg, &qdrant.ScrollPoints{CollectionName: "coll", Limit: qdrant.PtrOf(uint32(6)), OrderBy: tc.ob})
			require.NoError(t, err)
			want, err := e.db.Scroll(bg, "coll", &engine.ScrollRequest{Limit: 6, OrderBy: &tc.eob, WithPayload: engine.AllPayload})
			require.NoError(t, err)
			require.NotEmpty(t, want.Points)
			requireRecordsEqual(t, want.Points, resp.GetResult())
			require.Nil(t, resp.GetNextPageOffset())
			for i, r := range resp.GetResult() {
				ov := want.Points[i].OrderValue
				switch tc.kind {
				case "int":
					wantInt, ok := ov.Int()
					if !ok {
						s, _ := ov.Str()
						wantInt = mustTime(t, s).UnixMicro()
					}
					require.Equal(t, wantInt, r.GetOrderValue().GetInt())
				case "float":
					f, _ := ov.Number()
					require.Equal(t, f, r.GetOrderValue().GetFloat())
					_, isFloat := r.GetOrderValue().GetVariant().(*qdrant.OrderValue_Float)
					require.True(t, isFloat)
				}
			}
		})
	}
}

// TestGRPCWrites applies each write through gRPC to one collection and
// directly through the engine to a twin, and compares the two after each.
func TestGRPCWrites(t *testing.T) {
	e := newGRPCEnv(t)
	c := e.client
	e.loadTestPoints(t, "g", qdrant.Distance_Cosine, 20)
	e.loadTestPoints(t, "e", qdrant.Distance_Cosine, 20)
	requireSameCollections(t, e.db, "g", "e")
	wait := engine.WriteOptions{Wait: true}

	step := func(name string, grpcCall func() (*qdrant.UpdateResult, error), direct func() (engine.UpdateResult, error)) {
		t.Helper()
		gr, err := grpcCall()
		require.NoError(t, err, name)
		er, err := direct()
		require.NoError(t, err, name)
		require.Equal(t, er.OperationID, gr.GetOperationId(), name)
		if er.Status == engine.StatusCompleted {
			require.Equal(t, qdrant.UpdateStatus_Completed, gr.GetStatus(), name)
		} else {
			require.Equal(t, qdrant.UpdateStatus_Acknowledged, gr.GetStatus(), name)
		}
		requireSameCollections(t, e.db, "g", "e")
	}
	obj := func(kv map[string]any) payload.Value {
		v, err := payload.FromGo(kv)
		require.NoError(t, err)
		return v
	}

	step("set payload by ids", func() (*qdrant.UpdateResult, error) {
		return c.SetPayload(bg, &qdrant.SetPayloadPoints{CollectionName: "g", Wait: qdrant.PtrOf(true),
			Payload: qdrant.NewValueMap(map[string]any{"new": 5, "color": nil}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1), qdrant.NewIDNum(2))})
	}, func() (engine.UpdateResult, error) {
		return e.db.SetPayload(bg, "e", &engine.SetPayloadOp{Payload: obj(map[string]any{"color": nil, "new": 5}),
			Selector: engine.Selector{IDs: []filter.PointID{filter.NumID(1), filter.NumID(2)}}}, &wait)
	})
	step("set payload with key, by filter, no wait", func() (*qdrant.UpdateResult, error) {
		return c.SetPayload(bg, &qdrant.SetPayloadPoints{CollectionName: "g", Key: qdrant.PtrOf("city"),
			Payload:        qdrant.NewValueMap(map[string]any{"zip": "z1"}),
			PointsSelector: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "green")}})})
	}, func() (engine.UpdateResult, error) {
		return e.db.SetPayload(bg, "e", &engine.SetPayloadOp{Payload: obj(map[string]any{"zip": "z1"}), Key: "city",
			Selector: engine.Selector{Filter: mustParseFilter(t, `{"must": [{"key": "color", "match": {"value": "green"}}]}`)}}, nil)
	})
	step("overwrite payload", func() (*qdrant.UpdateResult, error) {
		return c.OverwritePayload(bg, &qdrant.SetPayloadPoints{CollectionName: "g", Wait: qdrant.PtrOf(true),
			Payload: qdrant.NewValueMap(map[string]any{"only": []any{1, 2.5, "x", true, nil}}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(3))})
	}, func() (engine.UpdateResult, error) {
		return e.db.OverwritePayload(bg, "e", &engine.SetPayloadOp{Payload: obj(map[string]any{"only": []any{1, 2.5, "x", true, nil}}),
			Selector: engine.Selector{IDs: []filter.PointID{filter.NumID(3)}}}, &wait)
	})
	step("delete payload keys", func() (*qdrant.UpdateResult, error) {
		return c.DeletePayload(bg, &qdrant.DeletePayloadPoints{CollectionName: "g", Wait: qdrant.PtrOf(true), Keys: []string{"tags", "city.name"},
			PointsSelector: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("n", &qdrant.Range{Lt: qdrant.PtrOf(8.0)})}})})
	}, func() (engine.UpdateResult, error) {
		return e.db.DeletePayload(bg, "e", &engine.DeletePayloadOp{Keys: []string{"tags", "city.name"},
			Selector: engine.Selector{Filter: mustParseFilter(t, `{"must": {"key": "n", "range": {"lt": 8}}}`)}}, &wait)
	})
	step("clear payload", func() (*qdrant.UpdateResult, error) {
		return c.ClearPayload(bg, &qdrant.ClearPayloadPoints{CollectionName: "g", Wait: qdrant.PtrOf(true), Points: qdrant.NewPointsSelector(qdrant.NewIDNum(4))})
	}, func() (engine.UpdateResult, error) {
		return e.db.ClearPayload(bg, "e", engine.Selector{IDs: []filter.PointID{filter.NumID(4)}}, &wait)
	})
	step("update vectors", func() (*qdrant.UpdateResult, error) {
		return c.UpdateVectors(bg, &qdrant.UpdatePointVectors{CollectionName: "g", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointVectors{
			{Id: qdrant.NewIDNum(5), Vectors: qdrant.NewVectors(1, 2, 3, 4)}}})
	}, func() (engine.UpdateResult, error) {
		return e.db.UpdateVectors(bg, "e", &engine.UpdateVectorsOp{Points: []engine.PointVectors{
			{ID: filter.NumID(5), Vectors: map[string][]float32{"": {1, 2, 3, 4}}}}}, &wait)
	})
	step("upsert insert only", func() (*qdrant.UpdateResult, error) {
		return c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "g", Wait: qdrant.PtrOf(true), UpdateMode: qdrant.UpdateMode_InsertOnly.Enum(),
			Points: []*qdrant.PointStruct{
				{Id: qdrant.NewIDNum(6), Vectors: qdrant.NewVectors(0, 0, 0, 1)},
				{Id: qdrant.NewIDNum(100), Vectors: qdrant.NewVectors(0, 0, 1, 1), Payload: qdrant.NewValueMap(map[string]any{"fresh": true})}}})
	}, func() (engine.UpdateResult, error) {
		return e.db.Upsert(bg, "e", &engine.UpsertOp{Mode: engine.ModeInsertOnly, Points: []engine.Point{
			{ID: filter.NumID(6), Vectors: map[string][]float32{"": {0, 0, 0, 1}}},
			{ID: filter.NumID(100), Vectors: map[string][]float32{"": {0, 0, 1, 1}}, Payload: obj(map[string]any{"fresh": true})}}}, &wait)
	})
	step("upsert with update filter", func() (*qdrant.UpdateResult, error) {
		return c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "g", Wait: qdrant.PtrOf(true),
			UpdateFilter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchBool("ok", true)}},
			Points: []*qdrant.PointStruct{
				{Id: qdrant.NewIDNum(7), Vectors: qdrant.NewVectors(1, 0, 0, 0)},
				{Id: qdrant.NewIDNum(8), Vectors: qdrant.NewVectors(0, 1, 0, 0)}}})
	}, func() (engine.UpdateResult, error) {
		return e.db.Upsert(bg, "e", &engine.UpsertOp{UpdateFilter: mustParseFilter(t, `{"must": {"key": "ok", "match": {"value": true}}}`),
			Points: []engine.Point{
				{ID: filter.NumID(7), Vectors: map[string][]float32{"": {1, 0, 0, 0}}},
				{ID: filter.NumID(8), Vectors: map[string][]float32{"": {0, 1, 0, 0}}}}}, &wait)
	})
	step("delete by ids", func() (*qdrant.UpdateResult, error) {
		return c.Delete(bg, &qdrant.DeletePoints{CollectionName: "g", Wait: qdrant.PtrOf(true), Points: qdrant.NewPointsSelector(qdrant.NewIDNum(9), qdrant.NewIDNum(10), qdrant.NewIDNum(555))})
	}, func() (engine.UpdateResult, error) {
		return e.db.Delete(bg, "e", engine.Selector{IDs: []filter.PointID{filter.NumID(9), filter.NumID(10), filter.NumID(555)}}, &wait)
	})
	step("delete by filter", func() (*qdrant.UpdateResult, error) {
		return c.Delete(bg, &qdrant.DeletePoints{CollectionName: "g", Wait: qdrant.PtrOf(true),
			Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "red")}})})
	}, func() (engine.UpdateResult, error) {
		return e.db.Delete(bg, "e", engine.Selector{Filter: mustParseFilter(t, `{"must": {"key": "color", "match": {"value": "red"}}}`)}, &wait)
	})

	// A batch: each operation gets its own result, in order.
	ops := []*qdrant.PointsUpdateOperation{
		qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: []*qdrant.PointStruct{
			{Id: qdrant.NewIDNum(200), Vectors: qdrant.NewVectors(1, 1, 1, 1), Payload: qdrant.NewValueMap(map[string]any{"b": 1})}}}),
		qdrant.NewPointsUpdateSetPayload(&qdrant.PointsUpdateOperation_SetPayload{Payload: qdrant.NewValueMap(map[string]any{"b": 2}),
			PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(200))}),
		qdrant.NewPointsUpdateOverwritePayload(&qdrant.PointsUpdateOperation_OverwritePayload{Payload: qdrant.NewValueMap(map[string]any{"c": 3}),
			PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(2))}),
		qdrant.NewPointsUpdateDeletePayload(&qdrant.PointsUpdateOperation_DeletePayload{Keys: []string{"n"},
			PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(200), qdrant.NewIDNum(5))}),
		qdrant.NewPointsUpdateClearPayload(&qdrant.PointsUpdateOperation_ClearPayload{Points: qdrant.NewPointsSelector(qdrant.NewIDNum(11))}),
		qdrant.NewPointsUpdateUpdateVectors(&qdrant.PointsUpdateOperation_UpdateVectors{Points: []*qdrant.PointVectors{
			{Id: qdrant.NewIDNum(200), Vectors: qdrant.NewVectors(2, 2, 2, 1)}}}),
		qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelector(qdrant.NewIDNum(12))}),
	}
	res, err := c.UpdateBatch(bg, &qdrant.UpdateBatchPoints{CollectionName: "g", Wait: qdrant.PtrOf(true), Operations: ops})
	require.NoError(t, err)
	eres, err := e.db.BatchUpdate(bg, "e", []engine.Operation{
		{Upsert: &engine.UpsertOp{Points: []engine.Point{{ID: filter.NumID(200), Vectors: map[string][]float32{"": {1, 1, 1, 1}}, Payload: obj(map[string]any{"b": 1})}}}},
		{SetPayload: &engine.SetPayloadOp{Payload: obj(map[string]any{"b": 2}), Selector: engine.Selector{IDs: []filter.PointID{filter.NumID(200)}}}},
		{OverwritePayload: &engine.SetPayloadOp{Payload: obj(map[string]any{"c": 3}), Selector: engine.Selector{IDs: []filter.PointID{filter.NumID(2)}}}},
		{DeletePayload: &engine.DeletePayloadOp{Keys: []string{"n"}, Selector: engine.Selector{IDs: []filter.PointID{filter.NumID(200), filter.NumID(5)}}}},
		{ClearPayload: &engine.Selector{IDs: []filter.PointID{filter.NumID(11)}}},
		{UpdateVectors: &engine.UpdateVectorsOp{Points: []engine.PointVectors{{ID: filter.NumID(200), Vectors: map[string][]float32{"": {2, 2, 2, 1}}}}}},
		{Delete: &engine.Selector{IDs: []filter.PointID{filter.NumID(12)}}},
	}, &wait)
	require.NoError(t, err)
	require.Len(t, res, len(eres))
	for i := range eres {
		require.Equal(t, eres[i].OperationID, res[i].GetOperationId())
		require.Equal(t, qdrant.UpdateStatus_Completed, res[i].GetStatus())
	}
	requireSameCollections(t, e.db, "g", "e")

	_, err = c.UpdateBatch(bg, &qdrant.UpdateBatchPoints{CollectionName: "g", Operations: []*qdrant.PointsUpdateOperation{{}}})
	requireCode(t, err, codes.InvalidArgument, "Operation is missing")
}

// TestGRPCNamedVectors covers named vectors: upsert, read by name, update
// and delete one of them.
func TestGRPCNamedVectors(t *testing.T) {
	e := newGRPCEnv(t)
	c := e.client
	require.NoError(t, c.CreateCollection(bg, &qdrant.CreateCollection{CollectionName: "nv",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"a": {Size: 2, Distance: qdrant.Distance_Dot}, "b": {Size: 3, Distance: qdrant.Distance_Euclid}})}))
	_, err := c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "nv", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(1, 2), "b": qdrant.NewVector(1, 2, 3)})},
		{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(3, 4)})},
	}})
	require.NoError(t, err)
	got, err := c.Get(bg, &qdrant.GetPoints{CollectionName: "nv", Ids: []*qdrant.PointId{qdrant.NewIDNum(1), qdrant.NewIDNum(2)},
		WithVectors: qdrant.NewWithVectorsInclude("b")})
	require.NoError(t, err)
	require.Equal(t, map[string][]float32{"b": {1, 2, 3}}, outputVectors(t, got[0].GetVectors()))
	require.Equal(t, map[string][]float32{}, outputVectors(t, got[1].GetVectors()))

	_, err = c.UpdateVectors(bg, &qdrant.UpdatePointVectors{CollectionName: "nv", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointVectors{
		{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"b": qdrant.NewVector(7, 8, 9)})}}})
	require.NoError(t, err)
	_, err = c.DeleteVectors(bg, &qdrant.DeletePointVectors{CollectionName: "nv", Wait: qdrant.PtrOf(true),
		PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1)), Vectors: &qdrant.VectorsSelector{Names: []string{"a"}}})
	require.NoError(t, err)
	recs := scrollAll(t, e.db, "nv")
	require.Equal(t, map[string][]float32{"b": {1, 2, 3}}, recs[0].Vectors)
	require.Equal(t, map[string][]float32{"a": {3, 4}, "b": {7, 8, 9}}, recs[1].Vectors)

	_, err = c.DeleteVectors(bg, &qdrant.DeletePointVectors{CollectionName: "nv", PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1))})
	requireCode(t, err, codes.InvalidArgument, "vectors is expected")
	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "nv", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(3), Vectors: qdrant.NewVectors(1, 2)}}})
	requireCode(t, err, codes.InvalidArgument, "Not existing vector name")
}

func TestGRPCWriteStatus(t *testing.T) {
	e := newGRPCEnv(t)
	e.createTestCollection(t, "coll", qdrant.Distance_Dot)
	var last uint64
	for i, wait := range []*bool{nil, qdrant.PtrOf(false), qdrant.PtrOf(true)} {
		resp, err := e.client.GetPointsClient().Upsert(bg, &qdrant.UpsertPoints{CollectionName: "coll", Wait: wait, Points: testPoints(2)})
		require.NoError(t, err)
		want := qdrant.UpdateStatus_Acknowledged
		if wait != nil && *wait {
			want = qdrant.UpdateStatus_Completed
		}
		require.Equal(t, want, resp.GetResult().GetStatus(), "case %d", i)
		require.Greater(t, resp.GetResult().GetOperationId(), last)
		last = resp.GetResult().GetOperationId()
		require.GreaterOrEqual(t, resp.GetTime(), 0.0)
	}
}

func TestGRPCFieldIndexes(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 20)
	c := e.client
	create := func(field string, ft qdrant.FieldType, params *qdrant.PayloadIndexParams) {
		t.Helper()
		r, err := c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: field,
			FieldType: ft.Enum(), FieldIndexParams: params, Wait: qdrant.PtrOf(true)})
		require.NoError(t, err)
		require.Equal(t, qdrant.UpdateStatus_Completed, r.GetStatus())
	}
	create("color", qdrant.FieldType_FieldTypeKeyword, qdrant.NewPayloadIndexParamsKeyword(&qdrant.KeywordIndexParams{IsTenant: qdrant.PtrOf(true)}))
	create("n", qdrant.FieldType_FieldTypeInteger, qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{Lookup: qdrant.PtrOf(false), Range: qdrant.PtrOf(true)}))
	create("ok", qdrant.FieldType_FieldTypeBool, nil)
	create("text", qdrant.FieldType_FieldTypeText, qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{
		Tokenizer: qdrant.TokenizerType_Whitespace, MinTokenLen: qdrant.PtrOf(uint64(2)), PhraseMatching: qdrant.PtrOf(true),
		Stopwords: &qdrant.StopwordsSet{Custom: []string{"the"}}}))
	create("loc", qdrant.FieldType_FieldTypeGeo, nil)

	info := mustInfo(t, e.db, "coll")
	require.True(t, info.PayloadSchema["color"].Params.IsTenant)
	require.False(t, info.PayloadSchema["n"].Params.LookupEnabled())
	require.Equal(t, "whitespace", info.PayloadSchema["text"].Params.Text.Tokenizer)
	require.Equal(t, []string{"the"}, info.PayloadSchema["text"].Params.Text.Stopwords)

	ci, err := c.GetCollectionInfo(bg, "coll")
	require.NoError(t, err)
	ps := ci.GetPayloadSchema()
	require.Len(t, ps, 5)
	for key, pi := range info.PayloadSchema {
		require.EqualValues(t, pi.Points, ps[key].GetPoints(), key)
	}
	require.Equal(t, qdrant.PayloadSchemaType_Keyword, ps["color"].GetDataType())
	require.True(t, ps["color"].GetParams().GetKeywordIndexParams().GetIsTenant())
	require.Equal(t, qdrant.PayloadSchemaType_Integer, ps["n"].GetDataType())
	require.False(t, ps["n"].GetParams().GetIntegerIndexParams().GetLookup())
	require.Equal(t, qdrant.PayloadSchemaType_Bool, ps["ok"].GetDataType())
	require.Nil(t, ps["ok"].GetParams(), "an index from a bare type has no params")
	require.Equal(t, qdrant.PayloadSchemaType_Text, ps["text"].GetDataType())
	tp := ps["text"].GetParams().GetTextIndexParams()
	require.Equal(t, qdrant.TokenizerType_Whitespace, tp.GetTokenizer())
	require.EqualValues(t, 2, tp.GetMinTokenLen())
	require.True(t, tp.GetPhraseMatching())
	require.Equal(t, []string{"the"}, tp.GetStopwords().GetCustom())
	require.Equal(t, qdrant.PayloadSchemaType_Geo, ps["loc"].GetDataType())

	_, err = c.DeleteFieldIndex(bg, &qdrant.DeleteFieldIndexCollection{CollectionName: "coll", FieldName: "ok", Wait: qdrant.PtrOf(true)})
	require.NoError(t, err)
	require.NotContains(t, mustInfo(t, e.db, "coll").PayloadSchema, "ok")
	_, err = c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "bad path!",
		FieldType: qdrant.FieldType_FieldTypeKeyword.Enum()})
	requireCode(t, err, codes.InvalidArgument, "Invalid json path")
	_, err = c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "text",
		FieldType: qdrant.FieldType_FieldTypeText.Enum(), FieldIndexParams: qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{
			Stopwords: &qdrant.StopwordsSet{Languages: []string{"klingon"}}})})
	requireCode(t, err, codes.InvalidArgument, "unknown language: unknown variant `klingon`")
	require.True(t, strings.HasPrefix(mustInfo(t, e.db, "coll").PayloadSchema["text"].Params.Text.Tokenizer, "white"))
	_, err = c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "i2",
		FieldType: qdrant.FieldType_FieldTypeInteger.Enum(), FieldIndexParams: qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{
			Lookup: qdrant.PtrOf(false), Range: qdrant.PtrOf(false)})})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body: [field_index_params.index_params.lookup: Validation error: the 'lookup' and 'range' capabilities can't be both disabled [{}]]")
	require.NotContains(t, mustInfo(t, e.db, "coll").PayloadSchema, "i2")
}
