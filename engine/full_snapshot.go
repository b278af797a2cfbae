package engine

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Full-storage snapshots (see segment/FORMAT.md, "Full snapshots") are
// files full-snapshot-DATE.snapshot directly in the snapshots directory: a
// tar archive of a manifest (full.json) and one collection snapshot per
// collection, all taken at the same instant, with the aliases.

const (
	fullManifest = "full.json"
	fullCollDir  = "collections/"
	// fullVersion 2 adds the checksums entry at the end; version 1 is
	// still read.
	fullVersion = 2
)

// fullManifestV1 is the content of full.json.
type fullManifestV1 struct {
	Version     int                 `json:"version"`
	Collections []fullManifestEntry `json:"collections"`
	Aliases     []fullManifestAlias `json:"aliases"`
}

type fullManifestEntry struct {
	Name string `json:"name"`
	File string `json:"file"`
}

type fullManifestAlias struct {
	Alias      string `json:"alias"`
	Collection string `json:"collection"`
}

// CreateFullSnapshot writes a snapshot of every collection and alias, all as
// of one instant, to a new file in the snapshots directory.
func (db *DB) CreateFullSnapshot(ctx context.Context) (_ *SnapshotDescription, err error) {
	ctx, op := db.tel.start(ctx, opCreateSnapshot, "")
	defer func() { op.end(err, -1) }()
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	db.mu.RLock()
	colls := make([]*collection, 0, len(db.colls))
	for _, c := range db.colls {
		colls = append(colls, c)
	}
	db.mu.RUnlock()
	slices.SortFunc(colls, func(a, b *collection) int { return strings.Compare(a.name, b.name) })

	// Hold every collection's write lock (in name order) while the store
	// snapshot is taken, so that it holds, for each collection, exactly the
	// writes acknowledged before.
	type entry struct {
		c   *collection
		cfg CollectionConfig
	}
	var live []entry
	for _, c := range colls {
		c.wmu.Lock()
	}
	snap := db.store.NewSnapshot()
	for _, c := range colls {
		if !c.deleted {
			live = append(live, entry{c, *c.config()})
		}
	}
	for _, c := range slices.Backward(colls) {
		c.wmu.Unlock()
	}
	defer snap.Close()
	db.mu.RLock()
	man := fullManifestV1{Version: fullVersion, Collections: []fullManifestEntry{}, Aliases: []fullManifestAlias{}}
	names := map[string]bool{}
	for i, e := range live {
		man.Collections = append(man.Collections, fullManifestEntry{Name: e.c.name, File: fmt.Sprintf("%s%d.snapshot", fullCollDir, i)})
		names[e.c.name] = true
	}
	for a, c := range db.aliases {
		if names[c] {
			man.Aliases = append(man.Aliases, fullManifestAlias{Alias: a, Collection: c})
		}
	}
	db.mu.RUnlock()
	slices.SortFunc(man.Aliases, func(a, b fullManifestAlias) int { return strings.Compare(a.Alias, b.Alias) })

	// As Qdrant, which snapshots each collection into its own snapshots
	// directory first, every collection then has a snapshots directory.
	for _, e := range live {
		if err := os.MkdirAll(db.snapshotDir(e.c.name), 0o755); err != nil {
			return nil, err
		}
	}
	return writeSnapshotFile(db.SnapshotsDir(), "full-snapshot", func(w io.Writer, scratch string) error {
		tw := newSumTar(w)
		if err := tw.addJSON(fullManifest, man); err != nil {
			return err
		}
		for i, e := range live {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := tw.addSpooled(scratch, man.Collections[i].File, func(w io.Writer) error {
				return writeSnapshot(ctx, w, scratch, snap, e.c.cid, e.cfg)
			}); err != nil {
				return fmt.Errorf("collection %s: %w", e.c.name, err)
			}
		}
		return tw.close()
	})
}

// ListFullSnapshots lists the full-storage snapshots, oldest first.
func (db *DB) ListFullSnapshots(ctx context.Context) (out []SnapshotDescription, err error) {
	ctx, op := db.tel.start(ctx, opListSnapshots, "")
	defer func() { op.end(err, len(out)) }()
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	return listSnapshots(db.SnapshotsDir())
}

