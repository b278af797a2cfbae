package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// restRouter routes REST requests as Qdrant's actix server does, and never
// redirects. Go's ServeMux answers a path with dot segments or doubled
// slashes with a redirect to the cleaned path, so that a client following
// it would run DELETE /collections/c for DELETE /collections/c/snapshots/..
// Instead, as actix does, repeated slashes are merged and a trailing slash
// dropped, and a "." or ".." segment is a literal name: ".." there is a
// snapshot named "..", and /collections/./c matches no route. A request
// that matches no route (or not its method) is 404 with an empty body.
type restRouter struct {
	mux *http.ServeMux
}

func (rt *restRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = restNormalizePath(r)
	if rt.route(r) == "" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	rt.mux.ServeHTTP(w, r)
}

// route returns the pattern r matches, or "".
func (rt *restRouter) route(r *http.Request) string {
	_, pattern := rt.mux.Handler(restNormalizePath(r))
	return pattern
}

// restNormalizing serves h with normalised paths (see restNormalizePath).
func restNormalizing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, restNormalizePath(r))
	})
}

// restNormalizePath returns r with its path normalised: empty segments
// dropped, "." and ".." segments escaped so that routing takes them
// literally. It returns r itself when the path is already normal.
func restNormalizePath(r *http.Request) *http.Request {
	esc := r.URL.EscapedPath()
	var b strings.Builder
	for seg := range strings.SplitSeq(esc, "/") {
		switch seg {
		case "":
			continue
		case ".":
			seg = "%2E"
		case "..":
			seg = "%2E%2E"
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	norm := b.String()
	if norm == "" {
		norm = "/"
	}
	if norm == esc {
		return r
	}
	path, err := url.PathUnescape(norm)
	if err != nil {
		return r // EscapedPath is always valid
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = path, norm
	r2.URL = &u
	return r2
}

// restCheckCollectionPath validates the {collection_name} of a path before
// anything else of the request, as Qdrant does on every route, for 422
// "Validation error in path parameters: [collection_name: ...]" (see
// collectionNameProblem; strict for a collection being created).
func restCheckCollectionPath(name string, strict bool) error {
	if msg := collectionNameProblem(name, strict); msg != "" {
		return &restError{http.StatusUnprocessableEntity, "Validation error in path parameters: [collection_name: " + msg + "]"}
	}
	return nil
}

// maxNameChars is Qdrant's limit on a collection name, in characters.
const maxNameChars = 255

// collectionNameProblem describes, with Qdrant's message, what is wrong
// with a collection name given to any REST route or gRPC method, or
// returns "". Qdrant accepts 1 to 255 characters without "/" or NUL, so
// that collections stored under older rules stay reachable. A strict
// check, for the name of a collection or alias being created, also
// refuses Qdrant's reserved characters <>:"\|?* and 0x1F and, unlike
// Qdrant, a newline, invalid UTF-8, "." and ".." (which Qdrant takes, or
// fails on with a 500) and more than 255 bytes (which Qdrant's file
// system refuses).
func collectionNameProblem(name string, strict bool) string {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameChars {
		return fmt.Sprintf("value %s invalid, must be from 1 to %d characters", restJSONString(name), maxNameChars)
	}
	reserved := "/\x00"
	if strict {
		switch {
		case len(name) > 255:
			return "collection name must be at most 255 bytes long"
		case !utf8.ValidString(name):
			return "collection name must be valid UTF-8"
		case name == "." || name == "..":
			return fmt.Sprintf("collection name cannot be %q", name)
		}
		reserved = "<>:\"/\\|?*\x00\x1f\n"
	}
	if i := strings.IndexAny(name, reserved); i >= 0 {
		return fmt.Sprintf("collection name cannot contain \"%c\" char", name[i])
	}
	return ""
}

// restJSONString writes s as a JSON string, as Qdrant quotes values in
// validation messages.
func restJSONString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
