package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// CollectionStatus is Qdrant's collection status.
type CollectionStatus string

// Collection statuses.
const (
	// StatusGreen: every segment that should have a graph has one, and no
	// optimization is pending.
	StatusGreen CollectionStatus = "green"
	// StatusYellow: the optimizer has work to do or is doing it (indexing,
	// sealing, vacuum). Searches are served meanwhile.
	StatusYellow CollectionStatus = "yellow"
	// StatusGrey: optimizations are pending but nothing runs them (the
	// background optimizer is disabled; Optimize runs them).
	StatusGrey CollectionStatus = "grey"
	// StatusRed: the collection failed to load (CollectionInfo.Reason says
	// why) and serves no request; deleting it is the way out.
	StatusRed CollectionStatus = "red"
)

// PayloadIndexInfo describes a field index.
type PayloadIndexInfo struct {
	Params payload.IndexParams
	// Points is the number of points with a value at the field.
	Points int
}

// CollectionInfo describes a collection.
type CollectionInfo struct {
	Status CollectionStatus
	// PointsCount is the number of points.
	PointsCount int
	// IndexedVectorsCount is the number of vectors held in graphs.
	IndexedVectorsCount int
	SegmentsCount       int
	Config              CollectionConfig
	PayloadSchema       map[string]PayloadIndexInfo
	// UpdateQueueLength is the number of writes waiting to be applied.
	UpdateQueueLength int
	// LastOperation is the id of the last write applied.
	LastOperation uint64
	// RunningOptimizations is the number of optimizer jobs in progress;
	// Optimizations the number finished since the collection was opened,
	// which took OptimizationTime, the latest finishing at LastOptimization
	// (zero before the first).
	RunningOptimizations int
	Optimizations        uint64
	OptimizationTime     time.Duration
	LastOptimization     time.Time
	// DeferredPoints is, when the collection has prevent_unoptimized, the
	// number of points reads do not see until they are indexed; nil
	// otherwise.
	DeferredPoints *int
	// Reason says why a collection with StatusRed failed to load; "" for
	// the other statuses.
	Reason string
	// Memory estimates the heap the collection's segments hold, by kind;
	// zero for a collection that failed to load.
	Memory MemoryUsage
	// PayloadCache is the collection's share of the payload cache, which
	// holds payloads on disk read by point lookups (heap beside Memory).
	PayloadCache PayloadCacheStats
	// Warnings are Qdrant's warnings about settings that make no sense
	// (CollectionConfig.Warnings).
	Warnings []string
	// DiskBytes estimates the collection's share of the store's files:
	// the size of the table data in its key range (Pebble's
	// EstimateDiskUsage, which reads no data), plus its segment files
	// (on-disk vectors). Writes not yet flushed from the write-ahead log
	// to a table are not counted.
	DiskBytes int64
}

// MemoryUsage is an estimate of the heap held, in bytes, by kind: vector
// chunks (allocated, so ahead of the vectors stored by at most a chunk per
// vector and segment), graph links, payloads, payload indexes, and the
// rest (point ids, versions, bitmaps, the id lookup).
type MemoryUsage = segment.Memory

