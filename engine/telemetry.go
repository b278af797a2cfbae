package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/qlite/qlite/segment"
)

// Telemetry: a span per public operation, spans for optimizer jobs, and
// metrics, from the providers in Options. With both providers nil, db.tel
// is nil and every method below returns at once without allocating.

// instrumentationName names the tracer and the meter.
const instrumentationName = "github.com/qlite/qlite/engine"

// Operation names, as Qdrant calls its operations.
const (
	opSearch           = "search"
	opSearchBatch      = "search_batch"
	opQuery            = "query"
	opQueryBatch       = "query_batch"
	opRecommendBatch   = "recommend_batch"
	opQueryGroups      = "query_groups"
	opRecommend        = "recommend"
	opGet              = "get"
	opScroll           = "scroll"
	opCount            = "count"
	opFacet            = "facet"
	opSearchMatrix     = "search_matrix"
	opUpsert           = "upsert"
	opDelete           = "delete"
	opSetPayload       = "set_payload"
	opOverwritePayload = "overwrite_payload"
	opDeletePayload    = "delete_payload"
	opClearPayload     = "clear_payload"
	opUpdateVectors    = "update_vectors"
	opDeleteVectors    = "delete_vectors"
	opBatchUpdate      = "batch_update"
	opCreateFieldIndex = "create_field_index"
	opDeleteFieldIndex = "delete_field_index"
	opCreateCollection = "create_collection"
	opDeleteCollection = "delete_collection"
	opUpdateCollection = "update_collection"
	opGetCollection    = "get_collection"
	opCollectionExists = "collection_exists"
	opListCollections  = "list_collections"
	opUpdateAliases    = "update_aliases"
	opListAliases      = "list_aliases"
	opCreateSnapshot   = "create_snapshot"
	opListSnapshots    = "list_snapshots"
	opDeleteSnapshot   = "delete_snapshot"
	opRecoverSnapshot  = "recover_snapshot"
	opOptimize         = "optimize"
)

// Optimizer job names.
const (
	jobIndex  = "index"
	jobSeal   = "seal"
	jobVacuum = "vacuum"
	jobMerge  = "merge"
)

// Attribute keys.
const (
	keyDBSystem      = attribute.Key("db.system.name")
	keyDBOperation   = attribute.Key("db.operation.name")
	keyDBCollection  = attribute.Key("db.collection.name")
	keyDBBatchSize   = attribute.Key("db.operation.batch.size")
	keyDBRows        = attribute.Key("db.response.returned_rows")
	keyErrorType     = attribute.Key("error.type")
	keyPlan          = attribute.Key("qlite.plan")
	keyEstimated     = attribute.Key("qlite.filter.estimated_cardinality")
	keyCandidates    = attribute.Key("qlite.filter.actual_candidates")
	keyEf            = attribute.Key("qlite.ef")
	keySegments      = attribute.Key("qlite.segments")
	keyScored        = attribute.Key("qlite.vectors_scored")
	keyLimit         = attribute.Key("qlite.limit")
	keySegmentID     = attribute.Key("qlite.segment.id")
	keyPoints        = attribute.Key("qlite.points")
	keyPointsIndexed = attribute.Key("qlite.points.indexed")
	keyPercent       = attribute.Key("qlite.percent")
	keyMemory        = attribute.Key("qlite.segment.memory_bytes")
)

var systemAttr = keyDBSystem.String("qlite")

// Histogram bucket boundaries, in seconds.
var (
	operationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}
	buildBuckets     = []float64{0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800}
)

// telemetry holds a DB's tracer and instruments. A nil *telemetry is
// disabled telemetry.
type telemetry struct {
	tracer    trace.Tracer // nil without a TracerProvider
	spanStart []trace.SpanStartOption
	jobStart  []trace.SpanStartOption

	// Instruments, nil without a MeterProvider.
	duration      metric.Float64Histogram
	upserted      metric.Int64Counter
	deleted       metric.Int64Counter
	buildDuration metric.Float64Histogram
	callback      metric.Registration

	// names caches span names and attributes by operation, collection and
	// error type, so that a traced or measured operation builds neither
	// per call. It is copied on write: readers look up without locking.
	names   atomic.Pointer[map[opID]*opNames]
	namesMu sync.Mutex
}

