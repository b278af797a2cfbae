package compat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qlite/qlite/engine"
)

// restSnapshot is Qdrant's SnapshotDescription.
type restSnapshot struct {
	Name         string `json:"name"`
	CreationTime string `json:"creation_time"`
	Size         int64  `json:"size"`
	Checksum     string `json:"checksum"`
}

func restSnapshotOut(d engine.SnapshotDescription) restSnapshot {
	return restSnapshot{Name: d.Name, CreationTime: d.CreationTime.UTC().Format("2006-01-02T15:04:05"), Size: d.Size, Checksum: d.Checksum}
}

// restSnapshotWait reads the wait parameter of snapshot operations, which
// defaults to true. With wait=false Qdrant answers 202 before the work is
// done; qlite does the work first and then answers 202 all the same.
func restSnapshotWait(r *http.Request) (bool, error) {
	return restBoolParam(r, "wait", true)
}

// restAfter returns res, or restAccepted when the caller did not wait.
func restAfter(wait bool, res any) any {
	if !wait {
		return restAccepted
	}
	return res
}

// restAfterErr is restAfter for an operation that may have failed: Qdrant
// runs it in the background when the caller does not wait, and answers 202
// whatever its outcome (a missing collection or snapshot included).
func restAfterErr(wait bool, res any, err error) (any, error) {
	if !wait {
		return restAccepted, nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// restSnapshotCollection checks the collection name of a snapshot route as
// Qdrant validates that path parameter: a name with a "/" is refused (422)
// before anything is looked up.
func restSnapshotCollection(r *http.Request) (string, error) {
	name := r.PathValue("collection_name")
	if strings.Contains(name, "/") {
		return "", &restError{http.StatusUnprocessableEntity, `Validation error in path parameters: [collection_name: collection name cannot contain "/" char]`}
	}
	return name, nil
}

// restDownloadError writes the answer to a snapshot download that failed:
// Qdrant answers those with the error message as plain text, not JSON.
func restDownloadError(w http.ResponseWriter, err error) (any, error) {
	var re *restError
	if errors.As(err, &re) && (strings.HasPrefix(re.msg, "Validation error in path") || strings.HasPrefix(re.msg, "Deserialize error in path")) {
		return nil, err // bad path parameters are answered in JSON
	}
	code, msg := restErrorStatus(err)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg)
	return restWritten, nil
}

func restSnapshotsOut(ds []engine.SnapshotDescription) []restSnapshot {
	out := make([]restSnapshot, len(ds))
	for i, d := range ds {
		out[i] = restSnapshotOut(d)
	}
	return out
}

// listSnapshots answers GET /collections/{c}/snapshots.
func (s *restServer) listSnapshots(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := restSnapshotCollection(r)
	if err != nil {
		return nil, err
	}
	ds, err := s.db.ListSnapshots(r.Context(), coll)
	if err != nil {
		return nil, err
	}
	return restSnapshotsOut(ds), nil
}

// createSnapshot answers POST /collections/{c}/snapshots.
func (s *restServer) createSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := restSnapshotCollection(r)
	if err != nil {
		return nil, err
	}
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	d, err := s.db.CreateSnapshot(r.Context(), coll)
	if err != nil {
		return restAfterErr(wait, nil, err)
	}
	return restAfter(wait, restSnapshotOut(*d)), nil
}

// deleteSnapshot answers DELETE /collections/{c}/snapshots/{name}.
func (s *restServer) deleteSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := restSnapshotCollection(r)
	if err != nil {
		return nil, err
	}
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	err = s.db.DeleteSnapshot(r.Context(), coll, r.PathValue("snapshot_name"))
	return restAfterErr(wait, true, err)
}

// downloadSnapshot answers GET /collections/{c}/snapshots/{name} with the
// file.
func (s *restServer) downloadSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := restSnapshotCollection(r)
	if err != nil {
		return nil, err
	}
	path, err := s.db.SnapshotPath(r.Context(), coll, r.PathValue("snapshot_name"))
	if err != nil {
		return restDownloadError(w, err)
	}
	return restServeFile(w, r, path)
}

// restServeFile sends a snapshot file (with Range support).
func restServeFile(w http.ResponseWriter, r *http.Request, path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return restDownloadError(w, restNotFound("Snapshot %s not found", filepath.Base(path)))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filepath.Base(path)}))
	http.ServeContent(w, r, "", info.ModTime(), f)
	return restWritten, nil
}

