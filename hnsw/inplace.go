package hnsw

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The in-place layout of a graph: a form that a sealed graph is searched in
// directly, from a byte slice (typically a read-only memory-mapped file),
// without decoding it into the Go heap. All integers are little-endian; every
// section starts at a multiple of 64 bytes from the start, so that a buffer
// whose first byte is 4-byte aligned (a mapping is page-aligned) can be
// viewed as []uint32 without copying.
//
//	header, 64 bytes:
//	   0 magic "QLHP"       4 version u32 (1-3) 8 M u32      12 M0 u32
//	  16 EfConstruct u32   20 slots u32        24 LevelMult f64
//	  32 Seed u64          40 entry u32        44 entry level u32
//	  48 live u32          52 tombstones u32   56 upper words u32
//	  60 CRC-32C of bytes 0..59, u32
//	states    at 64:                  u8 x slots (0 absent, 1 live, 2 tombstone)
//	upperOff  at align64(64+slots):   u32 x (slots+1), ascending, upperOff[0] = 0,
//	                                  upperOff[slots] = upper words
//	links0    at align64(upperOff end): u32 x slots*(M0+1)
//	upper     at align64(links0 end):   u32 x upper words
//	versions 2 and 3 only, the block links (BuildBlockLinks), at align64(upper end):
//	          nodes u32 | total u32 | off u32 x (nodes+1) | id u32 x total
//
// slots is one past the highest present id, entry 0xFFFFFFFF in an empty
// graph. A node's level is (upperOff[id+1]-upperOff[id]) / (M+1): its lists
// of levels 1..level are upper[upperOff[id]:upperOff[id+1]], M+1 words each.
// Each list (level 0 in links0 at id*(M0+1), upper ones) is a count word then
// the ids; words past the count are zero. Bytes between sections are zero
// and the buffer ends with the last section. The block links of node i are
// id[off[i]:off[i+1]]; off ascends from 0 to total and nodes is at most
// slots. A graph without block links is written as version 1; versions 2
// and 3 are those of the serialised form (encode.go).

const (
	inPlaceMagic   = "QLHP"
	inPlaceVersion = 3
	inPlaceHeader  = 64
)

// blockSection returns the offsets of the block links section that starts
// after the upper section ending at upperEnd, and its end.
func blockSection(upperEnd int, nodes, total uint32) (start, off, ids, end int) {
	start = align64(upperEnd)
	off = start + 8
	ids = off + 4*(int(nodes)+1)
	return start, off, ids, ids + 4*int(total)
}

// blockShape returns the nodes and total of the block links section that
// WriteInPlace writes for a graph of the given slots.
func blockShape(b *blockLinks, slots uint32) (nodes, total uint32) {
	nodes = min(uint32(len(b.off)-1), slots)
	return nodes, b.off[nodes]
}

func align64(n int) int { return (n + 63) &^ 63 }

// inPlaceSections returns the offsets of the sections and the total size of
// a graph of the given shape.
func inPlaceSections(slots, stride0, upperWords int) (upperOff, links0, upper, end int) {
	upperOff = align64(inPlaceHeader + slots)
	links0 = align64(upperOff + 4*(slots+1))
	upper = align64(links0 + 4*slots*stride0)
	return upperOff, links0, upper, upper + 4*upperWords
}

// inPlace is the read-only storage of a graph opened with OpenInPlace.
type inPlace struct {
	slots    uint32
	states   []uint8
	upperOff []uint32
	upper    []uint32
	// size is the length of the serialised graph; copied the bytes of it
	// that had to be copied into the heap (misaligned or big-endian input).
	size, copied int64
	// dead is the bitset of the live nodes deleted since the graph was
	// opened (Delete), made on the first Delete: the buffer is never
	// written. Bits are set atomically and never cleared.
	dead   atomic.Pointer[[]uint32]
	deadMu sync.Mutex
}

func (r *inPlace) state(id uint32) uint32 {
	if id >= r.slots {
		return stateAbsent
	}
	st := uint32(r.states[id])
	if st == stateLive {
		if d := r.dead.Load(); d != nil && atomic.LoadUint32(&(*d)[id>>5])&(1<<(id&31)) != 0 {
			return stateTombstone
		}
	}
	return st
}

