package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// collection is one open collection.
type collection struct {
	db   *DB
	name string
	cid  uint32

	// hw counts what the collection's operations cost (HardwareUsage).
	hw hardwareCounters

	// wmu serialises writes and changes of the segment list and manifest:
	// every Pebble batch of the collection is built and committed under it.
	wmu sync.Mutex
	// Guarded by wmu:
	op       uint64                         // last operation id
	fields   map[string]payload.IndexParams // field index definitions
	manifest manifest                       // the persisted sealed segments
	deleted  bool                           // dropped by DeleteCollection

	// cfg is the configuration; replaced (under wmu) by updateConfig.
	cfg atomic.Pointer[CollectionConfig]

	// rw makes each write batch atomic to readers: readers hold it shared
	// while they look at segments, writers hold it exclusively while they
	// apply a committed batch to the segments and when the segment list
	// changes. It is never held while waiting for I/O.
	rw   sync.RWMutex
	segs []*segRef // guarded by rw: sealed and frozen first, appendable last
	// retiring holds, while a write is between its commit and its apply,
	// the payloads of the versions it replaces (payloads.go).
	retiring retiring
	// afterCommit, when set (tests), runs between a write's commit and its
	// apply.
	afterCommit func()

	lastWrite atomic.Int64 // unix nanos of the last applied write

	// queued counts the writes waiting for wmu: the collection's update
	// queue, as Qdrant's update_queue.length reports it.
	queued atomic.Int64
	// lastOp mirrors op for readers that must not wait for wmu.
	lastOp atomic.Uint64
	// opt counts the optimizer's jobs.
	opt optStats
	// sealing is set while a seal or rebuild commits its segment, maps its
	// files and returns the memory they free: the collection is not green
	// before that memory is gone.
	sealing atomic.Bool

	// strict is the decoded strict mode with its rate limiters, rebuilt
	// (under strictMu) when the config's strict mode changes.
	strictMu sync.Mutex
	strict   atomic.Pointer[strictState]
	// strictUpdated is set once strict mode was changed by an update.
	strictUpdated atomic.Bool
	// firstWrite is set until the first write passes the write rate limit
	// of the config the collection was created (or loaded) with.
	firstWrite atomic.Bool
	// probe is set while a Health probe waits for wmu.
	probe atomic.Bool
	// loadedVectorRecords counts the vector records Open read (tests).
	loadedVectorRecords atomic.Int64
}

// lockWrite takes wmu for a write, counted in queued while it waits.
func (c *collection) lockWrite() {
	c.queued.Add(1)
	c.wmu.Lock()
	c.queued.Add(-1)
}

// segRef is a segment in a collection's list.
type segRef struct {
	id  uint32
	seg *segment.Segment
	// persisted is set once the segment is in the manifest: from then on a
	// write that masks one of its slots stores the slot's vectors as a ghost.
	persisted atomic.Bool
	// maps are the segment files whose data the segment reads in place.
	// They are released when the segment leaves the segment list (under rw
	// held exclusively, so no reader holds it), or by the garbage
	// collector's cleanup of the segment when the collection goes away.
	maps []*fileMap
	// files are the segment files the manifest names for the segment, set
	// when it commits (or at load).
	files atomic.Pointer[[]fileInfo]
	// quantCfg holds, by vector index, the quantization config the
	// segment's quantised vectors were trained for (engine/quant.go).
	quantCfg atomic.Pointer[map[int]string]
}

// hasVectorFile reports whether the vector name of that index (among the
// sorted names) has a vectors file in the manifest.
func (ref *segRef) hasVectorFile(index int) bool {
	p := ref.files.Load()
	return p != nil && slices.ContainsFunc(*p, func(f fileInfo) bool { return f.kind == fileVectors && f.index == uint32(index) })
}

