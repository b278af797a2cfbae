package segment

import (
	"fmt"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/qlite/qlite/payload"
)

// CheckInvariants verifies the segment's consistency and returns an error
// describing the first violation: the live count equals the live bits, and
// the planner's bitmaps match them; Lookup gives every live slot for its
// point id and nothing else; each payload index equals one rebuilt from
// the live payloads and holds no deleted slot; each graph passes
// hnsw.Graph.CheckInvariants (with reachability, unless a cancelled build
// left it unfinished), holds as live nodes only live slots that have its
// vector, every such slot below its indexed mark, and nothing past the
// slots it may hold; the PayloadSource, if any, has returned no error. It
// waits for appends and builds; no Delete or WriteGraph may run
// concurrently (the graph check forbids it).
func (s *Segment) CheckInvariants() error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()

	n := s.n.Load()
	if int(n) > s.capacity {
		return fmt.Errorf("segment: %d slots used of %d", n, s.capacity)
	}
	live := roaring.New()
	dir := s.chunks()
	if len(dir) < (int(n)+chunkMask)>>chunkBits {
		return fmt.Errorf("segment: %d slot chunks for %d slots", len(dir), n)
	}
	for w := range len(dir) * chunkWords {
		word := liveWord(dir, w)
		for b := range uint32(64) {
			if word&(1<<b) == 0 {
				continue
			}
			off := uint32(w)<<6 + b
			if off >= n {
				return fmt.Errorf("segment: slot %d live past the %d used", off, n)
			}
			live.Add(off)
		}
	}
	if c := int64(live.GetCardinality()); c != s.nlive.Load() {
		return fmt.Errorf("segment: %d live bits, live count %d", c, s.nlive.Load())
	}
	if !live.Equals(s.mu.all) {
		return fmt.Errorf("segment: live bitmap of %d slots differs from the %d live bits",
			s.mu.all.GetCardinality(), live.GetCardinality())
	}

	if err := s.checkSparse(live); err != nil {
		return err
	}

	// Lookup.
	if err := s.mu.lookup.check(s.id); err != nil {
		return err
	}
	held := 0
	s.mu.lookup.entries(func(off uint32) {
		if s.mu.lookup.m != nil || s.liveBit(off) {
			held++
		}
	})
	if held != int(live.GetCardinality()) {
		return fmt.Errorf("segment: lookup holds %d ids for %d live slots", held, live.GetCardinality())
	}
	it := live.Iterator()
	for it.HasNext() {
		off := it.Next()
		if got, ok := s.lookupLocked(s.id(off)); !ok || got != off {
			return fmt.Errorf("segment: live slot %d holds point %v, which Lookup gives as (%d, %v)", off, s.id(off), got, ok)
		}
	}

	// Payload indexes.
	var buf []payload.Value
	for key, fi := range s.mu.indexes {
		if extra := roaring.AndNot(fi.idx.Points(), live); !extra.IsEmpty() {
			return fmt.Errorf("segment: index %q holds slot %d, which is not live", key, extra.Minimum())
		}
		fresh, err := payload.NewIndex(fi.params)
		if err != nil {
			return fmt.Errorf("segment: index %q: %w", key, err)
		}
		r := &payloadReader{s: s, keys: []string{fi.path.Head()}, ahead: live.Contains}
		it := live.Iterator()
		for it.HasNext() {
			off := it.Next()
			buf = fi.path.Find(r.payload(off), buf[:0])
			if r.err != nil {
				return fmt.Errorf("segment: index %q: payload source: %w", key, r.err)
			}
			fresh.Set(off, buf)
		}
		if !fresh.Points().Equals(fi.idx.Points()) {
			return fmt.Errorf("segment: index %q holds %d points, the payloads give %d",
				key, fi.idx.Len(), fresh.Len())
		}
		it = live.Iterator()
		for it.HasNext() {
			off := it.Next()
			if a, b := fi.idx.ValuesCount(off), fresh.ValuesCount(off); a != b {
				return fmt.Errorf("segment: index %q: slot %d has %d values, its payload %d", key, off, a, b)
			}
		}
	}

	// Vector spaces.
	for _, sp := range s.spaces {
		has := roaring.New()
		for off := range n {
			if s.hasBit(sp, off) && s.liveBit(off) {
				has.Add(off)
			}
		}
		if !has.Equals(sp.hasBM) {
			return fmt.Errorf("segment: vector %q: presence bitmap of %d slots, %d live slots have it",
				sp.spec.Name, sp.hasBM.GetCardinality(), has.GetCardinality())
		}
		g := sp.graph.Load()
		if err := g.CheckInvariants(!sp.dirty.Load()); err != nil {
			return fmt.Errorf("segment: vector %q: %w", sp.spec.Name, err)
		}
		if s.loading {
			continue // Seal reconciles loaded graphs with the slots
		}
		indexed, building := sp.indexed.Load(), sp.building.Load()
		if indexed > n || building < indexed {
			return fmt.Errorf("segment: vector %q: indexed %d, building %d, %d slots", sp.spec.Name, indexed, building, n)
		}
		nodes := 0
		for off := range n {
			in := g.Contains(off)
			isLive, hasVec := s.liveBit(off), s.hasBit(sp, off)
			switch {
			case in && !isLive:
				return fmt.Errorf("segment: vector %q: deleted slot %d is a live graph node", sp.spec.Name, off)
			case in && !hasVec:
				return fmt.Errorf("segment: vector %q: slot %d without the vector is a graph node", sp.spec.Name, off)
			case in && off >= building:
				return fmt.Errorf("segment: vector %q: slot %d is a graph node past the build mark %d", sp.spec.Name, off, building)
			case !in && isLive && hasVec && off < indexed && !sp.spec.NoGraph:
				return fmt.Errorf("segment: vector %q: live slot %d below indexed %d is not in the graph", sp.spec.Name, off, indexed)
			}
			if in {
				nodes++
			}
		}
		if nodes != g.Len() {
			return fmt.Errorf("segment: vector %q: graph has %d live nodes, %d among the slots", sp.spec.Name, g.Len(), nodes)
		}
	}
	return nil
}

