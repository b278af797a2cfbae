package engine

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
)

// Compact flushes the store's memory tables and compacts every level, so that
// overwritten and deleted data no longer takes disk space. Writes and reads
// continue meanwhile. Background compaction does this over time; Compact is
// for tools and measurements.
func (db *DB) Compact(ctx context.Context) error {
	if err := db.checkOpen(); err != nil {
		return err
	}
	if err := db.store.Flush(); err != nil {
		return err
	}
	return db.store.Compact(ctx, []byte{0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff}, true)
}

// DiskUsage returns the bytes of the files in the database directory.
func (db *DB) DiskUsage() (int64, error) {
	var n int64
	err := filepath.WalkDir(db.dir, func(_ string, d fs.DirEntry, err error) error {
		// Pebble deletes obsolete files in the background: a file listed
		// and gone before it is read takes no space.
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
