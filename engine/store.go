package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Storage faults. Pebble cannot recover from a failed write to its log: it
// calls its logger's Fatalf ("the commit pipeline will be horked"), and a
// process that goes on afterwards finds every later commit blocked. So the
// engine keeps the log from failing for want of space, and treats a failure
// it could not prevent as the end of the store's life in this process:
//
//   - Before a commit that adds data, the file system's free space is
//     checked: less than Options.DiskReserve left after the batch fails the
//     write with ErrNoSpace, before Pebble sees it. Deletes are not checked,
//     so that space can be freed. Reads never touch the disk check.
//   - Pebble's Fatalf (storeLogger) marks the store failed and ends the
//     goroutine that called it (runtime.Goexit: its deferred calls run,
//     nothing panics). Commits run on a goroutine of their own (commit), so
//     a failed commit returns ErrStoreFailed to its writer; a background
//     job of Pebble's just stops. From then on every write fails at once
//     without entering Pebble, while reads, served from memory, go on, and
//     Health reports the failure. Reopening the directory recovers: Pebble's
//     log ends at the last whole, synced batch.

// storeLogger is Pebble's logger: informational messages are dropped
// (errors reach callers through return values), Fatalf fails the store.
type storeLogger struct{ h *storeHealth }

func (storeLogger) Infof(string, ...any)  {}
func (storeLogger) Errorf(string, ...any) {}
func (l storeLogger) Fatalf(format string, args ...any) {
	l.h.fail(fmt.Errorf(format, args...))
	runtime.Goexit()
}

// commit commits b through the storage fault checks above. With check, the
// batch adds data and must leave Options.DiskReserve free.
func (db *DB) commit(b *pebble.Batch, o *pebble.WriteOptions, check bool) error {
	if err := db.storeErr(); err != nil {
		return err
	}
	if check {
		if err := db.checkSpace(int64(b.Len())); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() {
		committed := false
		defer func() {
			if !committed { // Fatalf ended this goroutine
				errc <- db.storeErr()
			}
		}()
		err := b.Commit(o)
		committed = true
		errc <- err
	}()
	return <-errc
}

// rotateLog flushes the memtable, which starts a new log. Pebble's log
// writer keeps every block it ever queued on a free list of its own until
// the log is closed, so the list is as long as the deepest queue of
// batches not yet written: a seal's unsynced artefact chunks, committed
// back to back, leave megabytes of it for as long as the log lives. Closed,
// the writer hands its blocks to Pebble's pool, which two collections
// empty. A seal calls it once its segment is committed; the flush writes
// at most one memtable that would otherwise be written later. A failure is
// left to the next write to report.
func (db *DB) rotateLog() {
	if db.storeErr() != nil {
		return
	}
	done := make(chan struct{})
	go func() { // Fatalf ends this goroutine (see commit)
		defer close(done)
		_ = db.store.Flush()
	}()
	<-done
}

// set stores one key through commit.
func (db *DB) set(key, value []byte, check bool) error {
	b := db.store.NewBatch()
	defer b.Close()
	if err := b.Set(key, value, nil); err != nil {
		return err
	}
	return db.commit(b, pebble.Sync, check)
}

// storeHealth is the state of the store.
type storeHealth struct {
	// failed is the first fatal store error; nil while the store works.
	failed atomic.Pointer[error]
	// probe is set while a Health probe waits for the catalog lock.
	probe atomic.Bool
}

// fail marks the store failed with err (the first error stays).
func (h *storeHealth) fail(err error) {
	err = fmt.Errorf("%w: %v", ErrStoreFailed, err)
	h.failed.CompareAndSwap(nil, &err)
}

// storeErr returns the store's failure, nil while it works.
func (db *DB) storeErr() error {
	if p := db.health.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// checkSpace fails with ErrNoSpace when writing n more bytes would leave
// less than the reserve free on the database's file system.
func (db *DB) checkSpace(n int64) error {
	reserve := db.opts.DiskReserve
	if reserve < 0 {
		return nil
	}
	u, err := db.opts.fs.GetDiskUsage(filepath.Join(db.dir, "pebble"))
	if err != nil {
		return nil // not known: not checked
	}
	free := u.AvailBytes
	if free < uint64(reserve+n) {
		return fmt.Errorf("%w: %d bytes free on the file system of %s, a write of %d bytes must leave %d", ErrNoSpace, free, db.dir, n, reserve)
	}
	return nil
}

// Health reports whether the database can make progress: it is open
// (ErrClosed), its store has not failed (ErrStoreFailed), and the locks a
// write takes (the catalog's, and each collection's write lock) can be taken
// before ctx is done (ErrUnhealthy). A full disk is not a failure: reads
// work, and writes resume once space is freed. A lock held past ctx's end by
// a write stuck in I/O counts until it is released; while it is, Health
// fails at once, leaving one waiter on that lock, never more.
func (db *DB) Health(ctx context.Context) error {
	if err := db.checkOpen(); err != nil {
		return err
	}
	if err := db.storeErr(); err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultHealthTimeout)
		defer cancel()
	}
	if !probeLock(ctx, db.mu.RLocker(), &db.health.probe) {
		return fmt.Errorf("%w: the catalog lock is held past the deadline", ErrUnhealthy)
	}
	db.mu.RLock()
	colls := make([]*collection, 0, len(db.colls))
	for _, c := range db.colls {
		colls = append(colls, c)
	}
	db.mu.RUnlock()
	for _, c := range colls {
		if !probeLock(ctx, &c.wmu, &c.probe) {
			return fmt.Errorf("%w: collection %s: the write lock is held past the deadline", ErrUnhealthy, c.name)
		}
	}
	return nil
}

// defaultHealthTimeout bounds Health when ctx has no deadline.
const defaultHealthTimeout = 5 * time.Second

// probeLock reports whether l can be taken (and is then released at once)
// before ctx is done. The waiting is done by a goroutine that ends when it
// gets the lock; pending, set while one waits, keeps it to one per lock: a
// lock whose earlier probe still waits is reported stuck at once.
func probeLock(ctx context.Context, l sync.Locker, pending *atomic.Bool) bool {
	if !pending.CompareAndSwap(false, true) {
		return false
	}
	done := make(chan struct{})
	go func() {
		l.Lock()
		l.Unlock()
		pending.Store(false)
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// CloseWithin closes the database as Close does, but gives up after d (Close
// then goes on, on its own goroutine): for a process that must stop in time.
// Acknowledged writes are durable either way; the next Open recovers.
func (db *DB) CloseWithin(d time.Duration) error {
	return within(d, db.Close)
}

// failedCloseWait bounds how long Close waits for the optimizer and the
// store after the store failed.
const failedCloseWait = 5 * time.Second

// within runs f and returns its error, or gives up after d (f goes on, on
// its own goroutine, and its result is dropped).
func within(d time.Duration, f func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-errc:
		return err
	case <-t.C:
		return fmt.Errorf("qlite: gave up waiting after %v", d)
	}
}