// delete marks a live node deleted, reporting whether it was live.
func (r *inPlace) delete(id uint32) bool {
	if r.state(id) != stateLive {
		return false
	}
	d := r.dead.Load()
	if d == nil {
		r.deadMu.Lock()
		if d = r.dead.Load(); d == nil {
			bits := make([]uint32, (r.slots+31)/32)
			d = &bits
			r.dead.Store(d)
		}
		r.deadMu.Unlock()
	}
	old := atomic.OrUint32(&(*d)[id>>5], 1<<(id&31))
	return old&(1<<(id&31)) == 0
}

func (r *inPlace) level(id uint32, strideU int) int32 {
	return int32(int(r.upperOff[id+1]-r.upperOff[id]) / strideU)
}

func (r *inPlace) upperList(id uint32, l, strideU int) []uint32 {
	off := int(r.upperOff[id]) + (l-1)*strideU
	return r.upper[off : off+strideU : off+strideU]
}

// InPlaceBytes returns the length of the caller's buffer a graph opened
// with OpenInPlace reads in place (on disk when that buffer is a mapped
// file), or 0 for a graph in RAM.
func (g *Graph) InPlaceBytes() int64 {
	if g.ro == nil {
		return 0
	}
	return g.ro.size - g.ro.copied
}

// InPlaceSize returns the length WriteInPlace would write now. Deletes
// do not change it; inserts and repairs may.
func (g *Graph) InPlaceSize() int64 {
	g.structMu.Lock()
	defer g.structMu.Unlock()
	slots, upperWords := g.shape()
	_, _, _, end := inPlaceSections(int(slots), g.stride0, upperWords)
	if b := g.blocks.Load(); b != nil {
		nodes, total := blockShape(b, slots)
		_, _, _, end = blockSection(end, nodes, total)
	}
	return int64(end)
}

// Slots returns one past the highest id the graph holds a node (live or
// deleted) for.
func (g *Graph) Slots() uint32 {
	if g.ro != nil {
		return g.ro.slots
	}
	g.structMu.Lock()
	defer g.structMu.Unlock()
	slots, _ := g.shape()
	return slots
}

// shape returns the slots and upper-level words of the graph. The caller
// holds structMu.
func (g *Graph) shape() (slots uint32, upperWords int) {
	capacity := uint32(g.capacity())
	for id := uint32(0); id < capacity; id++ {
		if g.state(id) != stateAbsent {
			slots = id + 1
			upperWords += int(g.level(id)) * g.strideU
		}
	}
	return slots, upperWords
}

// Copy returns a copy of the graph in RAM, which takes inserts: the way on
// from a graph opened in place.
func (g *Graph) Copy() (*Graph, error) {
	var buf bytes.Buffer
	if _, err := g.WriteTo(&buf); err != nil {
		return nil, err
	}
	return decode(buf.Bytes(), g.vecs)
}

// ReadOnly reports whether the graph was opened in place.
func (g *Graph) ReadOnly() bool { return g.ro != nil }