// maxNames bounds the names cache: names of collections that do not exist
// come from callers.
const maxNames = 1024

// opID identifies an operation for the caches.
type opID struct{ name, coll, errType string }

// opNames are the cached span name and attributes of an opID.
type opNames struct {
	span  string
	base  []attribute.KeyValue  // db.system.name, db.operation.name, db.collection.name
	attrs []metric.RecordOption // the duration's attribute set
}

// namesFor returns the cached names of an operation.
func (t *telemetry) namesFor(name, coll, errType string) *opNames {
	k := opID{name, coll, errType}
	if m := t.names.Load(); m != nil {
		if n, ok := (*m)[k]; ok {
			return n
		}
	}
	n := &opNames{span: name}
	if coll != "" {
		n.span = name + " " + coll
	}
	n.base = []attribute.KeyValue{systemAttr, keyDBOperation.String(name)}
	if coll != "" {
		n.base = append(n.base, keyDBCollection.String(coll))
	}
	attrs := slices.Clone(n.base)
	if errType != "" {
		attrs = append(attrs, keyErrorType.String(errType))
	}
	n.attrs = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}

	t.namesMu.Lock()
	defer t.namesMu.Unlock()
	old := t.names.Load()
	if old != nil {
		if cached, ok := (*old)[k]; ok {
			return cached
		}
		if len(*old) >= maxNames {
			return n
		}
	}
	var m map[opID]*opNames
	if old != nil {
		m = maps.Clone(*old)
	} else {
		m = map[opID]*opNames{}
	}
	m[k] = n
	t.names.Store(&m)
	return n
}

// newTelemetry builds db's tracer and instruments from its options and
// registers the gauges' callback. It returns nil when both providers are
// nil.
func newTelemetry(db *DB) (*telemetry, error) {
	tp, mp := db.opts.TracerProvider, db.opts.MeterProvider
	if tp == nil && mp == nil {
		return nil, nil
	}
	t := &telemetry{}
	if tp != nil {
		t.tracer = tp.Tracer(instrumentationName)
		t.spanStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}
		t.jobStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal), trace.WithNewRoot()}
	}
	if mp == nil {
		return t, nil
	}
	m := mp.Meter(instrumentationName)
	var errs [10]error
	var points, segments, indexed, memory, disk, queue metric.Int64ObservableGauge
	t.duration, errs[0] = m.Float64Histogram("db.client.operation.duration",
		metric.WithDescription("Duration of database operations."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(operationBuckets...))
	t.upserted, errs[1] = m.Int64Counter("qlite.points.upserted",
		metric.WithDescription("Points written by upserts."), metric.WithUnit("{point}"))
	t.deleted, errs[2] = m.Int64Counter("qlite.points.deleted",
		metric.WithDescription("Points removed by deletes."), metric.WithUnit("{point}"))
	t.buildDuration, errs[3] = m.Float64Histogram("qlite.index.build.duration",
		metric.WithDescription("Duration of graph builds."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buildBuckets...))
	points, errs[4] = m.Int64ObservableGauge("qlite.collection.points",
		metric.WithDescription("Live points of a collection."), metric.WithUnit("{point}"))
	segments, errs[5] = m.Int64ObservableGauge("qlite.collection.segments",
		metric.WithDescription("Segments of a collection."), metric.WithUnit("{segment}"))
	indexed, errs[6] = m.Int64ObservableGauge("qlite.collection.indexed_vectors",
		metric.WithDescription("Vectors of a collection held in graphs."), metric.WithUnit("{vector}"))
	memory, errs[7] = m.Int64ObservableGauge("qlite.collection.memory",
		metric.WithDescription("Estimated memory a collection's segments hold."), metric.WithUnit("By"))
	disk, errs[8] = m.Int64ObservableGauge("qlite.db.disk",
		metric.WithDescription("Bytes of the files in the database directory."), metric.WithUnit("By"))
	queue, errs[9] = m.Int64ObservableGauge("qlite.optimizer.queue",
		metric.WithDescription("Collections with optimizer work pending."), metric.WithUnit("{collection}"))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("qlite: telemetry: %w", err)
	}
	g := gauges{db, points, segments, indexed, memory, disk, queue}
	reg, err := m.RegisterCallback(g.observe, points, segments, indexed, memory, disk, queue)
	if err != nil {
		return nil, fmt.Errorf("qlite: telemetry: %w", err)
	}
	t.callback = reg
	return t, nil
}