// restUploadChecksumMismatch is Qdrant's answer to an uploaded snapshot
// whose SHA-256 is not the checksum parameter (400, with no "Wrong input"
// prefix; Qdrant calls the file's checksum "expected" and the parameter
// "actual").
func restUploadChecksumMismatch(got, want string) error {
	return &restError{http.StatusBadRequest, fmt.Sprintf("Checksum mismatch: expected %s, actual %s", got, want)}
}

// restCheckChecksum validates a checksum parameter: a SHA-256 in hex.
func restCheckChecksum(sum string) error {
	if len(sum) != 64 {
		return &restError{http.StatusUnprocessableEntity, "Validation error in query parameters: [checksum: value invalid, must be a SHA-256 hash in hex]"}
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return &restError{http.StatusUnprocessableEntity, "Validation error in query parameters: [checksum: value invalid, must be a SHA-256 hash in hex]"}
	}
	return nil
}

// restFileChecksum returns the SHA-256 of a file, in hex.
func restFileChecksum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// restPriority checks a snapshot priority.
func restPriority(p string) error {
	switch p {
	case "", "no_sync", "snapshot", "replica":
		return nil
	}
	return restQueryError("unknown variant `%s`, expected one of `no_sync`, `snapshot`, `replica`", p)
}

// restore recovers collection coll from the snapshot file at path. An
// existing collection is replaced, keeping its aliases, atomically: a bad
// snapshot, or a crash midway, leaves it untouched.
func (s *restServer) restore(ctx context.Context, path, coll string) error {
	return s.db.RecoverSnapshot(ctx, path, coll)
}

// recoverSnapshot answers PUT /collections/{c}/snapshots/recover: location
// is a file:// URL of a snapshot file inside the snapshots directory, or an
// http:// or https:// URL to download it from.
func (s *restServer) recoverSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := restSnapshotCollection(r)
	if err != nil {
		return nil, err
	}
	return s.recoverFrom(w, r, coll)
}

func (s *restServer) recoverFrom(w http.ResponseWriter, r *http.Request, coll string) (any, error) {
	var req struct {
		Location *string `json:"location"`
		Priority *string `json:"priority"`
		Checksum *string `json:"checksum"`
		APIKey   *string `json:"api_key"`
	}
	if err := s.decodeBody(r, &req); err != nil {
		return nil, err
	}
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	if req.Location == nil {
		return nil, restMissing("", "location")
	}
	if req.Priority != nil {
		if err := restPriority(*req.Priority); err != nil {
			return nil, restFormatError("priority: unknown variant `%s`, expected one of `no_sync`, `snapshot`, `replica`", *req.Priority)
		}
	}
	if req.Checksum != nil {
		if err := restCheckRecoverChecksum(*req.Checksum); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(*req.Location)
	if err != nil || u.Scheme == "" {
		return nil, restFormatError("location: invalid value: string %q, expected a URL", *req.Location)
	}
	var path string
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, restBadRequest("Invalid snapshot URI, file path must be absolute or on localhost")
		}
		if path, err = s.snapshotFile(u.Path); err != nil {
			return nil, err
		}
		if req.Checksum != nil {
			got, err := restFileChecksum(path)
			if err != nil {
				return nil, err
			}
			if !restSameChecksum(got, *req.Checksum) {
				return nil, restSnapshotChecksumMismatch(got, *req.Checksum)
			}
		}
	case "http", "https":
		// As Qdrant, the download happens even when the caller does not
		// wait; qlite does it before answering.
		apiKey := ""
		if req.APIKey != nil {
			apiKey = *req.APIKey
		}
		tmp, got, err := s.downloadSnapshotURL(r.Context(), u, apiKey)
		if err != nil {
			return restAfterErr(wait, nil, err)
		}
		defer os.Remove(tmp)
		if req.Checksum != nil && !restSameChecksum(got, *req.Checksum) {
			return restAfterErr(wait, nil, restSnapshotChecksumMismatch(got, *req.Checksum))
		}
		path = tmp
	default:
		return nil, restBadRequest("URL %s with scheme %s is not supported", *req.Location, u.Scheme)
	}
	return restAfterErr(wait, true, s.restore(r.Context(), path, coll))
}

// restCheckRecoverChecksum validates the checksum of a recover request
// body: a SHA-256 in hex.
func restCheckRecoverChecksum(sum string) error {
	if _, err := hex.DecodeString(sum); err == nil && len(sum) == 64 {
		return nil
	}
	return restValidationError("checksum", "Validation error: invalid_sha256_hash [{\"value\": String(%q), \"length\": Number(%d), \"expected_length\": Number(64)}]", sum, len(sum))
}

