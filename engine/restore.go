package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"
)

// Restoring a snapshot is atomic. The snapshot's collection is first built
// as a staged collection: an in-memory collection, not in the catalog, whose
// data go to the store under a fresh collection id that no catalog record
// names. Only when every point is written and the archive is verified does
// one synced Pebble batch point the catalog at the new id and delete the
// data of the collection it replaces. A crash before that batch leaves the
// old collection whole and the staged data orphaned; Open deletes orphaned
// data (sweepOrphans). A crash after it leaves the restored collection.

// stageCollection returns an empty staged collection called name with cfg,
// under a fresh collection id.
func (db *DB) stageCollection(name string, cfg CollectionConfig) (*collection, error) {
	if err := db.checkOpen(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	cid := db.nextCID
	b := db.store.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(dataPrefix(cid), prefixEnd(dataPrefix(cid)), nil); err != nil {
		return nil, err
	}
	if err := b.Set([]byte{keyNextCID}, binary.LittleEndian.AppendUint32(nil, cid+1), nil); err != nil {
		return nil, err
	}
	if err := db.commit(b, pebble.Sync, true); err != nil {
		return nil, err
	}
	db.nextCID = cid + 1
	return newCollection(db, name, cid, cfg)
}

// dropStaged deletes the data of staged collections that will not be
// committed. If that fails, the next Open deletes them.
func (db *DB) dropStaged(cs ...*collection) error {
	if db.checkOpen() != nil {
		return nil
	}
	b := db.store.NewBatch()
	defer b.Close()
	for _, c := range cs {
		c.markDeleted()
		if err := b.DeleteRange(dataPrefix(c.cid), prefixEnd(dataPrefix(c.cid)), nil); err != nil {
			return err
		}
	}
	for _, c := range cs {
		_ = db.removeCollectionFiles(c.cid)
	}
	return db.commit(b, pebble.NoSync, false)
}

// restoreCommit says how commitStaged treats existing collections and
// aliases.
type restoreCommit struct {
	// replace lets a staged collection replace a collection of its name;
	// without it that is an error (ErrConflict).
	replace bool
	// aliases, when not nil, are created (replacing aliases of the same
	// name), and the aliases of replaced collections are dropped. When nil,
	// a replaced collection keeps its aliases.
	aliases map[string]string
}

// commitStaged makes staged collections visible, replacing collections of
// the same names, in one synced batch: the catalog records, the deletion of
// the replaced collections' data, and the alias changes. On error nothing
// is changed and the staged collections are dropped.
func (db *DB) commitStaged(staged []*collection, o restoreCommit) (err error) {
	defer func() {
		if err != nil {
			err = errors.Join(err, db.dropStaged(staged...))
		}
	}()
	if err := db.checkOpen(); err != nil {
		return err
	}
	// Stop optimizer work on the replaced collections first.
	db.optMu.Lock()
	defer db.optMu.Unlock()
	db.mu.Lock()
	defer db.mu.Unlock()

	names := map[string]bool{}
	var old []*collection
	b := db.store.NewBatch()
	defer b.Close()
	for _, c := range staged {
		if names[c.name] {
			return fmt.Errorf("%w: collection %s restored twice", ErrBadRequest, c.name)
		}
		names[c.name] = true
		if _, ok := db.aliases[c.name]; ok && o.aliases == nil {
			return fmt.Errorf("%w: Collection `%s` already exists! (an alias has that name)", ErrConflict, c.name)
		}
		if db.taken(c.name) && !o.replace {
			return fmt.Errorf("%w: Collection `%s` already exists!", ErrConflict, c.name)
		}
		if prev, ok := db.colls[c.name]; ok {
			old = append(old, prev)
			if err := b.DeleteRange(dataPrefix(prev.cid), prefixEnd(dataPrefix(prev.cid)), nil); err != nil {
				return err
			}
		}
		if f, ok := db.failed[c.name]; ok && f.hasCID {
			// A collection that failed to load is replaced too.
			if err := b.DeleteRange(dataPrefix(f.cid), prefixEnd(dataPrefix(f.cid)), nil); err != nil {
				return err
			}
		}
		rec, err := encodeCollectionRecord(c.cid, *c.config())
		if err != nil {
			return err
		}
		if err := b.Set(collectionKey(c.name), rec, nil); err != nil {
			return err
		}
	}
	nextAliases := db.aliases
	if o.aliases != nil {
		nextAliases = make(map[string]string, len(db.aliases)+len(o.aliases))
		for a, target := range db.aliases {
			if !names[target] {
				nextAliases[a] = target
			}
		}
		for a, target := range o.aliases {
			if err := ValidateCollectionName(a); err != nil {
				return fmt.Errorf("alias %s: %w", a, err)
			}
			if !db.taken(target) && !names[target] {
				return fmt.Errorf("%w: alias %s: Collection `%s` doesn't exist!", ErrBadRequest, a, target)
			}
			nextAliases[a] = target
		}
		for a := range nextAliases {
			if db.taken(a) || names[a] {
				return fmt.Errorf("%w: Collection `%s` already exists! (an alias of the snapshot has that name)", ErrConflict, a)
			}
		}
		for a, target := range db.aliases {
			if t, ok := nextAliases[a]; !ok {
				err = b.Delete(aliasKey(a), nil)
			} else if t != target {
				err = b.Set(aliasKey(a), []byte(t), nil)
			}
			if err != nil {
				return err
			}
		}
		for a, target := range nextAliases {
			if _, ok := db.aliases[a]; !ok {
				if err := b.Set(aliasKey(a), []byte(target), nil); err != nil {
					return err
				}
			}
		}
	}

	// Writes to a replaced collection commit under its wmu: hold them all
	// across the commit, so that none lands after its data are deleted.
	slices.SortFunc(old, func(a, b *collection) int { return strings.Compare(a.name, b.name) })
	for _, c := range old {
		c.wmu.Lock()
	}
	err = db.commit(b, pebble.Sync, false)
	for _, c := range old {
		if err == nil {
			c.deleted = true
		}
		c.wmu.Unlock()
	}
	if err != nil {
		return err
	}
	db.aliases = nextAliases
	for _, c := range staged {
		db.colls[c.name] = c
		delete(db.failed, c.name)
	}
	var errs []error
	for _, c := range old {
		errs = append(errs, c.close())
		// A file left behind goes with the next Open's sweep.
		_ = db.removeCollectionFiles(c.cid)
	}
	db.kick()
	return errors.Join(errs...)
}

// legacyRestoreName matches the scratch collections that restores of older
// qlite versions created and could leave behind when killed.
var legacyRestoreName = regexp.MustCompile(`^\.qlite-(restore-[0-9a-f]{16}|recover-[0-9a-z]+)$`)

// sweepOrphans deletes, at Open, what an interrupted restore can leave:
// data under collection ids that no catalog record names (a staged
// collection, or the remains of older versions' scratch collections), and
// scratch files in the snapshots directory. cids are the ids the catalog
// names; without data, only the scratch files go (a catalog record too
// damaged to give its id could own any data).
func (db *DB) sweepOrphans(cids map[uint32]bool, data bool) error {
	if !data {
		return db.sweepSnapshotScratch()
	}
	orphans, err := db.orphanCIDs(cids)
	if err != nil {
		return err
	}
	if len(orphans) > 0 {
		b := db.store.NewBatch()
		defer b.Close()
		for _, cid := range orphans {
			if err := b.DeleteRange(dataPrefix(cid), prefixEnd(dataPrefix(cid)), nil); err != nil {
				return err
			}
		}
		if err := db.commit(b, pebble.Sync, false); err != nil {
			return err
		}
	}
	if err := db.sweepOrphanFiles(cids); err != nil {
		return err
	}
	return db.sweepSnapshotScratch()
}

// orphanCIDs returns the collection ids that have data in the store but are
// not in cids, in order. It seeks once per collection id.
func (db *DB) orphanCIDs(cids map[uint32]bool) ([]uint32, error) {
	it, err := db.store.NewIter(&pebble.IterOptions{LowerBound: []byte{keyData}, UpperBound: []byte{keyData + 1}})
	if err != nil {
		return nil, err
	}
	var out []uint32
	for it.First(); it.Valid(); {
		k := it.Key()
		if len(k) < 5 {
			it.Close()
			return nil, fmt.Errorf("%w: data key %x", ErrCorrupt, k)
		}
		cid := binary.BigEndian.Uint32(k[1:5])
		if !cids[cid] {
			out = append(out, cid)
		}
		end := prefixEnd(dataPrefix(cid))
		if end == nil {
			break
		}
		it.SeekGE(end)
	}
	return out, it.Close()
}

// sweepSnapshotScratch removes the files of snapshots being received or
// written when the process stopped: the snapshots/.tmp directory, and the
// .tmp-* files of the snapshot directories.
func (db *DB) sweepSnapshotScratch() error {
	root := db.SnapshotsDir()
	if err := os.RemoveAll(filepath.Join(root, snapTempDir)); err != nil {
		return err
	}
	dirs := []string{root}
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(root, e.Name()), filepath.Join(root, e.Name(), "shards", "0"))
		}
	}
	var errs []error
	for _, dir := range dirs {
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if f.Type().IsRegular() && strings.HasPrefix(f.Name(), ".tmp-") {
				if err := os.Remove(filepath.Join(dir, f.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}
