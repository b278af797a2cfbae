package engine

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	// snapMagic starts a points file. Version 2 ends the records with an
	// empty key and the point count, and its archive ends with
	// snapChecksums; version 1 (older qlite) has neither.
	snapMagic   = "QLSN\x02"
	snapMagicV1 = "QLSN\x01"
	// snapChecksums is the last entry of an archive: the SHA-256 of each
	// other entry.
	snapChecksums = "checksums.sha256"
	// snapSidecar ends the name of the file beside a snapshot that holds
	// its SHA-256 in hex, as Qdrant writes one.
	snapSidecar = ".checksum"

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
// An escaped name longer than a file name may be (maxFileName bytes) is
// cut, at an escape boundary, and followed by "%%" and a hash of the whole
// name: "%%" never appears in an escaped name, so the result names no other
// collection's directory.
func (db *DB) snapshotDir(coll string) string {
	esc := url.PathEscape(coll)
	if strings.HasPrefix(esc, ".") {
		esc = "%2E" + esc[1:]
	}
	if len(esc) > maxFileName {
		sum := sha256.Sum256([]byte(coll))
		tag := "%%" + hex.EncodeToString(sum[:8])
		cut := maxFileName - len(tag)
		for cut > 0 && (esc[cut-1] == '%' || (cut > 1 && esc[cut-2] == '%')) {
			cut--
		}
		esc = esc[:cut] + tag
	}
	return filepath.Join(db.SnapshotsDir(), esc)
}

// maxFileName is the longest file name, in bytes, of common file systems.
const maxFileName = 255

// snapshotBase returns the start of the file names of a collection's
// snapshots, COLL-KIND, with COLL cut (at a character boundary) so that
// the full name, BASE-DATE-N.snapshot.checksum, is a valid file name.
func snapshotBase(coll, kind string) string {
	const suffix = len("-2006-01-02-15-04-05") + len("-999999") + len(".snapshot") + len(snapSidecar)
	room := maxFileName - suffix - len(kind) - 1
	if len(coll) > room {
		cut := room
		for cut > 0 && !utf8.RuneStart(coll[cut]) {
			cut--
		}
		coll = coll[:cut]
	}
	return coll + "-" + kind
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
	return writeSnapshotFile(dir, snapshotBase(c.name, kind), func(w io.Writer, scratch string) error {
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
		_, err := os.Lstat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		if i > 999999 {
			return nil, fmt.Errorf("qlite: snapshot %s: too many snapshots in the same second", base)
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
	d, err := describeSnapshot(tmp.Name())
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name)
	if err := writeSidecar(path, d.Checksum); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	d.Name = name
	return d, nil
}

// writeSidecar writes the checksum file of the snapshot at path (see
// snapSidecar), through a temporary file renamed into place.
func writeSidecar(path, sum string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(sum)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path+snapSidecar)
}

// removeSnapshot deletes a snapshot file and its checksum file.
func removeSnapshot(path string) error {
	if err := os.Remove(path); err != nil {
		return err
	}
	if err := os.Remove(path + snapSidecar); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// writeSnapshot writes the tar archive of collection cid as of snap. Its
// scratch file goes in dir.
func writeSnapshot(ctx context.Context, w io.Writer, dir string, snap *pebble.Snapshot, cid uint32, cfg CollectionConfig) error {
	tw := newSumTar(w)
	if err := tw.addJSON(snapConfig, cfg); err != nil {
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
	if err := tw.addJSON(snapFields, fields); err != nil {
		return err
	}

	// Points: the size must be known before the tar header, so they are
	// spooled to a scratch file first.
	if err := tw.addSpooled(dir, snapPoints, func(w io.Writer) error {
		return writePoints(ctx, w, snap, cid)
	}); err != nil {
		return err
	}
	return tw.close()
}

// writePoints writes the points file of collection cid as of snap.
func writePoints(ctx context.Context, w io.Writer, snap *pebble.Snapshot, cid uint32) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.WriteString(snapMagic); err != nil {
		return err
	}
	it, err := newPointIter(snap, cid)
	if err != nil {
		return err
	}
	var lenBuf, recBuf []byte
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			it.Close()
			return ctx.Err()
		}
		val, err := it.Value()
		if err == nil && len(val) > 0 && val[0] == recordVersionSplit {
			// The store splits a point in two records; a snapshot holds it
			// whole, as version 1 or 2.
			var rec *record
			if rec, err = decodeRecord(val, it.Vectors()); err == nil {
				recBuf = appendRecord(recBuf[:0], rec)
				val = recBuf
			}
		}
		if err != nil {
			it.Close()
			return fmt.Errorf("point %x: %w", it.Key(), err)
		}
		for _, part := range [][]byte{it.Key(), val} {
			lenBuf = binary.AppendUvarint(lenBuf[:0], uint64(len(part)))
			bw.Write(lenBuf)
			bw.Write(part)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	// The end: an empty key, then the number of points.
	lenBuf = binary.AppendUvarint(binary.AppendUvarint(lenBuf[:0], 0), uint64(n))
	bw.Write(lenBuf)
	return bw.Flush()
}

// sumTar writes a tar archive whose last entry, snapChecksums, lists the
// SHA-256 of every other entry (in sha256sum's format), so that a reader
// can tell a whole archive from a truncated or altered one.
type sumTar struct {
	tw   *tar.Writer
	sums bytes.Buffer
}

func newSumTar(w io.Writer) *sumTar { return &sumTar{tw: tar.NewWriter(w)} }

// add adds a file.
func (t *sumTar) add(name string, data []byte) error {
	return t.addFrom(name, int64(len(data)), bytes.NewReader(data))
}

// addJSON adds a file holding v in JSON.
func (t *sumTar) addJSON(name string, v any) error {
	js, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.add(name, js)
}

// addFrom adds a file of size bytes read from r.
func (t *sumTar) addFrom(name string, size int64, r io.Reader) error {
	if err := t.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: time.Now()}); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(t.tw, h), r); err != nil {
		return err
	}
	fmt.Fprintf(&t.sums, "%x  %s\n", h.Sum(nil), name)
	return nil
}