// useMaps makes ref own maps: they are released with it.
func (ref *segRef) useMaps(maps []*fileMap) {
	if len(maps) == 0 {
		return
	}
	ref.maps = append(ref.maps, maps...)
	for _, m := range maps {
		runtime.AddCleanup(ref.seg, func(m *fileMap) { m.release() }, m)
	}
}

// release unmaps the segment's files. The caller holds rw exclusively and
// has removed ref from the segment list, so no reader can reach its rows.
func (ref *segRef) release() {
	for _, m := range ref.maps {
		m.release()
	}
}

// manifest is the decoded manifest (FORMAT.md).
type manifest struct {
	nextSeg uint32
	segs    []manifestSeg
}

type manifestSeg struct {
	id    uint32
	slots uint32
	parts []partInfo
	files []fileInfo // segment files (manifest version 2)
}

type partInfo struct {
	part   byte
	length uint64
	crc    uint32
}

func newCollection(db *DB, name string, cid uint32, cfg CollectionConfig) (*collection, error) {
	c := &collection{db: db, name: name, cid: cid, fields: map[string]payload.IndexParams{}}
	c.cfg.Store(&cfg)
	c.firstWrite.Store(true)
	app, err := c.newAppendable()
	if err != nil {
		return nil, err
	}
	c.segs = []*segRef{app}
	return c, nil
}

func (c *collection) config() *CollectionConfig { return c.cfg.Load() }

