package engine

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// bigPayload is point i's payload: an unindexed tag (i % 10) and a text
// of textLen bytes that names i.
func bigPayload(i, textLen int) payload.Value {
	head := fmt.Sprintf("point %d ", i)
	return obj("tag", i%10, "text", head+strings.Repeat(string(rune('a'+i%26)), textLen-len(head)))
}

// fillBig creates collection "c" with on_disk_payload onDisk and n points
// of bigPayload, sealed by the optimizer.
func fillBig(t testing.TB, db *DB, onDisk bool, n, textLen int) {
	t.Helper()
	require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
		Vectors:       VectorsConfig{"": {Size: 4, Distance: distance.Euclid}},
		OnDiskPayload: &onDisk,
	}))
	const batch = 500
	for from := 0; from < n; from += batch {
		pts := make([]Point, 0, batch)
		for i := from; i < min(n, from+batch); i++ {
			f := float32(i)
			pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": {f, -f, 1, 2}},
				Payload: bigPayload(i, textLen)})
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	require.NoError(t, db.Optimize(bg, "c"))
}

// readAllPayloads reads every payload (a scroll with payloads) and
// filters on the unindexed tag (a count and a filtered search), checking
// the answers against bigPayload.
func readAllPayloads(t testing.TB, db *DB, n, textLen int) {
	t.Helper()
	var off *PointID
	seen := 0
	for {
		res, err := db.Scroll(bg, "c", &ScrollRequest{Offset: off, Limit: 500, WithPayload: AllPayload})
		require.NoError(t, err)
		for _, r := range res.Points {
			num, _ := r.ID.Num()
			i := int(num)
			require.True(t, payload.Equal(bigPayload(i, textLen), r.Payload), "payload of %d", i)
			seen++
		}
		if res.NextPageOffset == nil {
			break
		}
		off = res.NextPageOffset
	}
	require.Equal(t, n, seen)
	f := mustFilter(t, `{"must":[{"key":"tag","match":{"value":3}}]}`)
	cnt, err := db.Count(bg, "c", f, true)
	require.NoError(t, err)
	require.Equal(t, (n+6)/10, cnt)
	hits, err := db.Search(bg, "c", &SearchRequest{Vector: []float32{0, 0, 1, 2}, Filter: f, Limit: 3, Exact: true, WithPayload: AllPayload})
	require.NoError(t, err)
	require.Len(t, hits, 3)
	for k, h := range hits {
		require.Equal(t, numID(uint64(3+10*k)), h.ID)
		require.True(t, payload.Equal(bigPayload(3+10*k, textLen), h.Payload))
	}
}

// TestPayloadsOnDiskHeap stores 40 MB of payloads in a collection and
// reads each of them (with_payload, and a filter on an unindexed field)
// after a reopen. With on_disk_payload the heap grows by far less than
// the payloads, the payload cache stays within PayloadCacheBytes and the
// segments report no payload memory; with payloads in RAM the heap holds
// all of them. The other memory the DB holds (Pebble's block cache and
// memtable, slot and id maps) is bounded by the options and the point
// count, not by the payload bytes.
func TestPayloadsOnDiskHeap(t *testing.T) {
	const (
		n, textLen = 10000, 4000
		payloads   = n * textLen
		cacheBytes = 1 << 20
	)
	opts := func() *Options {
		o := testOpts()
		o.CacheSize = 1 << 20
		o.PayloadCacheBytes = cacheBytes
		return o
	}
	for _, onDisk := range []bool{true, false} {
		t.Run(fmt.Sprint("on_disk_payload=", onDisk), func(t *testing.T) {
			if onDisk && payloadsInRAM {
				t.Skip("QLITE_PAYLOADS_IN_RAM=1 keeps every payload in memory")
			}
			dir := t.TempDir()
			db := openTestDB(t, dir, opts())
			fillBig(t, db, onDisk, n, textLen)
			closeChecked(t, db)

			before := heapInuse()
			db = openTestDB(t, dir, opts())
			readAllPayloads(t, db, n, textLen)
			grown := heapInuse() - before
			info, err := db.CollectionInfo(bg, "c")
			require.NoError(t, err)
			t.Logf("%d MB of payloads read: HeapInuse grew by %.1f MiB; segments report %d payload bytes; cache holds %d bytes",
				payloads/1000000, float64(grown)/mib, info.Memory.Payloads, db.pcache.bytes())
			if onDisk {
				require.Zero(t, info.Memory.Payloads)
				require.LessOrEqual(t, db.pcache.bytes(), int64(cacheBytes))
				require.Positive(t, db.pcache.bytes())
				// The payload cache (1 MiB), Pebble's block cache (1 MiB)
				// and memtable, and the slot and id maps of 10000 points.
				require.Less(t, grown, int64(8*mib), "payloads stay in the store")
			} else {
				require.Greater(t, grown, int64(payloads*8/10), "payloads are held in memory")
				require.GreaterOrEqual(t, info.Memory.Payloads, int64(payloads))
			}
			runtime.KeepAlive(db)
		})
	}
}

