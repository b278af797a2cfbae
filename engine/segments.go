package engine

import (
	"context"
	"fmt"
	"slices"
)

// SegmentInfo describes one segment of a collection, for telemetry and the
// optimizations report.
type SegmentInfo struct {
	// UUID names the segment: stable for the segment's life, unique
	// within the database.
	UUID string
	// Points is the number of live points; Slots counts deleted ones too.
	Points, Slots int
	// IndexedVectors is the number of vectors held in the segment's graphs,
	// deleted points' included until the segment is rebuilt.
	IndexedVectors int
	// MultiVectors is, per multivector name, the number of vectors the
	// live points hold there (their multivectors' lengths summed).
	MultiVectors map[string]int
	// Appendable is set for the segment that takes new points.
	Appendable bool
	// Optimizing is set when the optimizer has work queued on the segment:
	// persisting it, indexing it, vacuuming or merging it.
	Optimizing bool
}

// segmentUUID names segment id of collection cid in UUID form.
func segmentUUID(cid, id uint32) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", cid, id)
}

// Segments describes the collection's segments, sealed first, the
// appendable one last.
func (db *DB) Segments(ctx context.Context, name string) ([]SegmentInfo, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	c, err := db.collection(name)
	if err != nil {
		return nil, err
	}
	segs := c.snapshotSegs()
	app := segs[len(segs)-1]
	merging := c.mergeCandidates(segs)
	thr := c.indexingThreshold()
	out := make([]SegmentInfo, len(segs))
	for i, ref := range segs {
		s := ref.seg
		si := SegmentInfo{
			UUID:       segmentUUID(c.cid, ref.id),
			Points:     s.Live(),
			Slots:      s.Len(),
			Appendable: ref == app,
			Optimizing: slices.Contains(merging, ref),
		}
		if ref == app {
			si.Optimizing = si.Optimizing || (thr > 0 && s.Len() >= thr) || (s.Len() > 0 && c.graphsOutdated(ref, false))
		} else {
			si.Optimizing = si.Optimizing || !ref.persisted.Load() || c.vacuumable(ref) || s.Live() == 0 || c.graphsOutdated(ref, true)
		}
		for _, spec := range s.Specs() {
			if spec.Multi {
				n, _ := s.MultiVectors(spec.Name)
				if si.MultiVectors == nil {
					si.MultiVectors = map[string]int{}
				}
				si.MultiVectors[spec.Name] = n
			}
		}
		if n := s.Indexed(); n > 0 {
			si.IndexedVectors = min(n, s.Len()) * len(s.Specs())
		}
		out[i] = si
	}
	return out, nil
}

// HeldVectors returns the collection's live points and the vectors they
// hold: one a point for each plain vector name (as Qdrant counts them), and
// for a multivector name every vector of the points' multivectors. It reads
// counters only.
func (db *DB) HeldVectors(ctx context.Context, name string) (points, vectors int, err error) {
	if err := db.checkOpen(); err != nil {
		return 0, 0, err
	}
	c, err := db.collection(name)
	if err != nil {
		return 0, 0, err
	}
	for _, ref := range c.snapshotSegs() {
		s := ref.seg
		points += s.Live()
		for _, spec := range s.Specs() {
			if !spec.Multi {
				vectors += s.Live()
				continue
			}
			n, _ := s.MultiVectors(spec.Name)
			vectors += n
		}
	}
	return points, vectors, nil
}
