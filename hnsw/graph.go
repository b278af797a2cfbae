package hnsw

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Vectors gives the graph access to the vectors it indexes. The owner stores
// the vectors; the graph never modifies or retains what it is given.
type Vectors interface {
	// Vector returns the stored vector of id. Insert calls it once per
	// inserted node and the pruning step once per node whose links change.
	Vector(id uint32) []float32
	// Distances writes into dst[i] the distance between q and the stored
	// vector ids[i]; lower is closer. len(dst) == len(ids).
	Distances(q []float32, ids []uint32, dst []float32)
}

// NonMetric is implemented by a Vectors whose distance is not a metric and
// says so: an inner product, under which a node can be nearer to another
// than to itself. The neighbour heuristic (selectNeighbours) assumes a
// metric; under an inner product it prunes nearly every candidate in
// favour of the few nodes of largest norm, which are near to everything
// (on Fashion-MNIST's raw pixels, 2 level-0 links a node on average and
// recall 0.69 at ef 256). A graph over a NonMetric Vectors fills a node's
// lists up to M (M0 on level 0) with the nearest candidates the heuristic
// pruned: there, 17 links a node and recall 0.96 at ef 128 with fewer
// distances than before at ef 256.
type NonMetric interface {
	NonMetric() bool
}

// nonMetric reports whether vecs says its distance is not a metric.
func nonMetric(vecs Vectors) bool {
	nm, ok := vecs.(NonMetric)
	return ok && nm.NonMetric()
}

// Config holds the graph parameters. The zero value of each field selects its
// default.
type Config struct {
	// M is the number of links a node keeps on levels above 0, and the number
	// a new node is given on every level. Default 16; at least 2, at most 1024.
	M int
	// M0 is the number of links a node keeps on level 0. Default 2*M.
	M0 int
	// EfConstruct is the size of the candidate list while inserting.
	// Default 100; raised to M when smaller; at most 65536.
	EfConstruct int
	// LevelMult scales the random level of a node: level =
	// floor(-ln(U) * LevelMult). Default 1/ln(M).
	LevelMult float64
	// Seed makes the level of every node, and so the graph, reproducible:
	// a node's level is a pure function of Seed and its id.
	Seed uint64
}

const maxLevel = 31

func (c *Config) withDefaults() (Config, error) {
	var o Config
	if c != nil {
		o = *c
	}
	if o.M == 0 {
		o.M = 16
	}
	if o.M < 2 || o.M > 1024 {
		return o, fmt.Errorf("hnsw: M must be in [2, 1024], got %d", o.M)
	}
	if o.M0 == 0 {
		o.M0 = 2 * o.M
	}
	if o.M0 < o.M || o.M0 > 4096 {
		return o, fmt.Errorf("hnsw: M0 must be in [M, 4096], got %d", o.M0)
	}
	if o.EfConstruct == 0 {
		o.EfConstruct = 100
	}
	if o.EfConstruct < 0 || o.EfConstruct > 1<<16 {
		return o, fmt.Errorf("hnsw: EfConstruct must be in [1, 65536], got %d", o.EfConstruct)
	}
	o.EfConstruct = max(o.EfConstruct, o.M)
	if o.LevelMult == 0 {
		o.LevelMult = 1 / math.Log(float64(o.M))
	}
	if !(o.LevelMult > 0) || math.IsInf(o.LevelMult, 0) {
		return o, fmt.Errorf("hnsw: LevelMult must be positive and finite, got %v", o.LevelMult)
	}
	return o, nil
}

// Errors returned by the graph.
var (
	// ErrExists is returned by Insert for an id that is already a live node.
	ErrExists = errors.New("hnsw: node already exists")
	// ErrNotFound is returned by Delete for an id that is not a live node.
	ErrNotFound = errors.New("hnsw: node not found")
	// ErrInvalidID is returned for the one id the graph reserves.
	ErrInvalidID = errors.New("hnsw: invalid node id")
	// ErrCorrupt wraps every decoding error of a serialised graph.
	ErrCorrupt = errors.New("hnsw: corrupt graph data")
	// ErrReadOnly is returned by Insert, Repair and Build on a graph opened
	// in place (OpenInPlace).
	ErrReadOnly = errors.New("hnsw: graph is read-only")
)

// Result is a node and its distance to the query.
type Result struct {
	ID       uint32
	Distance float32
}

// Node states.
const (
	stateAbsent uint32 = iota
	stateLive
	stateTombstone
)

const (
	chunkBits = 10
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
	// noID marks "no node" in the packed entry point and is the id Insert
	// refuses.
	noID = math.MaxUint32
)