// close unregisters the gauges' callback.
func (t *telemetry) close() error {
	if t == nil || t.callback == nil {
		return nil
	}
	return t.callback.Unregister()
}

// gauges are the observable instruments, read by observe at each
// collection.
type gauges struct {
	db                                                 *DB
	points, segments, indexed, memory, disk, optimizer metric.Int64ObservableGauge
}

func (g gauges) observe(_ context.Context, o metric.Observer) error {
	db := g.db
	if db.closed.Load() {
		return nil
	}
	db.mu.RLock()
	colls := slices.Collect(maps.Values(db.colls))
	db.mu.RUnlock()
	pending := int64(0)
	for _, c := range colls {
		var points, segs, indexed, memory int64
		for _, ref := range c.snapshotSegs() {
			points += int64(ref.seg.Live())
			segs++
			indexed += int64(indexedVectors(c, ref.seg))
			memory += ref.seg.MemoryBytes()
		}
		set := metric.WithAttributeSet(attribute.NewSet(keyDBCollection.String(c.name)))
		o.ObserveInt64(g.points, points, set)
		o.ObserveInt64(g.segments, segs, set)
		o.ObserveInt64(g.indexed, indexed, set)
		o.ObserveInt64(g.memory, memory, set)
		if c.pendingWork() {
			pending++
		}
	}
	o.ObserveInt64(g.optimizer, pending)
	if n, err := db.DiskUsage(); err == nil {
		o.ObserveInt64(g.disk, n)
	}
	return nil
}

// indexedVectors counts the vectors of seg's live points that are graph
// nodes, as CollectionInfo does.
func indexedVectors(c *collection, seg *segment.Segment) int {
	indexed := uint32(seg.Indexed())
	if indexed == 0 {
		return 0
	}
	names := c.vectorNames()
	n := 0
	c.rw.RLock()
	defer c.rw.RUnlock()
	_ = seg.Match(nil, func(off uint32) bool { // no filter: no error
		if off >= indexed {
			return false
		}
		for _, name := range names {
			if _, ok := seg.Vector(name, off); ok {
				n++
			}
		}
		return true
	})
	return n
}

// op is a public operation in progress: its span (nil when not traced)
// and, with metrics, its start time.
type op struct {
	t     *telemetry
	ctx   context.Context
	span  trace.Span
	names *opNames
	name  string
	coll  string
	size  int // operations in a batch
	start time.Time
}

// start begins operation name on collection coll ("" for DB-wide
// operations). The span is named "<name> <coll>" and becomes the current
// span of the returned context. Its attributes are set when it ends, in one
// call.
func (t *telemetry) start(ctx context.Context, name, coll string) (context.Context, op) {
	if t == nil {
		return ctx, op{}
	}
	o := op{t: t, name: name, coll: coll, names: t.namesFor(name, coll, "")}
	if t.tracer != nil {
		ctx, o.span = t.tracer.Start(ctx, o.names.span, t.spanStart...)
	}
	if t.duration != nil {
		o.start = time.Now()
	}
	o.ctx = ctx
	return ctx, o
}

// stats returns st when the operation's span records, so that a search
// gathers its plan figures only then; nil otherwise.
func (o *op) stats(st *SearchStats) *SearchStats {
	if o.span == nil || !o.span.IsRecording() {
		return nil
	}
	return st
}

// batch records the number of operations of a batch (only batches of two
// or more, as the semantic conventions ask).
func (o *op) batch(n int) { o.size = n }

// attrBuf is a reusable attribute list: the span copies what it is given.
type attrBuf [16]attribute.KeyValue

var attrBufs = sync.Pool{New: func() any { return new(attrBuf) }}

// end ends the operation: rows is the number of rows returned (negative:
// none to report), err its outcome.
func (o *op) end(err error, rows int) { o.endSearch(err, rows, nil) }

