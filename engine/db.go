package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Options configures a DB. Zero fields take their defaults.
type Options struct {
	// IndexingWorkers is the number of goroutines that build graphs.
	// Default: GOMAXPROCS.
	IndexingWorkers int
	// SealDelay is how long a fully indexed appendable segment must go
	// without writes before the optimizer seals and persists it. Default:
	// 250ms. Close seals such a segment at once.
	SealDelay time.Duration
	// OptimizerInterval is how often the optimizer looks for work when not
	// woken by a write. Default: 100ms.
	OptimizerInterval time.Duration
	// DisableOptimizer turns off background indexing, sealing and vacuum
	// (for tests and tools); Optimize still runs them on demand.
	DisableOptimizer bool
	// CacheSize is Pebble's block cache in bytes. Default: 64 MiB.
	CacheSize int64
	// TracerProvider supplies the tracer for a span per public operation
	// and per optimizer job. Default: nil, which records no spans and
	// allocates nothing.
	TracerProvider trace.TracerProvider
	// MeterProvider supplies the meter for operation durations, point
	// counters and collection gauges. Default: nil, which records no
	// metrics.
	MeterProvider metric.MeterProvider
	// Now is the clock of strict mode's rate limits. Default: time.Now.
	Now func() time.Time
	// Log receives one line for each collection Open could not load (see
	// Open), unless Logger is set. Default: os.Stderr.
	Log io.Writer
	// Logger, when set, receives those as records at level error, with the
	// collection's name and the reason, instead of Log. Default: nil.
	Logger *slog.Logger
	// DiskReserve is the space, in bytes, that writes leave free on the
	// database's file system: a write that would leave less fails with
	// ErrNoSpace (deletes are not checked), so that the store never runs
	// out of space mid-write. Default: 32 MiB. Negative: no check.
	DiskReserve int64
	// PayloadCacheBytes bounds the cache of payloads read from disk, shared
	// by the collections with on_disk_payload (Qdrant's default), whose
	// segments keep no payload values: only their field indexes stay in
	// memory. Counted in estimated bytes of decoded payloads. Default:
	// 4 MiB.
	PayloadCacheBytes int64

	// fs is the file system of the store (tests inject faults with it).
	// Default: the operating system's.
	fs vfs.FS
}

// Sentinel errors. Every error the package returns for bad input or state
// wraps one of them, followed by ": " and the detail.
var (
	ErrNotFound = errors.New("qlite: not found")
	ErrConflict = errors.New("qlite: conflict")
	ErrClosed   = errors.New("qlite: database closed")
	ErrCorrupt  = errors.New("qlite: corrupt data")
	ErrLocked   = errors.New("qlite: database directory in use")
	// ErrUnavailable is returned for a collection that Open could not
	// load; the message gives the reason. DeleteCollection removes such a
	// collection.
	ErrUnavailable = errors.New("qlite: collection failed to load")
	// ErrNoSpace: a write was refused because the file system is (nearly)
	// full; it can be retried once space is freed.
	ErrNoSpace = errors.New("qlite: no space left on device")
	// ErrStoreFailed: the store failed (an I/O error it cannot recover
	// from); writes fail until the database is reopened.
	ErrStoreFailed = errors.New("qlite: store failed")
	// ErrUnhealthy: Health found that the database cannot make progress.
	ErrUnhealthy = errors.New("qlite: unhealthy")
)

// DB is an open database directory.
type DB struct {
	dir   string
	opts  Options
	store *pebble.DB

	// mu guards the catalog: collections by name, aliases, and the next
	// collection id. Collection operations take it; point operations take
	// it shared just long enough to find their collection.
	mu      sync.RWMutex
	colls   map[string]*collection
	failed  map[string]*failedCollection // collections Open could not load
	aliases map[string]string
	nextCID uint32

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// The optimizer goroutine: stopped by cancel, done when donec closes.
	optCtx    context.Context
	optCancel context.CancelFunc
	optKick   chan struct{}
	optDone   chan struct{}
	// optMu serialises optimizer passes (the goroutine and Optimize).
	optMu sync.Mutex

	// health tracks storage faults (store.go).
	health *storeHealth

	// pcache caches payloads read from disk (payloads.go).
	pcache *payloadCache

	stats dbStats
	// tel is nil when telemetry is off.
	tel *telemetry
}

