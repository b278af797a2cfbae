package compat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/payload"
)

// restDump returns every point of a collection with payload and vectors,
// in id order.
func restDump(t *testing.T, db *engine.DB, coll string) []engine.Record {
	t.Helper()
	res, err := db.Scroll(context.Background(), coll, &engine.ScrollRequest{Limit: 1 << 20, WithPayload: engine.AllPayload, WithVectors: engine.AllVectors})
	require.NoError(t, err)
	return res.Points
}

func restSameRecords(t *testing.T, want, got []engine.Record) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].ID, got[i].ID)
		require.Equal(t, want[i].Vectors, got[i].Vectors)
		require.True(t, payload.Equal(want[i].Payload, got[i].Payload), "%v %v", want[i].Payload, got[i].Payload)
	}
}

// download GETs a file and returns its bytes.
func (s *restTestServer) download(path string) []byte {
	s.t.Helper()
	code, b := s.do("GET", path, "")
	require.Equal(s.t, http.StatusOK, code, "%s", b)
	return b
}

// upload posts a file as the multipart field "snapshot".
func (s *restTestServer) upload(path string, file []byte) (int, []byte) {
	s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(s.t, mw.WriteField("note", "ignored"))
	fw, err := mw.CreateFormFile("snapshot", "c.snapshot")
	require.NoError(s.t, err)
	_, err = fw.Write(file)
	require.NoError(s.t, err)
	require.NoError(s.t, mw.Close())
	resp, err := s.srv.Client().Post(s.srv.URL+path, mw.FormDataContentType(), &body)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, b
}

type restSnapshotDesc struct {
	Name         string `json:"name"`
	CreationTime string `json:"creation_time"`
	Size         int64  `json:"size"`
	Checksum     string `json:"checksum"`
}