// endSearch is end for an operation that searched: st, when it holds a
// search's figures, adds them to the span.
func (o *op) endSearch(err error, rows int, st *SearchStats) {
	if o.t == nil {
		return
	}
	var errType string
	if err != nil {
		errType = errorType(err)
	}
	if o.span != nil {
		if o.span.IsRecording() {
			buf := attrBufs.Get().(*attrBuf)
			a := append(buf[:0], o.names.base...)
			if o.size > 1 {
				a = append(a, keyDBBatchSize.Int(o.size))
			}
			if rows >= 0 {
				a = append(a, keyDBRows.Int(rows))
			}
			if err != nil {
				a = append(a, keyErrorType.String(errType))
			}
			if st != nil && st.Segments > 0 {
				a = st.appendAttrs(a)
			}
			o.span.SetAttributes(a...)
			clear(a)
			attrBufs.Put(buf)
			if err != nil {
				o.span.SetStatus(codes.Error, err.Error())
			}
		}
		o.span.End()
	}
	if o.t.duration != nil {
		n := o.names
		if errType != "" {
			n = o.t.namesFor(o.name, o.coll, errType)
		}
		o.t.duration.Record(o.ctx, time.Since(o.start).Seconds(), n.attrs...)
	}
}

// appendAttrs appends the search's figures to a: the plan, the graph's ef,
// the segments searched, the vectors scored and the limit; with a filter,
// its estimated cardinality and the candidates the indexes produced.
func (st *SearchStats) appendAttrs(a []attribute.KeyValue) []attribute.KeyValue {
	a = append(a,
		keyPlan.String(st.Plan),
		keyEf.Int(st.Ef),
		keySegments.Int(st.Segments),
		keyScored.Int(st.Scored),
		keyLimit.Int(st.Limit),
	)
	if st.Filtered {
		a = append(a, keyEstimated.Int(st.Estimated))
		if st.Candidates >= 0 {
			a = append(a, keyCandidates.Int(st.Candidates))
		}
	}
	return a
}

// add adds the figures of another search to st.
func (st *SearchStats) add(o *SearchStats) {
	if o.Segments == 0 {
		return
	}
	if st.Segments == 0 {
		*st = *o
		return
	}
	var plans planSet
	for p := range strings.SplitSeq(st.Plan+","+o.Plan, ",") {
		plans.add(p)
	}
	st.Plan = plans.String()
	st.Segments += o.Segments
	st.Estimated += o.Estimated
	if o.Candidates >= 0 {
		st.Candidates = max(st.Candidates, 0) + o.Candidates
	}
	st.Scored += o.Scored
	st.Ef = max(st.Ef, o.Ef)
	st.Limit = max(st.Limit, o.Limit)
	st.Filtered = st.Filtered || o.Filtered
}

// pageLen is the number of points of a scroll page (0 for none).
func pageLen(r *ScrollResult) int {
	if r == nil {
		return 0
	}
	return len(r.Points)
}

// errorType names the class of err for error.type.
func errorType(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrBadRequest):
		return "bad_request"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, ErrCorrupt):
		return "corrupt"
	case errors.Is(err, ErrLocked):
		return "locked"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return "internal"
}

// planSet gathers the distinct plans of a search's segments without
// allocating for the common case of one.
type planSet struct {
	first string
	more  []string
}

func (p *planSet) add(plan string) {
	switch {
	case p.first == "" || p.first == plan:
		p.first = plan
	case !slices.Contains(p.more, plan):
		p.more = append(p.more, plan)
	}
}

// String returns the plan, or the plans sorted and comma-separated.
func (p *planSet) String() string {
	if len(p.more) == 0 {
		return p.first
	}
	all := append([]string{p.first}, p.more...)
	slices.Sort(all)
	return strings.Join(all, ",")
}

// segSpan is the span of one segment's part of a search; nil when the
// search is not sampled.
type segSpan struct {
	span trace.Span
	id   uint32
}

// startSegment begins the child span "segment <id>" of a sampled search.
func (t *telemetry) startSegment(ctx context.Context, id uint32) (context.Context, segSpan) {
	if t == nil || t.tracer == nil || !trace.SpanContextFromContext(ctx).IsSampled() {
		return ctx, segSpan{}
	}
	ctx, span := t.tracer.Start(ctx, "segment "+strconv.FormatUint(uint64(id), 10), t.spanStart...)
	return ctx, segSpan{span, id}
}