// addSpooled adds a file as name: write writes it to a scratch file in dir
// first, since the tar header needs its size.
func (t *sumTar) addSpooled(dir, name string, write func(io.Writer) error) error {
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
	return t.addFrom(name, size, tmp)
}

// close adds the checksums entry and ends the archive.
func (t *sumTar) close() error {
	sums := slices.Clone(t.sums.Bytes())
	if err := t.tw.WriteHeader(&tar.Header{Name: snapChecksums, Mode: 0o644, Size: int64(len(sums)), ModTime: time.Now()}); err != nil {
		return err
	}
	if _, err := t.tw.Write(sums); err != nil {
		return err
	}
	return t.tw.Close()
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

// listedSnapshot describes the snapshot at path for a listing: its
// checksum comes from its sidecar file when it has one, so that a listing
// reads a few bytes a snapshot rather than every snapshot whole; a snapshot
// without one (written by an older version, or placed by hand) is hashed.
func listedSnapshot(path string) (*SnapshotDescription, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path + snapSidecar)
	if err != nil {
		return describeSnapshot(path)
	}
	defer f.Close()
	buf := make([]byte, 2*sha256.Size+2)
	n, _ := io.ReadFull(f, buf)
	sum := strings.TrimSpace(string(buf[:n]))
	if _, err := hex.DecodeString(sum); err != nil || len(sum) != 2*sha256.Size {
		return describeSnapshot(path)
	}
	return &SnapshotDescription{
		Name:         filepath.Base(path),
		CreationTime: info.ModTime().UTC(),
		Size:         info.Size(),
		Checksum:     strings.ToLower(sum),
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
		d, err := listedSnapshot(filepath.Join(dir, e.Name()))
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
	return removeSnapshot(path)
}

// DeleteShardSnapshot deletes a shard snapshot.
func (db *DB) DeleteShardSnapshot(ctx context.Context, coll, name string) (err error) {
	ctx, op := db.tel.start(ctx, opDeleteSnapshot, coll)
	defer func() { op.end(err, -1) }()
	path, err := db.ShardSnapshotPath(ctx, coll, name)
	if err != nil {
		return err
	}
	return removeSnapshot(path)
}

// RestoreSnapshot creates collection coll from a snapshot file (of this or
// another database): its configuration, field indexes and points. The
// collection must not exist (ErrConflict). Its graphs are built again by the
// optimizer. A snapshot that is not whole (truncated, altered) or not valid
// is refused with ErrBadRequest, and nothing is changed.
func (db *DB) RestoreSnapshot(ctx context.Context, path, coll string) (err error) {
	ctx, op := db.tel.start(ctx, opRecoverSnapshot, coll)
	defer func() { op.end(err, -1) }()
	return db.restoreSnapshot(ctx, path, coll, false)
}

// RecoverSnapshot restores collection coll from a snapshot file as
// RestoreSnapshot does, replacing a collection of that name if there is one
// (keeping its aliases). The replacement is atomic, also across a crash:
// until the restored collection is complete and verified, the old one is
// untouched; then one durable write swaps them.
func (db *DB) RecoverSnapshot(ctx context.Context, path, coll string) (err error) {
	ctx, op := db.tel.start(ctx, opRecoverSnapshot, coll)
	defer func() { op.end(err, -1) }()
	return db.restoreSnapshot(ctx, path, coll, true)
}

func (db *DB) restoreSnapshot(ctx context.Context, path, coll string, replace bool) error {
	if err := ValidateCollectionName(coll); err != nil {
		return err
	}
	if err := db.checkOpen(); err != nil {
		return err
	}
	if !replace {
		if ok, err := db.CollectionExists(ctx, coll); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%w: Collection `%s` already exists!", ErrConflict, coll)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := checkSidecar(path, f); err != nil {
		return err
	}
	c, err := db.stageSnapshot(ctx, f, coll, filepath.Base(path))
	if err != nil {
		return err
	}
	return db.commitStaged([]*collection{c}, restoreCommit{replace: replace})
}

// Bounds on what reading a snapshot allocates, whatever its headers say.
const (
	// snapMaxJSON bounds collection.json, fields.json and checksums.sha256.
	snapMaxJSON = 16 << 20
	// snapMaxPart bounds one point id or point record; memory for it is
	// allocated as its bytes arrive, never ahead from its length field.
	snapMaxPart = 256 << 20
	// snapBatchPoints and snapBatchBytes bound a batch of restored points.
	snapBatchPoints = 1024
	snapBatchBytes  = 32 << 20
)

// errSnapTruncated reports an archive that ends early.
var errSnapTruncated = errors.New("the snapshot is truncated or incomplete")

// stageSnapshot reads a collection snapshot archive from r (named name in
// errors) and returns it staged as collection coll (see restore.go): not
// visible until committed. It reads r once, streaming, with bounded
// buffers, and checks the archive's checksums when it has them.
func (db *DB) stageSnapshot(ctx context.Context, r io.Reader, coll, name string) (_ *collection, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: snapshot %s: %s", ErrBadRequest, name, fmt.Sprintf(format, args...))
	}
	var staged *collection
	defer func() {
		if err != nil && staged != nil {
			err = errors.Join(err, db.dropStaged(staged))
		}
	}()
	tr := tar.NewReader(r)
	var cfg *CollectionConfig
	var fields map[string]payload.IndexParams
	sums := map[string]string{}
	version := 0 // of the points file
	verified := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bad("%v", snapReadErr(err))
		}
		// Only the regular files qlite writes are read; a link or a
		// device entry is refused whatever its name, and nothing in the
		// archive is ever extracted to the file system.
		if h.Typeflag != tar.TypeReg {
			return nil, bad("entry %q is not a regular file", h.Name)
		}
		if verified {
			return nil, bad("entry %q after %s", h.Name, snapChecksums)
		}
		if _, dup := sums[h.Name]; dup {
			return nil, bad("entry %q twice", h.Name)
		}
		hash := sha256.New()
		body := io.TeeReader(tr, hash)
		switch h.Name {
		case snapConfig:
			data, err := readSnapEntry(body, h)
			if err != nil {
				return nil, bad("%s: %v", h.Name, err)
			}
			var c CollectionConfig
			if err := json.Unmarshal(data, &c); err != nil {
				return nil, bad("%s: %v", h.Name, err)
			}
			if err := c.Validate(); err != nil {
				return nil, bad("%s: %v", h.Name, cfgDetail(err))
			}
			cfg = &c
		case snapFields:
			data, err := readSnapEntry(body, h)
			if err != nil {
				return nil, bad("%s: %v", h.Name, err)
			}
			if err := json.Unmarshal(data, &fields); err != nil {
				return nil, bad("%s: %v", h.Name, err)
			}
			if fields == nil {
				fields = map[string]payload.IndexParams{}
			}
		case snapPoints:
			if cfg == nil || fields == nil {
				return nil, bad("points before the configuration")
			}
			if staged, err = db.stageCollection(coll, *cfg); err != nil {
				return nil, err
			}
			for key, p := range fields {
				js, err := checkFieldIndex(key, p)
				if err != nil {
					return nil, bad("%s: %v", snapFields, err)
				}
				if _, err := staged.fieldIndexOp(key, &p, js, nil); err != nil {
					return nil, err
				}
			}
			if version, err = staged.restorePoints(ctx, bufio.NewReaderSize(body, 1<<20)); err != nil {
				if fe := (*snapFormatError)(nil); errors.As(err, &fe) {
					return nil, bad("%v", fe)
				}
				return nil, err
			}
		case snapChecksums:
			data, err := readSnapEntry(body, h)
			if err != nil {
				return nil, bad("%s: %v", h.Name, err)
			}
			if err := checkSums(data, sums); err != nil {
				return nil, bad("%v", err)
			}
			verified = true
			continue
		}
		// Read what is left of the entry (all of an unknown one), for its
		// checksum.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return nil, bad("%s: %v", h.Name, snapReadErr(err))
		}
		sums[h.Name] = hex.EncodeToString(hash.Sum(nil))
	}
	if staged == nil {
		return nil, bad("no points file")
	}
	if version >= 2 && !verified {
		return nil, bad("%v: no %s", errSnapTruncated, snapChecksums)
	}
	return staged, nil
}

