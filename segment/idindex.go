package segment

import (
	"encoding/binary"
	"fmt"
	"slices"
	"unsafe"

	"github.com/qlite/qlite/filter"
)

// idIndex maps point ids to live slots. While the segment takes appends
// (or loads) it is a map; Seal compacts it into sorted arrays, numeric ids
// and UUIDs apart, which hold 12 and 20 bytes a point where the map holds
// about 64 (a 24-byte key and a slot, at the map's load factor). A sealed
// segment only loses points, so the arrays never change: a lookup searches
// them and answers only a slot that is still live.
type idIndex struct {
	m map[filter.PointID]uint32 // nil once sealed

	nums     []uint64  // sealed: numeric ids, ascending
	numOffs  []uint32  // the slot of nums[i]
	uuids    []uuidKey // sealed: UUIDs, ascending
	uuidOffs []uint32  // the slot of uuids[i]
}

// uuidKey is a UUID as two big-endian words, ordered as its bytes are.
type uuidKey struct{ hi, lo uint64 }

func uuidKeyOf(id filter.PointID) uuidKey {
	b, _ := id.UUID()
	return uuidKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func cmpUUIDKey(a, b uuidKey) int {
	if a.hi != b.hi {
		if a.hi < b.hi {
			return -1
		}
		return 1
	}
	switch {
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func newIDIndex() idIndex { return idIndex{m: map[filter.PointID]uint32{}} }

// get returns the slot of id, live or not: the caller checks the live bit
// of a sealed index's answer.
func (x *idIndex) get(id filter.PointID) (uint32, bool) {
	if x.m != nil {
		off, ok := x.m[id]
		return off, ok
	}
	if n, ok := id.Num(); ok {
		i, found := slices.BinarySearch(x.nums, n)
		if !found {
			return 0, false
		}
		return x.numOffs[i], true
	}
	i, found := slices.BinarySearchFunc(x.uuids, uuidKeyOf(id), cmpUUIDKey)
	if !found {
		return 0, false
	}
	return x.uuidOffs[i], true
}

// set makes id's live slot off. Only an unsealed index takes new ids.
func (x *idIndex) set(id filter.PointID, off uint32) {
	if x.m == nil {
		panic("segment: BUG: id added to a sealed segment's index")
	}
	x.m[id] = off
}

// drop removes id's entry if it is slot off. A sealed index keeps it: the
// slot's cleared live bit hides it.
func (x *idIndex) drop(id filter.PointID, off uint32) {
	if x.m != nil && x.m[id] == off {
		delete(x.m, id)
	}
}

// seal replaces the map by the sorted arrays.
func (x *idIndex) seal() {
	if x.m == nil {
		return
	}
	type numEntry struct {
		id  uint64
		off uint32
	}
	type uuidEntry struct {
		id  uuidKey
		off uint32
	}
	var nums []numEntry
	var uuids []uuidEntry
	for id, off := range x.m {
		if n, ok := id.Num(); ok {
			nums = append(nums, numEntry{n, off})
		} else {
			uuids = append(uuids, uuidEntry{uuidKeyOf(id), off})
		}
	}
	slices.SortFunc(nums, func(a, b numEntry) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	slices.SortFunc(uuids, func(a, b uuidEntry) int { return cmpUUIDKey(a.id, b.id) })
	x.nums, x.numOffs = make([]uint64, len(nums)), make([]uint32, len(nums))
	for i, e := range nums {
		x.nums[i], x.numOffs[i] = e.id, e.off
	}
	x.uuids, x.uuidOffs = make([]uuidKey, len(uuids)), make([]uint32, len(uuids))
	for i, e := range uuids {
		x.uuids[i], x.uuidOffs[i] = e.id, e.off
	}
	x.m = nil
}

// entries calls fn with every (id slot) entry; a sealed index's include
// slots deleted since the seal.
func (x *idIndex) entries(fn func(off uint32)) {
	if x.m != nil {
		for _, off := range x.m {
			fn(off)
		}
		return
	}
	for _, off := range x.numOffs {
		fn(off)
	}
	for _, off := range x.uuidOffs {
		fn(off)
	}
}

// check verifies that a sealed index's arrays are sorted, without
// duplicates, and that each entry's slot holds its id (idAt).
func (x *idIndex) check(idAt func(off uint32) filter.PointID) error {
	if x.m != nil {
		return nil
	}
	for i, n := range x.nums {
		if i > 0 && x.nums[i-1] >= n {
			return fmt.Errorf("segment: sealed id index: numeric ids %d and %d out of order", x.nums[i-1], n)
		}
		if got := idAt(x.numOffs[i]); got != filter.NumID(n) {
			return fmt.Errorf("segment: sealed id index: slot %d holds %v, indexed as %d", x.numOffs[i], got, n)
		}
	}
	for i, u := range x.uuids {
		if i > 0 && cmpUUIDKey(x.uuids[i-1], u) >= 0 {
			return fmt.Errorf("segment: sealed id index: UUIDs %d and %d out of order", i-1, i)
		}
		if got := idAt(x.uuidOffs[i]); !got.IsUUID() || uuidKeyOf(got) != u {
			return fmt.Errorf("segment: sealed id index: slot %d holds %v, indexed as UUID %d", x.uuidOffs[i], got, i)
		}
	}
	return nil
}

// memoryBytes estimates the index's memory.
func (x *idIndex) memoryBytes() int64 {
	if x.m != nil {
		// A Go map spends about twice its entries' size.
		return int64(len(x.m)) * 2 * int64(unsafe.Sizeof(filter.PointID{})+4)
	}
	return int64(cap(x.nums))*8 + int64(cap(x.numOffs))*4 +
		int64(cap(x.uuids))*int64(unsafe.Sizeof(uuidKey{})) + int64(cap(x.uuidOffs))*4
}

// lookupLocked returns the live slot holding id. The caller holds mu.
func (s *Segment) lookupLocked(id filter.PointID) (uint32, bool) {
	off, ok := s.mu.lookup.get(id)
	if !ok || (s.mu.lookup.m == nil && !s.liveBit(off)) {
		return 0, false
	}
	return off, true
}
