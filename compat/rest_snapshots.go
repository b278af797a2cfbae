package compat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

// listSnapshots answers GET /collections/{c}/snapshots.
func (s *restServer) listSnapshots(w http.ResponseWriter, r *http.Request) (any, error) {
	ds, err := s.db.ListSnapshots(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	out := make([]restSnapshot, len(ds))
	for i, d := range ds {
		out[i] = restSnapshotOut(d)
	}
	return out, nil
}

// createSnapshot answers POST /collections/{c}/snapshots.
func (s *restServer) createSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	d, err := s.db.CreateSnapshot(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	return restAfter(wait, restSnapshotOut(*d)), nil
}

// deleteSnapshot answers DELETE /collections/{c}/snapshots/{name}.
func (s *restServer) deleteSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	wait, err := restSnapshotWait(r)
	if err != nil {
		return nil, err
	}
	if err := s.db.DeleteSnapshot(r.Context(), r.PathValue("collection_name"), r.PathValue("snapshot_name")); err != nil {
		return nil, err
	}
	return restAfter(wait, true), nil
}

// downloadSnapshot answers GET /collections/{c}/snapshots/{name} with the
// file.
func (s *restServer) downloadSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	path, err := s.db.SnapshotPath(r.Context(), r.PathValue("collection_name"), r.PathValue("snapshot_name"))
	if err != nil {
		return nil, err
	}
	return restServeFile(w, r, path)
}

// restServeFile sends a snapshot file (with Range support).
func restServeFile(w http.ResponseWriter, r *http.Request, path string) (any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, restNotFound("Snapshot %s not found", filepath.Base(path))
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

// restChecksumMismatch is Qdrant's ChecksumMismatch error (HTTP 400).
func restChecksumMismatch(got, want string) error {
	return status.Errorf(codes.DataLoss, "Checksum mismatch: expected %s, got %s", want, got)
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
	return restQueryError("priority: unknown variant `%s`, expected one of `no_sync`, `snapshot`, `replica`", p)
}

// restore recovers collection coll from the snapshot file at path. An
// existing collection is replaced, keeping its aliases: the snapshot is
// first restored under a temporary name, so that a bad snapshot leaves the
// collection untouched.
func (s *restServer) restore(ctx context.Context, path, coll string) error {
	if err := engine.ValidateCollectionName(coll); err != nil {
		return err
	}
	exists, err := s.db.CollectionExists(ctx, coll)
	if err != nil {
		return err
	}
	if !exists {
		return s.db.RestoreSnapshot(ctx, path, coll)
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := ".qlite-restore-" + hex.EncodeToString(suffix[:])
	if err := s.db.RestoreSnapshot(ctx, path, tmp); err != nil {
		return err
	}
	defer s.db.DeleteCollection(context.WithoutCancel(ctx), tmp)
	aliases, err := s.db.ListAliases(ctx, coll)
	if err != nil {
		return err
	}
	if _, err := s.db.DeleteCollection(ctx, coll); err != nil {
		return err
	}
	if err := s.db.RestoreSnapshot(context.WithoutCancel(ctx), path, coll); err != nil {
		return err
	}
	if len(aliases) == 0 {
		return nil
	}
	ops := make([]engine.AliasOp, len(aliases))
	for i, a := range aliases {
		ops[i].Create = &engine.CreateAlias{Collection: coll, Alias: a.Alias}
	}
	return s.db.UpdateAliases(context.WithoutCancel(ctx), ops)
}

// recoverSnapshot answers PUT /collections/{c}/snapshots/recover: location
// is a file:// URL of a snapshot file; http(s) locations are not supported.
func (s *restServer) recoverSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.recoverFrom(w, r, r.PathValue("collection_name"))
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
	case "http", "https":
		return nil, Unsupported("recovering a snapshot from an http(s) location")
	default:
		return nil, restBadRequest("URL %s with scheme %s is not supported", *req.Location, u.Scheme)
	}
	if req.Checksum != nil {
		got, err := restFileChecksum(path)
		if err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(*req.Checksum)), []byte(got)) != 1 {
			return nil, restChecksumMismatch(got, *req.Checksum)
		}
	}
	if err := s.restore(r.Context(), path, coll); err != nil {
		return nil, err
	}
	return restAfter(wait, true), nil
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
		return nil, restChecksumMismatch(sum, checksum)
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

// Full-storage snapshots are not supported: there are none to list, get or
// delete, and creating one is refused naming the feature.

func (s *restServer) listFullSnapshots(w http.ResponseWriter, r *http.Request) (any, error) {
	return []restSnapshot{}, nil
}

func (s *restServer) createFullSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := restSnapshotWait(r); err != nil {
		return nil, err
	}
	return nil, Unsupported("full-storage snapshots")
}

func (s *restServer) deleteFullSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := restSnapshotWait(r); err != nil {
		return nil, err
	}
	return nil, restNotFound("Full storage snapshot %s not found", r.PathValue("snapshot_name"))
}

func (s *restServer) downloadFullSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	return nil, restNotFound("Full storage snapshot %s not found", r.PathValue("snapshot_name"))
}

// A qlite collection has one shard, 0; its shard snapshots are the
// collection's snapshots.

// shard checks the shard_id path parameter.
func (s *restServer) shard(r *http.Request) (string, error) {
	coll := r.PathValue("collection_name")
	raw := r.PathValue("shard_id")
	id, err := strconv.ParseUint(raw, 10, 32)
	if err != nil {
		return "", &restError{http.StatusBadRequest, fmt.Sprintf("Deserialize error in path parameters: can not parse %q to a u32", raw)}
	}
	if ok, err := s.db.CollectionExists(r.Context(), coll); err != nil {
		return "", err
	} else if !ok {
		return "", restNotFound("Collection `%s` doesn't exist!", coll)
	}
	if id != 0 {
		return "", restNotFound("Shard %d of collection %s does not exist", id, coll)
	}
	return coll, nil
}

func (s *restServer) listShardSnapshots(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := s.shard(r); err != nil {
		return nil, err
	}
	return s.listSnapshots(w, r)
}

func (s *restServer) createShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := s.shard(r); err != nil {
		return nil, err
	}
	return s.createSnapshot(w, r)
}

func (s *restServer) deleteShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := s.shard(r); err != nil {
		return nil, err
	}
	return s.deleteSnapshot(w, r)
}

func (s *restServer) downloadShardSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	if _, err := s.shard(r); err != nil {
		return nil, err
	}
	return s.downloadSnapshot(w, r)
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
			path, err := s.db.SnapshotPath(r.Context(), coll, l)
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
		return nil, err
	}
	d, err := s.db.CreateSnapshot(r.Context(), coll)
	if err != nil {
		return nil, err
	}
	defer s.db.DeleteSnapshot(context.WithoutCancel(r.Context()), coll, d.Name)
	path, err := s.db.SnapshotPath(r.Context(), coll, d.Name)
	if err != nil {
		return nil, err
	}
	return restServeFile(w, r, path)
}
