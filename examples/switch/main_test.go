package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
)

func runOut(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return out.String()
}

// TestSwitch runs the same program embedded, against qlite serve and
// against Qdrant (when QDRANT_BIN names its binary), and requires the same
// output from all.
func TestSwitch(t *testing.T) {
	embedded := runOut(t, "-url", "", "-dir", t.TempDir())
	t.Logf("embedded:\n%s", embedded)
	if !strings.Contains(embedded, "books priced 20 to 80: ") || strings.Count(embedded, "\n  ") != 10 {
		t.Fatalf("unexpected output:\n%s", embedded)
	}

	// qlite serve, in process, on free ports.
	db, err := engine.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	_, grpcAddr, err := srv.Addrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if served := runOut(t, "-url", "grpc://"+grpcAddr); served != embedded {
		t.Fatalf("qlite serve answers\n%s\nembedded\n%s", served, embedded)
	}
	// Run twice: the program replaces the collection it made before.
	if again := runOut(t, "-url", "grpc://"+grpcAddr); again != embedded {
		t.Fatalf("second run answers\n%s", again)
	}

	bin := os.Getenv("QDRANT_BIN")
	if bin == "" {
		t.Skip("QDRANT_BIN is not set: not compared with a Qdrant server")
	}
	grpcPort := startQdrant(t, bin)
	if real := runOut(t, "-url", fmt.Sprintf("grpc://127.0.0.1:%d", grpcPort)); real != embedded {
		t.Fatalf("Qdrant answers\n%s\nqlite\n%s", real, embedded)
	}
}

func TestSwitchBadURL(t *testing.T) {
	for _, u := range []string{"localhost:6334", "http://localhost:6333", "grpc://localhost", "grpc://localhost:x"} {
		if err := run(context.Background(), []string{"-url", u}, &bytes.Buffer{}); err == nil {
			t.Fatalf("%q accepted", u)
		}
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startQdrant runs the Qdrant binary on free ports with its compiled-in
// defaults and returns its gRPC port once it is ready.
func startQdrant(t *testing.T, bin string) int {
	dir := t.TempDir()
	httpPort, grpcPort := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--disable-telemetry")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "RUN_MODE=production",
		"QDRANT__SERVICE__HOST=127.0.0.1",
		fmt.Sprintf("QDRANT__SERVICE__HTTP_PORT=%d", httpPort),
		fmt.Sprintf("QDRANT__SERVICE__GRPC_PORT=%d", grpcPort),
		"QDRANT__STORAGE__STORAGE_PATH="+filepath.Join(dir, "storage"),
		"QDRANT__STORAGE__SNAPSHOTS_PATH="+filepath.Join(dir, "snapshots"),
		"QDRANT__TELEMETRY_DISABLED=true")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return grpcPort
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Qdrant not ready after 60s:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
