package engine

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// defaultFacetLimit is the number of values a facet returns by default.
const defaultFacetLimit = 10

// FacetRequest counts the points per value of a payload key.
type FacetRequest struct {
	// Key is the payload key (a key path). It needs a keyword, integer (with
	// lookup), bool or uuid field index.
	Key string
	// Filter, when set, restricts the count to the points it matches.
	Filter *filter.Filter
	// Limit is the number of values returned, default 10.
	Limit int
	// Exact asks for exact counts. qlite's counts are always exact.
	Exact bool
}

// FacetHit is a value of a facet and the number of points that have it.
type FacetHit struct {
	// Value is a string (keyword and uuid indexes; UUIDs in canonical
	// lower-case form), an integer or a bool.
	Value payload.Value
	Count int
}

// Facet counts, for each value at req.Key, the points (among those matching
// the filter) that have it: a point with the value several times counts
// once, a point with several values counts for each. The values the key's
// index holds are counted (strings for keyword, integers for integer, bools
// for bool, UUIDs for uuid; others are ignored). Hits come by count,
// largest first, then by value, ascending (false before true, UUIDs by their
// 128-bit value); Limit of them. The count is an exact scan over the
// matching points.
func (db *DB) Facet(ctx context.Context, coll string, req *FacetRequest) (hits []FacetHit, err error) {
	ctx, op := db.tel.start(ctx, opFacet, coll)
	defer func() { op.end(err, len(hits)) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: missing facet request", ErrBadRequest)
	}
	if req.Key == "" {
		return nil, fmt.Errorf("%w: key: must not be empty", ErrBadRequest)
	}
	path, err := payload.ParsePath(req.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %w", ErrBadRequest, err)
	}
	limit := req.Limit
	if limit == 0 {
		limit = defaultFacetLimit
	}
	if limit < 1 {
		return nil, fmt.Errorf("%w: limit: must be at least 1", ErrBadRequest)
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	if err := c.admit(ctx, req.strictCheck()); err != nil {
		return nil, err
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	params, ok := c.fieldParams(req.Key)
	if !ok || !facetCapable(params) {
		return nil, fmt.Errorf("%w: No appropriate index for faceting: `%s`. Please create one to facet on this field. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Match conditions", ErrBadRequest, req.Key)
	}
	switch params.Type {
	case payload.TypeKeyword:
		return facetCount(ctx, c, req.Filter, path, limit, payload.Value.Str, payload.StringValue, strings.Compare)
	case payload.TypeInteger:
		return facetCount(ctx, c, req.Filter, path, limit, payload.Value.Int, payload.IntValue, cmp.Compare[int64])
	case payload.TypeBool:
		return facetCount(ctx, c, req.Filter, path, limit, payload.Value.Bool, payload.BoolValue, compareBool)
	default: // payload.TypeUUID
		return facetCount(ctx, c, req.Filter, path, limit, uuidOf, formatUUIDValue, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	}
}

// facetCapable reports whether an index serves facets, as in Qdrant: the
// map-like ones (keyword, integer with lookup, bool, uuid).
func facetCapable(p payload.IndexParams) bool {
	switch p.Type {
	case payload.TypeKeyword, payload.TypeBool, payload.TypeUUID:
		return true
	case payload.TypeInteger:
		return p.LookupEnabled()
	}
	return false
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func uuidOf(v payload.Value) ([16]byte, bool) {
	s, ok := v.Str()
	if !ok {
		return [16]byte{}, false
	}
	return payload.ParseUUID(s)
}

func formatUUIDValue(u [16]byte) payload.Value { return payload.StringValue(payload.FormatUUID(u)) }

// facetCount counts the points matching f per value at path, the values
// read with extract, and returns the top limit. The caller holds c.rw.
func facetCount[K comparable](ctx context.Context, c *collection, f *filter.Filter, path payload.Path, limit int,
	extract func(payload.Value) (K, bool), value func(K) payload.Value, compare func(a, b K) int) ([]FacetHit, error) {
	counts := map[K]int{}
	var (
		buf  []payload.Value
		keys []K
		n    int
	)
	add := func(v payload.Value) {
		if k, ok := extract(v); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	var readErr error
	for _, ref := range c.segs {
		seg := ref.seg
		err := c.matchVisible(ref, f, func(off uint32) bool {
			if n++; n%scanCheckEvery == 0 && ctx.Err() != nil {
				return false
			}
			p, perr := seg.Payload(off)
			if perr != nil {
				readErr = perr
				return false
			}
			buf = path.Find(p, buf[:0])
			keys = keys[:0]
			for _, v := range buf {
				if v.Kind() == payload.Array {
					for _, e := range v.Array() {
						add(e)
					}
				} else {
					add(v)
				}
			}
			for _, k := range keys {
				counts[k]++
			}
			return true
		})
		if err = cmp.Or(readErr, err); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type entry struct {
		k K
		n int
	}
	entries := make([]entry, 0, len(counts))
	for k, n := range counts {
		entries = append(entries, entry{k, n})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return compare(a.k, b.k)
	})
	entries = entries[:min(len(entries), limit)]
	out := make([]FacetHit, len(entries))
	for i, e := range entries {
		out[i] = FacetHit{Value: value(e.k), Count: e.n}
	}
	return out, nil
}
