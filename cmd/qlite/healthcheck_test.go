package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
)

// TestHealthcheck runs qlite healthcheck, as the container's HEALTHCHECK
// does (address from the environment), against a real server: ready, then
// with its storage closed (503), then stopped (refused).
func TestHealthcheck(t *testing.T) {
	db, err := engine.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	stop := func() {
		if cancel != nil {
			cancel()
			cancel = nil
			<-done
		}
	}
	defer stop()
	httpAddr, _, err := srv.Addrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(httpAddr)
	t.Setenv("QDRANT__SERVICE__HOST", "0.0.0.0")
	t.Setenv("QDRANT__SERVICE__HTTP_PORT", port)

	out, err := execute(t, "healthcheck")
	if err != nil || !strings.Contains(out, "/readyz: all shards are ready") {
		t.Fatalf("healthcheck of a ready server: %v, %q", err, out)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := execute(t, "healthcheck"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("healthcheck with the storage closed: %v, want a 503", err)
	}

	stop()
	if _, err := execute(t, "healthcheck", "--url", "http://"+httpAddr+"/readyz"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("healthcheck of a stopped server: %v, want connection refused", err)
	}
}

func TestHealthcheckURL(t *testing.T) {
	f := func(env map[string]string, want string, wantTLS bool, wantErr string) {
		t.Helper()
		got, tlsOn, err := healthcheckURL(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%v: error %v, want %q", env, err, wantErr)
			}
			return
		}
		if err != nil || got != want || tlsOn != wantTLS {
			t.Errorf("%v: %q %v %v, want %q %v", env, got, tlsOn, err, want, wantTLS)
		}
	}
	f(nil, "http://127.0.0.1:6333/readyz", false, "")
	f(map[string]string{"QDRANT__SERVICE__HOST": "::", "QDRANT__SERVICE__HTTP_PORT": "7000"}, "http://[::1]:7000/readyz", false, "")
	f(map[string]string{"QDRANT__SERVICE__HOST": "10.1.2.3"}, "http://10.1.2.3:6333/readyz", false, "")
	f(map[string]string{"QDRANT__SERVICE__ENABLE_TLS": "true"}, "https://127.0.0.1:6333/readyz", true, "")
	f(map[string]string{"QDRANT__SERVICE__ENABLE_TLS": "0"}, "http://127.0.0.1:6333/readyz", false, "")
	f(map[string]string{"QDRANT__SERVICE__HTTP_PORT": "http"}, "", false, "QDRANT__SERVICE__HTTP_PORT")
	f(map[string]string{"QDRANT__SERVICE__HTTP_PORT": "70000"}, "", false, "not a port")
	f(map[string]string{"QDRANT__SERVICE__ENABLE_TLS": "yes please"}, "", false, "ENABLE_TLS")
}