// snapReadErr names an early end of the archive as such.
func snapReadErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w (%v)", errSnapTruncated, err)
	}
	return err
}

// readSnapEntry reads a small entry whole: at most snapMaxJSON bytes.
func readSnapEntry(r io.Reader, h *tar.Header) ([]byte, error) {
	if h.Size > snapMaxJSON {
		return nil, fmt.Errorf("%d bytes, at most %d are allowed", h.Size, snapMaxJSON)
	}
	data, err := io.ReadAll(io.LimitReader(r, snapMaxJSON))
	if err != nil {
		return nil, snapReadErr(err)
	}
	return data, nil
}

// checkSums compares a checksums entry with the checksums of the entries
// read: each must be listed, with its checksum.
func checkSums(data []byte, got map[string]string) error {
	listed := map[string]string{}
	for line := range strings.Lines(string(data)) {
		sum, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "  ")
		if !ok || len(sum) != 64 {
			return fmt.Errorf("%s: bad line %q", snapChecksums, line)
		}
		listed[name] = sum
	}
	for name, sum := range got {
		want, ok := listed[name]
		if !ok {
			return fmt.Errorf("%s: entry %q is not listed", snapChecksums, name)
		}
		if want != sum {
			return fmt.Errorf("entry %q: checksum mismatch: the snapshot is damaged", name)
		}
		delete(listed, name)
	}
	for name := range listed {
		return fmt.Errorf("%v: entry %q is missing", errSnapTruncated, name)
	}
	return nil
}