// snapshotFile checks the path of a file:// recovery location: as Qdrant,
// the file must exist (else 400) and, with every symbolic link resolved,
// lie inside the snapshots directory (else 403), so that a request cannot
// make the server open any other file it can read. It returns the resolved
// path, which is what is then opened.
func (s *restServer) snapshotFile(path string) (string, error) {
	path = filepath.Clean("/" + path)
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return "", restBadRequest("Snapshot file %q does not exist", path)
	}
	root := s.db.SnapshotsDir()
	forbidden := &restError{http.StatusForbidden, fmt.Sprintf("Forbidden: Snapshot file path must be inside the snapshots directory %q", root)}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", forbidden
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		// No snapshots directory yet: nothing can be inside it.
		return "", forbidden
	}
	if rel, err := filepath.Rel(realRoot, real); err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", forbidden
	}
	return real, nil
}

// uploadSnapshot answers POST /collections/{c}/snapshots/upload: the
// snapshot file arrives as the multipart field "snapshot".
func (s *restServer) uploadSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.uploadTo(w, r, r.PathValue("collection_name"))
}

func (s *restServer) uploadTo(w http.ResponseWriter, r *http.Request, coll string) (any, error) {
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	if err := restPriority(q.Get("priority")); err != nil {
		return nil, err
	}
	checksum := q.Get("checksum")
	if checksum != "" {
		if err := restCheckChecksum(checksum); err != nil {
			return nil, err
		}
	}
	path, sum, err := s.receiveUpload(r)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	if checksum != "" && !strings.EqualFold(checksum, sum) {
		return nil, restUploadChecksumMismatch(sum, checksum)
	}
	if err := s.restore(r.Context(), path, coll); err != nil {
		return nil, err
	}
	return restAfter(wait, true), nil
}

// receiveUpload streams the multipart field "snapshot" to a temporary file
// inside the snapshots directory and returns its path and SHA-256.
func (s *restServer) receiveUpload(r *http.Request) (string, string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return "", "", restBadRequest("Multipart form with a `snapshot` file is required: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return "", "", restBadRequest("Multipart form with a `snapshot` file is required: no `snapshot` field")
		}
		if err != nil {
			return "", "", restBadRequest("Multipart form: %v", err)
		}
		if part.FormName() != "snapshot" {
			part.Close()
			continue
		}
		f, err := s.db.CreateSnapshotTemp()
		if err != nil {
			return "", "", err
		}
		h := sha256.New()
		_, err = io.Copy(io.MultiWriter(f, h), part)
		part.Close()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return "", "", restBadRequest("Multipart form: reading `snapshot`: %v", err)
		}
		return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
	}
}

// Full-storage snapshots: every collection and alias in one file.

func (s *restServer) listFullSnapshots(w http.ResponseWriter, r *http.Request) (any, error) {
	ds, err := s.db.ListFullSnapshots(r.Context())
	if err != nil {
		return nil, err
	}
	return restSnapshotsOut(ds), nil
}

func (s *restServer) createFullSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	d, err := s.db.CreateFullSnapshot(r.Context())
	if err != nil {
		return restAfterErr(wait, nil, err)
	}
	return restAfter(wait, restSnapshotOut(*d)), nil
}

func (s *restServer) deleteFullSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	return restAfterErr(wait, true, s.db.DeleteFullSnapshot(r.Context(), r.PathValue("snapshot_name")))
}

func (s *restServer) downloadFullSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	path, err := s.db.FullSnapshotPath(r.Context(), r.PathValue("snapshot_name"))
	if err != nil {
		return restDownloadError(w, err)
	}
	return restServeFile(w, r, path)
}

// A qlite collection has one shard, 0. Its shard snapshots have the
// content of collection snapshots but are kept apart, as Qdrant keeps them.

// shard checks the collection and shard_id path parameters, and that the
// shard exists.
func (s *restServer) shard(r *http.Request) (string, error) {
	coll, id, err := restShardParams(r)
	if err != nil {
		return "", err
	}
	return s.shardExists(r, coll, id)
}

// restShardParams checks the collection and shard_id path parameters.
func restShardParams(r *http.Request) (string, uint64, error) {
	coll, err := restSnapshotCollection(r)
	if err != nil {
		return "", 0, err
	}
	raw := r.PathValue("shard_id")
	id, err := strconv.ParseUint(raw, 10, 32)
	if err != nil {
		return "", 0, &restError{http.StatusBadRequest, fmt.Sprintf("Deserialize error in path parameters: can not parse %q to a u32", raw)}
	}
	return coll, id, nil
}