// FullSnapshotPath returns the file of a full-storage snapshot. A name with
// a path in it, or that names anything but a regular snapshot file in the
// snapshots directory, is not found.
func (db *DB) FullSnapshotPath(ctx context.Context, name string) (string, error) {
	if err := db.checkOpen(); err != nil {
		return "", err
	}
	if snapshotFileName(name) {
		if path, ok := snapshotIn(db.SnapshotsDir(), name); ok {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: Snapshot %s not found", ErrNotFound, name)
}

// DeleteFullSnapshot deletes a full-storage snapshot.
func (db *DB) DeleteFullSnapshot(ctx context.Context, name string) (err error) {
	ctx, op := db.tel.start(ctx, opDeleteSnapshot, "")
	defer func() { op.end(err, -1) }()
	path, err := db.FullSnapshotPath(ctx, name)
	if err != nil {
		return err
	}
	return removeSnapshot(path)
}

// RestoreFullSnapshot recreates the collections and aliases of the
// full-storage snapshot file at path (of this or another database). A
// collection of the snapshot that already exists is an error (ErrConflict),
// and nothing is changed, unless overwrite is set: then it is replaced, and
// its aliases with it. The restore is atomic, also across a crash: every
// collection is staged (see restore.go) and verified, then one durable
// write swaps them all in with the aliases. Nothing in the archive is
// extracted to the file system.
func (db *DB) RestoreFullSnapshot(ctx context.Context, path string, overwrite bool) (err error) {
	ctx, op := db.tel.start(ctx, opRecoverSnapshot, "")
	defer func() { op.end(err, -1) }()
	if err := db.checkOpen(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := checkSidecar(path, f); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: snapshot %s: %s", ErrBadRequest, filepath.Base(path), fmt.Sprintf(format, args...))
	}
	tr := tar.NewReader(f)
	h, err := tr.Next()
	if err != nil || h.Name != fullManifest || h.Typeflag != tar.TypeReg {
		return bad("not a full-storage snapshot (no %s first)", fullManifest)
	}
	sums := map[string]string{}
	hash := sha256.New()
	data, err := readSnapEntry(io.TeeReader(tr, hash), h)
	if err != nil {
		return bad("%s: %v", fullManifest, err)
	}
	sums[h.Name] = hex.EncodeToString(hash.Sum(nil))
	var man fullManifestV1
	if err := json.Unmarshal(data, &man); err != nil {
		return bad("%s: %v", fullManifest, err)
	}
	if man.Version != fullVersion && man.Version != 1 {
		return bad("%s: version %d, want 1 or %d", fullManifest, man.Version, fullVersion)
	}
	byFile := make(map[string]string, len(man.Collections))
	for _, e := range man.Collections {
		if err := ValidateCollectionName(e.Name); err != nil {
			return bad("%v", err)
		}
		if _, dup := byFile[e.File]; dup {
			return bad("file %s listed twice", e.File)
		}
		byFile[e.File] = e.Name
		if !overwrite {
			if ok, err := db.CollectionExists(ctx, e.Name); err != nil {
				return err
			} else if ok {
				return fmt.Errorf("%w: Collection `%s` already exists!", ErrConflict, e.Name)
			}
		}
	}
	var staged []*collection
	defer func() {
		if err != nil {
			err = errors.Join(err, db.dropStaged(staged...))
		}
	}()
	verified := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("%v", snapReadErr(err))
		}
		if h.Typeflag != tar.TypeReg || verified {
			return bad("unexpected entry %q", h.Name)
		}
		hash.Reset()
		body := io.TeeReader(tr, hash)
		if h.Name == snapChecksums {
			data, err := readSnapEntry(body, h)
			if err != nil {
				return bad("%s: %v", h.Name, err)
			}
			if err := checkSums(data, sums); err != nil {
				return bad("%v", err)
			}
			verified = true
			continue
		}
		name, ok := byFile[h.Name]
		if !ok {
			return bad("unexpected entry %q", h.Name)
		}
		delete(byFile, h.Name)
		c, err := db.stageSnapshot(ctx, body, name, h.Name)
		if err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		staged = append(staged, c)
		if _, err := io.Copy(io.Discard, body); err != nil {
			return bad("%s: %v", h.Name, snapReadErr(err))
		}
		sums[h.Name] = hex.EncodeToString(hash.Sum(nil))
	}
	if len(byFile) != 0 {
		return bad("%v: %d collection snapshots missing", errSnapTruncated, len(byFile))
	}
	if man.Version >= 2 && !verified {
		return bad("%v: no %s", errSnapTruncated, snapChecksums)
	}
	aliases := make(map[string]string, len(man.Aliases))
	for _, a := range man.Aliases {
		aliases[a.Alias] = a.Collection
	}
	commit := staged
	staged = nil // commitStaged drops them on error
	return db.commitStaged(commit, restoreCommit{replace: overwrite, aliases: aliases})
}

// SnapshotMapping names the collection a snapshot file is restored as.
type SnapshotMapping struct {
	Path, Collection string
}

// RecoverOptions are snapshots to restore when a server starts, as Qdrant's
// --storage-snapshot, --snapshot and --force-snapshot flags.
type RecoverOptions struct {
	// Full is the path of a full-storage snapshot ("" for none).
	Full string
	// Collections are collection snapshots, each restored as its
	// collection, after the full snapshot.
	Collections []SnapshotMapping
	// Overwrite replaces existing collections; without it, a collection
	// that exists is an error (ErrConflict) and nothing is restored.
	Overwrite bool
}

// Recover restores the snapshots of o: the full snapshot, then each
// collection snapshot. Snapshot paths are the operator's (typically
// command-line flags), not a request's.
func (db *DB) Recover(ctx context.Context, o *RecoverOptions) error {
	if o == nil {
		return nil
	}
	if !o.Overwrite {
		for _, m := range o.Collections {
			if ok, err := db.CollectionExists(ctx, m.Collection); err != nil {
				return err
			} else if ok {
				return fmt.Errorf("%w: Collection `%s` already exists!", ErrConflict, m.Collection)
			}
		}
	}
	if o.Full != "" {
		if err := db.RestoreFullSnapshot(ctx, o.Full, o.Overwrite); err != nil {
			return fmt.Errorf("full snapshot %s: %w", o.Full, err)
		}
	}
	for _, m := range o.Collections {
		if err := ValidateCollectionName(m.Collection); err != nil {
			return err
		}
		if err := db.restoreSnapshot(ctx, m.Path, m.Collection, true); err != nil {
			return fmt.Errorf("snapshot %s: %w", m.Path, err)
		}
	}
	return nil
}
