package compat

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
)

// TestSnapshotPathsStayInside sends every snapshot route paths that point
// outside the storage's snapshots directory (absolute paths, "..", escaped
// separators, symbolic links, links inside the archive) and checks that
// each is refused with Qdrant's status, that nothing outside is read (no
// collection appears) and nothing outside is written (the process's
// temporary directory stays empty).
func TestSnapshotPathsStayInside(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := newRESTTest(t, nil)
	restTestPoints(t, s, "c", "Dot", 20, 4)
	var d restSnapshotDesc
	restInto(t, s.ok("POST", "/collections/c/snapshots", ""), &d)
	file := s.download("/collections/c/snapshots/" + d.Name)
	root := s.db.SnapshotsDir()
	inside := filepath.Join(root, "c", d.Name)

	// A valid snapshot outside the snapshots directory, and a symbolic link
	// to it from inside.
	outside := filepath.Join(t.TempDir(), "outside.snapshot")
	require.NoError(t, os.WriteFile(outside, file, 0o644))
	link := filepath.Join(root, "c", "link.snapshot")
	require.NoError(t, os.Symlink(outside, link))
	dirLink := filepath.Join(root, "elsewhere")
	require.NoError(t, os.Symlink(filepath.Dir(outside), dirLink))

	forbidden := "Forbidden: Snapshot file path must be inside the snapshots directory "
	recoverAt := func(loc string) string {
		b, err := json.Marshal(map[string]string{"location": loc})
		require.NoError(t, err)
		return string(b)
	}
	rel, err := filepath.Rel(filepath.Join(root, "c"), outside)
	require.NoError(t, err)
	for _, loc := range []string{
		"file://" + outside,
		"file://localhost" + outside,
		"file://" + link,
		"file://" + filepath.Join(dirLink, "outside.snapshot"),
		"file://" + filepath.Join(root, "c") + "/" + rel,
		"file://" + filepath.Join(root, "c") + "/" + strings.ReplaceAll(rel, "..", "%2E%2E"),
		"file://" + filepath.Join(root, "c") + "/" + strings.ReplaceAll(rel, "/", "%2F"),
		"file:///etc/passwd",
	} {
		s.fail("PUT", "/collections/r/snapshots/recover", recoverAt(loc), http.StatusForbidden, forbidden+`"`+root+`"`)
	}
	s.fail("PUT", "/collections/r/snapshots/recover", recoverAt("file:///nonexistent/x.snapshot"), http.StatusBadRequest, `Bad request: Snapshot file "/nonexistent/x.snapshot" does not exist`)
	s.fail("PUT", "/collections/r/snapshots/recover", recoverAt("file://otherhost"+outside), http.StatusBadRequest, "Bad request: Invalid snapshot URI, file path must be absolute or on localhost")
	s.fail("PUT", "/collections/r/snapshots/recover", recoverAt("ftp://host/x.snapshot"), http.StatusBadRequest, "Bad request: URL ftp://host/x.snapshot with scheme ftp is not supported")

	// Shard recovery takes a URL or the name of one of the shard's
	// snapshots, never a file:// URL or a path.
	for _, loc := range []string{outside, "../c/" + d.Name, "c/" + d.Name, inside, "link.snapshot", "%2E%2E%2F" + d.Name} {
		s.fail("PUT", "/collections/c/shards/0/snapshots/recover", recoverAt(loc), http.StatusNotFound, "Not found: Snapshot "+loc+" not found")
	}
	s.fail("PUT", "/collections/c/shards/0/snapshots/recover", recoverAt("file://"+inside), http.StatusBadRequest, "Wrong input: Invalid snapshot URL file://"+inside+": URLs with file scheme are not supported")

	// Download and delete: names are file names in the collection's
	// directory; escaped separators, ".." and links are not found.
	for _, name := range []string{"..%2F..%2Fetc%2Fpasswd", "%2E%2E%2Fc%2F" + d.Name, "link.snapshot", url.PathEscape("../c/" + d.Name), "..%2Felsewhere%2Foutside.snapshot"} {
		for _, route := range []string{"/collections/c/snapshots/", "/collections/c/shards/0/snapshots/"} {
			code, b := s.do("GET", route+name, "")
			require.Equal(t, http.StatusNotFound, code, "GET %s%s: %s", route, name, b)
			s.fail("DELETE", route+name, "", http.StatusNotFound, "Not found: Snapshot ")
		}
	}
	_, err = os.Lstat(link)
	require.NoError(t, err, "the link is still there")
	_, err = os.Stat(outside)
	require.NoError(t, err, "the file outside is still there")

	// Collection names that would leave the directory are refused.
	for _, name := range []string{"..%2F..%2Fx", "a%2Fb", "..%5Cx"} {
		code, b := s.do("POST", "/collections/"+name+"/snapshots", "")
		require.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity}, code, "%s: %s", name, b)
	}
	// A collection named ".." keeps its snapshots inside the directory.
	// (through the engine: an HTTP client would clean the path).
	ctx := context.Background()
	require.NoError(t, s.db.CreateCollection(ctx, "..", &engine.CreateCollection{Vectors: engine.VectorsConfig{"": {Size: 4, Distance: distance.Dot}}}))
	dd, err := s.db.CreateSnapshot(ctx, "..")
	require.NoError(t, err)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	found := false
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), dd.Name)); err == nil {
			found = true
		}
	}
	require.True(t, found, "the snapshot of collection .. is in a directory under %s", root)

	// An archive whose entries are links is refused, whatever their names.
	for _, typ := range []byte{tar.TypeSymlink, tar.TypeLink} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, name := range []string{"collection.json", "fields.json", "points.qlrec"} {
			require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Linkname: "/etc/passwd", Mode: 0o644}))
		}
		require.NoError(t, tw.Close())
		code, b := s.upload("/collections/l/snapshots/upload", buf.Bytes())
		require.Equal(t, http.StatusBadRequest, code, "%s", b)
		require.Contains(t, string(b), "is not a regular file")
	}

	// A good upload is received inside the snapshots directory and leaves
	// nothing behind anywhere.
	code, b := s.upload("/collections/u/snapshots/upload", file)
	require.Equal(t, http.StatusOK, code, "%s", b)
	tmpEntries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	var left []string
	for _, e := range tmpEntries {
		if !strings.HasPrefix(e.Name(), t.Name()) {
			left = append(left, e.Name())
		}
	}
	require.Empty(t, left, "nothing is written to the process's temporary directory")
	uploads, err := os.ReadDir(filepath.Join(root, ".tmp"))
	require.NoError(t, err)
	require.Empty(t, uploads, "received uploads are removed")

	// No request above created a collection from a file outside.
	var names struct{ Collections []struct{ Name string } }
	restInto(t, s.ok("GET", "/collections", ""), &names)
	var got []string
	for _, c := range names.Collections {
		got = append(got, c.Name)
	}
	require.ElementsMatch(t, []string{"c", "..", "u"}, got)
}
