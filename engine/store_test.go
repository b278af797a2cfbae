package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// diskFullRun drives a database through a full disk. Each step checks what
// must hold whatever the file system: writes fail fast with a clear error,
// reads and Health go on.
type diskFullRun struct {
	t    *testing.T
	db   *DB
	want int // points acknowledged
	next uint64
}

func (r *diskFullRun) upsert() error {
	var pts []Point
	for range 200 {
		v := make([]float32, 16)
		v[r.next%16] = 1
		pts = append(pts, Point{ID: numID(r.next), Vectors: map[string][]float32{"": v}, Payload: obj("pad", strings.Repeat("x", 200))})
		r.next++
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			r.want += len(pts)
		}
		return err
	case <-time.After(time.Minute):
		r.t.Fatal("a write on a full disk did not return")
		return nil
	}
}

// readsWork checks that the acknowledged points are all there, by count and
// by search.
func (r *diskFullRun) readsWork() {
	r.t.Helper()
	n, err := r.db.Count(bg, "c", nil, true)
	require.NoError(r.t, err)
	require.Equal(r.t, r.want, n)
	q := make([]float32, 16)
	q[3] = 1
	res, err := r.db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 3})
	require.NoError(r.t, err)
	require.Len(r.t, res, min(3, r.want))
}

// fillUntil upserts until a write fails, and returns its error.
func (r *diskFullRun) fillUntil() error {
	for range 10000 {
		if err := r.upsert(); err != nil {
			return err
		}
	}
	r.t.Fatal("the disk never filled")
	return nil
}

func newDiskFullRun(t *testing.T, dir string, o *Options) *diskFullRun {
	db, err := Open(dir, o)
	require.NoError(t, err)
	createColl(t, db, "c", 16, distance.Dot, 0)
	return &diskFullRun{t: t, db: db}
}

// reopen closes the database (within a bounded time) and opens it again:
// every acknowledged write is there.
func (r *diskFullRun) reopen(dir string, o *Options) {
	r.t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.db.Close() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		r.t.Fatal("Close on a full disk did not return")
	}
	db, err := Open(dir, o)
	require.NoError(r.t, err)
	r.db = db
	r.readsWork()
	r.t.Cleanup(func() { closeChecked(r.t, db) })
}

