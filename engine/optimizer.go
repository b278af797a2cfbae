package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"runtime"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// The optimizer: one goroutine per DB, woken by writes and by a ticker. Each
// pass gives every collection one step of work, in this order: persist a
// frozen segment, extend the appendable segment's graph, seal the appendable
// segment, vacuum a sealed segment.

// kick wakes the optimizer.
func (db *DB) kick() {
	select {
	case db.optKick <- struct{}{}:
	default:
	}
}

func (db *DB) optimizeLoop() {
	defer close(db.optDone)
	t := time.NewTicker(db.opts.OptimizerInterval)
	defer t.Stop()
	for {
		select {
		case <-db.optCtx.Done():
			return
		case <-t.C:
		case <-db.optKick:
		}
		db.optMu.Lock()
		db.mu.RLock()
		colls := slices.Collect(maps.Values(db.colls))
		db.mu.RUnlock()
		for _, c := range colls {
			if db.optCtx.Err() != nil {
				break
			}
			if c.optimizerOff() {
				continue
			}
			// Errors leave the work to a later pass; the state stays valid.
			_, _ = c.optimizeStep(db.optCtx, false)
		}
		db.optMu.Unlock()
	}
}

// Optimize runs the optimizer on a collection until it has nothing left to
// do, sealing the appendable segment without waiting for SealDelay. When it
// returns, the collection is green (unless written to meanwhile).
func (db *DB) Optimize(ctx context.Context, coll string) (err error) {
	ctx, op := db.tel.start(ctx, opOptimize, coll)
	defer func() { op.end(err, -1) }()
	c, err := db.collection(coll)
	if err != nil {
		return err
	}
	db.optMu.Lock()
	defer db.optMu.Unlock()
	for {
		did, err := c.optimizeStep(ctx, true)
		if err != nil || !did {
			return err
		}
	}
}

