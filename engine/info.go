package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
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
}

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
	info := &CollectionInfo{Config: *c.config(), PayloadSchema: map[string]PayloadIndexInfo{}}
	names := c.vectorNames()
	c.rw.RLock()
	fields := maps.Clone(c.fields)
	if p := info.Config.Optimizers.PreventUnoptimized; p != nil && *p {
		app := c.appendable()
		n := app.seg.Live() - c.countVisible(app, nil)
		info.DeferredPoints = &n
	}
	for _, ref := range c.segs {
		seg := ref.seg
		info.PointsCount += seg.Live()
		if seg.Len() > 0 {
			info.SegmentsCount++
		}
		indexed := uint32(seg.Indexed())
		if indexed == 0 {
			continue
		}
		seg.Match(nil, func(off uint32) bool {
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
		path, err := payload.ParsePath(key)
		if err != nil {
			continue
		}
		f := &filter.Filter{MustNot: []filter.Condition{&filter.IsEmpty{Key: path}}}
		n := 0
		for _, ref := range c.segs {
			n += ref.seg.Count(f)
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
	return &CollectionInfo{Status: StatusRed, Reason: f.reason, Config: f.cfg.cfgClone(),
		PayloadSchema: map[string]PayloadIndexInfo{}, SegmentsCount: 1}, nil
}