// checkSidecar verifies a snapshot file against the SHA-256 of its sidecar
// file PATH.checksum, when there is one (as Qdrant writes beside its
// snapshots). f is left at its start.
func checkSidecar(path string, f *os.File) error {
	want, err := os.ReadFile(path + snapSidecar)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(string(want)) {
		return fmt.Errorf("%w: snapshot %s: checksum mismatch with %s: the file is damaged", ErrBadRequest, filepath.Base(path), filepath.Base(path)+snapSidecar)
	}
	return nil
}

// checkFieldIndex validates a field index definition and returns its stored
// form.
func checkFieldIndex(field string, params payload.IndexParams) ([]byte, error) {
	if _, err := payload.ParsePath(field); err != nil {
		return nil, fmt.Errorf("%w: field_name: %w", ErrBadRequest, err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("%w: field_schema: %w", ErrBadRequest, err)
	}
	if _, err := payload.NewIndex(params); err != nil {
		return nil, fmt.Errorf("%w: field_schema: %w", ErrBadRequest, err)
	}
	js, err := params.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append([]byte{1}, js...), nil
}

// restorePoints writes the records of a points file to the (staged)
// collection in batches, and returns the file's version.
func (c *collection) restorePoints(ctx context.Context, r *bufio.Reader) (int, error) {
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(r, magic); err != nil {
		return 0, snapPointsErr("", err)
	}
	version := 0
	switch string(magic) {
	case snapMagic:
		version = 2
	case snapMagicV1:
		version = 1
	default:
		return 0, snapFormatErr("points file: bad header")
	}
	var buf []byte
	readPart := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > snapMaxPart {
			return nil, snapFormatErr("points file: a record of %d bytes, at most %d are allowed", n, snapMaxPart)
		}
		// Grow as the bytes arrive: a length field alone never makes a
		// large allocation.
		buf = buf[:0]
		for len(buf) < int(n) {
			chunk := min(int(n)-len(buf), 1<<20)
			buf = slices.Grow(buf, chunk)
			k, err := io.ReadFull(r, buf[len(buf):len(buf)+chunk])
			buf = buf[:len(buf)+k]
			if err != nil {
				return nil, io.ErrUnexpectedEOF
			}
		}
		return buf, nil
	}
	var batch []Point
	batchBytes := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		_, err := c.write([]Operation{{Upsert: &UpsertOp{Points: batch, stored: true}}}, true)
		batch, batchBytes = batch[:0], 0
		return err
	}
	count := uint64(0)
	for {
		key, err := readPart()
		if err == io.EOF && version == 1 {
			break
		}
		if err != nil {
			return 0, snapPointsErr("", err)
		}
		if len(key) == 0 && version >= 2 {
			n, err := binary.ReadUvarint(r)
			if err != nil {
				return 0, snapPointsErr("", err)
			}
			if n != count {
				return 0, snapFormatErr("points file: %d points, its end says %d", count, n)
			}
			if _, err := r.ReadByte(); err != io.EOF {
				return 0, snapFormatErr("points file: bytes after its end")
			}
			break
		}
		id, rest, err := decodeIDKey(key)
		if err != nil || len(rest) != 0 {
			return 0, snapFormatErr("points file: bad point id %x", key)
		}
		val, err := readPart()
		if err != nil {
			return 0, snapPointsErr("point "+id.String()+": ", err)
		}
		// Snapshots hold whole records (version 1 or 2).
		rec, err := decodeRecord(val, nil)
		if err == nil && val[0] == recordVersionSplit {
			err = errors.New("a point record without its vectors")
		}
		if err != nil {
			return 0, snapFormatErr("points file: point %s: %v", id, err)
		}
		count++
		batch = append(batch, c.recordPoint(id, rec))
		if batchBytes += len(val); len(batch) == snapBatchPoints || batchBytes >= snapBatchBytes {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	return version, flush()
}

// snapFormatError is a snapshot that is not as qlite writes them.
type snapFormatError struct{ msg string }

func (e *snapFormatError) Error() string { return e.msg }

func snapFormatErr(format string, args ...any) error {
	return &snapFormatError{fmt.Sprintf(format, args...)}
}

// snapPointsErr is the error of reading the points file: a snapFormatError
// for an early end, else err.
func snapPointsErr(where string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return snapFormatErr("%v (points file: %s%v)", errSnapTruncated, where, err)
	}
	return err
}

// recordPoint returns a stored point version as a point to write: the
// multivectors, stored back to back, as Multi.
func (c *collection) recordPoint(id PointID, rec *record) Point {
	p := Point{ID: id, Vectors: rec.vectors, Sparse: sparseFromSegment(rec.sparse), Payload: rec.payload}
	params := c.config().Params.Vectors
	for name, v := range rec.vectors {
		if vp := params[name]; vp.IsMulti() {
			if p.Multi == nil {
				p.Multi = map[string][][]float32{}
				p.Vectors = maps.Clone(rec.vectors)
			}
			p.Multi[name] = splitMulti(v, int(vp.Size))
			delete(p.Vectors, name)
		}
	}
	return p
}