// CollectionInfo returns the collection's status, counts and configuration.
func (db *DB) CollectionInfo(ctx context.Context, name string) (_ *CollectionInfo, err error) {
	ctx, op := db.tel.start(ctx, opGetCollection, name)
	defer func() { op.end(err, -1) }()
	c, err := db.collection(name)
	if errors.Is(err, ErrUnavailable) {
		return db.failedInfo(name)
	}
	if err != nil {
		return nil, err
	}
	info := &CollectionInfo{Config: *c.config(), PayloadSchema: map[string]PayloadIndexInfo{},
		PayloadCache: db.pcache.stats(c.cid)}
	info.Warnings = info.Config.Warnings()
	names, sparseNames := c.vectorNames(), c.sparseNames()
	c.rw.RLock()
	fields := maps.Clone(c.fields)
	if p := info.Config.Optimizers.PreventUnoptimized; p != nil && *p {
		app := c.appendable()
		visible, _ := c.countVisible(app, nil) // no filter: no payload read, no error
		n := app.seg.Live() - visible
		info.DeferredPoints = &n
	}
	var fileBytes int64
	for _, ref := range c.segs {
		seg := ref.seg
		info.Memory.Add(seg.Memory())
		if fs := ref.files.Load(); fs != nil {
			for _, f := range *fs {
				fileBytes += int64(f.length)
			}
		}
		info.PointsCount += seg.Live()
		// Sparse vectors are indexed as they arrive; Qdrant counts the
		// non-empty ones.
		for _, n := range sparseNames {
			k, _ := seg.SparseStats(n, nil, nil)
			info.IndexedVectorsCount += k
		}
		if seg.Len() > 0 {
			info.SegmentsCount++
		}
		indexed := uint32(seg.Indexed())
		if indexed == 0 {
			continue
		}
		_ = seg.Match(nil, func(off uint32) bool { // no filter: no error
			if off >= indexed {
				return false
			}
			for _, n := range names {
				if _, ok := seg.Vector(n, off); ok {
					info.IndexedVectorsCount++
				}
			}
			return true
		})
	}
	for key, p := range fields {
		// The points the index holds a value of, as Qdrant counts them:
		// read from the index, never from a payload.
		n := 0
		for _, ref := range c.segs {
			k, _ := ref.seg.IndexedPoints(key)
			n += k
		}
		info.PayloadSchema[key] = PayloadIndexInfo{Params: p, Points: n}
	}
	c.rw.RUnlock()
	info.SegmentsCount = max(info.SegmentsCount, 1)
	info.UpdateQueueLength = int(max(c.queued.Load(), 0))
	info.LastOperation = c.lastOp.Load()
	info.RunningOptimizations = int(max(c.opt.running.Load(), 0))
	info.Optimizations = c.opt.done.Load()
	info.OptimizationTime = time.Duration(c.opt.micros.Load()) * time.Microsecond
	if n := c.opt.last.Load(); n != 0 {
		info.LastOptimization = time.Unix(0, n)
	}
	info.DiskBytes = db.diskBytes(c.cid) + fileBytes
	info.Status = StatusGreen
	if c.pendingWork() {
		info.Status = StatusYellow
		if db.opts.DisableOptimizer {
			info.Status = StatusGrey
		}
	}
	return info, nil
}

// failedInfo describes a collection Open could not load: status red, the
// reason, and its configuration as far as it could be read.
func (db *DB) failedInfo(name string) (*CollectionInfo, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if target, ok := db.aliases[name]; ok {
		name = target
	}
	f, ok := db.failed[name]
	if !ok { // deleted meanwhile
		return nil, fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, name)
	}
	info := &CollectionInfo{Status: StatusRed, Reason: f.reason, Config: f.cfg.cfgClone(),
		PayloadSchema: map[string]PayloadIndexInfo{}, SegmentsCount: 1}
	if f.hasCID {
		info.DiskBytes = db.diskBytesLocked(f.cid)
	}
	return info, nil
}

// diskBytes estimates the bytes of the store's tables that hold
// collection cid's keys (CollectionInfo.DiskBytes); 0 once the database is
// closed or its store failed.
func (db *DB) diskBytes(cid uint32) int64 {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.diskBytesLocked(cid)
}

// diskBytesLocked is diskBytes with db.mu held (shared is enough): Close
// closes a working store only after it has held db.mu.
func (db *DB) diskBytesLocked(cid uint32) (n int64) {
	if db.closed.Load() || db.storeErr() != nil {
		return 0
	}
	// A failed store is closed by Close without db.mu: Pebble panics with
	// ErrClosed on a closed store, which then only means "gone".
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); !ok || !errors.Is(err, pebble.ErrClosed) {
				panic(r)
			}
			n = 0
		}
	}()
	start := dataPrefix(cid)
	u, err := db.store.EstimateDiskUsage(start, prefixEnd(start))
	if err != nil {
		return 0
	}
	return int64(u)
}