func TestRESTSnapshots(t *testing.T) {
	s := newRESTTest(t, nil)
	restTestPoints(t, s, "c", "Cosine", 30, 9)
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "color", "field_schema": "keyword"}`)
	s.ok("POST", "/collections/aliases", `{"actions": [{"create_alias": {"collection_name": "c", "alias_name": "alias-of-c"}}]}`)
	orig := restDump(t, s.db, "c")

	var d restSnapshotDesc
	restInto(t, s.ok("POST", "/collections/c/snapshots", ""), &d)
	require.True(t, strings.HasPrefix(d.Name, "c-") && strings.HasSuffix(d.Name, ".snapshot"), d.Name)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`, d.CreationTime)
	var list []restSnapshotDesc
	restInto(t, s.ok("GET", "/collections/c/snapshots", ""), &list)
	require.Equal(t, []restSnapshotDesc{d}, list)

	// Download: the file's size and SHA-256 are the description's.
	file := s.download("/collections/c/snapshots/" + d.Name)
	require.Equal(t, d.Size, int64(len(file)))
	sum := sha256.Sum256(file)
	require.Equal(t, d.Checksum, hex.EncodeToString(sum[:]))

	// Upload into a new collection: the same configuration and points.
	code, b := s.upload("/collections/d/snapshots/upload?wait=true&priority=snapshot&checksum="+d.Checksum, file)
	require.Equal(t, http.StatusOK, code, "%s", b)
	restSameRecords(t, orig, restDump(t, s.db, "d"))
	var info struct {
		Config        json.RawMessage            `json:"config"`
		PayloadSchema map[string]json.RawMessage `json:"payload_schema"`
	}
	restInto(t, s.ok("GET", "/collections/c", ""), &info)
	wantCfg, wantSchema := info.Config, info.PayloadSchema
	info.PayloadSchema = nil
	restInto(t, s.ok("GET", "/collections/d", ""), &info)
	require.JSONEq(t, string(wantCfg), string(info.Config))
	require.Equal(t, len(wantSchema), len(info.PayloadSchema))

	code, b = s.upload("/collections/x/snapshots/upload?checksum="+strings.Repeat("0", 64), file)
	require.Equal(t, http.StatusBadRequest, code, "%s", b)
	require.Contains(t, string(b), "Checksum mismatch: expected "+d.Checksum+", actual 0000")
	code, b = s.upload("/collections/x/snapshots/upload?checksum=abc", file)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%s", b)
	code, b = s.upload("/collections/x/snapshots/upload", []byte("not a snapshot"))
	require.Equal(t, http.StatusBadRequest, code, "%s", b)
	exists := s.ok("GET", "/collections/x/exists", "")
	require.JSONEq(t, `{"exists": false}`, string(exists), "a bad snapshot creates nothing")

	// Recover from a file:// location inside the snapshots directory into a
	// new collection, and over an existing one (which keeps its aliases).
	path := filepath.Join(s.db.SnapshotsDir(), "c", d.Name)
	loc, err := json.Marshal("file://" + path)
	require.NoError(t, err)
	require.JSONEq(t, `true`, string(s.ok("PUT", "/collections/e/snapshots/recover", `{"location": `+string(loc)+`, "checksum": "`+d.Checksum+`"}`)))
	restSameRecords(t, orig, restDump(t, s.db, "e"))
	s.ok("POST", "/collections/c/points/delete?wait=true", `{"filter": {"must": [{"key": "color", "match": {"value": "red"}}]}}`)
	require.Less(t, len(restDump(t, s.db, "c")), len(orig))
	require.JSONEq(t, `true`, string(s.ok("PUT", "/collections/c/snapshots/recover", `{"location": `+string(loc)+`, "priority": "snapshot"}`)))
	restSameRecords(t, orig, restDump(t, s.db, "c"))
	require.JSONEq(t, `{"aliases": [{"alias_name": "alias-of-c", "collection_name": "c"}]}`, string(s.ok("GET", "/collections/c/aliases", "")))
	var names struct{ Collections []struct{ Name string } }
	restInto(t, s.ok("GET", "/collections", ""), &names)
	require.Len(t, names.Collections, 3, "no temporary collection is left behind")

	s.fail("PUT", "/collections/e/snapshots/recover", `{"location": "file:///nonexistent/c.snapshot"}`, http.StatusBadRequest, `Bad request: Snapshot file "/nonexistent/c.snapshot" does not exist`)
	s.fail("PUT", "/collections/e/snapshots/recover", `{"location": `+string(loc)+`, "checksum": "`+strings.Repeat("1", 64)+`"}`, http.StatusBadRequest, "Wrong input: Snapshot checksum mismatch: expected 1111")
	s.fail("PUT", "/collections/e/snapshots/recover", `{"location": `+string(loc)+`, "checksum": "abc"}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [checksum: ")
	s.fail("PUT", "/collections/e/snapshots/recover", `{}`, http.StatusBadRequest, "Format error in JSON body: missing field `location`")
	restSameRecords(t, orig, restDump(t, s.db, "e"))

	// wait=false answers 202 accepted, with the work done.
	code, b = s.do("POST", "/collections/c/snapshots?wait=false", "")
	require.Equal(t, http.StatusAccepted, code)
	var acc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &acc))
	require.JSONEq(t, `"accepted"`, string(acc["status"]))
	require.NotContains(t, acc, "result")
	list = nil
	restInto(t, s.ok("GET", "/collections/c/snapshots", ""), &list)
	require.Len(t, list, 2)

	// Delete.
	require.JSONEq(t, `true`, string(s.ok("DELETE", "/collections/c/snapshots/"+d.Name, "")))
	s.fail("DELETE", "/collections/c/snapshots/"+d.Name, "", http.StatusNotFound, "Not found: ")
	s.failText("GET", "/collections/c/snapshots/"+d.Name, http.StatusNotFound, "Not found: Snapshot "+d.Name+" not found")
	s.fail("GET", "/collections/nope/snapshots", "", http.StatusNotFound, "Not found: ")
	s.fail("POST", "/collections/nope/snapshots", "", http.StatusNotFound, "Not found: ")
}

func TestRESTFullAndShardSnapshots(t *testing.T) {
	s := newRESTTest(t, nil)
	restTestPoints(t, s, "c", "Dot", 10, 10)
	orig := restDump(t, s.db, "c")

	require.JSONEq(t, `[]`, string(s.ok("GET", "/snapshots", "")))
	s.failText("GET", "/snapshots/x.snapshot", http.StatusNotFound, "Not found: Snapshot x.snapshot not found")
	s.fail("DELETE", "/snapshots/x.snapshot", "", http.StatusNotFound, "Not found: Snapshot x.snapshot not found")

	// Shard 0 has its own snapshots, apart from the collection's.
	var d restSnapshotDesc
	restInto(t, s.ok("POST", "/collections/c/shards/0/snapshots", ""), &d)
	var list []restSnapshotDesc
	restInto(t, s.ok("GET", "/collections/c/shards/0/snapshots", ""), &list)
	require.Equal(t, []restSnapshotDesc{d}, list)
	file := s.download("/collections/c/shards/0/snapshots/" + d.Name)
	require.Equal(t, d.Size, int64(len(file)))

	// A streamed snapshot restores to the same points, and is not kept.
	streamed := s.download("/collections/c/shards/0/snapshot")
	code, b := s.upload("/collections/s/snapshots/upload", streamed)
	require.Equal(t, http.StatusOK, code, "%s", b)
	restSameRecords(t, orig, restDump(t, s.db, "s"))
	list = nil
	restInto(t, s.ok("GET", "/collections/c/shards/0/snapshots", ""), &list)
	require.Len(t, list, 1)
	list = nil
	restInto(t, s.ok("GET", "/collections/c/snapshots", ""), &list)
	require.Empty(t, list)

	// Recover shard 0 from an upload and from the name of one of its
	// snapshots.
	s.ok("POST", "/collections/c/points/delete?wait=true", `{"points": [`+string(orig[0].ID.AppendJSON(nil))+`]}`)
	code, b = s.upload("/collections/c/shards/0/snapshots/upload", file)
	require.Equal(t, http.StatusOK, code, "%s", b)
	restSameRecords(t, orig, restDump(t, s.db, "c"))
	loc, _ := json.Marshal(d.Name)
	s.ok("POST", "/collections/c/points/delete?wait=true", `{"points": [`+string(orig[1].ID.AppendJSON(nil))+`]}`)
	s.ok("PUT", "/collections/c/shards/0/snapshots/recover", `{"location": `+string(loc)+`}`)
	restSameRecords(t, orig, restDump(t, s.db, "c"))

	require.JSONEq(t, `true`, string(s.ok("DELETE", "/collections/c/shards/0/snapshots/"+d.Name, "")))
	s.fail("DELETE", "/collections/c/shards/0/snapshots/"+d.Name, "", http.StatusNotFound, `Not found: Snapshot "`)
	s.failText("GET", "/collections/c/shards/0/snapshots/"+d.Name, http.StatusNotFound, "File not found: ")
	for _, p := range []string{"/collections/c/shards/1/snapshots", "/collections/nope/shards/0/snapshots"} {
		s.fail("GET", p, "", http.StatusNotFound, "Not found: ")
	}
	s.failText("GET", "/collections/c/shards/1/snapshot", http.StatusNotFound, "Not found: shard 1 not found")
	s.failText("GET", "/collections/nope/shards/0/snapshot", http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
	s.fail("GET", "/collections/c/shards/x/snapshots", "", http.StatusBadRequest, "Deserialize error in path parameters: ")
}
