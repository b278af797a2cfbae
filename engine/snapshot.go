package engine

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qlite/qlite/payload"
)

// SnapshotDescription describes a collection snapshot file.
type SnapshotDescription struct {
	Name         string
	CreationTime time.Time
	Size         int64
	// Checksum is the SHA-256 of the file, in hex.
	Checksum string
}

// Files inside a snapshot (a tar archive; see segment/FORMAT.md).
const (
	snapConfig = "collection.json"
	snapFields = "fields.json"
	snapPoints = "points.qlrec"
	snapMagic  = "QLSN\x01"

	// snapTempDir, under the snapshots directory, holds files being
	// written. Its name cannot be a collection's: collection directories
	// are escaped and never start with ".".
	snapTempDir = ".tmp"
)

// SnapshotsDir is the directory under which the database keeps its
// snapshots (<dir>/snapshots), one subdirectory per collection. A server
// built on the engine reads snapshot files only from inside it.
func (db *DB) SnapshotsDir() string { return filepath.Join(db.dir, "snapshots") }

// snapshotDir is the directory of a collection's snapshots. Names are
// escaped so that "." and ".." stay inside snapshots/.
func (db *DB) snapshotDir(coll string) string {
	esc := url.PathEscape(coll)
	if strings.HasPrefix(esc, ".") {
		esc = "%2E" + esc[1:]
	}
	return filepath.Join(db.SnapshotsDir(), esc)
}

// shardSnapshotDir is the directory of the snapshots of a collection's
// shard 0 (the only one).
func (db *DB) shardSnapshotDir(coll string) string {
	return filepath.Join(db.snapshotDir(coll), "shards", "0")
}

// CreateSnapshotTemp creates an empty temporary file for a snapshot being
// received (an upload or a download), inside the snapshots directory so
// that nothing is written outside the database's directory. The caller
// removes it.
func (db *DB) CreateSnapshotTemp() (*os.File, error) {
	dir := filepath.Join(db.SnapshotsDir(), snapTempDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, "upload-*.snapshot")
}

// CreateSnapshot writes a point-in-time copy of a collection (its
// configuration, field indexes and points) to a new file under the
// database's snapshots directory. Writes continue meanwhile; the snapshot
// holds exactly the writes acknowledged before it started.
func (db *DB) CreateSnapshot(ctx context.Context, coll string) (_ *SnapshotDescription, err error) {
	ctx, op := db.tel.start(ctx, opCreateSnapshot, coll)
	defer func() { op.end(err, -1) }()
	return db.createSnapshot(ctx, coll, false)
}

// CreateShardSnapshot writes a snapshot of the collection's shard (qlite
// collections have one, shard 0). It has the collection snapshot's content
// and format, but is kept apart, as Qdrant keeps shard snapshots, in
// snapshots/NAME/shards/0, named NAME-shard-0-DATE.snapshot.
func (db *DB) CreateShardSnapshot(ctx context.Context, coll string) (_ *SnapshotDescription, err error) {
	ctx, op := db.tel.start(ctx, opCreateSnapshot, coll)
	defer func() { op.end(err, -1) }()
	return db.createSnapshot(ctx, coll, true)
}

func (db *DB) createSnapshot(ctx context.Context, coll string, shard bool) (*SnapshotDescription, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	c.wmu.Lock()
	if c.deleted {
		c.wmu.Unlock()
		return nil, fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, c.name)
	}
	snap := db.store.NewSnapshot()
	cfg := *c.config()
	c.wmu.Unlock()
	defer snap.Close()

	dir, kind := db.snapshotDir(c.name), "0"
	if shard {
		dir, kind = db.shardSnapshotDir(c.name), "shard-0"
	}
	return writeSnapshotFile(dir, c.name+"-"+kind, func(w io.Writer, scratch string) error {
		return writeSnapshot(ctx, w, scratch, snap, c.cid, cfg)
	})
}

