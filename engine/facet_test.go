package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// facetPayload gives point i values for each facet key, including repeats
// within a point, arrays, and values of types the key's index ignores.
func facetPayload(i int) payload.Value {
	colors := []string{"red", "green", "blue", "amber", "teal"}
	uuids := []string{
		"6f9619ff-8b86-d011-b42d-00c04fc964ff",
		"6F9619FF8B86D011B42D00C04FC964FF", // the same UUID, other spelling
		"{0e2f4b6c-1a3b-4c5d-8e9f-a0b1c2d3e4f5}",
		"urn:uuid:ffffffff-0000-4000-8000-000000000001",
		"not-a-uuid",
	}
	var color, n, flag, u payload.Value
	switch i % 6 {
	case 0:
		color = payload.StringValue(colors[i%5])
	case 1:
		color = payload.ArrayValue(payload.StringValue(colors[i%5]), payload.StringValue(colors[i%5]), payload.StringValue(colors[(i+1)%5]))
	case 2:
		color = payload.IntValue(7)
	case 3:
		color = payload.ArrayValue(payload.StringValue(colors[(i/6)%5]), payload.NullValue())
	case 4:
		color = payload.StringValue(colors[(i*i)%5])
	}
	switch i % 5 {
	case 0, 1:
		n = payload.IntValue(int64(i%4) - 1)
	case 2:
		n = payload.ArrayValue(payload.IntValue(int64(i%3)), payload.IntValue(int64(i%3)), payload.IntValue(9))
	case 3:
		n = payload.FloatValue(2.0)
	}
	switch i % 4 {
	case 0:
		flag = payload.BoolValue(i%3 == 0)
	case 1:
		flag = payload.ArrayValue(payload.BoolValue(true), payload.BoolValue(false), payload.BoolValue(true))
	case 2:
		flag = payload.StringValue("true")
	}
	if i%7 != 6 {
		u = payload.StringValue(uuids[i%5])
		if i%11 == 0 {
			u = payload.ArrayValue(payload.StringValue(uuids[0]), payload.StringValue(uuids[1]), payload.StringValue(uuids[2]))
		}
	}
	fields := []any{"class", i % 10, "i", i}
	for _, kv := range []struct {
		k string
		v payload.Value
	}{{"color", color}, {"n", n}, {"flag", flag}, {"u", u}} {
		if kv.v.Kind() != payload.Null {
			fields = append(fields, kv.k, kv.v)
		}
	}
	return obj(fields...)
}

// bruteFacet counts, per value of the type t indexes, the points of pts
// that have it, and sorts by count descending then value ascending.
func bruteFacet(pts []Record, key string, t payload.FieldType) []FacetHit {
	type entry struct {
		sortKey string
		v       payload.Value
		n       int
	}
	counts := map[string]*entry{}
	for _, p := range pts {
		v, ok := p.Payload.Get(key)
		if !ok {
			continue
		}
		vals := []payload.Value{v}
		if v.Kind() == payload.Array {
			vals = v.Array()
		}
		mine := map[string]payload.Value{}
		for _, x := range vals {
			var k string
			var val payload.Value
			switch t {
			case payload.TypeKeyword:
				s, ok := x.Str()
				if !ok {
					continue
				}
				k, val = s, x
			case payload.TypeInteger:
				n, ok := x.Int()
				if !ok {
					continue
				}
				k, val = fmt.Sprintf("%020d", n+1<<62), x
			case payload.TypeBool:
				b, ok := x.Bool()
				if !ok {
					continue
				}
				k, val = fmt.Sprint(b), x
			case payload.TypeUUID:
				s, ok := x.Str()
				if !ok {
					continue
				}
				u, ok := payload.ParseUUID(s)
				if !ok {
					continue
				}
				k = payload.FormatUUID(u)
				val = payload.StringValue(k)
			}
			mine[k] = val
		}
		for k, val := range mine {
			if counts[k] == nil {
				counts[k] = &entry{sortKey: k, v: val}
			}
			counts[k].n++
		}
	}
	var es []*entry
	for _, e := range counts {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *entry) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return strings.Compare(a.sortKey, b.sortKey)
	})
	out := make([]FacetHit, len(es))
	for i, e := range es {
		out[i] = FacetHit{Value: e.v, Count: e.n}
	}
	return out
}

