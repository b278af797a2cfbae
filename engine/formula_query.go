package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// errFormulaWithoutPrefetch is Qdrant's answer to a formula query with no
// prefetch: a formula only re-scores what prefetches found.
var errFormulaWithoutPrefetch = fmt.Errorf("%w: Validation failed: cannot apply Formula without prefetches", ErrBadRequest)

// checkFormula checks a formula as Qdrant does when it reads one, before
// anything runs.
func checkFormula(f *Formula) error {
	_, err := compileFormula(f, nil)
	return err
}

// formulaRescore scores the points the prefetches found (lists, in prefetch
// order) with f and returns the limit best, highest first, keeping those
// scoring at least threshold. Equal scores keep the order of the points'
// first appearance. A point keeps the record of its first appearance.
func (db *DB) formulaRescore(ctx context.Context, coll string, f *Formula, threshold *float32, limit int, lists [][]ScoredPoint) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	prog, err := compileFormula(f, c.fieldParams)
	if err != nil {
		return nil, err
	}
	// Each point once, at its first appearance in the lists.
	type ref struct{ list, pos int32 }
	seen := map[PointID]bool{}
	var firsts []ref
	for i, l := range lists {
		for j, p := range l {
			if !seen[p.ID] {
				seen[p.ID] = true
				firsts = append(firsts, ref{int32(i), int32(j)})
			}
		}
	}
	ev := newFormulaEval(prog)
	t := &formulaPoint{scores: candidates(lists).scores()}
	type scored struct {
		score float32
		ref
	}
	kept := make([]scored, 0, len(firsts))
	for i, r := range firsts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		id := lists[r.list][r.pos].ID
		sref, off, ok := c.locateVisible(id)
		if !ok {
			continue // deleted since the prefetch found it
		}
		t.id, t.seg, t.off, t.err = id, sref.seg, off, nil
		s, err := ev.score(t)
		if err == nil {
			err = t.err
		}
		if err != nil {
			return nil, err
		}
		if threshold == nil || s >= *threshold {
			kept = append(kept, scored{s, r})
		}
	}
	slices.SortStableFunc(kept, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	if limit > 0 && len(kept) > limit {
		kept = kept[:limit]
	}
	out := make([]ScoredPoint, len(kept))
	for i, k := range kept {
		out[i] = lists[k.list][k.pos]
		out[i].Score = k.score
	}
	return out, nil
}

// formulaPoint is a candidate point as a formula sees it.
type formulaPoint struct {
	id     PointID
	seg    *segment.Segment
	off    uint32
	scores []map[PointID]float32
	// err is the first payload read error met while scoring the point.
	err error
}

func (p *formulaPoint) Payload() payload.Value {
	v, err := p.seg.Payload(p.off)
	if err != nil && p.err == nil {
		p.err = err
	}
	return v
}

func (p *formulaPoint) PrefetchScore(i int) (float32, bool) {
	if i >= len(p.scores) {
		return 0, false
	}
	s, ok := p.scores[i][p.id]
	return s, ok
}

func (p *formulaPoint) Matches(f *filter.Filter) bool {
	ok, err := p.seg.Matches(f, p.off)
	if err != nil && p.err == nil {
		p.err = err
	}
	return ok
}

// checkFormulas requires, as Qdrant's strict mode does when unindexed
// filtering is off, an index for each payload key the formulas read: a
// numeric one for a variable, a geo one for geo_distance, a datetime one
// for datetime_key, and what a filter needs for a condition.
func (c *collection) checkFormulas(fs []*Formula) error {
	if len(fs) == 0 {
		return nil
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	for _, f := range fs {
		if key, schemas := oneUnindexedFormulaKey(f.Expr, c.fieldParams); key != "" {
			return strictErr("Index required but not found for \"%s\" of one of the following types: [%s]. Help: Create an index for this key or use a different formula expression.",
				key, strings.Join(schemas, ", "))
		}
	}
	return nil
}

// oneUnindexedFormulaKey returns the first payload key of e (depth first)
// that no index of fields serves, with the schemas that would serve it,
// sorted; "" when every key is served.
func oneUnindexedFormulaKey(e *Expr, fields func(string) (payload.IndexParams, bool)) (string, []string) {
	if e == nil {
		return "", nil
	}
	need := func(key string, caps ...indexCap) (string, []string) {
		if p, ok := fields(key); ok {
			have := indexCaps(p)
			for _, c := range caps {
				if slices.Contains(have, c) {
					return "", nil
				}
			}
		}
		names := make([]string, len(caps))
		for i, c := range caps {
			names[i] = capSchemas[c]
		}
		slices.Sort(names)
		return key, slices.Compact(names)
	}
	switch e.Kind {
	case ExprVariable:
		if _, isScore, path, err := parseFormulaVariable(e.Name); err == nil && !isScore {
			return need(path.String(), capIntMatch, capIntRange, capFloatRange)
		}
		return "", nil
	case ExprGeoDistance:
		return need(e.Name, capGeo)
	case ExprDatetimeKey:
		return need(e.Name, capDatetimeRange)
	case ExprCondition:
		if e.Condition == nil {
			return "", nil
		}
		return oneUnindexedKey(&filter.Filter{Must: []filter.Condition{e.Condition}}, fields)
	}
	for _, a := range e.Args {
		if key, schemas := oneUnindexedFormulaKey(a, fields); key != "" {
			return key, schemas
		}
	}
	return "", nil
}
