package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestServeChild is the server process of TestServeStopsOnFullDisk; it does
// nothing in a normal run.
func TestServeChild(t *testing.T) {
	dir := os.Getenv("QLITE_SERVE_CHILD")
	if dir == "" {
		t.Skip("child process of TestServeStopsOnFullDisk")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cmd := newRootCmd()
	cmd.SetArgs([]string{"serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--storage", dir})
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// On a full disk, qlite serve answers writes as Qdrant does (500, its
// message), keeps answering reads and /readyz, and stops on SIGTERM well
// within its grace period.
func TestServeStopsOnFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })

	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QLITE_SERVE_CHILD="+filepath.Join(mnt, "db"))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := bufio.NewScanner(stderr)
	var base string
	re := regexp.MustCompile(`REST on (\S+),`)
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			base = "http://" + m[1]
			break
		}
	}
	require.NotEmpty(t, base, "the server did not start")
	go io.Copy(io.Discard, stderr)

	do := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("PUT", "/collections/c", `{"vectors":{"size":4,"distance":"Dot"}}`)
	require.Equal(t, http.StatusOK, code, body)
	points := `{"points":[{"id":1,"vector":[1,2,3,4]},{"id":2,"vector":[4,3,2,1]}]}`
	code, body = do("PUT", "/collections/c/points?wait=true", points)
	require.Equal(t, http.StatusOK, code, body)

	f, err := os.Create(filepath.Join(mnt, "filler"))
	require.NoError(t, err)
	buf := make([]byte, 1<<20)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	code, body = do("PUT", "/collections/c/points?wait=true", points)
	require.Equal(t, http.StatusInternalServerError, code, body)
	require.Contains(t, body, `"error":"Service internal error: No space left on device: WAL buffer size exceeds available disk space"`)
	code, body = do("POST", "/collections/c/points/count", `{"exact":true}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"count":2`)
	code, body = do("GET", "/readyz", "")
	require.Equal(t, http.StatusOK, code, body)

	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "qlite serve exits cleanly")
	case <-time.After(40 * time.Second):
		t.Fatal("qlite serve did not stop within its grace period (30 s for requests, 10 s for the storage)")
	}
	t.Logf("stopped %v after SIGTERM", time.Since(start))
}
