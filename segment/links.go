package segment

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/qlite/qlite/payload"
)

// Payload links: for each indexed payload field, the points a filter on
// it would select together (payload blocks, as Qdrant calls them) get
// extra level-0 links among themselves (hnsw's block links), so that a
// filtered search that walks only matching points finds them connected.
//
// The blocks of a field, for a space whose FullScanThreshold is t points:
// each keyword, uuid, bool or integer (with lookup) value held by at least
// t points; and for integer (with range), float and datetime fields, the
// runs of consecutive values in ascending order of about t/2 points each,
// taken two by two so that consecutive blocks overlap by a run.
// Blocks of the same points are linked once. A block is linked when, of
// its points, more than t/4 are live with the space's vector and no more
// than 4 N / d, N the live points and d the mean level-0 degree of the
// graph: past that, a filter's points stay connected through the graph's
// own links (Qdrant's bounds).

// PayloadLinkStats describe one BuildPayloadLinks.
type PayloadLinkStats struct {
	// Blocks is the number of blocks linked, over all spaces.
	Blocks int
	// Links is the number of block links the graphs hold afterwards.
	Links int
	// Seconds is the wall time spent.
	Seconds float64
}

// BuildPayloadLinks replaces the payload links of every space whose
// PayloadM is above 0 and whose graph covers all its slots, from the
// payload indexes the segment has now, building each block's graph on the
// given number of goroutines. Searches proceed meanwhile; inserts into the
// graphs (BuildGraph) wait. A graph opened in place is left as it is.
func (s *Segment) BuildPayloadLinks(ctx context.Context, workers int) (PayloadLinkStats, error) {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	return s.buildPayloadLinks(ctx, workers, s.spaces)
}

// EnsurePayloadLinks is BuildPayloadLinks for the spaces whose graph has
// no payload links yet, when the segment has payload indexes: for a
// segment whose graph was built in steps as points came, once it is
// complete (a graph built whole gets them from BuildGraph).
func (s *Segment) EnsurePayloadLinks(ctx context.Context, workers int) (PayloadLinkStats, error) {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if !s.hasFieldIndexes() {
		return PayloadLinkStats{}, nil
	}
	var spaces []*space
	for _, sp := range s.spaces {
		if g := sp.graph.Load(); g != nil && !g.HasBlockLinks() {
			spaces = append(spaces, sp)
		}
	}
	return s.buildPayloadLinks(ctx, workers, spaces)
}

// buildPayloadLinks is BuildPayloadLinks for the given spaces; the caller
// holds buildMu.
func (s *Segment) buildPayloadLinks(ctx context.Context, workers int, spaces []*space) (PayloadLinkStats, error) {
	start := time.Now()
	var st PayloadLinkStats
	for _, sp := range spaces {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		g := sp.graph.Load()
		if sp.spec.NoGraph || sp.spec.PayloadM <= 0 || g.ReadOnly() || sp.indexed.Load() != s.n.Load() {
			continue
		}
		blocks := s.payloadBlocks(sp, g.Len(), g.AverageDegree0())
		if err := g.BuildBlockLinks(blocks, sp.spec.PayloadM, workers); err != nil {
			return st, fmt.Errorf("segment: payload links of %q: %w", sp.spec.Name, err)
		}
		st.Blocks += len(blocks)
		st.Links += g.BlockLinks()
	}
	st.Seconds = time.Since(start).Seconds()
	return st, nil
}

