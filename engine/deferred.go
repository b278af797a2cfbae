package engine

import (
	"context"
	"math"
	"time"

	"github.com/qlite/qlite/filter"
)

// Deferred points. With optimizer_config.prevent_unoptimized, Qdrant keeps
// the points an appendable segment receives past its indexing threshold
// out of every read (retrieve, scroll, count, search, query, facet) until
// the optimizer has indexed them, and a write with wait=true returns once
// its points are visible; the collection's points_count still counts them
// (Qdrant's iter_internal_visible and deferred_internal_id in
// lib/segment/src/id_tracker, and wait_for_deferred_points_ready in
// lib/collection/src/update_workers). In qlite the appendable segment is
// indexed in place, so a point there is visible when it lies below the
// indexing threshold or the segment's graph covers it; sealed segments are
// always indexed.

// readLimit returns the first slot of ref that reads do not see
// (math.MaxUint32 when they see all of them). The caller holds c.rw (or
// c.wmu).
func (c *collection) readLimit(ref *segRef) uint32 {
	cfg := c.config()
	if p := cfg.Optimizers.PreventUnoptimized; p == nil || !*p || ref != c.appendable() {
		return math.MaxUint32
	}
	// A point is deferred when the segment's vectors before it reach the
	// threshold: the first ceil(threshold / point size) points are seen.
	kb := cfg.IndexingThresholdKB()
	if kb <= 0 {
		return math.MaxUint32
	}
	pb := c.pointBytes()
	thr := kbToBytes(kb)/pb + 1
	if kbToBytes(kb)%pb == 0 {
		thr--
	}
	lim := max(thr, ref.seg.Indexed())
	if lim >= ref.seg.Len() {
		return math.MaxUint32
	}
	return uint32(lim)
}

// hasDeferred reports whether the appendable segment holds points reads do
// not see yet.
func (c *collection) hasDeferred() bool {
	c.rw.RLock()
	defer c.rw.RUnlock()
	return c.readLimit(c.appendable()) != math.MaxUint32
}

// matchVisible is Segment.Match over the slots of ref that reads see.
func (c *collection) matchVisible(ref *segRef, f *filter.Filter, fn func(off uint32) bool) error {
	lim := c.readLimit(ref)
	return ref.seg.Match(f, func(off uint32) bool {
		return off < lim && fn(off)
	})
}

// countVisible is Segment.Count over the slots of ref that reads see.
func (c *collection) countVisible(ref *segRef, f *filter.Filter) (int, error) {
	if c.readLimit(ref) == math.MaxUint32 {
		return ref.seg.Count(f)
	}
	n := 0
	err := c.matchVisible(ref, f, func(uint32) bool { n++; return true })
	return n, err
}

// locateVisible is locate for reads: a point reads do not see yet is not
// found.
func (c *collection) locateVisible(id filter.PointID) (*segRef, uint32, bool) {
	ref, off, ok := c.locate(id)
	if !ok || off >= c.readLimit(ref) {
		return nil, 0, false
	}
	return ref, off, true
}

// searchBelow is the SearchOptions.Below of ref: 0 when reads see every
// slot.
func (c *collection) searchBelow(ref *segRef) uint32 {
	if lim := c.readLimit(ref); lim != math.MaxUint32 {
		return lim
	}
	return 0
}

// deferredPoll is how often a waiting write checks its points are visible.
const deferredPoll = 5 * time.Millisecond

// waitVisible waits until reads see every point of the collection, waking
// the optimizer, or until ctx ends. When the collection's background
// optimization is off, nothing would make them visible: it does not wait
// (where Qdrant waits until its timeout) and reports ctx's error kind,
// context.DeadlineExceeded.
func (c *collection) waitVisible(ctx context.Context) error {
	if c.optimizerOff() && c.hasDeferred() {
		return context.DeadlineExceeded
	}
	for c.hasDeferred() {
		c.db.kick()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(deferredPoll):
		}
	}
	return nil
}
