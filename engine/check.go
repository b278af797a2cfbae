package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/qlite/qlite/payload"
)

// CheckInvariants verifies every collection: each segment's own invariants;
// every stored point record held by exactly one live slot, with the same
// version, vectors and payload; no live slot without its record; a ghost for
// every masked slot of a persisted segment; the manifest naming exactly the
// persisted segments; no data under a collection id that no collection
// has. It is meant for tests and tools: it reads everything.
func (db *DB) CheckInvariants() error {
	if err := db.checkOpen(); err != nil {
		return err
	}
	db.mu.RLock()
	colls := make([]*collection, 0, len(db.colls))
	cids := map[uint32]bool{}
	for _, c := range db.colls {
		colls = append(colls, c)
		cids[c.cid] = true
	}
	known := true // every collection id is known
	for _, f := range db.failed {
		cids[f.cid] = true
		known = known && f.hasCID
	}
	db.mu.RUnlock()
	var errs []error
	// No data outside the catalog (a staged restore not cleaned up).
	if orphans, err := db.orphanCIDs(cids); known && (err != nil || len(orphans) > 0) {
		errs = append(errs, fmt.Errorf("data of collection ids %v, which no collection has (%v)", orphans, err))
	}
	for _, c := range colls {
		if err := c.checkInvariants(); err != nil {
			errs = append(errs, fmt.Errorf("collection %q: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *collection) checkInvariants() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.rw.RLock()
	defer c.rw.RUnlock()
	for _, ref := range c.segs {
		if err := ref.seg.CheckInvariants(); err != nil {
			return fmt.Errorf("segment %d: %w", ref.id, err)
		}
	}
	// Records against live slots.
	it, err := newPointIter(c.db.store, c.cid)
	if err != nil {
		return err
	}
	records := 0
	for ok := it.First(); ok; ok = it.Next() {
		records++
		id, _, err := decodeIDKey(it.Key())
		if err != nil {
			it.Close()
			return err
		}
		val, err := it.Value()
		if err != nil {
			it.Close()
			return err
		}
		rec, err := decodeRecord(val, it.Vectors())
		if err != nil {
			it.Close()
			return err
		}
		holders := 0
		for _, ref := range c.segs {
			off, ok := ref.seg.Lookup(id)
			if !ok {
				continue
			}
			holders++
			got, err := c.readRecord(ref, off)
			if err != nil {
				it.Close()
				return fmt.Errorf("point %s: %w", id, err)
			}
			if got.op != rec.op {
				it.Close()
				return fmt.Errorf("point %s: slot has version %d, record %d", id, got.op, rec.op)
			}
			if !payload.Equal(normPayload(got.payload), normPayload(rec.payload)) {
				it.Close()
				return fmt.Errorf("point %s: payload differs from its record", id)
			}
			if len(got.vectors) != len(rec.vectors) {
				it.Close()
				return fmt.Errorf("point %s: %d vectors, record has %d", id, len(got.vectors), len(rec.vectors))
			}
			for n, v := range rec.vectors {
				if !slices.Equal(got.vectors[n], v) {
					it.Close()
					return fmt.Errorf("point %s: vector %q differs from its record", id, n)
				}
			}
			if len(got.sparse) != len(rec.sparse) {
				it.Close()
				return fmt.Errorf("point %s: %d sparse vectors, record has %d", id, len(got.sparse), len(rec.sparse))
			}
			for n, v := range rec.sparse {
				if g := got.sparse[n]; !slices.Equal(g.Indices, v.Indices) || !slices.Equal(g.Values, v.Values) {
					it.Close()
					return fmt.Errorf("point %s: sparse vector %q differs from its record", id, n)
				}
			}
		}
		if holders != 1 {
			it.Close()
			return fmt.Errorf("point %s: held by %d live slots", id, holders)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	live := 0
	for _, ref := range c.segs {
		live += ref.seg.Live()
	}
	if live != records {
		return fmt.Errorf("%d live slots, %d records", live, records)
	}
	// Manifest and ghosts.
	persisted := 0
	for _, ref := range c.segs {
		if !ref.persisted.Load() {
			continue
		}
		persisted++
		if !slices.ContainsFunc(c.manifest.segs, func(m manifestSeg) bool { return m.id == ref.id }) {
			return fmt.Errorf("segment %d is persisted but not in the manifest", ref.id)
		}
		// Vectors held by segment files need no ghost: with every vector
		// in files, a masked slot may have none (one written when it was
		// masked is harmless).
		inFiles := 0
		for i := range c.vectorNames() {
			if ref.hasVectorFile(i) {
				inFiles++
			}
		}
		for off := range uint32(ref.seg.Len()) {
			if ref.seg.IsLive(off) || inFiles == len(c.vectorNames()) {
				continue
			}
			v, err := readAll(c.db.store, ghostKey(c.cid, ref.id, off))
			if err != nil {
				return err
			}
			if v == nil {
				return fmt.Errorf("segment %d: masked slot %d has no ghost", ref.id, off)
			}
		}
	}
	if persisted != len(c.manifest.segs) {
		return fmt.Errorf("manifest names %d segments, %d are persisted", len(c.manifest.segs), persisted)
	}
	return nil
}

// normPayload treats a missing payload as the empty object.
func normPayload(p payload.Value) payload.Value {
	if p.Kind() != payload.Object {
		return payload.ObjectValue()
	}
	return p
}
