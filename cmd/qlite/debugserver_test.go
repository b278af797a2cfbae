package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// get fetches url and returns its body, failing the test on any error or
// a status other than 200.
func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return b
}

// The debug server reports the runtime's memory classes (the live heap at
// least what the test holds) and the process's smaps_rollup, and serves
// heap profiles in pprof's gzipped format.
func TestDebugServer(t *testing.T) {
	addr, stop, err := startDebugServer(context.Background(), "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	held := make([]byte, 8<<20)
	for i := range held {
		held[i] = byte(i)
	}
	report := string(get(t, "http://"+addr+"/debug/memory?gc=1"))
	m := regexp.MustCompile(`(?m)^/gc/heap/live:bytes +(\d+)$`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no live heap in the report:\n%s", report)
	}
	if live, _ := strconv.ParseInt(m[1], 10, 64); live < int64(len(held)) {
		t.Fatalf("live heap %d below the %d bytes held:\n%s", live, len(held), report)
	}
	if _, err := os.Stat("/proc/self/smaps_rollup"); err == nil && !strings.Contains(report, "\nAnonymous:") {
		t.Fatalf("no smaps_rollup in the report:\n%s", report)
	}
	if p := get(t, "http://"+addr+"/debug/pprof/heap"); !bytes.HasPrefix(p, []byte{0x1f, 0x8b}) {
		t.Fatalf("heap profile is not gzipped: % x", p[:min(len(p), 8)])
	}
	held[0]++ // held stays live until the report is read

	if err := serveOnce(t, "--storage", t.TempDir(), "--debug-addr", "no-such-address"); err == nil || !strings.Contains(err.Error(), "--debug-addr") {
		t.Fatalf("--debug-addr no-such-address: %v", err)
	}
}