// BenchmarkPayloads compares payloads on disk with payloads in RAM: a
// filtered search on an unindexed field (which reads the payloads of the
// points it considers), and the retrieval of 10 points with their
// payloads. 20000 points of about 1 KB of payload, 5 times the default
// payload cache. Compare with
// benchstat -col /on_disk_payload.
func BenchmarkPayloads(b *testing.B) {
	const n, textLen = 20000, 1000
	for _, onDisk := range []bool{false, true} {
		b.Run(fmt.Sprint("on_disk_payload=", onDisk), func(b *testing.B) {
			db := openTestDB(b, b.TempDir(), testOpts())
			fillBig(b, db, onDisk, n, textLen)
			f := mustFilter(b, `{"must":[{"key":"tag","match":{"value":3}}]}`)
			b.Run("op=filtered_search", func(b *testing.B) {
				b.ReportAllocs()
				q := []float32{0, 0, 1, 2}
				for i := 0; b.Loop(); i++ {
					q[0], q[1] = float32(i%n), -float32(i%n)
					hits, err := db.Search(bg, "c", &SearchRequest{Vector: q, Filter: f, Limit: 10})
					if err != nil || len(hits) == 0 {
						b.Fatal(err, len(hits))
					}
				}
			})
			b.Run("op=get_with_payload", func(b *testing.B) { benchGetWithPayload(b, db, n) })
		})
	}
}

// TestDecodeRecordPayload reads the payload and operation id of records
// as appendRecord (whole points, versions 1 and 2) and appendPointRecord
// (version 3) write them, and refuses every truncation of one.
func TestDecodeRecordPayload(t *testing.T) {
	f := func(r *record) {
		t.Helper()
		whole := appendRecord(nil, r)
		split, n := appendPointRecord(nil, r)
		require.Equal(t, len(r.payload.AppendBinary(nil)), n)
		for _, b := range [][]byte{whole, split} {
			decodePayloadOf(t, r, b, n)
		}
	}
	f(&record{op: 1, vectors: map[string][]float32{}, payload: obj("a", 1)})
	f(&record{op: 7, vectors: map[string][]float32{"": {1, 2}, "img": {3, 4, 5}}, payload: bigPayload(3, 100)})
	f(&record{op: 1 << 40, vectors: map[string][]float32{"x": {1}}})
	f(&record{op: 9, vectors: map[string][]float32{"": {1}}, payload: obj("s", "t"),
		sparse: map[string]segment.SparseVector{"a": {Indices: []uint32{1, 7}, Values: []float32{0.5, 2}}, "b": {}}})
}

// decodePayloadOf checks the payload decoding of b, an encoding of r whose
// payload takes n bytes.
func decodePayloadOf(t *testing.T, r *record, b []byte, n int) {
	t.Helper()
	p, op, got, err := decodeRecordPayload(b, nil)
	require.NoError(t, err)
	require.Equal(t, r.op, op)
	require.Equal(t, n, got)
	require.True(t, payload.Equal(r.payload, p), "%v", p)
	// Only the fields asked for, when keys are given.
	part, _, _, err := decodeRecordPayload(b, []string{"tag", "s"})
	require.NoError(t, err)
	want := map[string]payload.Value{}
	for _, f := range r.payload.Fields() {
		if f.Key == "tag" || f.Key == "s" {
			want[f.Key] = f.Value
		}
	}
	require.Len(t, part.Fields(), len(want))
	for _, f := range part.Fields() {
		require.True(t, payload.Equal(want[f.Key], f.Value), "field %s", f.Key)
	}
	for i := range b {
		_, _, _, err := decodeRecordPayload(b[:i], nil)
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", i)
	}
}