// failedCollection is a collection whose stored state Open could not load.
// It is listed and reported (status red, with the reason) but serves no
// request; DeleteCollection removes it.
type failedCollection struct {
	cid     uint32
	hasCID  bool // false when the collection record itself is unreadable
	cfg     CollectionConfig
	reason  string
	corrupt bool // the reason wraps ErrCorrupt
}

// dbStats are counters for tests and telemetry.
type dbStats struct {
	graphBuilds atomic.Int64 // BuildGraph calls that indexed points
	seals       atomic.Int64
	vacuums     atomic.Int64
	merges      atomic.Int64
	quantizes   atomic.Int64
}

// Stats are counters of the background work a DB has done since Open.
type Stats struct {
	// GraphBuilds counts graph builds (or incremental graph extensions)
	// that indexed at least one point.
	GraphBuilds int64
	Seals       int64
	Vacuums     int64
	Merges      int64
	// Quantizations counts vectors of sealed segments quantised (trained
	// and encoded); a reopen quantises nothing.
	Quantizations int64
}

// Stats returns the DB's counters.
func (db *DB) Stats() Stats {
	return Stats{
		GraphBuilds:   db.stats.graphBuilds.Load(),
		Seals:         db.stats.seals.Load(),
		Vacuums:       db.stats.vacuums.Load(),
		Merges:        db.stats.merges.Load(),
		Quantizations: db.stats.quantizes.Load(),
	}
}

// storeMemTableSize is the size of Pebble's memtables (its default is 4
// MiB). Pebble keeps two: the one being written and the last one flushed,
// for reuse. In a build without cgo both are Go heap, resident once
// filled: a server whose vectors are on disk holds them beside its codes.
const storeMemTableSize = 2 << 20

// Open opens (creating if needed) the database in dir. Only one process may
// have a directory open: a second Open fails with ErrLocked.
//
// A collection whose stored configuration or data cannot be loaded does not
// stop Open: it is reported on Options.Log and in CollectionInfo (status
// red, with the reason), requests to it fail with ErrUnavailable, and
// DeleteCollection removes it. Every other collection is served.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.IndexingWorkers <= 0 {
		o.IndexingWorkers = runtime.GOMAXPROCS(0)
	}
	if o.SealDelay <= 0 {
		o.SealDelay = 250 * time.Millisecond
	}
	if o.OptimizerInterval <= 0 {
		o.OptimizerInterval = 100 * time.Millisecond
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 64 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.DiskReserve == 0 {
		o.DiskReserve = 32 << 20
	}
	if o.fs == nil {
		o.fs = vfs.Default
	}
	if o.PayloadCacheBytes <= 0 {
		o.PayloadCacheBytes = 4 << 20
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("qlite: open %s: %w", dir, err)
	}
	cache := pebble.NewCache(o.CacheSize)
	defer cache.Unref()
	health := &storeHealth{}
	popts := &pebble.Options{Cache: cache, Logger: storeLogger{health}, FS: o.fs, MemTableSize: storeMemTableSize}
	store, err := pebble.Open(filepath.Join(dir, "pebble"), popts)
	if err != nil {
		if isLockError(err) {
			return nil, fmt.Errorf("%w: %s is open in another process", ErrLocked, dir)
		}
		return nil, fmt.Errorf("qlite: open %s: %w", dir, err)
	}
	db := &DB{
		dir:     dir,
		opts:    o,
		store:   store,
		health:  health,
		colls:   map[string]*collection{},
		failed:  map[string]*failedCollection{},
		aliases: map[string]string{},
		optKick: make(chan struct{}, 1),
		optDone: make(chan struct{}),
		pcache:  newPayloadCache(o.PayloadCacheBytes),
	}
	if err := db.load(); err != nil {
		return nil, errors.Join(err, store.Close())
	}
	if db.tel, err = newTelemetry(db); err != nil {
		return nil, errors.Join(err, store.Close())
	}
	db.optCtx, db.optCancel = context.WithCancel(context.Background())
	if o.DisableOptimizer {
		close(db.optDone)
	} else {
		go db.optimizeLoop()
	}
	return db, nil
}

// isLockError reports whether err is Pebble's failure to lock its directory.
func isLockError(err error) bool {
	return errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) ||
		bytes.Contains([]byte(err.Error()), []byte("lock"))
}

