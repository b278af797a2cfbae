package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// get requests path of the UI's handler.
func get(t *testing.T, method, path string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestPageAndFallback(t *testing.T) {
	index, err := static.ReadFile("static/index.html")
	require.NoError(t, err)
	// The page at the mount point, with or without a slash, by name, and
	// at any path without an extension.
	for _, p := range []string{"/dashboard", "/dashboard/", "/dashboard/index.html", "/dashboard/collections/c1"} {
		resp := get(t, "GET", p)
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), p)
		require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), p)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "connect-src 'self'", p)
		require.Equal(t, string(index), body(t, resp), p)
	}
	// A missing file, a path outside the mount, another method.
	require.Equal(t, http.StatusNotFound, get(t, "GET", "/dashboard/missing.js").StatusCode)
	require.Equal(t, http.StatusNotFound, get(t, "GET", "/dashboardx").StatusCode)
	resp := get(t, "POST", "/dashboard")
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	// HEAD has the headers and no body.
	resp = get(t, "HEAD", "/dashboard/app.js")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Empty(t, body(t, resp))
}

func TestContentTypesAndETags(t *testing.T) {
	want := map[string]string{".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
	n := 0
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		ext := p[strings.LastIndex(p, "."):]
		require.Contains(t, want, ext, "%s: a file the handler does not serve", p)
		resp := get(t, "GET", "/dashboard"+strings.TrimPrefix(p, "static"))
		require.Equal(t, http.StatusOK, resp.StatusCode, p)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), want[ext]), "%s: %s", p, resp.Header.Get("Content-Type"))
		b, err := static.ReadFile(p)
		require.NoError(t, err)
		require.Equal(t, string(b), body(t, resp), p)
		// A browser's copy is revalidated: the same ETag answers 304.
		etag := resp.Header.Get("ETag")
		require.NotEmpty(t, etag, p)
		require.Equal(t, http.StatusNotModified, get(t, "GET", "/dashboard"+strings.TrimPrefix(p, "static"), "If-None-Match", etag).StatusCode, p)
		return nil
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 10, "embedded files")
}

// TestReferencesResolve checks that every file the page and the modules
// load is embedded: the <script> and <link> references, and the modules'
// relative ones (imports, the worker).
func TestReferencesResolve(t *testing.T) {
	refs := regexp.MustCompile(`(?:href|src)="(/dashboard/[^"]+)"|'(\./[^']+)'`)
	n := 0
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		require.NoError(t, err)
		for _, m := range refs.FindAllStringSubmatch(string(b), -1) {
			n++
			ref := m[1]
			if ref == "" {
				ref = "/dashboard/" + strings.TrimPrefix(m[2], "./")
			}
			require.Equal(t, http.StatusOK, get(t, "GET", ref).StatusCode, "%s loads %s", p, ref)
			require.NotEqual(t, "text/html; charset=utf-8", get(t, "GET", ref).Header.Get("Content-Type"), "%s loads %s: the page fallback", p, ref)
		}
		return nil
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 20, "references found")
}

// TestOffline checks that no file refers to another origin: no http:// or
// https:// anywhere (SVG's namespace name aside, which is never fetched),
// and no protocol-relative URL.
func TestOffline(t *testing.T) {
	url := regexp.MustCompile(`(?i)https?://|["'(=]//[a-z0-9]`)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		require.NoError(t, err)
		s := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "")
		for i, line := range strings.Split(s, "\n") {
			require.False(t, url.MatchString(line), "%s:%d refers to another origin: %s", p, i+1, line)
		}
		return nil
	})
	require.NoError(t, err)
}
