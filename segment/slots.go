package segment

import (
	"math"
	"sync/atomic"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// Slot storage grows with the slots used: chunks of chunkSlots slots (ids,
// versions, payloads, liveness and presence bits) and, per vector space,
// chunks of vector rows, each allocated when its first slot is placed and
// never moved or freed while the Segment lives. Capacity is a limit, not a
// reservation.
const (
	chunkBits  = 10
	chunkSlots = 1 << chunkBits
	chunkMask  = chunkSlots - 1
	chunkWords = chunkSlots / 64
	// wordBits is log2(chunkWords): a global bit word w lives in chunk
	// w>>wordBits.
	wordBits = chunkBits - 6
)

// Vector chunks hold at most rowChunkBytes of rows, and between
// 1<<minRowBits and chunkSlots rows: a 1536-dim chunk holds 512 rows
// (3 MiB), a 384-dim one 1024 (1.5 MiB).
const (
	rowChunkBytes = 4 << 20
	minRowBits    = 4
)

// rowBitsFor returns log2 of the rows per vector chunk for dimension dim.
func rowBitsFor(dim int) uint {
	b := uint(chunkBits)
	for b > minRowBits && (1<<b)*4*dim > rowChunkBytes {
		b--
	}
	return b
}

// slotChunk holds the data of chunkSlots consecutive slots. A slot's data
// is written once, before the slot is published by Segment.n (Append) or
// before loading ends (Fill), and read without locks; the bits are atomic.
type slotChunk struct {
	ids      [chunkSlots]filter.PointID
	versions [chunkSlots]uint64
	// payloads is allocated with the chunk's first payload that is not
	// null: a chunk of points without payloads holds none, and a segment
	// with a PayloadSource never allocates it.
	payloads atomic.Pointer[[chunkSlots]payload.Value]
	live     [chunkWords]atomic.Uint64
	has      [][chunkWords]atomic.Uint64 // presence bits, per space (space.idx), then per sparse vector
	sparse   [][chunkSlots]sparseRef     // per sparse vector: where each slot's vector is stored
}

// chunks returns the slot chunk directory. Every slot below n (loaded
// before it) has its chunk in it.
func (s *Segment) chunks() []*slotChunk { return *s.dir.Load() }

// chunk returns the chunk of slot off, which must be allocated.
func (s *Segment) chunk(off uint32) *slotChunk { return (*s.dir.Load())[off>>chunkBits] }

// grow allocates the slot and vector chunks of every slot below end. The
// caller holds appendMu (or owns the segment); readers see a chunk once the
// directory holding it is published, which happens before any slot in it is.
func (s *Segment) grow(end uint32) {
	if end == 0 {
		return
	}
	last := end - 1
	dir := s.chunks()
	for len(dir) <= int(last>>chunkBits) {
		ch := &slotChunk{has: make([][chunkWords]atomic.Uint64, len(s.spaces)+len(s.sparse))}
		if len(s.sparse) > 0 {
			ch.sparse = make([][chunkSlots]sparseRef, len(s.sparse))
		}
		// Appending past len writes only where no published directory
		// reaches, so readers of the old one race with nothing.
		next := append(dir, ch)
		s.dir.Store(&next)
		dir = next
	}
	for _, sp := range s.spaces {
		if sp.multi != nil {
			sp.multi.grow(last)
			continue
		}
		if sp.mapped.Load() {
			continue // every row is in the mapping
		}
		rows := *sp.rows.Load()
		for len(rows) <= int(last>>sp.rowBits) {
			first := len(rows) << sp.rowBits
			n := min(1<<sp.rowBits, s.capacity-first)
			next := append(rows, distance.MakeAligned(rowFloats(n, sp.dim, sp.dtype)))
			sp.rows.Store(&next)
			rows = next
		}
	}
}

// liveBit reports whether slot off, which must be allocated, is live.
func (s *Segment) liveBit(off uint32) bool {
	return s.chunk(off).live[off>>6&(chunkWords-1)].Load()&(1<<(off&63)) != 0
}

// hasBit reports whether slot off, which must be allocated, has sp's
// vector.
func (s *Segment) hasBit(sp *space, off uint32) bool {
	return s.chunk(off).has[sp.idx][off>>6&(chunkWords-1)].Load()&(1<<(off&63)) != 0
}

// id returns the point id of slot off, which must be allocated.
func (s *Segment) id(off uint32) filter.PointID { return s.chunk(off).ids[off&chunkMask] }

// wordBit returns word w of a bitset spread over chunks.
func liveWord(dir []*slotChunk, w int) uint64 {
	return dir[w>>wordBits].live[w&(chunkWords-1)].Load()
}

func hasWord(dir []*slotChunk, sp *space, w int) uint64 {
	return hasWordIdx(dir, sp.idx, w)
}

// hasWordIdx is hasWord for the presence bits at index i of slotChunk.has.
func hasWordIdx(dir []*slotChunk, i, w int) uint64 {
	return dir[w>>wordBits].has[i][w&(chunkWords-1)].Load()
}

// hasBitIdx is hasBit for the presence bits at index i of slotChunk.has.
func (s *Segment) hasBitIdx(i int, off uint32) bool {
	return s.chunk(off).has[i][off>>6&(chunkWords-1)].Load()&(1<<(off&63)) != 0
}

func setWordBit(b *[chunkWords]atomic.Uint64, off uint32) {
	b[off>>6&(chunkWords-1)].Or(1 << (off & 63))
}

func clearWordBit(b *[chunkWords]atomic.Uint64, off uint32) {
	b[off>>6&(chunkWords-1)].And(^uint64(1 << (off & 63)))
}

// vector returns the stored row of off, which must be allocated.
func (sp *space) vector(off uint32) []float32 {
	if sp.multi != nil {
		return sp.multi.vector(off, sp.dim)
	}
	if sp.dtype != Float32 {
		return sp.narrowVector(off)
	}
	r := (*sp.rows.Load())[off>>sp.rowBits]
	o := int(off&(1<<sp.rowBits-1)) * sp.dim
	return r[o : o+sp.dim : o+sp.dim]
}

// vectors adapts a space's storage to hnsw.Vectors. Rows never move, so
// the graph reads them without locks.
type vectors struct{ sp *space }

func (v vectors) Vector(id uint32) []float32 { return v.sp.vector(id) }

// NonMetric tells the graph that an inner product is not a metric
// (hnsw.NonMetric), so that it keeps its link lists full.
func (v vectors) NonMetric() bool { return v.sp.metric == distance.Dot }

// Distances scores q against the rows of ids with the chunk kernel, which
// finds each row in its chunk itself (the chunks of the ids passed in are
// allocated: they are slots of the segment).
func (v vectors) Distances(q []float32, ids []uint32, dst []float32) {
	if sp := v.sp; sp.multi != nil {
		var qb []byte
		if sp.dtype == Uint8 {
			bp := u8Query.Get().(*[]byte)
			defer u8Query.Put(bp)
			if cap(*bp) < len(q) {
				*bp = make([]byte, len(q))
			}
			qb = (*bp)[:len(q)]
			distance.U8FromF32(qb, q)
		}
		for i, id := range ids {
			d, ok := sp.multi.maxSim(sp.metric, q, qb, id, sp.dim)
			if !ok {
				// A masked slot whose vectors were lost (it only
				// serves navigation): the farthest of all.
				d = math.MaxFloat32
			}
			dst[i] = d
		}
		return
	}
	if v.sp.dtype != Float32 {
		v.sp.narrowDistances(q, ids, dst)
		return
	}
	v.sp.metric.GatherChunks(dst, q, *v.sp.rows.Load(), v.sp.rowBits, ids)
}