func (s *restServer) shardExists(r *http.Request, coll string, id uint64) (string, error) {
	if ok, err := s.db.CollectionExists(r.Context(), coll); err != nil {
		return "", err
	} else if !ok {
		return "", restNotFound("Collection `%s` doesn't exist!", coll)
	}
	if id != 0 {
		return "", restNotFound("shard %d not found", id)
	}
	return coll, nil
}

func (s *restServer) listShardSnapshots(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := s.shard(r)
	if err != nil {
		return nil, err
	}
	ds, err := s.db.ListShardSnapshots(r.Context(), coll)
	if err != nil {
		return nil, err
	}
	return restSnapshotsOut(ds), nil
}

func (s *restServer) createShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, id, err := restShardParams(r)
	if err != nil {
		return nil, err
	}
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	if coll, err = s.shardExists(r, coll, id); err != nil {
		return restAfterErr(wait, nil, err)
	}
	d, err := s.db.CreateShardSnapshot(r.Context(), coll)
	if err != nil {
		return restAfterErr(wait, nil, err)
	}
	return restAfter(wait, restSnapshotOut(*d)), nil
}

func (s *restServer) deleteShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, id, err := restShardParams(r)
	if err != nil {
		return nil, err
	}
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	if coll, err = s.shardExists(r, coll, id); err == nil {
		err = s.db.DeleteShardSnapshot(r.Context(), coll, r.PathValue("snapshot_name"))
	}
	return restAfterErr(wait, true, err)
}

// downloadShardSnapshot sends a shard snapshot. Qdrant answers a file name
// that names no snapshot with its I/O error, as plain text with no content
// type.
func (s *restServer) downloadShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := s.shard(r)
	if err != nil {
		return restDownloadError(w, err)
	}
	path, err := s.db.ShardSnapshotPath(r.Context(), coll, r.PathValue("snapshot_name"))
	if errors.Is(err, fs.ErrNotExist) {
		w.Header()["Content-Type"] = nil
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "File not found: No such file or directory (os error 2)")
		return restWritten, nil
	}
	if err != nil {
		return restDownloadError(w, err)
	}
	return restServeFile(w, r, path)
}

func (s *restServer) recoverShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := s.shard(r)
	if err != nil {
		return nil, err
	}
	b, err := s.body(r)
	if err != nil {
		return nil, err
	}
	// ShardSnapshotLocation is a URL, or the name of one of the shard's
	// snapshots; Qdrant refuses file:// URLs here.
	var req map[string]json.RawMessage
	if err := restDecode(b, &req); err != nil {
		return nil, err
	}
	if loc, ok := req["location"]; ok {
		var l string
		if err := restUnmarshal(loc, "location", &l); err != nil {
			return nil, err
		}
		if u, err := url.Parse(l); err == nil && strings.EqualFold(u.Scheme, "file") {
			return nil, &restError{http.StatusBadRequest, "Wrong input: Invalid snapshot URL " + l + ": URLs with file scheme are not supported"}
		}
		if !strings.Contains(l, "://") {
			path, err := s.db.ShardSnapshotPath(r.Context(), coll, l)
			if err != nil {
				return nil, restNotFound("Snapshot %s not found", l)
			}
			u := url.URL{Scheme: "file", Path: path}
			req["location"], _ = json.Marshal(u.String())
		}
		if b, err = json.Marshal(req); err != nil {
			return nil, err
		}
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(strings.NewReader(string(b)))
	r2.ContentLength = int64(len(b))
	r2.Header.Del("Content-Encoding")
	return s.recoverFrom(w, r2, coll)
}

func (s *restServer) uploadShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := s.shard(r)
	if err != nil {
		return nil, err
	}
	return s.uploadTo(w, r, coll)
}

// streamShardSnapshot answers GET /collections/{c}/shards/{id}/snapshot
// with a snapshot made for the request and removed after it is sent.
func (s *restServer) streamShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, err := s.shard(r)
	if err != nil {
		return restDownloadError(w, err)
	}
	d, err := s.db.CreateShardSnapshot(r.Context(), coll)
	if err != nil {
		return nil, err
	}
	defer s.db.DeleteShardSnapshot(context.WithoutCancel(r.Context()), coll, d.Name)
	path, err := s.db.ShardSnapshotPath(r.Context(), coll, d.Name)
	if err != nil {
		return nil, err
	}
	return restServeFile(w, r, path)
}