// On a fault-injecting file system: a nearly full disk refuses writes with
// ErrNoSpace before the store sees them; reads and Health go on; writes
// resume once space is freed. A write that still meets ENOSPC in the store
// fails the store (ErrStoreFailed) instead of hanging it: reads go on,
// Health says so, Close returns, and a reopen has every acknowledged write.
func TestDiskFullInjected(t *testing.T) {
	mem := vfs.NewMem()
	plenty := vfs.DiskUsage{AvailBytes: 1 << 30, TotalBytes: 1 << 30}
	mem.TestingSetDiskUsage(plenty)
	var enospc atomic.Bool
	fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if enospc.Load() && op.Kind == errorfs.OpFileWrite {
			return syscall.ENOSPC
		}
		return nil
	}))
	dir := t.TempDir()
	o := testOpts()
	o.fs, o.DiskReserve = fs, 1<<20
	r := newDiskFullRun(t, dir, o)
	require.NoError(t, r.upsert())

	mem.TestingSetDiskUsage(vfs.DiskUsage{AvailBytes: 900 << 10, TotalBytes: 1 << 30})
	require.ErrorIs(t, r.upsert(), ErrNoSpace)
	require.ErrorIs(t, r.db.CreateCollection(bg, "d", &CreateCollection{Vectors: VectorsConfig{"": {Size: 2, Distance: distance.Dot}}}), ErrNoSpace)
	r.readsWork()
	require.NoError(t, r.db.Health(bg))
	mem.TestingSetDiskUsage(plenty)
	require.NoError(t, r.upsert())
	r.readsWork()

	// A fresh memtable, so that the failing write does not also rotate the
	// log: Pebble panics when it cannot close a log it rotates away from.
	require.NoError(t, r.db.store.Flush())
	enospc.Store(true)
	err := r.upsert()
	require.ErrorIs(t, err, ErrStoreFailed)
	require.Contains(t, err.Error(), "no space left on device")
	r.readsWork()
	require.ErrorIs(t, r.db.Health(bg), ErrStoreFailed)
	require.ErrorIs(t, r.upsert(), ErrStoreFailed, "later writes fail at once")
	enospc.Store(false)
	r.reopen(dir, o)
	require.NoError(t, r.upsert())
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory, or skips the
// test when it cannot (not root, or no right to mount).
func mountTmpfs(t *testing.T, size string) string {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestDiskFullInjected covers the engine's side")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs (%v); TestDiskFullInjected covers the engine's side", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// On a real full file system (a small tmpfs): with the reserve, writes are
// refused with ErrNoSpace, reads go on, and writes resume once space is
// freed; without it, Pebble meets ENOSPC in its log and the store fails
// (ErrStoreFailed) rather than hanging, and a reopen once space is freed has
// every acknowledged write.
func TestDiskFullTmpfs(t *testing.T) {
	mnt := mountTmpfs(t, "32m")
	dir := filepath.Join(mnt, "db")
	// Other data on the disk, deleted later to free space.
	other := filepath.Join(mnt, "other")
	require.NoError(t, os.WriteFile(other, make([]byte, 8<<20), 0o644))
	o := testOpts()
	o.DiskReserve = 4 << 20
	r := newDiskFullRun(t, dir, o)
	createColl(t, r.db, "d", 2, distance.Dot, 0)
	err := r.fillUntil()
	require.ErrorIs(t, err, ErrNoSpace)
	t.Logf("refused after %d points: %v", r.want, err)
	r.readsWork()
	require.NoError(t, r.db.Health(bg))
	// Another process takes the reserve: still refused, still no failure.
	// Pebble's background work may free space (obsolete logs and tables)
	// between the fill and the write, and a write that then fits is
	// rightly accepted: fill again until the disk stays full.
	var fillers []string
	for i := range 5 {
		filler := filepath.Join(mnt, fmt.Sprintf("filler-%d", i))
		fillers = append(fillers, filler)
		fill(t, filler)
		if err = r.upsert(); err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrNoSpace)
	r.readsWork()
	_, err = r.db.DeleteCollection(bg, "d")
	require.NoError(t, err, "deleting a collection on a full disk")
	for _, f := range fillers {
		require.NoError(t, os.Remove(f))
	}
	require.NoError(t, os.Remove(other))
	require.NoError(t, r.upsert(), "space freed: writes succeed")
	r.readsWork()

	// No reserve: the store itself meets ENOSPC.
	require.NoError(t, r.db.Close())
	o.DiskReserve = -1
	db, err := Open(dir, o)
	require.NoError(t, err)
	r.db = db
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	err = r.fillUntil()
	require.ErrorIs(t, err, ErrStoreFailed)
	t.Logf("store failed after %d points: %v", r.want, err)
	r.readsWork()
	require.ErrorIs(t, r.db.Health(bg), ErrStoreFailed)
	require.NoError(t, os.Remove(filler))
	r.reopen(dir, o)
	require.NoError(t, r.upsert())
}

// fill writes a file at path until the file system is full.
func fill(t *testing.T, path string) {
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return
		}
	}
}

// Health fails while a write lock is held past its deadline, and recovers
// once it is released.
func TestHealthLocks(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 2, distance.Dot, 0)
	require.NoError(t, db.Health(bg))
	c := db.colls["c"]
	c.wmu.Lock()
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	err := db.Health(ctx)
	cancel()
	require.ErrorIs(t, err, ErrUnhealthy)
	require.Contains(t, err.Error(), "collection c")
	// While the first probe still waits, the next fails at once.
	require.ErrorIs(t, db.Health(bg), ErrUnhealthy)
	c.wmu.Unlock()
	require.Eventually(t, func() bool { return db.Health(bg) == nil }, 10*time.Second, time.Millisecond)
	db.mu.Lock()
	ctx, cancel = context.WithTimeout(bg, 50*time.Millisecond)
	err = db.Health(ctx)
	cancel()
	db.mu.Unlock()
	require.ErrorIs(t, err, ErrUnhealthy)
	require.NoError(t, db.Close())
	require.ErrorIs(t, db.Health(bg), ErrClosed)
}
