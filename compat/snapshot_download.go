package compat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Snapshot recovery from http:// and https:// locations downloads the file
// into a temporary file under the snapshots directory (engine.DB.
// CreateSnapshotTemp), hashing it on the way, restores from it and removes
// it. As Qdrant (lib/storage/src/content_manager/snapshots/download.rs),
// qlite sets no size limit of its own; instead the download stops, with an
// error, when the disk holding the snapshots directory would be left with
// less than restDownloadReserve bytes free (or when the server announces a
// larger body than that leaves room for), so that a download never fills
// the disk. It also stops when the request is cancelled (the client went
// away, or the server is stopping).

// restDownloadReserve is the free space a snapshot download leaves on the
// disk of the snapshots directory.
const restDownloadReserve = 256 << 20

// restDownloadCheckEvery is how many bytes are written between checks of
// the free space.
const restDownloadCheckEvery = 16 << 20

// restHTTPClient fetches snapshots; a variable so that tests can use a
// server's own client (TLS).
var restHTTPClient = &http.Client{}

// downloadSnapshot fetches u into a new temporary file and returns its path
// and SHA-256 in hex. The caller removes the file. apiKey, when set, is sent
// as Qdrant's api-key header (for a location on another Qdrant-compatible
// server).
func (s *restServer) downloadSnapshotURL(ctx context.Context, u *url.URL, apiKey string) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", "", restBadRequest("Invalid snapshot URL %s: %v", u, err)
	}
	if apiKey != "" {
		req.Header.Set("api-key", apiKey)
	}
	resp, err := restHTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", restInternal("Http request error: error sending request for url (%s)", u)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", "", &restError{http.StatusBadRequest, fmt.Sprintf("Wrong input: Failed to download tar from %s: status - %d %s", u, resp.StatusCode, http.StatusText(resp.StatusCode))}
	}
	f, err := s.db.CreateSnapshotTemp()
	if err != nil {
		return "", "", err
	}
	fail := func(err error) (string, string, error) {
		f.Close()
		os.Remove(f.Name())
		return "", "", err
	}
	if free, ok := freeBytes(f.Name()); ok && resp.ContentLength > 0 && resp.ContentLength > int64(free)-restDownloadReserve {
		return fail(restNoSpace(u, resp.ContentLength, free))
	}
	h := sha256.New()
	w := io.MultiWriter(f, h)
	var n int64
	for {
		m, err := io.CopyN(w, resp.Body, restDownloadCheckEvery)
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			return fail(restInternal("Http request error: error decoding response body from %s: %v", u, err))
		}
		if free, ok := freeBytes(f.Name()); ok && free < restDownloadReserve {
			return fail(restNoSpace(u, n, free))
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// restInternal is a StorageError::ServiceError: 500 "Service internal
// error: ...".
func restInternal(format string, args ...any) error {
	return &restError{http.StatusInternalServerError, "Service internal error: " + fmt.Sprintf(format, args...)}
}

func restNoSpace(u *url.URL, size int64, free uint64) error {
	return restInternal("No space left on device: downloading %s stopped at %d bytes: %d bytes free, %d must stay free", u, size, free, restDownloadReserve)
}

// restSnapshotChecksumMismatch is Qdrant's answer when a recovered
// snapshot's SHA-256 is not the one given.
func restSnapshotChecksumMismatch(got, want string) error {
	return &restError{http.StatusBadRequest, fmt.Sprintf("Wrong input: Snapshot checksum mismatch: expected %s, got %s", want, got)}
}

// restSameChecksum compares checksums in hex, in any case.
func restSameChecksum(a, b string) bool { return strings.EqualFold(a, b) }
