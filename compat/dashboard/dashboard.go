package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Path is where the server mounts the UI: the UI is at Path and every file
// under Path + "/".
const Path = "/dashboard"

//go:embed static
var static embed.FS

// contentTypes are the types of the UI's files, by extension; a file of
// another extension is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// csp lets the UI load its own files and call its own server, and nothing
// else: no inline scripts or styles, no other origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// file is one embedded file, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// handler serves the embedded files.
type handler struct {
	files map[string]file // by path below Path, e.g. "/app.js"
}

// Handler returns the handler of the UI. It answers GET and HEAD of Path,
// Path + "/" and Path + "/index.html" with the UI's page, of an embedded
// file with that file, and of any other path under Path without a file
// extension with the page too (its views are at Path + "#/..."; a link
// to such a path still opens the UI);
// other paths answer 404 and other methods 405. Every answer carries
// X-Frame-Options: DENY, as Qdrant's, and a Content-Security-Policy that
// keeps the page to its own origin.
func Handler() http.Handler {
	h := &handler{files: map[string]file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h.files[strings.TrimPrefix(p, "static")] = file{body, ctype, `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("dashboard: BUG: reading the embedded files: " + err.Error())
	}
	if _, ok := h.files["/index.html"]; !ok {
		panic("dashboard: BUG: no embedded index.html")
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", csp)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, Path)
	if !ok || (rest != "" && rest[0] != '/') {
		http.NotFound(w, r)
		return
	}
	f, ok := h.files[rest]
	if !ok {
		if path.Ext(rest) != "" {
			http.NotFound(w, r)
			return
		}
		f = h.files["/index.html"]
	}
	hd.Set("Content-Type", f.ctype)
	hd.Set("ETag", f.etag)
	// The files change with the binary: a browser checks its copy each
	// time, and a 304 answers when it is current.
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