// TestPayloadCacheBound fills the cache past its bound: it keeps the
// most recently used entries, within the bound, and never one larger than
// the whole cache.
func TestPayloadCacheBound(t *testing.T) {
	pc := newPayloadCache(8 << 10)
	key := func(i int) payloadKey { return payloadKey{cid: 1, id: numID(uint64(i)), op: 1} }
	for i := range 100 {
		pc.add(key(i), bigPayload(i, 500), 520)
		require.LessOrEqual(t, pc.bytes(), int64(8<<10))
		_, ok := pc.get(key(0)) // kept: used after every add
		require.True(t, ok, "after %d adds", i)
	}
	_, ok := pc.get(key(1))
	require.False(t, ok, "the least recently used are evicted")
	p, ok := pc.get(key(99))
	require.True(t, ok)
	require.True(t, payload.Equal(bigPayload(99, 500), p))
	pc.add(key(1000), bigPayload(1000, 9<<10), 9<<10)
	_, ok = pc.get(key(1000))
	require.False(t, ok, "larger than the cache")
}

// TestPayloadsBetweenCommitAndApply reads, between a write's commit and
// its apply, the points it replaces and deletes: readers still see the
// versions before the batch, payloads included, although the store holds
// the new ones (the cache holds nothing, so every read goes to the store).
func TestPayloadsBetweenCommitAndApply(t *testing.T) {
	o := testOpts()
	o.PayloadCacheBytes = 1
	db := openTestDB(t, t.TempDir(), o)
	createColl(t, db, "c", 2, distance.Euclid, 1)
	pts := []Point{
		{ID: numID(1), Vectors: map[string][]float32{"": {1, 0}}, Payload: obj("v", "old1")},
		{ID: numID(2), Vectors: map[string][]float32{"": {0, 1}}, Payload: obj("v", "old2")},
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	c, err := db.collection("c")
	require.NoError(t, err)
	old := mustFilter(t, `{"must":[{"key":"v","match":{"any":["old1","old2"]}}]}`)
	check := func(want ...string) {
		t.Helper()
		recs, err := db.Get(bg, "c", []PointID{numID(1), numID(2)}, &ReadOptions{WithPayload: AllPayload})
		require.NoError(t, err)
		require.Len(t, recs, len(want))
		for i, r := range recs {
			require.True(t, payload.Equal(obj("v", want[i]), r.Payload), "point %v: %v", r.ID, r.Payload)
		}
		n, err := db.Count(bg, "c", old, true)
		require.NoError(t, err)
		require.Equal(t, len(want), n, "points matching the old payloads")
	}
	called := false
	c.afterCommit = func() { called = true; check("old1", "old2") }
	_, err = db.BatchUpdate(bg, "c", []Operation{
		{Upsert: &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 1}}, Payload: obj("v", "new1")}}}},
		{Delete: &Selector{IDs: []PointID{numID(2)}}},
	}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	require.True(t, called)
	c.afterCommit = nil
	recs, err := db.Get(bg, "c", []PointID{numID(1), numID(2)}, &ReadOptions{WithPayload: AllPayload})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.True(t, payload.Equal(obj("v", "new1"), recs[0].Payload))
}