// node is the per-node metadata. level and upper are written before the node
// is first published (linked from another node or made the entry point) and
// never change while the node is present.
type node struct {
	// mu serialises changes to this node's link lists and state.
	mu    sync.Mutex
	state atomic.Uint32
	level int32
	// upper holds the link lists of levels 1..level, each strideU words:
	// a count, then up to M ids.
	upper []uint32
}

// chunk holds chunkSize consecutive nodes.
type chunk struct {
	// links0 holds the level-0 link lists, stride0 words per node: a count,
	// then up to M0 ids. Words are read and written atomically.
	links0 []uint32
	nodes  []node
}

// Graph is an HNSW graph. It is safe for concurrent use.
type Graph struct {
	cfg     Config
	vecs    Vectors
	stride0 int
	strideU int
	// fill keeps link lists full under a distance that is not a metric
	// (NonMetric).
	fill bool

	// dir is the chunk directory; it only grows, by copy-on-write under growMu.
	dir    atomic.Pointer[[]*chunk]
	growMu sync.Mutex

	// ep packs the entry point: id in the low 32 bits, level in bits 32-39,
	// bit 63 set when there is none. Changed under epMu.
	ep   atomic.Uint64
	epMu sync.Mutex

	// structMu is held shared by Insert and Delete and exclusively by Repair.
	structMu sync.RWMutex

	live       atomic.Int64
	tombstones atomic.Int64
	upperWords atomic.Int64

	pool sync.Pool // *searcher

	// blocks are the block links (BuildBlockLinks), nil when there are
	// none. Replaced whole, never changed in place.
	blocks atomic.Pointer[blockLinks]

	// ro is the read-only storage of a graph opened with OpenInPlace: the
	// chunks' links0 alias it and have no nodes. Nil for a graph in RAM.
	ro *inPlace
}

const epNone = uint64(1) << 63

func packEP(id uint32, level int32) uint64 { return uint64(id) | uint64(level)<<32 }
func unpackEP(w uint64) (uint32, int32, bool) {
	if w&epNone != 0 {
		return 0, 0, false
	}
	return uint32(w), int32(w >> 32 & 0xff), true
}