// WriteInPlace writes the graph to w in the in-place layout above, which
// OpenInPlace opens. Inserts, deletes and repairs wait while it runs;
// searches do not.
func (g *Graph) WriteInPlace(w io.Writer) (int64, error) {
	g.structMu.Lock()
	defer g.structMu.Unlock()

	slots, upperWords := g.shape()
	live, dead := uint32(g.live.Load()), uint32(g.tombstones.Load())
	if upperWords > math.MaxUint32 {
		return 0, fmt.Errorf("hnsw: %d upper words do not fit the in-place layout", upperWords)
	}
	offUpperOff, offLinks0, offUpper, _ := inPlaceSections(int(slots), g.stride0, upperWords)

	bw := bufio.NewWriterSize(w, 1<<16)
	var n int64
	var werr error
	put := func(b []byte) {
		if werr != nil {
			return
		}
		m, err := bw.Write(b)
		n += int64(m)
		werr = err
	}
	pad := func(to int) {
		var zero [64]byte
		for int(n) < to && werr == nil {
			put(zero[:min(64, to-int(n))])
		}
	}

	h := make([]byte, 0, inPlaceHeader)
	blocks := g.blocks.Load()
	version := blocksVersion(blocks)
	h = append(h, inPlaceMagic...)
	h = binary.LittleEndian.AppendUint32(h, version)
	h = binary.LittleEndian.AppendUint32(h, uint32(g.cfg.M))
	h = binary.LittleEndian.AppendUint32(h, uint32(g.cfg.M0))
	h = binary.LittleEndian.AppendUint32(h, uint32(g.cfg.EfConstruct))
	h = binary.LittleEndian.AppendUint32(h, slots)
	h = binary.LittleEndian.AppendUint64(h, math.Float64bits(g.cfg.LevelMult))
	h = binary.LittleEndian.AppendUint64(h, g.cfg.Seed)
	ep, top, ok := unpackEP(g.ep.Load())
	if !ok {
		ep, top = noID, 0
	}
	h = binary.LittleEndian.AppendUint32(h, ep)
	h = binary.LittleEndian.AppendUint32(h, uint32(top))
	h = binary.LittleEndian.AppendUint32(h, live)
	h = binary.LittleEndian.AppendUint32(h, dead)
	h = binary.LittleEndian.AppendUint32(h, uint32(upperWords))
	h = binary.LittleEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
	put(h)

	buf := make([]byte, 0, 1<<15)
	flush := func(force bool) {
		if force || len(buf) >= 1<<15-4*(g.stride0+1) {
			put(buf)
			buf = buf[:0]
		}
	}
	for id := uint32(0); id < slots; id++ {
		buf = append(buf, byte(g.state(id)))
		flush(false)
	}
	flush(true)
	pad(offUpperOff)
	off := uint32(0)
	for id := uint32(0); id < slots; id++ {
		buf = binary.LittleEndian.AppendUint32(buf, off)
		if g.state(id) != stateAbsent {
			off += uint32(int(g.level(id)) * g.strideU)
		}
		flush(false)
	}
	buf = binary.LittleEndian.AppendUint32(buf, off)
	flush(true)
	pad(offLinks0)
	// appendList writes a list as stored, count first, words past the count
	// as zero.
	appendList := func(list []uint32, present bool) {
		c := 0
		if present {
			c = linkCount(list)
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(c))
		for i := 1; i < len(list); i++ {
			x := uint32(0)
			if i <= c {
				x = atomic.LoadUint32(&list[i])
			}
			buf = binary.LittleEndian.AppendUint32(buf, x)
		}
		flush(false)
	}
	empty := make([]uint32, g.stride0)
	for id := uint32(0); id < slots; id++ {
		if g.state(id) == stateAbsent {
			appendList(empty, false)
		} else {
			appendList(g.links(id, 0), true)
		}
	}
	flush(true)
	pad(offUpper)
	for id := uint32(0); id < slots; id++ {
		if g.state(id) == stateAbsent {
			continue
		}
		for l := 1; l <= int(g.level(id)); l++ {
			appendList(g.links(id, l), true)
		}
	}
	flush(true)
	if blocks != nil {
		nodes, total := blockShape(blocks, slots)
		start, _, _, _ := blockSection(int(n), nodes, total)
		pad(start)
		buf = binary.LittleEndian.AppendUint32(buf, nodes)
		buf = binary.LittleEndian.AppendUint32(buf, total)
		for _, x := range blocks.off[:nodes+1] {
			buf = binary.LittleEndian.AppendUint32(buf, x)
			flush(false)
		}
		for _, x := range blocks.ids[:total] {
			buf = binary.LittleEndian.AppendUint32(buf, x)
			flush(false)
		}
		flush(true)
	}
	if werr == nil {
		werr = bw.Flush()
	}
	return n, werr
}

// InPlaceOptions are the options of OpenInPlace.
type InPlaceOptions struct {
	// Trusted skips the checks whose cost grows with the graph (every
	// state, level offset and link), keeping only those of the header,
	// the section sizes and the entry point. Set it only when the caller
	// knows b is what WriteInPlace wrote, for example because it has
	// checked a checksum taken when the bytes were written: a search of
	// a corrupt graph opened this way may panic. Default false.
	Trusted bool
}