// payloadBlocks returns the blocks of sp's points to link, for a graph of
// live nodes whose mean level-0 degree is degree.
func (s *Segment) payloadBlocks(sp *space, live int, degree float64) [][]uint32 {
	t := max(sp.spec.FullScanThreshold, 1)
	maxBlock := live
	if degree >= 1 {
		maxBlock = int(float64(live) / degree * 4)
	}
	indexed := sp.indexed.Load()
	var blocks [][]uint32
	seen := map[uint64][]int{} // blocks by a hash of their points
	add := func(ids []uint32) {
		keep := make([]uint32, 0, len(ids))
		for _, off := range ids {
			if off < indexed && s.liveBit(off) && s.hasBit(sp, off) {
				keep = append(keep, off)
			}
		}
		slices.Sort(keep)
		keep = slices.Compact(keep)
		if len(keep) <= t/4 || len(keep) > maxBlock {
			return
		}
		// The same points may form blocks of several fields (a label
		// indexed as integer and as keyword) or of both kinds of one
		// (an integer value whose range block holds it alone): one graph.
		h := uint64(len(keep))
		for _, off := range keep {
			h = (h ^ uint64(off)) * 0x100000001b3
		}
		for _, i := range seen[h] {
			if slices.Equal(blocks[i], keep) {
				return
			}
		}
		seen[h] = append(seen[h], len(blocks))
		blocks = append(blocks, keep)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.mu.indexes))
	for k := range s.mu.indexes {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same blocks, in the same order, every time
	for _, k := range keys {
		switch x := s.mu.indexes[k].idx.(type) {
		case *payload.KeywordIndex:
			for _, v := range frequentValues(x.ForEach, t) {
				add(x.Match(v).ToArray())
			}
		case *payload.UUIDIndex:
			for _, v := range frequentValues(x.ForEach, t) {
				add(x.Match(v).ToArray())
			}
		case *payload.BoolIndex:
			for _, v := range []bool{false, true} {
				if x.Estimate(v) >= t {
					add(x.Match(v).ToArray())
				}
			}
		case *payload.IntegerIndex:
			walk := func(fn func(int64, uint32) bool) { x.Walk(payload.Range{}, false, fn) }
			p := x.Params()
			if p.LookupEnabled() {
				valueBlocks(walk, t, add)
			}
			if p.RangeEnabled() {
				rangeBlocks(walk, t, add)
			}
		case *payload.FloatIndex:
			rangeBlocks(func(fn func(float64, uint32) bool) { x.Walk(payload.Range{}, false, fn) }, t, add)
		case *payload.DatetimeIndex:
			rangeBlocks(func(fn func(int64, uint32) bool) { x.Walk(payload.DatetimeRange{}, false, fn) }, t, add)
		}
	}
	return blocks
}

// frequentValues returns, sorted, the values forEach reports held by at
// least t points.
func frequentValues(forEach func(func(string, int) bool), t int) []string {
	var out []string
	forEach(func(v string, n int) bool {
		if n >= t {
			out = append(out, v)
		}
		return true
	})
	slices.Sort(out)
	return out
}

// valueBlocks passes to add the points of each value that at least t
// points hold, walk giving the (value, point) pairs in ascending order.
func valueBlocks[K comparable](walk func(func(K, uint32) bool), t int, add func([]uint32)) {
	var cur []uint32
	var v K
	flush := func() {
		if len(cur) >= t {
			add(cur)
		}
		cur = cur[:0]
	}
	walk(func(k K, id uint32) bool {
		if len(cur) > 0 && k != v {
			flush()
		}
		v = k
		cur = append(cur, id)
		return true
	})
	flush()
}

// rangeBlocks passes to add the points of overlapping value ranges: the
// (value, point) pairs, which walk gives in ascending order, are cut into
// runs of at least t/2 pairs each (a value is never split; the last run
// takes the rest), and each block is two consecutive runs, so that each
// point is in two blocks and a range filter whose bounds fall inside a
// block still finds its points linked across the cut (Qdrant's numeric
// payload blocks). A single run is one block.
func rangeBlocks[K comparable](walk func(func(K, uint32) bool), t int, add func([]uint32)) {
	size := max(t/2, 1)
	var prev, cur []uint32
	var v K
	emit := func() {
		if prev != nil {
			add(append(slices.Clip(prev), cur...))
		}
		prev, cur = cur, nil
	}
	walk(func(k K, id uint32) bool {
		if len(cur) >= size && k != v {
			emit()
		}
		v = k
		cur = append(cur, id)
		return true
	})
	switch {
	case len(cur) > 0 && prev == nil:
		add(cur) // one run: one block
	case len(cur) > 0:
		emit()
	}
}
