package hnsw

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync/atomic"
)

// The serialised graph, all integers little-endian:
//
//	magic "QLHW" | version u32 | M u32 | M0 u32 | EfConstruct u32
//	LevelMult f64 | Seed u64 | slots u32 | entry u32 | entry level u32
//	state u8 x slots                     (0 absent, 1 live, 2 tombstone)
//	level u8 x (present slots)
//	per present slot, per level 0..level: count u16 | id u32 x count
//	versions 2 and 3 only, the block links (BuildBlockLinks):
//	  nodes u32 | count u32 x nodes | id u32 x (sum of the counts)
//	CRC-32C of everything above, u32
//
// entry is 0xFFFFFFFF for an empty graph. slots is one past the highest
// present id. A graph without block links is written as version 1, which
// graphs written before block links existed are; one with block links as
// version 3, whose block links of a node are sorted nearest first, or 2,
// which graphs written before that are (their order is the build's and a
// search takes all of them); nodes is at most slots,
// and the block links of node i are the count[i] ids after those of nodes
// 0..i-1.

const (
	magic         = "QLHW"
	formatVersion = 3
	headerSize    = 4 + 4 + 4*3 + 8 + 8 + 4*3
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the graph to w in the format above. Inserts, deletes and
// repairs wait while it runs; searches do not.
func (g *Graph) WriteTo(w io.Writer) (int64, error) {
	g.structMu.Lock()
	defer g.structMu.Unlock()

	capacity := uint32(g.capacity())
	slots := uint32(0)
	for id := uint32(0); id < capacity; id++ {
		if g.state(id) != stateAbsent {
			slots = id + 1
		}
	}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 1<<16)
	var n int64
	put := func(b []byte) {
		m, _ := bw.Write(b)
		n += int64(m)
	}
	var buf []byte
	blocks := g.blocks.Load()
	version := blocksVersion(blocks)
	buf = append(buf, magic...)
	buf = binary.LittleEndian.AppendUint32(buf, version)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(g.cfg.M))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(g.cfg.M0))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(g.cfg.EfConstruct))
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(g.cfg.LevelMult))
	buf = binary.LittleEndian.AppendUint64(buf, g.cfg.Seed)
	buf = binary.LittleEndian.AppendUint32(buf, slots)
	ep, top, ok := unpackEP(g.ep.Load())
	if !ok {
		ep, top = noID, 0
	}
	buf = binary.LittleEndian.AppendUint32(buf, ep)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(top))
	put(buf)

	buf = buf[:0]
	for id := uint32(0); id < slots; id++ {
		buf = append(buf, byte(g.state(id)))
		if len(buf) >= 1<<15 {
			put(buf)
			buf = buf[:0]
		}
	}
	for id := uint32(0); id < slots; id++ {
		if g.state(id) != stateAbsent {
			buf = append(buf, byte(g.level(id)))
		}
		if len(buf) >= 1<<15 {
			put(buf)
			buf = buf[:0]
		}
	}
	for id := uint32(0); id < slots; id++ {
		if g.state(id) == stateAbsent {
			continue
		}
		for l := 0; l <= int(g.level(id)); l++ {
			list := g.links(id, l)
			c := linkCount(list)
			buf = binary.LittleEndian.AppendUint16(buf, uint16(c))
			for i := 1; i <= c; i++ {
				buf = binary.LittleEndian.AppendUint32(buf, atomic.LoadUint32(&list[i]))
			}
		}
		if len(buf) >= 1<<15 {
			put(buf)
			buf = buf[:0]
		}
	}
	if blocks != nil {
		nodes := min(uint32(len(blocks.off)-1), slots)
		buf = binary.LittleEndian.AppendUint32(buf, nodes)
		for id := range nodes {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(len(blocks.of(id))))
			if len(buf) >= 1<<15 {
				put(buf)
				buf = buf[:0]
			}
		}
		for id := range nodes {
			for _, x := range blocks.of(id) {
				buf = binary.LittleEndian.AppendUint32(buf, x)
			}
			if len(buf) >= 1<<15 {
				put(buf)
				buf = buf[:0]
			}
		}
	}
	put(buf)
	if err := bw.Flush(); err != nil {
		return n, err
	}
	var tail [4]byte
	binary.LittleEndian.PutUint32(tail[:], crc.Sum32())
	m, err := w.Write(tail[:])
	return n + int64(m), err
}

// decoder reads little-endian values from a buffer, remembering the first
// out-of-bounds read.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = fmt.Errorf("%w: truncated at byte %d", ErrCorrupt, d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// Read decodes a graph written by WriteTo, over vecs. Corrupt or truncated
// input gives an error wrapping ErrCorrupt. The graph's storage is allocated
// in a few large slices.
func Read(r io.Reader, vecs Vectors) (*Graph, error) {
	if vecs == nil {
		return nil, fmt.Errorf("hnsw: nil Vectors")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("hnsw: read graph: %w", err)
	}
	return decode(b, vecs)
}