// OpenInPlace opens a graph written by WriteInPlace, over vecs, reading its
// link lists from b in place: the graph holds no per-node Go memory, only a
// directory of views into b. b must stay valid and unchanged for as long as
// the graph is used; the graph never writes to it, so a read-only mapping
// will do. When b is not 4-byte aligned, or the machine is not little-endian,
// the word sections are copied into the heap instead.
//
// The graph can be searched, written (WriteTo, WriteInPlace) and checked.
// Delete marks a node deleted in a bitset of the heap (one bit per node,
// made on the first Delete), never in b; Insert, Repair and Build return
// ErrReadOnly. Corrupt or truncated input gives an error wrapping
// ErrCorrupt.
func OpenInPlace(b []byte, vecs Vectors, o *InPlaceOptions) (*Graph, error) {
	if vecs == nil {
		return nil, errors.New("hnsw: nil Vectors")
	}
	var opts InPlaceOptions
	if o != nil {
		opts = *o
	}
	if len(b) < inPlaceHeader {
		return nil, corrupt("in-place graph: %d bytes is too short", len(b))
	}
	h := b[:inPlaceHeader]
	le := binary.LittleEndian
	if string(h[:4]) != inPlaceMagic {
		return nil, corrupt("in-place graph: bad magic")
	}
	if want, got := le.Uint32(h[60:]), crc32.Checksum(h[:60], castagnoli); want != got {
		return nil, corrupt("in-place graph: header checksum mismatch (stored %08x, computed %08x)", want, got)
	}
	version := le.Uint32(h[4:])
	if version < 1 || version > inPlaceVersion {
		return nil, corrupt("in-place graph: unsupported version %d", version)
	}
	cfg := Config{M: int(le.Uint32(h[8:])), M0: int(le.Uint32(h[12:])), EfConstruct: int(le.Uint32(h[16:]))}
	cfg.LevelMult = math.Float64frombits(le.Uint64(h[24:]))
	cfg.Seed = le.Uint64(h[32:])
	if cfg.M == 0 || cfg.M0 == 0 || cfg.EfConstruct == 0 {
		return nil, corrupt("in-place graph: zero parameter")
	}
	cfg, err := (&cfg).withDefaults()
	if err != nil {
		return nil, corrupt("in-place graph: %v", err)
	}
	slots := le.Uint32(h[20:])
	ep, top := le.Uint32(h[40:]), le.Uint32(h[44:])
	live, dead := le.Uint32(h[48:]), le.Uint32(h[52:])
	upperWords := le.Uint32(h[56:])
	g := newGraph(vecs, cfg)
	// Sizes in int64 first: a corrupt header must not overflow them.
	if int64(slots) > int64(len(b)) || int64(upperWords) > int64(len(b)) ||
		int64(slots)*int64(g.stride0)*4 > int64(len(b)) || uint64(live)+uint64(dead) > uint64(slots) {
		return nil, corrupt("in-place graph: %d slots and %d upper words in %d bytes", slots, upperWords, len(b))
	}
	offUpperOff, offLinks0, offUpper, end := inPlaceSections(int(slots), g.stride0, int(upperWords))
	upperEnd := end
	var nodes, total uint32
	var offBlockOff, offBlockIDs int
	if version >= 2 {
		start, _, _, _ := blockSection(upperEnd, 0, 0)
		if start+8 > len(b) {
			return nil, corrupt("in-place graph: %d bytes, too short for the block links", len(b))
		}
		nodes, total = le.Uint32(b[start:]), le.Uint32(b[start+4:])
		if nodes > slots || int64(total) > int64(len(b)) {
			return nil, corrupt("in-place graph: block links of %d nodes, %d links", nodes, total)
		}
		_, offBlockOff, offBlockIDs, end = blockSection(upperEnd, nodes, total)
	}
	if end != len(b) {
		return nil, corrupt("in-place graph: %d bytes, the header describes %d", len(b), end)
	}
	r := &inPlace{slots: slots, size: int64(len(b))}
	r.states = b[inPlaceHeader : inPlaceHeader+int(slots)]
	r.upperOff = r.words(b[offUpperOff : offUpperOff+4*(int(slots)+1)])
	links0 := r.words(b[offLinks0 : offLinks0+4*int(slots)*g.stride0])
	r.upper = r.words(b[offUpper:upperEnd])
	g.ro = r
	if version >= 2 {
		bl := &blockLinks{off: r.words(b[offBlockOff:offBlockIDs]), ids: r.words(b[offBlockIDs:end]), sorted: version >= 3}
		if bl.off[0] != 0 || bl.off[nodes] != total {
			return nil, corrupt("in-place graph: block link offsets span %d..%d, %d links", bl.off[0], bl.off[nodes], total)
		}
		if !opts.Trusted {
			if err := verifyBlockLinks(bl, r.states); err != nil {
				return nil, err
			}
		}
		g.blocks.Store(bl)
	}

	if r.upperOff[0] != 0 || r.upperOff[slots] != upperWords {
		return nil, corrupt("in-place graph: upper offsets span %d..%d, header says %d words", r.upperOff[0], r.upperOff[slots], upperWords)
	}
	if live+dead == 0 {
		if ep != noID {
			return nil, corrupt("in-place graph: entry point %d in an empty graph", ep)
		}
	} else if ep >= slots || r.states[ep] == byte(stateAbsent) || top > maxLevel ||
		r.upperOff[ep+1] < r.upperOff[ep] || r.upperOff[ep+1]-r.upperOff[ep] != top*uint32(g.strideU) {
		return nil, corrupt("in-place graph: bad entry point %d at level %d", ep, top)
	}
	if !opts.Trusted {
		if err := g.verifyInPlace(links0, live, dead, int32(top)); err != nil {
			return nil, err
		}
	}

	nchunks := (int(slots) + chunkSize - 1) / chunkSize
	chunks := make([]chunk, nchunks)
	dir := make([]*chunk, nchunks)
	per := chunkSize * g.stride0
	for i := range chunks {
		chunks[i].links0 = links0[i*per : min((i+1)*per, len(links0)) : min((i+1)*per, len(links0))]
		dir[i] = &chunks[i]
	}
	g.dir.Store(&dir)
	if live+dead > 0 {
		g.ep.Store(packEP(ep, int32(top)))
	}
	g.live.Store(int64(live))
	g.tombstones.Store(int64(dead))
	g.upperWords.Store(int64(upperWords))
	return g, nil
}