// vectorNames returns the configured vector names, sorted.
func (c *collection) vectorNames() []string {
	cfg := c.config()
	names := make([]string, 0, len(cfg.Params.Vectors))
	for n := range cfg.Params.Vectors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// specs returns the segment vector specs of the configuration.
func (c *collection) specs() []segment.VectorSpec {
	cfg := c.config()
	var specs []segment.VectorSpec
	for _, name := range c.vectorNames() {
		vp := cfg.Params.Vectors[name]
		h := cfg.VectorHNSW(name)
		dim := int(vp.Size)
		specs = append(specs, segment.VectorSpec{
			Name:              name,
			Dim:               dim,
			Metric:            vp.Distance,
			HNSW:              hnsw.Config{M: h.M, EfConstruct: h.EfConstruct},
			PayloadM:          h.EffectivePayloadM(),
			FullScanThreshold: max(1, kbToBytes(h.FullScanThreshold)/(4*dim)),
			Multi:             vp.IsMulti(),
			Datatype:          vp.SegmentDatatype(),
			// A vector with m = 0 is for re-scoring only: no graph, as
			// in Qdrant.
			NoGraph: h.M == 0,
		})
	}
	return specs
}

// segmentDatatype returns the datatype of the segment rows of the dense
// vector name (float32 for a name the collection does not have).
func (c *collection) segmentDatatype(name string) segment.Datatype {
	return c.config().Params.Vectors[name].SegmentDatatype()
}

// sparseNames returns the names of the sparse vectors, sorted.
func (c *collection) sparseNames() []string {
	return slices.Sorted(maps.Keys(c.config().Params.SparseVectors))
}

// segOptions returns the options of a segment of the given capacity.
func (c *collection) segOptions(capacity int) *segment.Options {
	cfg := c.config()
	o := &segment.Options{Vectors: c.specs(), Capacity: capacity, Payloads: c.payloadSource()}
	for _, name := range c.sparseNames() {
		spec := segment.SparseSpec{Name: name}
		if ix := cfg.Params.SparseVectors[name].Index; ix != nil && ix.FullScanThreshold != nil {
			spec.FullScanThreshold = int(min(*ix.FullScanThreshold, math.MaxInt32))
		}
		o.Sparse = append(o.Sparse, spec)
	}
	return o
}

// pointBytes is the vector storage of one point: the sum of its vectors,
// at their datatype's bytes a dimension (as Qdrant sizes segments).
func (c *collection) pointBytes() int {
	n := 0
	for _, vp := range c.config().Params.Vectors {
		n += vp.elementType().Size() * int(vp.Size)
	}
	return max(n, 4)
}

// Segment capacity bounds (points).
const (
	minSegmentCapacity = 1024
	maxSegmentCapacity = 1 << 22
)

// segmentCapacity is the number of points an appendable segment holds.
func (c *collection) segmentCapacity() int {
	n := kbToBytes(c.config().MaxSegmentSizeKB()) / c.pointBytes()
	return min(max(n, minSegmentCapacity), maxSegmentCapacity)
}

// indexingThreshold is the number of points from which an appendable
// segment gets a graph; 0 means never.
func (c *collection) indexingThreshold() int {
	kb := c.config().IndexingThresholdKB()
	if kb <= 0 {
		return 0
	}
	return max(1, kbToBytes(kb)/c.pointBytes())
}

// kbToBytes converts a size in KB from a configuration to bytes, saturating
// instead of overflowing: Qdrant accepts any unsigned 64-bit size, and a
// size this large means "no limit" to every caller.
func kbToBytes(kb int) int {
	if kb > math.MaxInt/1024 {
		return math.MaxInt
	}
	return max(kb, 0) * 1024
}

// newAppendable returns a new appendable segment with the collection's field
// indexes and the next segment id. The caller holds wmu (or owns the
// collection exclusively).
func (c *collection) newAppendable() (*segRef, error) {
	ref, err := c.newAppendableFor(c.manifest.nextSeg)
	if err != nil {
		return nil, err
	}
	c.manifest.nextSeg++
	return ref, nil
}

// appendable returns the appendable segment. The caller holds rw.
func (c *collection) appendable() *segRef { return c.segs[len(c.segs)-1] }

// locate finds the live slot of id. The caller holds rw (or wmu, which
// keeps the answer stable).
func (c *collection) locate(id filter.PointID) (*segRef, uint32, bool) {
	for i := len(c.segs) - 1; i >= 0; i-- {
		if off, ok := c.segs[i].seg.Lookup(id); ok {
			return c.segs[i], off, true
		}
	}
	return nil, 0, false
}

// markDeleted records that the collection was dropped: later writes fail.
func (c *collection) markDeleted() {
	c.wmu.Lock()
	c.deleted = true
	c.wmu.Unlock()
}

// close persists every unpersisted segment whose graph is complete (the
// appendable one too, frozen first), so that the next Open loads these graphs
// instead of building them again. The optimizer has stopped.
func (c *collection) close() error {
	c.wmu.Lock()
	deleted := c.deleted
	c.wmu.Unlock()
	thr := c.indexingThreshold()
	if deleted || thr == 0 {
		return nil
	}
	segs := c.snapshotSegs()
	app := segs[len(segs)-1]
	var errs []error
	for _, ref := range segs {
		if ref.persisted.Load() || ref.seg.Len() < thr || ref.seg.Indexed() < ref.seg.Len() {
			continue
		}
		if ref == app && !c.freeze(app, false) {
			continue
		}
		errs = append(errs, c.persist(context.Background(), ref))
	}
	return errors.Join(errs...)
}

// updateConfig applies a parameter change and stores it. Changes apply to
// segments created from then on (graph parameters to the next index build).
func (c *collection) updateConfig(u *UpdateCollection) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.deleted {
		return fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, c.name)
	}
	next, err := c.config().Apply(u)
	if err != nil {
		return err
	}
	if err := next.Validate(); err != nil {
		return err
	}
	rec, err := encodeCollectionRecord(c.cid, next)
	if err != nil {
		return err
	}
	if err := c.db.set(collectionKey(c.name), rec, true); err != nil {
		return err
	}
	c.cfg.Store(&next)
	if cfgRaw(u.StrictMode) != nil {
		// A strict mode update starts the rate limiters afresh, as in
		// Qdrant.
		c.strictUpdated.Store(true)
		c.strict.Store(nil)
		c.firstWrite.Store(false)
	}
	c.db.kick()
	return nil
}