// end ends a segment span with the segment's search figures.
func (s segSpan) end(st *segment.SearchStats, hits int, err error) {
	if s.span == nil {
		return
	}
	buf := attrBufs.Get().(*attrBuf)
	a := append(buf[:0],
		keySegmentID.Int64(int64(s.id)),
		keyPlan.String(st.Plan),
		keyEstimated.Int(st.Estimate),
		keyScored.Int(st.Scored),
		keyDBRows.Int(hits),
	)
	if st.Candidates >= 0 {
		a = append(a, keyCandidates.Int(st.Candidates))
	}
	s.span.SetAttributes(a...)
	clear(a)
	attrBufs.Put(buf)
	if err != nil {
		s.span.SetStatus(codes.Error, err.Error())
	}
	s.span.End()
}

// pointsWritten counts the points a write upserted and deleted.
func (t *telemetry) pointsWritten(coll string, upserted, deleted int) {
	if t == nil || t.upserted == nil || (upserted == 0 && deleted == 0) {
		return
	}
	set := metric.WithAttributeSet(attribute.NewSet(keyDBCollection.String(coll)))
	if upserted > 0 {
		t.upserted.Add(context.Background(), int64(upserted), set)
	}
	if deleted > 0 {
		t.deleted.Add(context.Background(), int64(deleted), set)
	}
}

// job is an optimizer job in progress; its span is nil when not traced.
type job struct{ span trace.Span }

// startJob begins the optimizer job name (index, seal, vacuum, merge) on a
// segment of coll, as the root of a new trace linked to the caller's span
// (an Optimize call) when there is one.
func (t *telemetry) startJob(ctx context.Context, name, coll string, segID uint32) (context.Context, job) {
	if t == nil || t.tracer == nil {
		return ctx, job{}
	}
	opts := t.jobStart
	if link := trace.LinkFromContext(ctx); link.SpanContext.IsValid() {
		opts = append(slices.Clip(opts), trace.WithLinks(link))
	}
	ctx, span := t.tracer.Start(ctx, name+" "+coll, opts...)
	if span.IsRecording() {
		span.SetAttributes(systemAttr, keyDBCollection.String(coll), keySegmentID.Int64(int64(segID)))
	}
	return ctx, job{span}
}

// result puts the final statistics of the job's segment on its span.
func (j job) result(seg *segment.Segment) {
	if j.span == nil || !j.span.IsRecording() {
		return
	}
	j.span.SetAttributes(
		keyPoints.Int(seg.Live()),
		keyPointsIndexed.Int(seg.Indexed()),
		keyMemory.Int64(seg.MemoryBytes()),
	)
}

// end ends the job's span.
func (j job) end(err error) {
	if j.span == nil {
		return
	}
	if err != nil {
		j.span.SetAttributes(keyErrorType.String(errorType(err)))
		j.span.SetStatus(codes.Error, err.Error())
	}
	j.span.End()
}

// buildGraph extends seg's graphs (BuildGraph), adding progress events to
// the current span of ctx and recording the build's duration.
func (c *collection) buildGraph(ctx context.Context, seg *segment.Segment) (int, error) {
	t := c.db.tel
	if t == nil {
		return seg.BuildGraph(ctx, c.db.opts.IndexingWorkers)
	}
	span := trace.SpanFromContext(ctx)
	progress(span, "build started", seg)
	start := time.Now()
	n, err := seg.BuildGraph(ctx, c.db.opts.IndexingWorkers)
	if t.buildDuration != nil {
		t.buildDuration.Record(ctx, time.Since(start).Seconds(),
			metric.WithAttributes(keyDBCollection.String(c.name)))
	}
	progress(span, "build finished", seg)
	return n, err
}

// progress adds an event with how much of seg its graphs cover.
func progress(span trace.Span, name string, seg *segment.Segment) {
	if !span.IsRecording() {
		return
	}
	indexed, total := seg.Indexed(), seg.Len()
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(indexed) / float64(total)
	}
	span.AddEvent(name, trace.WithAttributes(
		keyPointsIndexed.Int(indexed),
		keyPoints.Int(total),
		keyPercent.Float64(pct),
	))
}
