//go:build unix

package compat

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestMetricsStorage checks qlite_storage_disk_bytes against the files of
// the storage directory (engine.DB.DiskUsage before and after the scrape)
// and qlite_storage_free_bytes against statfs of its file system.
func TestMetricsStorage(t *testing.T) {
	db, h, _ := startServer(t, nil)
	base := "http://" + h
	code, body := httpDo(t, "PUT", base+"/collections/s", `{"vectors":{"size":2,"distance":"Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "PUT", base+"/collections/s/points?wait=true",
		`{"points":[{"id":1,"vector":[1,0]},{"id":2,"vector":[0,1]}]}`, nil)
	require.Equal(t, 200, code, body)

	dir := filepath.Dir(db.SnapshotsDir())
	before, err := db.DiskUsage()
	require.NoError(t, err)
	fams := scrape(t, base+"/metrics", nil)
	after, err := db.DiskUsage()
	require.NoError(t, err)
	disk := value(t, fams, "qlite_storage_disk_bytes")
	require.Positive(t, disk)
	// Pebble writes and deletes files in the background.
	require.GreaterOrEqual(t, disk, float64(min(before, after))/2)
	require.LessOrEqual(t, disk, float64(max(before, after))*2)

	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(dir, &st))
	free, size := float64(st.Bavail)*float64(st.Bsize), float64(st.Blocks)*float64(st.Bsize)
	got := value(t, fams, "qlite_storage_free_bytes")
	require.Positive(t, got)
	// Other processes write to the same file system meanwhile.
	require.InDelta(t, free, got, size/20)
}