// Manifest codec (FORMAT.md).

func encodeManifest(m *manifest) []byte {
	// Version 1 unless a segment has files, so that a store without
	// segment files stays readable by builds that predate them.
	version := byte(1)
	for _, s := range m.segs {
		if len(s.files) > 0 {
			version = 2
		}
	}
	b := []byte{version}
	b = binary.LittleEndian.AppendUint32(b, m.nextSeg)
	b = binary.AppendUvarint(b, uint64(len(m.segs)))
	for _, s := range m.segs {
		b = binary.LittleEndian.AppendUint32(b, s.id)
		b = binary.LittleEndian.AppendUint32(b, s.slots)
		b = binary.AppendUvarint(b, uint64(len(s.parts)))
		for _, p := range s.parts {
			b = append(b, p.part)
			b = binary.LittleEndian.AppendUint64(b, p.length)
			b = binary.LittleEndian.AppendUint32(b, p.crc)
		}
		if version >= 2 {
			b = binary.AppendUvarint(b, uint64(len(s.files)))
			for _, f := range s.files {
				b = append(b, f.kind)
				b = binary.AppendUvarint(b, uint64(f.index))
				b = binary.LittleEndian.AppendUint64(b, f.length)
				b = binary.LittleEndian.AppendUint32(b, f.crc)
			}
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc(b))
}

func decodeManifest(b []byte) (manifest, error) {
	var m manifest
	body, err := checked(b, "manifest")
	if err != nil {
		return m, err
	}
	bad := func(what string) (manifest, error) {
		return manifest{}, fmt.Errorf("%w: manifest: %s", ErrCorrupt, what)
	}
	if len(body) < 5 || (body[0] != 1 && body[0] != 2) {
		return bad("unknown version")
	}
	version := body[0]
	m.nextSeg = binary.LittleEndian.Uint32(body[1:])
	body = body[5:]
	n, k := binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)) {
		return bad("count")
	}
	body = body[k:]
	for range n {
		if len(body) < 8 {
			return bad("truncated")
		}
		s := manifestSeg{id: binary.LittleEndian.Uint32(body), slots: binary.LittleEndian.Uint32(body[4:])}
		body = body[8:]
		np, k := binary.Uvarint(body)
		if k <= 0 || np > uint64(len(body)) {
			return bad("part count")
		}
		body = body[k:]
		for range np {
			if len(body) < 13 {
				return bad("truncated part")
			}
			s.parts = append(s.parts, partInfo{
				part:   body[0],
				length: binary.LittleEndian.Uint64(body[1:]),
				crc:    binary.LittleEndian.Uint32(body[9:]),
			})
			body = body[13:]
		}
		if version >= 2 {
			nf, k := binary.Uvarint(body)
			if k <= 0 || nf > uint64(len(body)) {
				return bad("file count")
			}
			body = body[k:]
			for range nf {
				if len(body) < 1 {
					return bad("truncated file")
				}
				f := fileInfo{kind: body[0]}
				idx, k := binary.Uvarint(body[1:])
				if k <= 0 || idx > math.MaxUint32 || len(body) < 1+k+12 {
					return bad("truncated file")
				}
				f.index = uint32(idx)
				body = body[1+k:]
				f.length = binary.LittleEndian.Uint64(body)
				f.crc = binary.LittleEndian.Uint32(body[8:])
				body = body[12:]
				s.files = append(s.files, f)
			}
		}
		m.segs = append(m.segs, s)
	}
	if len(body) != 0 {
		return bad("trailing bytes")
	}
	return m, nil
}

// touch records a write for the optimizer's idle detection.
func (c *collection) touch() { c.lastWrite.Store(time.Now().UnixNano()) }

// idleFor reports how long the collection has gone without writes.
func (c *collection) idleFor() time.Duration {
	return time.Duration(time.Now().UnixNano() - c.lastWrite.Load())
}
