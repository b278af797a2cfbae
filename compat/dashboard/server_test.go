package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
)

// serve starts a server with an API key and returns its URL.
func serve(t *testing.T, cfg compat.ServerConfig) string {
	t.Helper()
	db, err := engine.Open(t.TempDir(), nil)
	require.NoError(t, err)
	cfg.HTTPAddr, cfg.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	srv := compat.NewServer(db, &cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, db.Close())
	})
	addr, _, err := srv.Addrs(ctx)
	require.NoError(t, err)
	return "http://" + addr
}

func status(t *testing.T, url string) (int, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestServerMount checks the UI as the server mounts it: its files need
// no key (as Qdrant's dashboard), the API still does, and the UI can be
// turned off.
func TestServerMount(t *testing.T) {
	url := serve(t, compat.ServerConfig{APIKey: "k"})
	for _, p := range []string{"/dashboard", "/dashboard/", "//dashboard//", "/dashboard/app.js", "/dashboard/collections/c"} {
		code, h := status(t, url+p)
		require.Equal(t, http.StatusOK, code, p)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), p)
	}
	code, _ := status(t, url+"/dashboard/missing.css")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = status(t, url+"/collections")
	require.Equal(t, http.StatusUnauthorized, code, "the API needs the key")
	// Qdrant takes every path starting with /dashboard without a key.
	code, _ = status(t, url+"/dashboardx")
	require.Equal(t, http.StatusNotFound, code)

	off := serve(t, compat.ServerConfig{DisableDashboard: true})
	code, _ = status(t, off+"/dashboard")
	require.Equal(t, http.StatusNotFound, code)
	offKey := serve(t, compat.ServerConfig{APIKey: "k", DisableDashboard: true})
	code, _ = status(t, offKey+"/dashboard")
	require.Equal(t, http.StatusUnauthorized, code, "a UI that is off is not open")
}
