package hnsw

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Block links: level-0 links a graph gains from blocks of nodes that a
// filter is likely to select together (the points holding one payload
// value, or a range of values). Each block gets a small graph of its own,
// built over its nodes only, and the level-0 links of that graph are kept
// beside the graph's own lists. A filtered search that walks only accepted
// nodes (SearchFiltered below TwoHopSelectivity) follows them too, so that
// the nodes of a block stay connected among themselves however few of the
// graph's own links stay inside the block. Unfiltered searches never read
// them.

// blockLinks holds the block links of nodes 0..len(off)-2 in CSR form:
// those of node id are ids[off[id]:off[id+1]]. It never changes once
// published; a graph replaces it whole. Sorted block links are nearest to
// their node first, and a search takes only the nearest (see
// searchLayerTwoHop); those of graphs written before they were sorted are
// in their build's order, and a search takes them all.
type blockLinks struct {
	off    []uint32
	ids    []uint32
	sorted bool
}

// of returns the block links of id (nil when it has none).
func (b *blockLinks) of(id uint32) []uint32 {
	if b == nil || int(id)+1 >= len(b.off) {
		return nil
	}
	return b.ids[b.off[id]:b.off[id+1]]
}

// HasBlockLinks reports whether the graph holds block links.
func (g *Graph) HasBlockLinks() bool { return g.blocks.Load() != nil }

// BlockLinks returns the number of block links the graph holds.
func (g *Graph) BlockLinks() int {
	b := g.blocks.Load()
	if b == nil {
		return 0
	}
	return len(b.ids)
}

// AverageDegree0 returns the mean number of level-0 links of the live
// nodes (block links not counted).
func (g *Graph) AverageDegree0() float64 {
	var nodes, links int64
	for id := uint32(0); id < uint32(g.capacity()); id++ {
		if g.state(id) == stateLive {
			nodes++
			links += int64(linkCount(g.links(id, 0)))
		}
	}
	if nodes == 0 {
		return 0
	}
	return float64(links) / float64(nodes)
}

// BuildBlockLinks replaces the graph's block links by those of blocks:
// for each block, a graph with M = m (M0 = 2m) and the graph's EfConstruct
// is built over the block's live nodes on the given number of goroutines,
// and its level-0 links that the node's own level-0 list lacks are kept,
// nearest to the node first. A block of fewer than two live nodes adds
// nothing; m <= 0 removes the block links. The graph takes searches
// meanwhile, not inserts.
func (g *Graph) BuildBlockLinks(blocks [][]uint32, m, workers int) error {
	if g.ro != nil {
		return ErrReadOnly
	}
	if m <= 0 {
		g.blocks.Store(nil)
		return nil
	}
	cfg, err := (&Config{M: m, EfConstruct: g.cfg.EfConstruct}).withDefaults()
	if err != nil {
		return err
	}
	g.structMu.RLock()
	defer g.structMu.RUnlock()
	slots := uint32(g.capacity())
	lists := make([][]uint32, slots)
	var local []uint32
	for bi, block := range blocks {
		local = local[:0]
		for _, id := range block {
			if id < slots && g.state(id) == stateLive {
				local = append(local, id)
			}
		}
		if len(local) < 2 {
			continue
		}
		cfg.Seed = g.cfg.Seed ^ uint64(bi+1)*0x9E3779B97F4A7C15
		sub := newGraph(&remapped{vecs: g.vecs, ids: local}, cfg)
		seq := make([]uint32, len(local))
		for i := range seq {
			seq[i] = uint32(i)
		}
		if err := sub.Build(seq, workers); err != nil {
			return fmt.Errorf("hnsw: block %d: %w", bi, err)
		}
		for i, id := range local {
			own := g.links(id, 0)
			n := linkCount(own)
			sl := sub.links(uint32(i), 0)
		next:
			for j := 1; j <= linkCount(sl); j++ {
				x := local[sl[j]]
				for k := 1; k <= n; k++ {
					if atomic.LoadUint32(&own[k]) == x {
						continue next
					}
				}
				if !slices.Contains(lists[id], x) {
					lists[id] = append(lists[id], x)
				}
			}
		}
	}
	last := uint32(0)
	total := 0
	for id, l := range lists {
		if len(l) > 0 {
			last = uint32(id) + 1
			total += len(l)
		}
	}
	if total == 0 {
		g.blocks.Store(nil)
		return nil
	}
	b := &blockLinks{off: make([]uint32, last+1), ids: make([]uint32, 0, total), sorted: true}
	var items []item
	var dists []float32
	for id := range last {
		l := lists[id]
		if len(l) > 1 {
			// Nearest first: a search that takes only some of a node's
			// block links takes the nearest (about 1% of the build's
			// distances).
			dists = slices.Grow(dists[:0], len(l))[:len(l)]
			items = g.scoredFrom(items, dists, uint32(id), l)
			for i, it := range items {
				l[i] = it.id
			}
		}
		b.ids = append(b.ids, l...)
		b.off[id+1] = uint32(len(b.ids))
	}
	g.blocks.Store(b)
	return nil
}

// remapped presents the vectors of ids as those of nodes 0..len(ids)-1:
// the view a block's graph is built over.
type remapped struct {
	vecs Vectors
	ids  []uint32
	pool sync.Pool // *[]uint32
}

func (r *remapped) Vector(id uint32) []float32 { return r.vecs.Vector(r.ids[id]) }

func (r *remapped) NonMetric() bool { return nonMetric(r.vecs) }

func (r *remapped) Distances(q []float32, ids []uint32, dst []float32) {
	p, _ := r.pool.Get().(*[]uint32)
	if p == nil {
		p = new([]uint32)
	}
	g := (*p)[:0]
	for _, id := range ids {
		g = append(g, r.ids[id])
	}
	r.vecs.Distances(q, g, dst)
	*p = g
	r.pool.Put(p)
}

// checkBlockLinks checks that every block link joins two present nodes
// other than itself, with no duplicates.
func (g *Graph) checkBlockLinks() error {
	b := g.blocks.Load()
	if b == nil {
		return nil
	}
	capacity := uint32(g.capacity())
	for id := uint32(0); int(id)+1 < len(b.off); id++ {
		l := b.of(id)
		if len(l) > 0 && (id >= capacity || g.state(id) == stateAbsent) {
			return fmt.Errorf("hnsw: absent node %d has %d block links", id, len(l))
		}
		for i, x := range l {
			if x == id || x >= capacity || g.state(x) == stateAbsent || slices.Contains(l[:i], x) {
				return fmt.Errorf("hnsw: node %d: bad block link to %d", id, x)
			}
		}
	}
	return nil
}