func requireFacet(t *testing.T, want, got []FacetHit, msg string) {
	t.Helper()
	str := func(hs []FacetHit) []string {
		var out []string
		for _, h := range hs {
			out = append(out, fmt.Sprintf("%s(%s)=%d", h.Value, h.Value.Kind(), h.Count))
		}
		return out
	}
	require.Equal(t, str(want), str(got), msg)
}

func TestFacet(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	setupExtra(t, db, "f", distance.Cosine, 4, 400, 6, facetPayload)
	index := map[string]payload.FieldType{"color": payload.TypeKeyword, "n": payload.TypeInteger, "flag": payload.TypeBool, "u": payload.TypeUUID}
	for key, typ := range index {
		_, err := db.CreateFieldIndex(bg, "f", key, payload.IndexParams{Type: typ}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	filters := map[string]*filter.Filter{
		"none":     nil,
		"class<5":  mustFilter(t, `{"must":[{"key":"class","range":{"lt":5}}]}`),
		"not blue": mustFilter(t, `{"must_not":[{"key":"color","match":{"value":"blue"}}]}`),
		"nothing":  mustFilter(t, `{"must":[{"key":"class","match":{"value":99}}]}`),
	}
	for fname, f := range filters {
		sc, err := db.Scroll(bg, "f", &ScrollRequest{Filter: f, Limit: 100000, WithPayload: AllPayload})
		require.NoError(t, err)
		for key, typ := range index {
			all := bruteFacet(sc.Points, key, typ)
			if fname == "none" {
				require.GreaterOrEqual(t, len(all), 2, key)
			}
			for _, limit := range []int{0, 1, 3, 1000} {
				got, err := db.Facet(bg, "f", &FacetRequest{Key: key, Filter: f, Limit: limit})
				require.NoError(t, err)
				want := all
				if n := cmp.Or(limit, 10); n < len(want) {
					want = want[:n]
				}
				requireFacet(t, want, got, fmt.Sprintf("%s filter %s limit %d", key, fname, limit))
			}
		}
	}

	// The canonical UUID is reported for every spelling of it.
	got, err := db.Facet(bg, "f", &FacetRequest{Key: "u", Exact: true})
	require.NoError(t, err)
	for _, h := range got {
		s, _ := h.Value.Str()
		require.Equal(t, strings.ToLower(s), s)
		require.Len(t, s, 36)
	}
}

func TestFacetNeedsIndex(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	setupExtra(t, db, "f", distance.Dot, 4, 300, 6, facetPayload)
	no := false
	for key, p := range map[string]payload.IndexParams{
		"n":     {Type: payload.TypeInteger, Lookup: &no},
		"i":     {Type: payload.TypeFloat},
		"color": {Type: payload.TypeText},
	} {
		_, err := db.CreateFieldIndex(bg, "f", key, p, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	for _, key := range []string{"n", "i", "color", "class", "u"} {
		_, err := db.Facet(bg, "f", &FacetRequest{Key: key})
		require.ErrorIs(t, err, ErrBadRequest, key)
		require.Equal(t, "qlite: bad request: No appropriate index for faceting: `"+key+"`. Please create one to facet on this field. "+
			"Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Match conditions", err.Error())
	}
	for _, req := range []*FacetRequest{nil, {}, {Key: "a["}, {Key: "n", Limit: -1}, {Key: "n", Filter: &filter.Filter{Must: []filter.Condition{&filter.Field{}}}}} {
		_, err := db.Facet(bg, "f", req)
		require.ErrorIs(t, err, ErrBadRequest)
	}
	_, err := db.Facet(bg, "nope", &FacetRequest{Key: "n"})
	require.ErrorIs(t, err, ErrNotFound)
}