// TestPayloadReadFailure corrupts the stored record of a point whose
// payload is on disk (the cache holds nothing): every read that needs that
// payload (retrieval, a filter no index answers, in a search, a count, a
// scroll, a facet-free update's read of the old payload) fails with
// ErrCorrupt instead of reading it as null, and the update writes nothing.
func TestPayloadReadFailure(t *testing.T) {
	if payloadsInRAM {
		t.Skip("QLITE_PAYLOADS_IN_RAM=1 keeps every payload in memory")
	}
	o := testOpts()
	o.PayloadCacheBytes = 1
	db := openTestDB(t, t.TempDir(), o)
	createColl(t, db, "c", 2, distance.Euclid, 1)
	var pts []Point
	for i := range 600 {
		pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": {float32(i), 1}}, Payload: obj("tag", i%3)})
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	require.NoError(t, db.Optimize(bg, "c"))
	f := mustFilter(t, `{"must":[{"key":"tag","match":{"value":1}}]}`)
	n, err := db.Count(bg, "c", f, true)
	require.NoError(t, err)
	require.Equal(t, 200, n)

	c, err := db.collection("c")
	require.NoError(t, err)
	key := pointKey(c.cid, numID(301))
	v, closer, err := db.store.Get(key)
	require.NoError(t, err)
	orig, bad := slices.Clone(v), slices.Clone(v)
	closer.Close()
	bad[len(bad)-6] ^= 0x40 // in the payload, under the record's checksum
	require.NoError(t, db.store.Set(key, bad, pebble.Sync))

	_, err = db.Get(bg, "c", []PointID{numID(301)}, &ReadOptions{WithPayload: AllPayload})
	require.ErrorIs(t, err, ErrCorrupt, "get")
	_, err = db.Scroll(bg, "c", &ScrollRequest{Limit: 1000, WithPayload: AllPayload})
	require.ErrorIs(t, err, ErrCorrupt, "scroll with payload")
	_, err = db.Scroll(bg, "c", &ScrollRequest{Limit: 1000, Filter: f})
	require.ErrorIs(t, err, ErrCorrupt, "scroll with a filter")
	_, err = db.Count(bg, "c", f, true)
	require.ErrorIs(t, err, ErrCorrupt, "count")
	for _, exact := range []bool{true, false} {
		_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{301, 1}, Filter: f, Limit: 5, Exact: exact})
		require.ErrorIs(t, err, ErrCorrupt, "search, exact %v", exact)
	}
	_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: obj("x", 1), Selector: Selector{IDs: []PointID{numID(301)}}}, &WriteOptions{Wait: true})
	require.ErrorIs(t, err, ErrCorrupt, "set payload")
	after, closer, err := db.store.Get(key)
	require.NoError(t, err)
	require.Equal(t, bad, after, "the failed update wrote nothing")
	closer.Close()

	// Reads that do not need that payload still work.
	recs, err := db.Get(bg, "c", []PointID{numID(302)}, &ReadOptions{WithPayload: AllPayload})
	require.NoError(t, err)
	require.True(t, payload.Equal(obj("tag", 2), recs[0].Payload))
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{301, 1}, Limit: 5})
	require.NoError(t, err)

	// Put the record back so that the cleanup's invariant check passes.
	require.NoError(t, db.store.Set(key, orig, pebble.Sync))
}

// TestOnDiskPayloadUpdate changes on_disk_payload of a collection: as in
// Qdrant, existing segments keep their payload storage and the segments
// the optimizer builds afterwards (and, in qlite, every segment on
// reopening) take the new one; the payloads read back the same throughout.
func TestOnDiskPayloadUpdate(t *testing.T) {
	if payloadsInRAM {
		t.Skip("QLITE_PAYLOADS_IN_RAM=1 keeps every payload in memory")
	}
	const n, textLen = 1000, 100
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	thr := 1 // KB: every optimization seals and indexes
	require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: 4, Distance: distance.Euclid}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
	})) // on_disk_payload unset: true, as in Qdrant
	payloadMem := func() int64 {
		t.Helper()
		info, err := db.CollectionInfo(bg, "c")
		require.NoError(t, err)
		return info.Memory.Payloads
	}
	setOnDisk := func(v bool) {
		t.Helper()
		require.NoError(t, db.UpdateCollection(bg, "c", &UpdateCollection{Params: &CollectionParamsDiff{OnDiskPayload: &v}}))
		info, err := db.CollectionInfo(bg, "c")
		require.NoError(t, err)
		require.Equal(t, v, info.Config.Params.OnDiskPayload)
	}
	upsert := func(from, to int) {
		t.Helper()
		var pts []Point
		for i := from; i < to; i++ {
			pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": {float32(i), -float32(i), 1, 2}}, Payload: bigPayload(i, textLen)})
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	upsert(0, n)
	require.NoError(t, db.Optimize(bg, "c"))
	require.Zero(t, payloadMem())
	setOnDisk(false)
	require.Zero(t, payloadMem(), "existing segments keep their storage")
	upsert(n, n+150)
	require.Zero(t, payloadMem(), "the appendable segment keeps its storage")
	require.NoError(t, db.Optimize(bg, "c")) // seals it: the next one is new
	upsert(n+150, n+300)
	require.Positive(t, payloadMem(), "a segment made since keeps its payloads in memory")
	readAllPayloads(t, db, n+300, textLen)

	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	inRAM := payloadMem()
	require.Greater(t, inRAM, int64((n+300)*textLen), "reopened with every payload in memory")
	readAllPayloads(t, db, n+300, textLen)

	setOnDisk(true)
	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	require.Zero(t, payloadMem())
	readAllPayloads(t, db, n+300, textLen)
}
