package engine

import (
	"bytes"
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// Payloads on disk (on_disk_payload). A segment of a collection with
// on_disk_payload keeps no payload values: it reads a slot's payload from
// the point record in the store, through the database's payload cache.
// Point versions are immutable, so a cached payload never goes stale; an
// entry of a replaced version is simply never asked for again and ages out.
//
// A write commits its batch before it applies it to the segments (under
// collection.rw), so between the two a reader can see a slot whose record
// the store has already replaced or deleted. The write keeps the payloads
// of the versions it replaces in collection.retiring from before the commit
// until the batch is applied, and the source answers from there.

// payloadKey names a point version of a collection.
type payloadKey struct {
	cid uint32
	id  PointID
	op  uint64
}

// entryOverhead is what a cache entry costs beside its payload: the list
// element, the map entry and the key.
const entryOverhead = 160

// payloadCache is a least-recently-used cache of decoded payloads, bounded
// by their estimated size in bytes. It is shared by the collections of a
// DB and safe for concurrent use.
type payloadCache struct {
	// mu guards every field below.
	mu   sync.Mutex
	max  int64
	used int64
	lru  list.List // of *cacheEntry, most recently used first
	m    map[payloadKey]*list.Element
	per  map[uint32]*PayloadCacheStats // by collection id
}

// PayloadCacheStats describes a collection's share of the payload cache
// (Options.PayloadCacheBytes), which serves the point lookups of payloads
// on disk: the bytes its cached payloads hold (estimated, as the cache
// bound counts them) and, since the DB opened, the lookups the cache
// answered (Hits) and those it sent to the store (Misses). Scans read
// payloads in batches, past the cache, and are not counted.
type PayloadCacheStats struct {
	Bytes, Hits, Misses int64
}

type cacheEntry struct {
	key  payloadKey
	p    payload.Value
	size int64
}

func newPayloadCache(maxBytes int64) *payloadCache {
	return &payloadCache{max: maxBytes, m: map[payloadKey]*list.Element{}, per: map[uint32]*PayloadCacheStats{}}
}

// statsOf returns the stats of collection cid. The caller holds pc.mu.
func (pc *payloadCache) statsOf(cid uint32) *PayloadCacheStats {
	st := pc.per[cid]
	if st == nil {
		st = &PayloadCacheStats{}
		pc.per[cid] = st
	}
	return st
}

// stats returns collection cid's share of the cache.
func (pc *payloadCache) stats(cid uint32) PayloadCacheStats {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if st := pc.per[cid]; st != nil {
		return *st
	}
	return PayloadCacheStats{}
}

func (pc *payloadCache) get(k payloadKey) (payload.Value, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.m[k]
	if !ok {
		pc.statsOf(k.cid).Misses++
		return payload.Value{}, false
	}
	pc.statsOf(k.cid).Hits++
	pc.lru.MoveToFront(e)
	return e.Value.(*cacheEntry).p, true
}

// add caches p, decoded from encoded bytes of payload, under k, evicting
// the least recently used entries to stay within the bound. A payload
// larger than the whole cache is not kept. The size counted is the
// decoded value's plus the encoding's (the decoded strings share one copy
// of it).
func (pc *payloadCache) add(k payloadKey, p payload.Value, encoded int) {
	size := entryOverhead + payload.ValueSize + p.MemoryBytes() + int64(encoded)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if size > pc.max {
		return
	}
	if _, ok := pc.m[k]; ok {
		return
	}
	for pc.used+size > pc.max {
		last := pc.lru.Back()
		ce := last.Value.(*cacheEntry)
		pc.lru.Remove(last)
		delete(pc.m, ce.key)
		pc.used -= ce.size
		pc.statsOf(ce.key.cid).Bytes -= ce.size
	}
	pc.m[k] = pc.lru.PushFront(&cacheEntry{key: k, p: p, size: size})
	pc.used += size
	pc.statsOf(k.cid).Bytes += size
}

// bytes returns the estimated bytes the cached payloads hold.
func (pc *payloadCache) bytes() int64 {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.used
}

// retiring holds the payloads of the versions a write is replacing or
// deleting, from before its commit until it is applied.
type retiring struct {
	// mu guards m.
	mu sync.Mutex
	m  map[payloadKey]payload.Value
}

func (r *retiring) get(k payloadKey) (payload.Value, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.m[k]
	return p, ok
}

func (r *retiring) put(k payloadKey, p payload.Value) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[payloadKey]payload.Value{}
	}
	r.m[k] = p
}

