package compat

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// snapshotTempFiles lists the files left under the snapshots directory's
// scratch directory.
func snapshotTempFiles(t *testing.T, s *restTestServer) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.db.SnapshotsDir(), ".tmp"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// Recovery from http:// and https:// locations: the snapshot is
// downloaded (with the api-key header when given), checked against the
// checksum, restored, and the downloaded file removed; failures get
// Qdrant's statuses and messages.
func TestRESTRecoverFromURL(t *testing.T) {
	s := newRESTTest(t, nil)
	restTestPoints(t, s, "c", "Dot", 50, 3)
	orig := restDump(t, s.db, "c")
	var d restSnapshotDesc
	restInto(t, s.ok("POST", "/collections/c/snapshots", ""), &d)
	file := s.download("/collections/c/snapshots/" + d.Name)
	sum := sha256.Sum256(file)
	checksum := hex.EncodeToString(sum[:])

	var gotKey atomic.Value
	gotKey.Store("")
	mux := http.NewServeMux()
	mux.HandleFunc("/ok.snapshot", func(w http.ResponseWriter, r *http.Request) {
		gotKey.Store(r.Header.Get("api-key"))
		w.Write(file)
	})
	mux.HandleFunc("/bad.snapshot", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("not a snapshot")) })
	mux.HandleFunc("/private.snapshot", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("api-key") != "secret" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		w.Write(file)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()
	old := restHTTPClient
	restHTTPClient = tls.Client() // trusts the test certificate, speaks plain HTTP too
	defer func() { restHTTPClient = old }()

	loc := func(base, path string) string {
		b, _ := json.Marshal(base + path)
		return string(b)
	}
	require.JSONEq(t, `true`, string(s.ok("PUT", "/collections/h/snapshots/recover", `{"location": `+loc(srv.URL, "/ok.snapshot")+`, "checksum": "`+strings.ToUpper(checksum)+`"}`)))
	restSameRecords(t, orig, restDump(t, s.db, "h"))
	require.Equal(t, "", gotKey.Load())
	require.JSONEq(t, `true`, string(s.ok("PUT", "/collections/h2/snapshots/recover", `{"location": `+loc(tls.URL, "/private.snapshot")+`, "api_key": "secret"}`)))
	restSameRecords(t, orig, restDump(t, s.db, "h2"))
	// Shard recovery takes URLs too.
	s.ok("POST", "/collections/c/points/delete?wait=true", `{"points": [`+string(orig[0].ID.AppendJSON(nil))+`]}`)
	require.JSONEq(t, `true`, string(s.ok("PUT", "/collections/c/shards/0/snapshots/recover", `{"location": `+loc(srv.URL, "/ok.snapshot")+`}`)))
	restSameRecords(t, orig, restDump(t, s.db, "c"))

	s.fail("PUT", "/collections/x/snapshots/recover", `{"location": `+loc(srv.URL, "/ok.snapshot")+`, "checksum": "`+strings.Repeat("0", 64)+`"}`,
		http.StatusBadRequest, "Wrong input: Snapshot checksum mismatch: expected "+strings.Repeat("0", 64)+", got "+checksum)
	s.fail("PUT", "/collections/x/snapshots/recover", `{"location": `+loc(srv.URL, "/missing.snapshot")+`}`,
		http.StatusBadRequest, "Wrong input: Failed to download tar from "+srv.URL+"/missing.snapshot: status - 404 Not Found")
	s.fail("PUT", "/collections/x/snapshots/recover", `{"location": `+loc(srv.URL, "/private.snapshot")+`, "api_key": "wrong"}`,
		http.StatusBadRequest, "Wrong input: Failed to download tar from "+srv.URL+"/private.snapshot: status - 403 Forbidden")
	s.fail("PUT", "/collections/x/snapshots/recover", `{"location": `+loc(srv.URL, "/bad.snapshot")+`}`, http.StatusBadRequest, "Wrong input: ")
	// Nothing listens on a closed server's port.
	dead := httptest.NewServer(mux)
	deadURL := dead.URL
	dead.Close()
	s.fail("PUT", "/collections/x/snapshots/recover", `{"location": `+loc(deadURL, "/ok.snapshot")+`}`,
		http.StatusInternalServerError, "Service internal error: Http request error: error sending request for url ("+deadURL+"/ok.snapshot)")
	// Without waiting, the answer is 202 whatever the outcome.
	code, _ := s.do("PUT", "/collections/x/snapshots/recover?wait=false", `{"location": `+loc(deadURL, "/ok.snapshot")+`}`)
	require.Equal(t, http.StatusAccepted, code)
	require.JSONEq(t, `{"exists": false}`, string(s.ok("GET", "/collections/x/exists", "")))
	require.Empty(t, snapshotTempFiles(t, s), "downloaded files are removed")
}

// A download that would leave the disk of the snapshots directory without
// its reserve of free space is refused before anything is written.
func TestRESTRecoverFromURLTooLarge(t *testing.T) {
	s := newRESTTest(t, nil)
	if _, ok := freeBytes(t.TempDir()); !ok {
		t.Skip("free space unknown on this platform")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Announce more than the disk can take; send a little.
		w.Header().Set("Content-Length", "9223372036854775807")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("x"))
	}))
	defer srv.Close()
	b, _ := json.Marshal(srv.URL + "/huge.snapshot")
	s.fail("PUT", "/collections/x/snapshots/recover", `{"location": `+string(b)+`}`, http.StatusInternalServerError, "Service internal error: No space left on device: ")
	require.Empty(t, snapshotTempFiles(t, s))
}