// load reads the catalog and opens every collection.
func (db *DB) load() error {
	// Format marker.
	v, closer, err := db.store.Get([]byte{keyFormat})
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		marker := binary.LittleEndian.AppendUint32([]byte(formatMagic), formatVersion)
		if err := db.set([]byte{keyFormat}, marker, true); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		ok := len(v) == 8 && string(v[:4]) == formatMagic
		var ver uint32
		if ok {
			ver = binary.LittleEndian.Uint32(v[4:])
		}
		closer.Close()
		if !ok {
			return fmt.Errorf("%w: not a qlite database", ErrCorrupt)
		}
		switch ver {
		case formatVersion:
		case formatVersionInline:
			// Its point records hold their vectors, which this build
			// reads; the records it writes do not, which builds that read
			// only format 1 would misread: they refuse format 2.
			marker := binary.LittleEndian.AppendUint32([]byte(formatMagic), formatVersion)
			if err := db.set([]byte{keyFormat}, marker, true); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: format version %d, this build reads %d and %d", ErrCorrupt, ver, formatVersionInline, formatVersion)
		}
	}
	if v, closer, err := db.store.Get([]byte{keyNextCID}); err == nil {
		if len(v) == 4 {
			db.nextCID = binary.LittleEndian.Uint32(v)
		}
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}

	it, err := db.store.NewIter(&pebble.IterOptions{LowerBound: []byte{keyCollection}, UpperBound: []byte{keyCollection + 1}})
	if err != nil {
		return err
	}
	type entry struct {
		name   string
		cid    uint32
		hasCID bool
		cfg    CollectionConfig
		err    error
	}
	var entries []entry
	for it.First(); it.Valid(); it.Next() {
		name := string(it.Key()[1:])
		cid, hasCID, cfg, err := decodeCollectionRecord(it.Value())
		entries = append(entries, entry{name, cid, hasCID, cfg, err})
	}
	if err := it.Close(); err != nil {
		return err
	}
	cids := map[uint32]bool{}
	sweep := true
	var kept []entry
	legacy := db.store.NewBatch()
	defer legacy.Close()
	for _, e := range entries {
		if e.err == nil && legacyRestoreName.MatchString(e.name) {
			// A scratch collection of an older version's restore, killed
			// midway: its data go with the other orphans.
			if err := legacy.Delete(collectionKey(e.name), nil); err != nil {
				return err
			}
			continue
		}
		if e.err == nil || e.hasCID {
			cids[e.cid] = true
		} else {
			// A record too damaged to name its collection id: no data
			// can be told to be orphaned.
			sweep = false
		}
		kept = append(kept, e)
	}
	if !legacy.Empty() {
		if err := db.commit(legacy, pebble.Sync, false); err != nil {
			return err
		}
	}
	if err := db.sweepOrphans(cids, sweep); err != nil {
		return fmt.Errorf("qlite: open: removing what an interrupted restore left: %w", err)
	}
	for _, e := range kept {
		err := e.err
		if err == nil {
			var c *collection
			if c, err = db.loadCollection(e.name, e.cid, e.cfg); err == nil {
				db.colls[e.name] = c
				continue
			}
		}
		f := &failedCollection{cid: e.cid, hasCID: e.hasCID, cfg: e.cfg, reason: err.Error(), corrupt: errors.Is(err, ErrCorrupt)}
		db.failed[e.name] = f
		if l := db.opts.Logger; l != nil {
			l.Error("collection failed to load and is not served (delete it to recover)", "collection", e.name, "reason", f.reason)
		} else {
			fmt.Fprintf(db.opts.Log, "qlite: collection %q failed to load and is not served (delete it to recover): %s\n", e.name, f.reason)
		}
	}

	it, err = db.store.NewIter(&pebble.IterOptions{LowerBound: []byte{keyAlias}, UpperBound: []byte{keyAlias + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		db.aliases[string(it.Key()[1:])] = string(it.Value())
	}
	return it.Close()
}

// loadCollection opens a stored collection after checking that its
// configuration can be served. A panic while loading (a broken invariant in stored data)
// is returned as an error, so that one collection cannot stop Open.
func (db *DB) loadCollection(name string, cid uint32, cfg CollectionConfig) (c *collection, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: panic while loading: %v", ErrCorrupt, r)
		}
	}()
	if err := cfg.cfgCheckServable(); err != nil {
		return nil, fmt.Errorf("%w: stored configuration: %s", ErrCorrupt, cfgDetail(err))
	}
	return openCollection(db, name, cid, cfg)
}