// Memory is an estimate of the heap a segment holds, in bytes, by kind.
type Memory struct {
	// Vectors is the vector chunks allocated (storage grows in chunks, so
	// this runs ahead of the rows used by at most one chunk per space).
	Vectors int64
	// Graph is the graphs' link lists and node metadata.
	Graph int64
	// Payloads is the payload values held in memory, their slot headers
	// included.
	Payloads int64
	// PayloadIndexes is the field indexes.
	PayloadIndexes int64
	// Sparse is the sparse vectors: their storage and inverted indexes.
	Sparse int64
	// Other is the rest: point ids, versions, liveness and presence bits,
	// the id lookup and the planner's bitmaps.
	Other int64
	// MappedVectors is the vectors read from Rows (MapRows,
	// Options.Rows): memory-mapped files, held by the page cache rather
	// than the heap, so not part of Total.
	MappedVectors int64
	// MappedGraph is the graphs searched in place from segment files
	// (UseGraphInPlace, LoadGraphInPlace), not part of Total either.
	MappedGraph int64
	// Quantized is the quantised vectors' codes in the heap
	// (SetQuantized); MappedQuantized those read in place from a mapping,
	// not part of Total.
	Quantized       int64
	MappedQuantized int64
}

// Total returns the sum of every kind.
func (m Memory) Total() int64 {
	return m.Vectors + m.Graph + m.Payloads + m.PayloadIndexes + m.Sparse + m.Other + m.Quantized
}

// Add adds o to m.
func (m *Memory) Add(o Memory) {
	m.Vectors += o.Vectors
	m.Graph += o.Graph
	m.Payloads += o.Payloads
	m.PayloadIndexes += o.PayloadIndexes
	m.Sparse += o.Sparse
	m.Other += o.Other
	m.MappedVectors += o.MappedVectors
	m.MappedGraph += o.MappedGraph
	m.Quantized += o.Quantized
	m.MappedQuantized += o.MappedQuantized
}

// Memory estimates the memory the segment holds, by kind. It takes the
// segment's index lock shared and costs no scan of the slots.
func (s *Segment) Memory() Memory {
	var m Memory
	dir := s.chunks()
	chunks := int64(len(dir))
	var payloads int64
	for _, ch := range dir {
		if ch.payloads.Load() != nil {
			payloads += chunkSlots * payload.ValueSize
		}
	}
	m.Payloads = payloads + s.pbytes.Load()
	m.Other = chunks * (int64(unsafe.Sizeof(slotChunk{})) + int64(len(s.spaces))*chunkWords*8)
	for _, sp := range s.spaces {
		for _, r := range *sp.rows.Load() {
			if sp.mapped.Load() && !sp.rowsInHeap.Load() {
				m.MappedVectors += int64(cap(r)) * 4
			} else {
				m.Vectors += int64(cap(r)) * 4
			}
		}
		if sp.multi != nil {
			m.Vectors += sp.multi.allocated()
		}
		g := sp.graph.Load()
		m.Graph += g.MemoryBytes()
		m.MappedGraph += g.InPlaceBytes()
		if q := sp.quant.Load(); q != nil && q.Mapped {
			m.MappedQuantized += q.Bytes()
		} else {
			m.Quantized += q.Bytes()
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, fi := range s.mu.indexes {
		m.PayloadIndexes += fi.idx.MemoryBytes()
	}
	m.Other += int64(s.mu.all.GetSizeInBytes())
	for _, sp := range s.spaces {
		m.Other += int64(sp.hasBM.GetSizeInBytes())
	}
	for _, sp := range s.sparse {
		m.Sparse += s.sparseMemory(sp)
	}
	m.Other += s.mu.lookup.memoryBytes()
	return m
}

// MemoryBytes estimates the memory the segment holds: its slot and vector
// chunks (storage grows with the slots used), payloads, payload indexes,
// bitmaps, the id lookup and graphs (Memory().Total()).
func (s *Segment) MemoryBytes() int64 { return s.Memory().Total() }