// writeSnapshotFile writes a new snapshot file BASE-DATE.snapshot in dir
// (created when missing) with write, through a temporary file renamed
// into place once complete, so that a listed snapshot is always whole.
func writeSnapshotFile(dir, base string, write func(w io.Writer, scratch string) error) (*SnapshotDescription, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base += "-" + time.Now().UTC().Format("2006-01-02-15-04-05")
	name := base + ".snapshot"
	for i := 1; ; i++ {
		if _, err := os.Lstat(filepath.Join(dir, name)); errors.Is(err, os.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s-%d.snapshot", base, i)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp, dir); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	return describeSnapshot(path)
}

// writeSnapshot writes the tar archive of collection cid as of snap. Its
// scratch file goes in dir.
func writeSnapshot(ctx context.Context, w io.Writer, dir string, snap *pebble.Snapshot, cid uint32, cfg CollectionConfig) error {
	tw := tar.NewWriter(w)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Now()}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := add(snapConfig, js); err != nil {
		return err
	}
	fields := map[string]json.RawMessage{}
	prefix := famPrefix(cid, famIndex)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if v := it.Value(); len(v) > 1 {
			fields[string(it.Key()[len(prefix):])] = slices.Clone(v[1:])
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	if js, err = json.Marshal(fields); err != nil {
		return err
	}
	if err := add(snapFields, js); err != nil {
		return err
	}

	// Points: the size must be known before the tar header, so they are
	// spooled to a scratch file first.
	if err := addSpooled(tw, dir, snapPoints, func(w io.Writer) error {
		return writePoints(ctx, w, snap, cid)
	}); err != nil {
		return err
	}
	return tw.Close()
}

// writePoints writes the points file of collection cid as of snap.
func writePoints(ctx context.Context, w io.Writer, snap *pebble.Snapshot, cid uint32) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.WriteString(snapMagic); err != nil {
		return err
	}
	prefix := famPrefix(cid, famPoint)
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	var lenBuf []byte
	n := 0
	for it.First(); it.Valid(); it.Next() {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			it.Close()
			return ctx.Err()
		}
		for _, part := range [][]byte{it.Key()[len(prefix):], it.Value()} {
			lenBuf = binary.AppendUvarint(lenBuf[:0], uint64(len(part)))
			bw.Write(lenBuf)
			bw.Write(part)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// addSpooled adds a file to tw as name: write writes it to a scratch file in
// dir first, since the tar header needs its size.
func addSpooled(tw *tar.Writer, dir, name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := write(tmp); err != nil {
		return err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: time.Now()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, tmp)
	return err
}

func describeSnapshot(path string) (*SnapshotDescription, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return &SnapshotDescription{
		Name:         filepath.Base(path),
		CreationTime: info.ModTime().UTC(),
		Size:         info.Size(),
		Checksum:     hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// ListSnapshots lists a collection's snapshots, oldest first.
func (db *DB) ListSnapshots(ctx context.Context, coll string) (out []SnapshotDescription, err error) {
	ctx, op := db.tel.start(ctx, opListSnapshots, coll)
	defer func() { op.end(err, len(out)) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	return listSnapshots(db.snapshotDir(c.name))
}

// ListShardSnapshots lists the snapshots of a collection's shard, oldest
// first.
func (db *DB) ListShardSnapshots(ctx context.Context, coll string) (out []SnapshotDescription, err error) {
	ctx, op := db.tel.start(ctx, opListSnapshots, coll)
	defer func() { op.end(err, len(out)) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	return listSnapshots(db.shardSnapshotDir(c.name))
}

// listSnapshots describes the snapshot files of dir (regular files named
// *.snapshot), oldest first; none when dir does not exist.
func listSnapshots(dir string) ([]SnapshotDescription, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return []SnapshotDescription{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []SnapshotDescription{}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".snapshot") {
			continue
		}
		d, err := describeSnapshot(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b SnapshotDescription) int {
		if c := a.CreationTime.Compare(b.CreationTime); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// snapshotFileName reports whether name can name a snapshot file: a plain
// file name, no path in it.
func snapshotFileName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, `/\`+"\x00")
}

// snapshotIn returns the regular file name in dir, if it is a snapshot
// (named *.snapshot: files being written are not); a symbolic link, a
// directory or anything else is not a snapshot.
func snapshotIn(dir, name string) (string, bool) {
	path := filepath.Join(dir, name)
	if !strings.HasSuffix(name, ".snapshot") {
		return path, false
	}
	info, err := os.Lstat(path)
	return path, err == nil && info.Mode().IsRegular()
}

// SnapshotPath returns the file of a collection's snapshot, for download.
// A name is a file name in the collection's snapshots directory: one with a
// path separator, or that names anything but a regular file there (a
// symbolic link, a directory), is not found. As in Qdrant, a collection
// that never had a snapshot has no snapshots directory, and the error says
// so.
func (db *DB) SnapshotPath(ctx context.Context, coll, name string) (string, error) {
	c, err := db.collection(coll)
	if err != nil {
		return "", err
	}
	dir := db.snapshotDir(c.name)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return "", fmt.Errorf("%w: Snapshot directory: %s not found", ErrNotFound, dir)
	}
	notFound := fmt.Errorf("%w: Snapshot %s not found", ErrNotFound, name)
	if !snapshotFileName(name) {
		return "", notFound
	}
	path, ok := snapshotIn(dir, name)
	if !ok {
		return "", notFound
	}
	return path, nil
}

// errSnapshotFile is the error for a shard snapshot name that is a file
// name but names no snapshot: it is ErrNotFound and fs.ErrNotExist (Qdrant
// answers a download with its I/O error, a delete with the path).
type errSnapshotFile struct{ path string }

func (e *errSnapshotFile) Error() string {
	return fmt.Sprintf("%v: Snapshot %q not found", ErrNotFound, e.path)
}

func (e *errSnapshotFile) Unwrap() []error { return []error{ErrNotFound, os.ErrNotExist} }

// ShardSnapshotPath returns the file of a shard snapshot. A name with a
// path in it is not found; a file name that names no snapshot is not found
// with an error that is also fs.ErrNotExist and names the path.
func (db *DB) ShardSnapshotPath(ctx context.Context, coll, name string) (string, error) {
	c, err := db.collection(coll)
	if err != nil {
		return "", err
	}
	if !snapshotFileName(name) {
		return "", fmt.Errorf("%w: Snapshot %s not found", ErrNotFound, name)
	}
	path, ok := snapshotIn(db.shardSnapshotDir(c.name), name)
	if !ok {
		return "", &errSnapshotFile{path}
	}
	return path, nil
}

// DeleteSnapshot deletes a collection's snapshot.
func (db *DB) DeleteSnapshot(ctx context.Context, coll, name string) (err error) {
	ctx, op := db.tel.start(ctx, opDeleteSnapshot, coll)
	defer func() { op.end(err, -1) }()
	path, err := db.SnapshotPath(ctx, coll, name)
	if err != nil {
		return err
	}
	return os.Remove(path)
}

// DeleteShardSnapshot deletes a shard snapshot.
func (db *DB) DeleteShardSnapshot(ctx context.Context, coll, name string) (err error) {
	ctx, op := db.tel.start(ctx, opDeleteSnapshot, coll)
	defer func() { op.end(err, -1) }()
	path, err := db.ShardSnapshotPath(ctx, coll, name)
	if err != nil {
		return err
	}
	return os.Remove(path)
}

// RestoreSnapshot creates collection coll from a snapshot file (of this or
// another database): its configuration, field indexes and points. The
// collection must not exist. Its graphs are built again by the optimizer.
func (db *DB) RestoreSnapshot(ctx context.Context, path, coll string) (err error) {
	ctx, op := db.tel.start(ctx, opRecoverSnapshot, coll)
	defer func() { op.end(err, -1) }()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: snapshot %s: %s", ErrBadRequest, filepath.Base(path), fmt.Sprintf(format, args...))
	}
	tr := tar.NewReader(f)
	var cfg *CollectionConfig
	var fields map[string]payload.IndexParams
	created := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("%v", err)
		}
		// Only the regular files qlite writes are read; a link or a
		// device entry is refused whatever its name, and nothing in the
		// archive is ever extracted to the file system.
		if h.Typeflag != tar.TypeReg {
			return bad("entry %q is not a regular file", h.Name)
		}
		switch h.Name {
		case snapConfig:
			var c CollectionConfig
			if err := json.NewDecoder(tr).Decode(&c); err != nil {
				return bad("%s: %v", h.Name, err)
			}
			if err := c.Validate(); err != nil {
				return bad("%s: %v", h.Name, cfgDetail(err))
			}
			cfg = &c
		case snapFields:
			if err := json.NewDecoder(tr).Decode(&fields); err != nil {
				return bad("%s: %v", h.Name, err)
			}
		case snapPoints:
			if cfg == nil || fields == nil {
				return bad("points before the configuration")
			}
			if err := db.createRestored(ctx, coll, *cfg, fields); err != nil {
				return err
			}
			created = true
			if err := db.restorePoints(ctx, coll, bufio.NewReaderSize(tr, 1<<20)); err != nil {
				return errors.Join(bad("%v", err), db.dropRestored(ctx, coll))
			}
		}
	}
	if !created {
		return bad("no points file")
	}
	return nil
}

func (db *DB) createRestored(ctx context.Context, coll string, cfg CollectionConfig, fields map[string]payload.IndexParams) error {
	if err := ValidateCollectionName(coll); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	db.mu.Lock()
	if db.taken(coll) {
		db.mu.Unlock()
		return fmt.Errorf("%w: Collection `%s` already exists!", ErrConflict, coll)
	}
	cid := db.nextCID
	rec, err := encodeCollectionRecord(cid, cfg)
	if err == nil {
		b := db.store.NewBatch()
		b.Set(collectionKey(coll), rec, nil)
		b.Set([]byte{keyNextCID}, binary.LittleEndian.AppendUint32(nil, cid+1), nil)
		err = b.Commit(pebble.Sync)
		b.Close()
	}
	if err != nil {
		db.mu.Unlock()
		return err
	}
	db.nextCID = cid + 1
	c, err := newCollection(db, coll, cid, cfg)
	if err != nil {
		db.mu.Unlock()
		return err
	}
	db.colls[coll] = c
	db.mu.Unlock()
	for key, p := range fields {
		if _, err := db.CreateFieldIndex(ctx, coll, key, p, nil); err != nil {
			return errors.Join(err, db.dropRestored(ctx, coll))
		}
	}
	return nil
}

func (db *DB) dropRestored(ctx context.Context, coll string) error {
	_, err := db.DeleteCollection(ctx, coll)
	return err
}

// restorePoints upserts the records of a points file in batches.
func (db *DB) restorePoints(ctx context.Context, coll string, r *bufio.Reader) error {
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != snapMagic {
		return fmt.Errorf("points file: bad header")
	}
	readPart := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > 1<<30 {
			return nil, fmt.Errorf("points file: record of %d bytes", n)
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	var batch []Point
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := db.Upsert(ctx, coll, &UpsertOp{Points: batch}, &WriteOptions{Wait: true})
		batch = batch[:0]
		return err
	}
	for {
		key, err := readPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		val, err := readPart()
		if err != nil {
			return fmt.Errorf("points file: truncated: %w", err)
		}
		id, rest, err := decodeIDKey(key)
		if err != nil || len(rest) != 0 {
			return fmt.Errorf("points file: bad point id %x", key)
		}
		rec, err := decodeRecord(val)
		if err != nil {
			return fmt.Errorf("point %s: %w", id, err)
		}
		batch = append(batch, Point{ID: id, Vectors: rec.vectors, Payload: rec.payload})
		if len(batch) == 1024 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