// words views b as little-endian uint32 words, in place when the machine is
// little-endian and b is 4-byte aligned, else in a copy.
func (r *inPlace) words(b []byte) []uint32 {
	n := len(b) / 4
	if n == 0 {
		return []uint32{}
	}
	if nativeLittleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), n)
	}
	w := make([]uint32, n)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	r.copied += int64(len(b))
	return w
}

var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// verifyInPlace checks what OpenInPlace's Trusted option skips: every state,
// level offset and link, so that no search can read out of range.
func (g *Graph) verifyInPlace(links0 []uint32, live, dead uint32, top int32) error {
	r := g.ro
	var nl, nd uint32
	maxSeen := int32(-1)
	for id := uint32(0); id < r.slots; id++ {
		lo, hi := r.upperOff[id], r.upperOff[id+1]
		if hi < lo || (hi-lo)%uint32(g.strideU) != 0 || (hi-lo)/uint32(g.strideU) > maxLevel {
			return corrupt("in-place graph: node %d: upper offsets %d..%d", id, lo, hi)
		}
		switch uint32(r.states[id]) {
		case stateAbsent:
			if hi != lo {
				return corrupt("in-place graph: absent node %d has upper levels", id)
			}
			continue
		case stateLive:
			nl++
		case stateTombstone:
			nd++
		default:
			return corrupt("in-place graph: node %d: bad state %d", id, r.states[id])
		}
		maxSeen = max(maxSeen, r.level(id, g.strideU))
	}
	if nl != live || nd != dead {
		return corrupt("in-place graph: %d live and %d tombstones, header says %d and %d", nl, nd, live, dead)
	}
	if live+dead > 0 && maxSeen != top {
		return corrupt("in-place graph: entry level %d, top level %d", top, maxSeen)
	}
	for id := uint32(0); id < r.slots; id++ {
		if r.states[id] == byte(stateAbsent) {
			continue
		}
		for l := 0; l <= int(r.level(id, g.strideU)); l++ {
			var list []uint32
			if l == 0 {
				off := int(id) * g.stride0
				list = links0[off : off+g.stride0]
			} else {
				list = r.upperList(id, l, g.strideU)
			}
			c := int(list[0])
			if c > g.maxLinks(l) {
				return corrupt("in-place graph: node %d level %d: %d links, at most %d", id, l, c, g.maxLinks(l))
			}
			for _, x := range list[1 : c+1] {
				if x >= r.slots || r.states[x] == byte(stateAbsent) || int(r.level(x, g.strideU)) < l || x == id {
					return corrupt("in-place graph: node %d level %d: bad link to %d", id, l, x)
				}
			}
		}
	}
	return nil
}

// verifyBlockLinks checks in-place block links against the node states:
// ascending offsets, links only between present nodes, no self-links.
func verifyBlockLinks(b *blockLinks, states []uint8) error {
	for id := range uint32(len(b.off) - 1) {
		lo, hi := b.off[id], b.off[id+1]
		if hi < lo || int(hi) > len(b.ids) {
			return corrupt("in-place graph: node %d: block link offsets %d..%d", id, lo, hi)
		}
		if hi > lo && states[id] == byte(stateAbsent) {
			return corrupt("in-place graph: absent node %d has block links", id)
		}
		for _, x := range b.ids[lo:hi] {
			if int(x) >= len(states) || states[x] == byte(stateAbsent) || x == id {
				return corrupt("in-place graph: node %d: bad block link to %d", id, x)
			}
		}
	}
	return nil
}