func (r *retiring) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.m)
}

// payloadsInRAM makes every collection keep its payloads in memory,
// whatever its on_disk_payload: tests set it (QLITE_PAYLOADS_IN_RAM=1) to
// run the package's tests in both modes.
var payloadsInRAM bool

// diskPayloads is the segment.PayloadSource of a collection whose
// payloads are on disk.
type diskPayloads struct{ c *collection }

// payloadSource returns the payload source of the collection's new
// segments: nil (payloads in memory) unless on_disk_payload is set.
func (c *collection) payloadSource() segment.PayloadSource {
	if payloadsInRAM || !c.config().Params.OnDiskPayload {
		return nil
	}
	return diskPayloads{c}
}

// LoadPayload returns the payload of version op of point id: from the
// cache, else from the point record (and caches it), else, for a version a
// write in flight is replacing, from collection.retiring.
func (d diskPayloads) LoadPayload(id PointID, op uint64) (payload.Value, bool, error) {
	c := d.c
	k := payloadKey{c.cid, id, op}
	if p, ok := c.db.pcache.get(k); ok {
		return p, true, nil
	}
	v, closer, err := c.db.store.Get(pointKey(c.cid, id))
	if errors.Is(err, pebble.ErrNotFound) {
		p, ok := c.retiring.get(k)
		return p, ok, nil
	}
	if err != nil {
		return payload.Value{}, false, fmt.Errorf("%w: point %v: read payload: %w", ErrStoreFailed, id, err)
	}
	p, recOp, enc, err := decodeRecordPayload(v, nil)
	closer.Close()
	if err != nil {
		return payload.Value{}, false, fmt.Errorf("point %v: %w", id, err)
	}
	if recOp != op {
		p, ok := c.retiring.get(k)
		return p, ok, nil
	}
	c.db.pcache.add(k, p, enc)
	return p, true, nil
}