// New returns an empty graph over vecs.
func New(vecs Vectors, cfg *Config) (*Graph, error) {
	if vecs == nil {
		return nil, errors.New("hnsw: nil Vectors")
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newGraph(vecs, c), nil
}

func newGraph(vecs Vectors, c Config) *Graph {
	g := &Graph{cfg: c, vecs: vecs, stride0: c.M0 + 1, strideU: c.M + 1, fill: nonMetric(vecs)}
	empty := []*chunk{}
	g.dir.Store(&empty)
	g.ep.Store(epNone)
	return g
}

// Config returns the graph's parameters with defaults filled in.
func (g *Graph) Config() Config { return g.cfg }

// Len returns the number of live nodes.
func (g *Graph) Len() int { return int(g.live.Load()) }

// Tombstones returns the number of deleted nodes still in the graph.
func (g *Graph) Tombstones() int { return int(g.tombstones.Load()) }

// Contains reports whether id is a live node.
func (g *Graph) Contains(id uint32) bool {
	if g.ro != nil {
		return g.ro.state(id) == stateLive
	}
	n := g.nodeIfAny(id)
	return n != nil && n.state.Load() == stateLive
}

// MemoryBytes returns the bytes of the Go heap held by the graph structure:
// link lists and node metadata, not vectors. The bytes a graph opened in
// place reads from its caller's buffer are not counted (see InPlaceBytes).
func (g *Graph) MemoryBytes() int64 {
	dir := *g.dir.Load()
	if g.ro != nil {
		return int64(len(dir))*(8+int64(unsafe.Sizeof(chunk{}))) + g.ro.copied
	}
	per := int64(g.stride0)*4 + int64(unsafe.Sizeof(node{}))
	var blocks int64
	if b := g.blocks.Load(); b != nil {
		blocks = 4 * int64(len(b.off)+len(b.ids))
	}
	return int64(len(dir))*chunkSize*per + g.upperWords.Load()*4 + int64(len(dir))*8 + blocks
}

// capacity is the number of node slots allocated.
func (g *Graph) capacity() int { return len(*g.dir.Load()) * chunkSize }

// ensure allocates storage for ids up to and including id.
func (g *Graph) ensure(id uint32) {
	c := int(id >> chunkBits)
	if c < len(*g.dir.Load()) {
		return
	}
	g.growMu.Lock()
	defer g.growMu.Unlock()
	old := *g.dir.Load()
	if c < len(old) {
		return
	}
	n := max(c+1, len(old)+len(old)/4)
	dir := make([]*chunk, n)
	copy(dir, old)
	for i := len(old); i < n; i++ {
		dir[i] = &chunk{
			links0: make([]uint32, chunkSize*g.stride0),
			nodes:  make([]node, chunkSize),
		}
	}
	g.dir.Store(&dir)
}

// chunkOf returns the chunk holding id, which must have been allocated.
func (g *Graph) chunkOf(id uint32) *chunk {
	dir := *g.dir.Load()
	c := int(id >> chunkBits)
	if c >= len(dir) {
		panic(fmt.Sprintf("hnsw: BUG: node %d outside the graph (capacity %d)", id, len(dir)*chunkSize))
	}
	return dir[c]
}

func (g *Graph) node(id uint32) *node { return &g.chunkOf(id).nodes[id&chunkMask] }

// state returns the state of id, which must be below the capacity.
func (g *Graph) state(id uint32) uint32 {
	if g.ro != nil {
		return g.ro.state(id)
	}
	return g.node(id).state.Load()
}

// level returns the top level of a present node id.
func (g *Graph) level(id uint32) int32 {
	if g.ro != nil {
		return g.ro.level(id, g.strideU)
	}
	return g.node(id).level
}

func (g *Graph) nodeIfAny(id uint32) *node {
	dir := *g.dir.Load()
	c := int(id >> chunkBits)
	if c >= len(dir) {
		return nil
	}
	return &dir[c].nodes[id&chunkMask]
}

// links returns the link list of id on level l: word 0 is the count, the ids
// follow. The node must be present at level l.
func (g *Graph) links(id uint32, l int) []uint32 {
	c := g.chunkOf(id)
	if l == 0 {
		off := int(id&chunkMask) * g.stride0
		return c.links0[off : off+g.stride0 : off+g.stride0]
	}
	if g.ro != nil {
		return g.ro.upperList(id, l, g.strideU)
	}
	n := &c.nodes[id&chunkMask]
	off := (l - 1) * g.strideU
	return n.upper[off : off+g.strideU : off+g.strideU]
}

func (g *Graph) maxLinks(l int) int {
	if l == 0 {
		return g.cfg.M0
	}
	return g.cfg.M
}

// linkCount reads the count word of a list, clamped to its capacity.
func linkCount(list []uint32) int {
	return min(int(atomic.LoadUint32(&list[0])), len(list)-1)
}

// storeLinks replaces a list's ids. The caller holds the node's lock.
func storeLinks(list []uint32, ids []uint32) {
	for i, id := range ids {
		atomic.StoreUint32(&list[i+1], id)
	}
	atomic.StoreUint32(&list[0], uint32(len(ids)))
}

// levelFor returns the level of id: a pure function of the seed and the id.
func (g *Graph) levelFor(id uint32) int32 {
	x := splitmix64(g.cfg.Seed ^ (uint64(id)+1)*0x9E3779B97F4A7C15)
	// Uniform in (0, 1].
	u := (float64(x>>11) + 1) / (1 << 53)
	l := math.Floor(-math.Log(u) * g.cfg.LevelMult)
	if l > maxLevel {
		return maxLevel
	}
	return int32(l)
}

func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// searcher is the pooled scratch of one search or insert.
type searcher struct {
	// vecs scores candidates: the graph's Vectors, or those a SearchVia
	// call gives.
	vecs  Vectors
	vis   visitedSet
	memo  distMemo // distances of the descent through the upper levels
	cand  minHeap
	res   maxHeap
	ids   []uint32
	dists []float32
	items []item
	sel   []uint32
	nbrs  []uint32
	// picked and ends hold an insert's chosen neighbours, level by level.
	picked []uint32
	ends   []int
	// frontier holds the rejected nodes a two-hop search met, in the
	// order met; those from head on are yet to be walked through.
	frontier []uint32
	head     int
	one      [1]uint32
	oned     [1]float32
	sink     uint32 // keeps touch loads from being optimised away
	// scored counts the distances a search computed.
	scored int
}

func (g *Graph) getSearcher() *searcher {
	s, _ := g.pool.Get().(*searcher)
	if s == nil {
		n := g.cfg.M0 + 1
		s = &searcher{
			ids:   make([]uint32, 0, n),
			dists: make([]float32, n),
			items: make([]item, 0, n), // grows to ef on the first insert
			sel:   make([]uint32, 0, n),
			nbrs:  make([]uint32, 0, n),
		}
	}
	s.vis.reset(g.capacity())
	s.vecs = g.vecs
	s.scored = 0
	s.cand = s.cand[:0]
	s.res = s.res[:0]
	return s
}

func (g *Graph) putSearcher(s *searcher) {
	s.vecs = nil
	g.pool.Put(s)
}

// dist returns the distance between q and one stored vector.
func (g *Graph) dist(s *searcher, q []float32, id uint32) float32 {
	s.one[0] = id
	s.vecs.Distances(q, s.one[:], s.oned[:])
	return s.oned[0]
}

// workers normalises a worker count.
func workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}