// Close stops the optimizer (an index build in progress is abandoned; its
// points stay searchable by scan and are indexed again after the next Open),
// waits for it, and closes the store. It returns the errors of its parts
// joined. After the store failed (ErrStoreFailed), it persists nothing and
// returns within a few seconds. Calling Close again returns nil.
func (db *DB) Close() error {
	first := false
	db.closeOnce.Do(func() {
		first = true
		db.closed.Store(true)
		db.optCancel()
		if err := db.storeErr(); err != nil {
			// Writers may be blocked inside a failed store for good: nothing
			// is persisted, and the rest is waited for a bounded time.
			db.closeErr = errors.Join(err, within(failedCloseWait, func() error {
				<-db.optDone
				return errors.Join(db.tel.close(), db.store.Close())
			}))
			return
		}
		<-db.optDone
		errs := []error{db.tel.close()}
		db.mu.Lock()
		for _, c := range db.colls {
			errs = append(errs, c.close())
		}
		// A closed DB lets its collections go, so that a handle the
		// caller keeps does not keep their memory.
		db.colls = map[string]*collection{}
		db.mu.Unlock()
		errs = append(errs, db.store.Close())
		db.closeErr = errors.Join(errs...)
	})
	if !first {
		return nil
	}
	return db.closeErr
}

// checkOpen returns ErrClosed after Close.
func (db *DB) checkOpen() error {
	if db.closed.Load() {
		return ErrClosed
	}
	return nil
}

// collection returns the collection called name (or aliased so).
func (db *DB) collection(name string) (*collection, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if target, ok := db.aliases[name]; ok {
		name = target
	}
	c, ok := db.colls[name]
	if !ok {
		if f, ok := db.failed[name]; ok {
			return nil, f.err(name)
		}
		return nil, fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, name)
	}
	return c, nil
}

func (f *failedCollection) err(name string) error {
	return &unavailableError{
		msg:     fmt.Sprintf("%v: Collection `%s` failed to load and is not served (delete it to recover): %s", ErrUnavailable, name, f.reason),
		corrupt: f.corrupt,
	}
}

// unavailableError is the error of a request to a collection that failed
// to load: ErrUnavailable, and ErrCorrupt too when corrupt data was the
// reason.
type unavailableError struct {
	msg     string
	corrupt bool
}

func (e *unavailableError) Error() string { return e.msg }

func (e *unavailableError) Is(target error) bool {
	return target == ErrUnavailable || (e.corrupt && target == ErrCorrupt)
}

// taken reports whether name is a collection, loaded or failed. The caller
// holds mu.
func (db *DB) taken(name string) bool {
	_, ok := db.colls[name]
	_, failed := db.failed[name]
	return ok || failed
}

// CreateCollection creates a collection. It fails with ErrConflict if the
// name is taken (by a collection or an alias).
func (db *DB) CreateCollection(ctx context.Context, name string, req *CreateCollection) (err error) {
	ctx, op := db.tel.start(ctx, opCreateCollection, name)
	defer func() { op.end(err, -1) }()
	if err := db.checkOpen(); err != nil {
		return err
	}
	if err := ValidateCollectionName(name); err != nil {
		return err
	}
	if req == nil {
		return fmt.Errorf("%w: missing collection parameters", ErrBadRequest)
	}
	cfg, err := req.Config()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.taken(name) {
		return fmt.Errorf("%w: Collection `%s` already exists!", ErrConflict, name)
	}
	if _, ok := db.aliases[name]; ok {
		return fmt.Errorf("%w: Collection `%s` already exists! (an alias has that name)", ErrConflict, name)
	}
	cid := db.nextCID
	b := db.store.NewBatch()
	defer b.Close()
	// Clear anything a crashed delete of an older collection with this id
	// could have left (ids are never reused, so this is only belt and braces).
	if err := b.DeleteRange(dataPrefix(cid), prefixEnd(dataPrefix(cid)), nil); err != nil {
		return err
	}
	rec, err := encodeCollectionRecord(cid, cfg)
	if err != nil {
		return err
	}
	if err := b.Set(collectionKey(name), rec, nil); err != nil {
		return err
	}
	if err := b.Set([]byte{keyNextCID}, binary.LittleEndian.AppendUint32(nil, cid+1), nil); err != nil {
		return err
	}
	if err := db.commit(b, pebble.Sync, true); err != nil {
		return err
	}
	db.nextCID = cid + 1
	c, err := newCollection(db, name, cid, cfg)
	if err != nil {
		return err
	}
	db.colls[name] = c
	return nil
}