// LoadPayloads reads the payloads of many point versions, for a scan: with
// one store iterator, in key order, decoding only the fields named in keys
// (all when keys is nil). Neighbouring keys, the common case of a scan,
// are reached by stepping the iterator rather than seeking it. It neither
// consults nor fills the cache: the values are partial, and a scan would
// evict the payloads of point lookups.
func (d diskPayloads) LoadPayloads(refs []segment.PayloadRef, keys []string, dst []payload.Value) error {
	if len(refs) == 0 {
		return nil
	}
	c := d.c
	type pending struct {
		key []byte
		i   int
	}
	todo := make([]pending, len(refs))
	prefix := famPrefix(c.cid, famPoint)
	kbuf := make([]byte, 0, len(refs)*(len(prefix)+17))
	for i, r := range refs {
		start := len(kbuf)
		kbuf = appendIDKey(append(kbuf, prefix...), r.ID)
		todo[i] = pending{kbuf[start:len(kbuf):len(kbuf)], i}
	}
	if !slices.IsSortedFunc(todo, func(a, b pending) int { return bytes.Compare(a.key, b.key) }) {
		slices.SortFunc(todo, func(a, b pending) int { return bytes.Compare(a.key, b.key) })
	}
	it, err := c.db.store.NewIter(&pebble.IterOptions{LowerBound: todo[0].key, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("%w: read payloads: %w", ErrStoreFailed, err)
	}
	var arena []payload.Field
	if keys != nil {
		arena = make([]payload.Field, 0, len(refs)*len(keys))
	}
	valid := false
	for _, t := range todo {
		r := refs[t.i]
		// Step forward a few keys before falling back to a seek.
		found := false
		for step := 0; ; step++ {
			if !valid || step == 4 {
				valid = it.SeekGE(t.key)
				found = valid && bytes.Equal(it.Key(), t.key)
				break
			}
			cmp := bytes.Compare(it.Key(), t.key)
			if cmp >= 0 {
				found = cmp == 0
				break
			}
			valid = it.Next()
		}
		if !found {
			if err := it.Error(); err != nil {
				break
			}
			dst[t.i], _ = c.retiring.get(payloadKey{c.cid, r.ID, r.Version})
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return fmt.Errorf("%w: point %v: read payload: %w", ErrStoreFailed, r.ID, err)
		}
		var p payload.Value
		var op uint64
		if keys == nil {
			p, op, _, err = decodeRecordPayload(v, nil)
		} else {
			p, op, arena, err = decodeRecordFields(arena, v, keys)
		}
		if err != nil {
			it.Close()
			return fmt.Errorf("point %v: %w", r.ID, err)
		}
		if op != r.Version {
			p, _ = c.retiring.get(payloadKey{c.cid, r.ID, r.Version})
		}
		dst[t.i] = p
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return fmt.Errorf("%w: read payloads: %w", ErrStoreFailed, err)
	}
	return nil
}

// decodeRecordPayload decodes the operation id and payload of a point
// record, skipping its vectors, and the length of the encoded payload:
// the whole payload with keys nil, else only the top-level fields named in
// keys. The payload does not alias b.
func decodeRecordPayload(b []byte, keys []string) (payload.Value, uint64, int, error) {
	enc, op, err := recordPayloadBytes(b)
	if err != nil {
		return payload.Value{}, 0, 0, err
	}
	var p payload.Value
	if keys == nil {
		p, err = payload.DecodeBinary(enc)
	} else {
		p, err = payload.DecodeBinaryFields(enc, keys)
	}
	if err != nil {
		return payload.Value{}, 0, 0, fmt.Errorf("%w: point record: %w", ErrCorrupt, err)
	}
	return p, op, len(enc), nil
}

// decodeRecordFields is decodeRecordPayload for the fields named in keys,
// decoded into arena (see payload.AppendBinaryFields).
func decodeRecordFields(arena []payload.Field, b []byte, keys []string) (payload.Value, uint64, []payload.Field, error) {
	enc, op, err := recordPayloadBytes(b)
	if err != nil {
		return payload.Value{}, 0, arena, err
	}
	p, arena, err := payload.AppendBinaryFields(arena, enc, keys)
	if err != nil {
		return payload.Value{}, 0, arena, fmt.Errorf("%w: point record: %w", ErrCorrupt, err)
	}
	return p, op, arena, nil
}

// recordPayloadBytes checks a point record and returns its operation id
// and encoded payload (aliasing b).
func recordPayloadBytes(b []byte) ([]byte, uint64, error) {
	rest, op, version, err := recordBody(b)
	if err != nil {
		return nil, 0, err
	}
	if version != recordVersionSplit {
		if rest, err = skipVectors(rest); err != nil {
			return nil, 0, err
		}
	}
	if version != recordVersion {
		if rest, err = skipSparse(rest); err != nil {
			return nil, 0, err
		}
	}
	enc, err := recordTail(rest)
	return enc, op, err
}

// skipVectors returns what follows the vector part of a record.
func skipVectors(b []byte) ([]byte, error) {
	n, b, err := vectorCount(b)
	if err != nil {
		return nil, err
	}
	for range n {
		var dim uint64
		if _, dim, b, err = vectorHeader(b); err != nil {
			return nil, err
		}
		b = b[4*dim:]
	}
	return b, nil
}

// skipSparse returns what follows the sparse vector part of a record.
func skipSparse(b []byte) ([]byte, error) {
	bad := func(what string) ([]byte, error) {
		return nil, fmt.Errorf("%w: sparse vectors: %s", ErrCorrupt, what)
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return bad("count")
	}
	b = b[k:]
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return bad("name")
		}
		b = b[k+int(l):]
		nnz, k := binary.Uvarint(b)
		if k <= 0 || nnz > uint64(len(b)-k)/8 {
			return bad("length")
		}
		b = b[k+8*int(nnz):]
	}
	return b, nil
}