func decode(b []byte, vecs Vectors) (*Graph, error) {
	if len(b) < headerSize+4 {
		return nil, corrupt("%d bytes is too short", len(b))
	}
	body := b[:len(b)-4]
	if want, got := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.Checksum(body, castagnoli); want != got {
		return nil, corrupt("checksum mismatch (stored %08x, computed %08x)", want, got)
	}
	d := &decoder{b: body}
	if string(d.take(4)) != magic {
		return nil, corrupt("bad magic")
	}
	version := d.u32()
	if version < 1 || version > formatVersion {
		return nil, corrupt("unsupported version %d", version)
	}
	cfg := Config{M: int(d.u32()), M0: int(d.u32()), EfConstruct: int(d.u32())}
	cfg.LevelMult = math.Float64frombits(d.u64())
	cfg.Seed = d.u64()
	if cfg.M == 0 || cfg.M0 == 0 || cfg.EfConstruct == 0 {
		return nil, corrupt("zero parameter")
	}
	cfg, err := (&cfg).withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	slots := d.u32()
	ep, top := d.u32(), d.u32()
	if slots >= noID || int(slots) > len(body) {
		return nil, corrupt("%d slots in %d bytes", slots, len(body))
	}
	states := d.take(int(slots))
	if d.err != nil {
		return nil, d.err
	}

	g := newGraph(vecs, cfg)
	nchunks := (int(slots) + chunkSize - 1) / chunkSize
	chunks := make([]chunk, nchunks)
	links0 := make([]uint32, nchunks*chunkSize*g.stride0)
	nodes := make([]node, nchunks*chunkSize)
	dir := make([]*chunk, nchunks)
	for i := range chunks {
		chunks[i].links0 = links0[i*chunkSize*g.stride0 : (i+1)*chunkSize*g.stride0]
		chunks[i].nodes = nodes[i*chunkSize : (i+1)*chunkSize]
		dir[i] = &chunks[i]
	}

	var live, dead int64
	var upperWords int
	maxSeen := int32(-1)
	for id, st := range states {
		switch uint32(st) {
		case stateAbsent:
			continue
		case stateLive:
			live++
		case stateTombstone:
			dead++
		default:
			return nil, corrupt("node %d: bad state %d", id, st)
		}
		lv := d.take(1)
		if lv == nil {
			return nil, d.err
		}
		if lv[0] > maxLevel {
			return nil, corrupt("node %d: level %d", id, lv[0])
		}
		nodes[id].state.Store(uint32(st))
		nodes[id].level = int32(lv[0])
		upperWords += int(lv[0]) * g.strideU
		maxSeen = max(maxSeen, int32(lv[0]))
	}
	if upperWords > 8*len(body) {
		return nil, corrupt("upper levels larger than the input")
	}
	upper := make([]uint32, upperWords)
	for id := range states {
		if n := &nodes[id]; states[id] != 0 && n.level > 0 {
			w := int(n.level) * g.strideU
			n.upper = upper[:w:w]
			upper = upper[w:]
		}
	}
	g.dir.Store(&dir)

	for id := range states {
		if states[id] == 0 {
			continue
		}
		for l := 0; l <= int(nodes[id].level); l++ {
			c := int(d.u16())
			if d.err != nil {
				return nil, d.err
			}
			if c > g.maxLinks(l) {
				return nil, corrupt("node %d level %d: %d links, at most %d", id, l, c, g.maxLinks(l))
			}
			list := g.links(uint32(id), l)
			list[0] = uint32(c)
			for i := 1; i <= c; i++ {
				x := d.u32()
				if d.err != nil {
					return nil, d.err
				}
				if x >= slots || states[x] == 0 || int(nodes[x].level) < l || x == uint32(id) {
					return nil, corrupt("node %d level %d: bad link to %d", id, l, x)
				}
				list[i] = x
			}
		}
	}
	if version >= 2 {
		b, err := decodeBlockLinks(d, states)
		if err != nil {
			return nil, err
		}
		b.sorted = version >= 3
		g.blocks.Store(b)
	}
	if d.off != len(body) {
		return nil, corrupt("%d trailing bytes", len(body)-d.off)
	}
	if live+dead == 0 {
		if ep != noID {
			return nil, corrupt("entry point %d in an empty graph", ep)
		}
	} else {
		if ep >= slots || states[ep] == 0 || nodes[ep].level != int32(top) || int32(top) != maxSeen {
			return nil, corrupt("bad entry point %d at level %d", ep, top)
		}
		g.ep.Store(packEP(ep, int32(top)))
	}
	g.live.Store(live)
	g.tombstones.Store(dead)
	g.upperWords.Store(int64(upperWords))
	return g, nil
}

// blocksVersion returns the version a graph with block links b is written
// as, in either layout: 1 without block links, 3 with sorted ones, 2 with
// block links in the order of a build before they were sorted.
func blocksVersion(b *blockLinks) uint32 {
	switch {
	case b == nil:
		return 1
	case b.sorted:
		return 3
	}
	return 2
}

// decodeBlockLinks reads the block links section of a graph whose node
// states are states.
func decodeBlockLinks(d *decoder, states []byte) (*blockLinks, error) {
	nodes := d.u32()
	if d.err != nil {
		return nil, d.err
	}
	if nodes > uint32(len(states)) {
		return nil, corrupt("block links of %d nodes in a graph of %d slots", nodes, len(states))
	}
	b := &blockLinks{off: make([]uint32, nodes+1)}
	total := uint64(0)
	for id := range nodes {
		c := d.u32()
		total += uint64(c)
		if c > 0 && states[id] == 0 {
			return nil, corrupt("absent node %d has %d block links", id, c)
		}
		if total > uint64(len(d.b)) {
			return nil, corrupt("block links larger than the input")
		}
		b.off[id+1] = uint32(total)
	}
	if d.err != nil {
		return nil, d.err
	}
	b.ids = make([]uint32, total)
	for id := range nodes {
		for i := b.off[id]; i < b.off[id+1]; i++ {
			x := d.u32()
			if d.err != nil {
				return nil, d.err
			}
			if x >= uint32(len(states)) || states[x] == 0 || x == id {
				return nil, corrupt("node %d: bad block link to %d", id, x)
			}
			b.ids[i] = x
		}
	}
	return b, nil
}