// DeleteCollection deletes a collection and its aliases. It reports whether
// the collection existed.
func (db *DB) DeleteCollection(ctx context.Context, name string) (_ bool, err error) {
	ctx, op := db.tel.start(ctx, opDeleteCollection, name)
	defer func() { op.end(err, -1) }()
	if err := db.checkOpen(); err != nil {
		return false, err
	}
	// Stop optimizer work on the collection first.
	db.optMu.Lock()
	defer db.optMu.Unlock()
	db.mu.Lock()
	defer db.mu.Unlock()
	c, ok := db.colls[name]
	f, failed := db.failed[name]
	if !ok && !failed {
		return false, nil
	}
	b := db.store.NewBatch()
	defer b.Close()
	if err := b.Delete(collectionKey(name), nil); err != nil {
		return false, err
	}
	if ok || f.hasCID {
		var cid uint32
		if ok {
			cid = c.cid
		} else {
			cid = f.cid
		}
		if err := b.DeleteRange(dataPrefix(cid), prefixEnd(dataPrefix(cid)), nil); err != nil {
			return false, err
		}
	}
	var dropped []string
	for alias, target := range db.aliases {
		if target == name {
			if err := b.Delete(aliasKey(alias), nil); err != nil {
				return false, err
			}
			dropped = append(dropped, alias)
		}
	}
	if err := db.commit(b, pebble.Sync, false); err != nil {
		return false, err
	}
	for _, a := range dropped {
		delete(db.aliases, a)
	}
	if failed {
		delete(db.failed, name)
		if f.hasCID {
			return true, db.removeCollectionFiles(f.cid)
		}
		return true, nil
	}
	delete(db.colls, name)
	c.markDeleted()
	// Segment files go once the delete has committed (a file left behind
	// goes with the next Open's sweep); readers still holding the
	// collection's segments keep their mappings until the segments go.
	return true, errors.Join(c.close(), db.removeCollectionFiles(c.cid))
}

// CollectionExists reports whether name is a collection (or an alias of one).
func (db *DB) CollectionExists(ctx context.Context, name string) (_ bool, err error) {
	ctx, op := db.tel.start(ctx, opCollectionExists, name)
	defer func() { op.end(err, -1) }()
	_, err = db.collection(name)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case errors.Is(err, ErrUnavailable):
		return true, nil
	}
	return err == nil, err
}