// WaitGreen waits until the collection is green, checking every
// poll interval, or until ctx ends.
func (db *DB) WaitGreen(ctx context.Context, coll string, poll time.Duration) error {
	for {
		info, err := db.CollectionInfo(ctx, coll)
		if err != nil {
			return err
		}
		if info.Status == StatusGreen {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// optimizerOff reports whether the collection's background optimization
// is turned off: optimizer_config.max_optimization_threads 0, as in Qdrant.
// Optimize still runs.
func (c *collection) optimizerOff() bool {
	t := c.config().Optimizers.MaxOptimizationThreads
	return t != nil && *t == 0
}

// snapshotSegs returns a copy of the segment list.
func (c *collection) snapshotSegs() []*segRef {
	c.rw.RLock()
	defer c.rw.RUnlock()
	return slices.Clone(c.segs)
}

// vacuumable reports whether a sealed segment has enough deleted slots to
// be rebuilt.
func (c *collection) vacuumable(ref *segRef) bool {
	if !ref.persisted.Load() {
		return false
	}
	opt := c.config().Optimizers
	n := ref.seg.Len()
	del := n - ref.seg.Live()
	return n > 0 && del >= opt.VacuumMinVectorNumber && float64(del)/float64(n) > opt.DeletedThreshold
}

// graphsOutdated reports whether a segment's graphs no longer match the
// configuration: a vector whose hnsw m changed to or from 0 since the
// segment was made, or (in a sealed segment, once indexing is on) a graph
// that does not cover its vectors, as a graph persisted while the vector
// had none leaves it on reopen. Such a segment is rebuilt, as Qdrant's
// optimizer rebuilds segments whose configuration changed.
func (c *collection) graphsOutdated(ref *segRef, sealed bool) bool {
	want := map[string]bool{}
	for _, sp := range c.specs() {
		want[sp.Name] = sp.NoGraph
	}
	for _, sp := range ref.seg.Specs() {
		if want[sp.Name] != sp.NoGraph {
			return true
		}
	}
	if sealed && ref.persisted.Load() && (c.filesOutdated(ref) || c.graphFilesOutdated(ref)) {
		return true
	}
	return sealed && ref.persisted.Load() && c.indexingThreshold() > 0 && ref.seg.Indexed() < ref.seg.Len()
}

// filesOutdated reports whether a persisted segment's vector files do not
// match the configuration's on_disk: such a segment is rewritten (by the
// same rebuild as a vacuum), as Qdrant's optimizer rewrites segments whose
// storage configuration changed.
func (c *collection) filesOutdated(ref *segRef) bool {
	want := c.onDiskNames(ref)
	for i := range c.vectorNames() {
		if slices.Contains(want, i) != ref.hasVectorFile(i) {
			return true
		}
	}
	return c.quantOutdated(ref)
}

// pendingWork reports whether the optimizer has something to do.
func (c *collection) pendingWork() bool {
	if c.sealing.Load() {
		return true
	}
	segs := c.snapshotSegs()
	app := segs[len(segs)-1]
	for _, ref := range segs[:len(segs)-1] {
		if !ref.persisted.Load() || c.vacuumable(ref) || ref.seg.Live() == 0 || c.graphsOutdated(ref, true) {
			return true
		}
	}
	if c.mergeCandidates(segs) != nil {
		return true
	}
	if app.seg.Len() > 0 && c.graphsOutdated(app, false) {
		return true
	}
	thr := c.indexingThreshold()
	return thr > 0 && app.seg.Len() >= thr
}

// optimizeStep does one piece of optimizer work and reports whether it did
// any. force seals without waiting for the collection to be idle.
func (c *collection) optimizeStep(ctx context.Context, force bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	segs := c.snapshotSegs()
	app := segs[len(segs)-1]
	for _, ref := range segs[:len(segs)-1] {
		if !ref.persisted.Load() {
			return true, c.optimizing(func() error { return c.persist(ctx, ref) })
		}
	}
	if app.seg.Len() > 0 && c.graphsOutdated(app, false) {
		// The appendable segment was made for graph settings hnsw_config
		// has since changed (m to or from 0): it is sealed now, to be
		// rebuilt below, instead of growing under the old settings.
		if !c.freeze(app, true) {
			return true, nil
		}
		return true, c.optimizing(func() error { return c.persist(ctx, app) })
	}
	for _, ref := range segs[:len(segs)-1] {
		if c.graphsOutdated(ref, true) {
			return true, c.optimizing(func() error { return c.rebuild(ctx, []*segRef{ref}) })
		}
	}
	thr := c.indexingThreshold()
	if thr > 0 && app.seg.Len() >= thr {
		if app.seg.Indexed() < app.seg.Len() {
			return true, c.optimizing(func() error {
				jctx, j := c.db.tel.startJob(ctx, jobIndex, c.name, app.id)
				n, err := c.buildGraph(jctx, app.seg)
				if n > 0 {
					c.db.stats.graphBuilds.Add(1)
				}
				j.result(app.seg)
				j.end(err)
				return err
			})
		}
		if force || c.idleFor() >= c.db.opts.SealDelay {
			if !c.freeze(app, false) {
				return true, nil
			}
			return true, c.optimizing(func() error { return c.persist(ctx, app) })
		}
	}
	var empty []*segRef
	for _, ref := range segs[:len(segs)-1] {
		if ref.persisted.Load() && ref.seg.Live() == 0 {
			empty = append(empty, ref)
		}
	}
	if len(empty) > 0 {
		return true, c.optimizing(func() error { return c.drop(empty) })
	}
	for _, ref := range segs[:len(segs)-1] {
		if c.vacuumable(ref) {
			return true, c.optimizing(func() error { return c.rebuild(ctx, []*segRef{ref}) })
		}
	}
	if m := c.mergeCandidates(segs); m != nil {
		return true, c.optimizing(func() error { return c.rebuild(ctx, m) })
	}
	return false, nil
}

// optStats count the optimizer's work on a collection, for telemetry.
type optStats struct {
	running atomic.Int32  // jobs in progress
	done    atomic.Uint64 // jobs finished
	micros  atomic.Uint64 // time spent in finished jobs
	last    atomic.Int64  // unix nanos when the latest job finished
}

// optimizing runs one optimizer job, counting it.
func (c *collection) optimizing(job func() error) error {
	c.opt.running.Add(1)
	start := time.Now()
	err := job()
	end := time.Now()
	c.opt.micros.Add(uint64(end.Sub(start).Microseconds()))
	c.opt.last.Store(end.UnixNano())
	c.opt.done.Add(1)
	c.opt.running.Add(-1)
	return err
}

// freeze seals the appendable segment ref and starts a new one, unless ref
// is no longer the appendable segment or has unindexed points (which
// unindexed allows).
func (c *collection) freeze(ref *segRef, unindexed bool) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.deleted {
		return false
	}
	c.rw.Lock()
	defer c.rw.Unlock()
	if c.appendable() != ref || (!unindexed && ref.seg.Indexed() < ref.seg.Len()) {
		return false
	}
	return c.rotateLocked() == nil
}

const (
	// artefactChunk is the largest value an artefact part is cut into.
	artefactChunk = storeMemTableSize / 4
	// artefactBatch bounds the artefact's batches: one chunk, or several
	// smaller parts, each. Pebble keeps a batch of half its memtable size
	// or more in memory as a memtable of its own until it is flushed,
	// which can be long after the seal; smaller batches go through the
	// memtable, whose memory is reused.
	artefactBatch = artefactChunk + 4<<10
)

// writeArtefact stores the artefact of a sealed segment (FORMAT.md) in
// unsynced batches and returns its parts for the manifest. Nothing refers to
// it until the manifest does.
func (c *collection) writeArtefact(ref *segRef, withGraphs bool) ([]partInfo, error) {
	inFiles := c.graphFileIndexes(ref)
	seg := ref.seg
	names := c.vectorNames()
	n := seg.Len()

	hdr := binary.LittleEndian.AppendUint32([]byte("QLSG"), 1)
	hdr = binary.LittleEndian.AppendUint32(hdr, uint32(n))
	hdr = binary.AppendUvarint(hdr, uint64(len(names)))
	for _, name := range names {
		hdr = binary.AppendUvarint(hdr, uint64(len(name)))
		hdr = append(hdr, name...)
	}
	ids := make([]byte, 0, n*26)
	for off := range uint32(n) {
		id, ver := seg.PointAt(off)
		ids = appendIDKey(ids, id)
		ids = binary.LittleEndian.AppendUint64(ids, ver)
	}
	type part struct {
		tag  byte
		data []byte
	}
	parts := []part{{'h', hdr}, {'i', ids}}
	if withGraphs {
		for i, name := range names {
			if slices.Contains(inFiles, i) {
				continue // in a graph file (writeGraphFiles)
			}
			var buf bytes.Buffer
			if _, err := seg.WriteGraph(name, &buf); err != nil {
				return nil, fmt.Errorf("segment %d: graph %q: %w", ref.id, name, err)
			}
			parts = append(parts, part{byte('G') + byte(i), buf.Bytes()})
		}
	}
	var infos []partInfo
	b := c.db.store.NewBatch()
	defer func() { b.Close() }()
	for _, p := range parts {
		for i := 0; i*artefactChunk < len(p.data) || i == 0; i++ {
			chunk := p.data[i*artefactChunk : min(len(p.data), (i+1)*artefactChunk)]
			if !b.Empty() && b.Len()+len(chunk) > artefactBatch {
				if err := c.db.commit(b, pebble.NoSync, true); err != nil {
					return nil, err
				}
				b.Close()
				b = c.db.store.NewBatch()
			}
			if err := b.Set(artefactKey(c.cid, ref.id, p.tag, uint32(i)), chunk, nil); err != nil {
				return nil, err
			}
		}
		infos = append(infos, partInfo{part: p.tag, length: uint64(len(p.data)), crc: crc(p.data)})
	}
	if err := c.db.commit(b, pebble.NoSync, true); err != nil {
		return nil, err
	}
	return infos, nil
}

// ghostMasked adds to b a ghost for every masked slot of ref, holding the
// vectors that no segment file of ref (files) holds.
func (c *collection) ghostMasked(b *pebble.Batch, ref *segRef, files []fileInfo) error {
	var names []string
	for i, name := range c.vectorNames() {
		if !slices.ContainsFunc(files, func(f fileInfo) bool { return f.kind == fileVectors && f.index == uint32(i) }) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil // the files keep every masked slot's vectors
	}
	for off := range uint32(ref.seg.Len()) {
		if ref.seg.IsLive(off) {
			continue
		}
		vecs := map[string][]float32{}
		for _, name := range names {
			if v, ok := ref.seg.Vector(name, off); ok {
				vecs[name] = v
			}
		}
		if err := b.Set(ghostKey(c.cid, ref.id, off), appendGhost(nil, vecs), nil); err != nil {
			return err
		}
	}
	return nil
}

// commitManifest makes add (when not nil) part of the persisted manifest,
// with its artefact parts and segment files (written and synced before),
// replacing the segments in remove, in one synced batch that also stores the
// ghosts of add's masked slots and drops the artefacts and ghosts of remove.
// Once it commits, the files of remove are deleted. The caller holds wmu.
func (c *collection) commitManifest(add *segRef, parts []partInfo, files []fileInfo, remove []*segRef) error {
	m := manifest{nextSeg: c.manifest.nextSeg}
	var gone []manifestSeg
	for _, s := range c.manifest.segs {
		if !slices.ContainsFunc(remove, func(r *segRef) bool { return r.id == s.id }) {
			m.segs = append(m.segs, s)
		} else {
			gone = append(gone, s)
		}
	}
	b := c.db.store.NewBatch()
	defer b.Close()
	if add != nil {
		m.segs = append(m.segs, manifestSeg{id: add.id, slots: uint32(add.seg.Len()), parts: parts, files: files})
		if err := c.ghostMasked(b, add, files); err != nil {
			return err
		}
	}
	for _, r := range remove {
		for _, p := range [][]byte{artefactPrefix(c.cid, r.id), ghostPrefix(c.cid, r.id)} {
			if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
				return err
			}
		}
	}
	if err := b.Set(manifestKey(c.cid), encodeManifest(&m), nil); err != nil {
		return err
	}
	if err := c.db.commit(b, pebble.Sync, add != nil); err != nil {
		return err
	}
	c.manifest = m
	if add != nil {
		add.files.Store(&files)
		add.persisted.Store(true)
	}
	for _, s := range gone {
		c.db.removeSegFiles(c.cid, s.id, s.files)
	}
	return nil
}

// mapFiles makes the sealed segment ref, whose files just committed, read
// its vectors from them, freeing its own rows, and reports whether it
// mapped any. A file that cannot be mapped leaves the segment on its own
// rows, which are the same.
func (c *collection) mapFiles(ref *segRef, files []fileInfo) bool {
	rows, maps, err := c.openVectorFiles(ref.id, ref.seg.Len(), files, false)
	if err != nil {
		return false
	}
	for name, r := range rows {
		if err := ref.seg.MapRows(name, r); err != nil {
			panic(fmt.Sprintf("engine: BUG: segment %d: map rows of %q: %v", ref.id, name, err))
		}
	}
	c.rw.Lock()
	ref.useMaps(maps)
	c.rw.Unlock()
	return len(rows) > 0
}

// returnFreedMemory collects the rows a sealed segment just stopped
// holding (its vectors now read from mapped files) and gives the heap
// they leave free back to the operating system at once. Without it the
// garbage stays resident until the heap grows into it, and the freed
// pages until the runtime's scavenger gets to them, minutes later: a
// collection whose originals are on disk would keep its float32 vectors'
// worth of anonymous memory well after it turned green. It is one full
// collection per sealed segment, which costs little next to the seal; two
// in fact, so that the log blocks rotateLog handed to Pebble's pool (a
// sync.Pool, emptied over two collections) are returned as well.
func returnFreedMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// persist finishes the graph of a frozen segment, stores its artefact and
// adds it to the manifest.
func (c *collection) persist(ctx context.Context, ref *segRef) (err error) {
	ctx, j := c.db.tel.startJob(ctx, jobSeal, c.name, ref.id)
	defer func() { j.end(err) }()
	defer j.result(ref.seg)
	withGraphs := c.indexingThreshold() > 0
	// A segment made for outdated graph settings is rebuilt next: its
	// graphs are not built first.
	if withGraphs && !c.graphsOutdated(ref, false) {
		if ref.seg.Indexed() < ref.seg.Len() {
			n, err := c.buildGraph(ctx, ref.seg)
			if n > 0 {
				c.db.stats.graphBuilds.Add(1)
			}
			if err != nil {
				return err
			}
		}
		// A graph built in steps as the points came gets its payload
		// links now that it is complete.
		if _, err := ref.seg.EnsurePayloadLinks(ctx, c.db.opts.IndexingWorkers); err != nil {
			return err
		}
	}
	// Without room for the artefact, or with a failed store, do not
	// serialise it only to be refused.
	if err := c.db.storeErr(); err != nil {
		return err
	}
	if err := c.db.checkSpace(0); err != nil {
		return err
	}
	parts, err := c.writeArtefact(ref, withGraphs)
	if err != nil {
		return err
	}
	files, err := c.writeSegmentFiles(ref)
	if err != nil {
		return err
	}
	mapped := false
	c.sealing.Store(true)
	sealed := false
	defer func() {
		// After wmu is released: writes need not wait for the flush or the
		// collection.
		if sealed {
			c.db.rotateLog()
		}
		if mapped {
			returnFreedMemory()
		}
		c.sealing.Store(false)
	}()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.deleted {
		c.db.removeSegFiles(c.cid, ref.id, files)
		return nil
	}
	if err := c.commitManifest(ref, parts, files, nil); err != nil {
		c.db.removeSegFiles(c.cid, ref.id, files)
		return err
	}
	sealed = true
	mapped = c.mapFiles(ref, files)
	c.mapGraphFiles(ref, files)
	c.db.stats.seals.Add(1)
	return nil
}

// rebuild replaces sealed segments (one, for a vacuum; several, for a
// merge) by one new segment holding their live points, with a new graph.
func (c *collection) rebuild(ctx context.Context, olds []*segRef) (err error) {
	name := jobVacuum
	if len(olds) > 1 {
		name = jobMerge
	}
	ctx, j := c.db.tel.startJob(ctx, name, c.name, olds[0].id)
	defer func() { j.end(err) }()
	type src struct {
		ref *segRef
		off uint32
	}
	var srcs []src
	c.rw.RLock()
	for _, old := range olds {
		_ = old.seg.Match(nil, func(off uint32) bool { // no filter: no error
			srcs = append(srcs, src{old, off})
			return true
		})
	}
	fields := maps.Clone(c.fields)
	c.rw.RUnlock()

	seg, err := segment.New(c.segOptions(max(len(srcs), 1)))
	if err != nil {
		return err
	}
	names, sparseNames := c.vectorNames(), c.sparseNames()
	// Payloads are read a batch of slots of one segment at a time: on disk,
	// one store iterator per batch rather than a lookup per point.
	const batch = 256
	var offs []uint32
	pls := make([]payload.Value, 0, batch)
	var cur *segRef
	k := 0 // the next payload of pls
	for i, sr := range srcs {
		if sr.ref != cur || k == len(pls) {
			cur, k, offs = sr.ref, 0, offs[:0]
			for _, next := range srcs[i:] {
				if next.ref != cur || len(offs) == batch {
					break
				}
				offs = append(offs, next.off)
			}
			pls = pls[:len(offs)]
			if err := cur.seg.Payloads(offs, pls); err != nil {
				return fmt.Errorf("rebuild segment %d: %w", cur.id, err)
			}
		}
		pl := pls[k]
		k++
		id, ver := sr.ref.seg.PointAt(sr.off)
		p := &segment.Point{ID: id, Version: ver, Payload: pl, Vectors: map[string][]float32{}}
		for _, name := range names {
			if v, ok := sr.ref.seg.Vector(name, sr.off); ok {
				p.Vectors[name] = v
			}
		}
		for _, name := range sparseNames {
			if v, ok := sr.ref.seg.SparseVector(name, sr.off); ok {
				if p.Sparse == nil {
					p.Sparse = map[string]segment.SparseVector{}
				}
				p.Sparse[name] = v
			}
		}
		if _, err := seg.Append(p); err != nil {
			return fmt.Errorf("rebuild segment %d: %w", sr.ref.id, err)
		}
	}
	for key, params := range fields {
		if err := seg.CreateFieldIndex(key, params); err != nil {
			return err
		}
	}
	withGraphs := c.indexingThreshold() > 0
	if withGraphs {
		n, err := c.buildGraph(ctx, seg)
		if n > 0 {
			c.db.stats.graphBuilds.Add(1)
		}
		if err != nil {
			return err
		}
	}
	seg.Seal()
	j.result(seg)

	c.wmu.Lock()
	ref := &segRef{id: c.manifest.nextSeg, seg: seg}
	c.manifest.nextSeg++
	c.wmu.Unlock()
	// Without room for the artefact, or with a failed store, do not
	// serialise it only to be refused.
	if err := c.db.storeErr(); err != nil {
		return err
	}
	if err := c.db.checkSpace(0); err != nil {
		return err
	}
	parts, err := c.writeArtefact(ref, withGraphs)
	if err != nil {
		return err
	}
	files, err := c.writeSegmentFiles(ref)
	if err != nil {
		return err
	}
	committed, mapped := false, false
	c.sealing.Store(true)
	defer func() {
		if !committed {
			c.db.removeSegFiles(c.cid, ref.id, files)
		} else {
			c.db.rotateLog()
		}
		if mapped {
			returnFreedMemory()
		}
		c.sealing.Store(false)
	}()

	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.deleted {
		return nil
	}
	c.rw.Lock()
	locked := true
	defer func() {
		if locked {
			c.rw.Unlock()
		}
	}()
	// Points deleted or replaced since the copy: mask them in the new segment.
	for i, sr := range srcs {
		if !sr.ref.seg.IsLive(sr.off) {
			seg.Delete(uint32(i))
		}
	}
	// Field indexes created or dropped since the copy.
	for key, params := range c.fields {
		if p, ok := fields[key]; !ok || !sameParams(p, params) {
			if err := seg.CreateFieldIndex(key, params); err != nil {
				return err
			}
		}
	}
	for key := range fields {
		if _, ok := c.fields[key]; !ok {
			seg.DeleteFieldIndex(key)
		}
	}
	if err := c.commitManifest(ref, parts, files, olds); err != nil {
		return err
	}
	committed = true
	c.replaceSegs(olds, ref)
	c.rw.Unlock()
	locked = false
	mapped = c.mapFiles(ref, files)
	c.mapGraphFiles(ref, files)
	if len(olds) == 1 {
		c.db.stats.vacuums.Add(1)
	} else {
		c.db.stats.merges.Add(1)
	}
	return nil
}

// replaceSegs puts ref (nil: nothing) in place of olds in the segment list,
// and releases the files olds read. The caller holds rw exclusively.
func (c *collection) replaceSegs(olds []*segRef, ref *segRef) {
	var out []*segRef
	for _, s := range c.segs {
		if slices.Contains(olds, s) {
			s.release()
			if ref != nil {
				out = append(out, ref)
				ref = nil
			}
			continue
		}
		out = append(out, s)
	}
	c.segs = out
}

// drop removes sealed segments with no live points.
func (c *collection) drop(refs []*segRef) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.deleted {
		return nil
	}
	c.rw.Lock()
	defer c.rw.Unlock()
	var empty []*segRef
	for _, r := range refs {
		if r.seg.Live() == 0 {
			empty = append(empty, r)
		}
	}
	if len(empty) == 0 {
		return nil
	}
	if err := c.commitManifest(nil, nil, nil, empty); err != nil {
		return err
	}
	c.replaceSegs(empty, nil)
	return nil
}

// mergeCandidates returns the two sealed segments with the fewest live
// points when there are more sealed segments than the target and those two
// fit in one segment.
func (c *collection) mergeCandidates(segs []*segRef) []*segRef {
	target := c.config().Optimizers.DefaultSegmentNumber
	if target <= 0 {
		target = defaultSegmentNumber
	}
	var sealed []*segRef
	for _, r := range segs[:len(segs)-1] {
		if r.persisted.Load() {
			sealed = append(sealed, r)
		}
	}
	if len(sealed) <= target {
		return nil
	}
	slices.SortFunc(sealed, func(a, b *segRef) int { return a.seg.Live() - b.seg.Live() })
	if sealed[0].seg.Live()+sealed[1].seg.Live() > c.segmentCapacity() {
		return nil
	}
	return sealed[:2]
}

// defaultSegmentNumber is the number of sealed segments the merge optimizer
// keeps a collection to when default_segment_number is 0.
const defaultSegmentNumber = 2

func sameParams(a, b interface{ MarshalJSON() ([]byte, error) }) bool {
	x, err1 := a.MarshalJSON()
	y, err2 := b.MarshalJSON()
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