// ListCollections returns the collection names, sorted.
func (db *DB) ListCollections(ctx context.Context) (names []string, err error) {
	ctx, op := db.tel.start(ctx, opListCollections, "")
	defer func() { op.end(err, len(names)) }()
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	names = make([]string, 0, len(db.colls)+len(db.failed))
	for n := range db.colls {
		names = append(names, n)
	}
	for n := range db.failed {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// UpdateCollection applies a change of parameters.
func (db *DB) UpdateCollection(ctx context.Context, name string, u *UpdateCollection) (err error) {
	ctx, op := db.tel.start(ctx, opUpdateCollection, name)
	defer func() { op.end(err, -1) }()
	c, err := db.collection(name)
	if err != nil {
		return err
	}
	if u == nil {
		return nil
	}
	return c.updateConfig(u)
}

// Alias operations, applied together by UpdateAliases.
type AliasOp struct {
	// Exactly one of the three.
	Create *CreateAlias
	Delete *DeleteAlias
	Rename *RenameAlias
}

// CreateAlias makes Alias name Collection (replacing an alias of that name).
type CreateAlias struct{ Collection, Alias string }

// DeleteAlias removes an alias.
type DeleteAlias struct{ Alias string }

// RenameAlias renames an alias.
type RenameAlias struct{ Old, New string }

// AliasDesc is one alias.
type AliasDesc struct{ Alias, Collection string }

// UpdateAliases applies ops atomically: all or none.
func (db *DB) UpdateAliases(ctx context.Context, ops []AliasOp) (err error) {
	ctx, op := db.tel.start(ctx, opUpdateAliases, "")
	defer func() { op.end(err, -1) }()
	op.batch(len(ops))
	if err := db.checkOpen(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	next := make(map[string]string, len(db.aliases))
	for k, v := range db.aliases {
		next[k] = v
	}
	for i, op := range ops {
		switch {
		case op.Create != nil:
			if err := ValidateCollectionName(op.Create.Alias); err != nil {
				return fmt.Errorf("actions[%d]: %w", i, err)
			}
			if _, ok := db.colls[op.Create.Collection]; !ok {
				return fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, op.Create.Collection)
			}
			if db.taken(op.Create.Alias) {
				return fmt.Errorf("%w: Collection `%s` already exists!", ErrConflict, op.Create.Alias)
			}
			next[op.Create.Alias] = op.Create.Collection
		case op.Delete != nil:
			// Deleting an alias that does not exist does nothing, as
			// in Qdrant.
			delete(next, op.Delete.Alias)
		case op.Rename != nil:
			target, ok := next[op.Rename.Old]
			if !ok {
				return fmt.Errorf("%w: Alias %s does not exists!", ErrNotFound, op.Rename.Old)
			}
			if err := ValidateCollectionName(op.Rename.New); err != nil {
				return fmt.Errorf("actions[%d]: %w", i, err)
			}
			// As in Qdrant, the new name replaces an alias of that
			// name, and may be a collection's name: the collection
			// keeps it (a name resolves to a collection first).
			delete(next, op.Rename.Old)
			next[op.Rename.New] = target
		default:
			return fmt.Errorf("%w: actions[%d]: empty alias operation", ErrBadRequest, i)
		}
	}
	b := db.store.NewBatch()
	defer b.Close()
	for a := range db.aliases {
		if _, ok := next[a]; !ok {
			if err := b.Delete(aliasKey(a), nil); err != nil {
				return err
			}
		}
	}
	for a, c := range next {
		if db.aliases[a] != c {
			if err := b.Set(aliasKey(a), []byte(c), nil); err != nil {
				return err
			}
		}
	}
	if err := db.commit(b, pebble.Sync, true); err != nil {
		return err
	}
	db.aliases = next
	return nil
}

// ListAliases returns every alias (of collection when not empty), sorted by
// alias.
func (db *DB) ListAliases(ctx context.Context, collection string) (out []AliasDesc, err error) {
	ctx, op := db.tel.start(ctx, opListAliases, collection)
	defer func() { op.end(err, len(out)) }()
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if collection != "" {
		if !db.taken(collection) {
			return nil, fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, collection)
		}
	}
	for a, c := range db.aliases {
		if collection == "" || c == collection {
			out = append(out, AliasDesc{Alias: a, Collection: c})
		}
	}
	slices.SortFunc(out, func(a, b AliasDesc) int { return strings.Compare(a.Alias, b.Alias) })
	return out, nil
}

// encodeCollectionRecord encodes the collection record of FORMAT.md.
func encodeCollectionRecord(cid uint32, cfg CollectionConfig) ([]byte, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	b := append([]byte("QLCO"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], 1)
	b = binary.LittleEndian.AppendUint32(b, cid)
	b = binary.AppendUvarint(b, uint64(len(js)))
	b = append(b, js...)
	return binary.LittleEndian.AppendUint32(b, crc(b)), nil
}

// decodeCollectionRecord decodes a collection record. hasCID reports
// whether the collection id could be read, even when err is not nil.
func decodeCollectionRecord(b []byte) (cid uint32, hasCID bool, cfg CollectionConfig, err error) {
	body, err := checked(b, "collection record")
	if err != nil {
		return 0, false, cfg, err
	}
	if len(body) < 12 || string(body[:4]) != "QLCO" || binary.LittleEndian.Uint32(body[4:]) != 1 {
		return 0, false, cfg, fmt.Errorf("%w: collection record: bad header", ErrCorrupt)
	}
	cid = binary.LittleEndian.Uint32(body[8:])
	n, k := binary.Uvarint(body[12:])
	if k <= 0 || n != uint64(len(body)-12-k) {
		return cid, true, cfg, fmt.Errorf("%w: collection record: bad length", ErrCorrupt)
	}
	if err := json.Unmarshal(body[12+k:], &cfg); err != nil {
		return cid, true, CollectionConfig{}, fmt.Errorf("%w: collection record: %w", ErrCorrupt, err)
	}
	return cid, true, cfg, nil
}

// readAll returns the value at key, or nil when absent.
func readAll(r interface {
	Get([]byte) ([]byte, io.Closer, error)
}, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := bytes.Clone(v)
	return out, closer.Close()
}
