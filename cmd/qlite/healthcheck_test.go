package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
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

// TestHealthcheckURL checks that the health check finds the server where
// qlite serve, started in the same directory and environment, listens:
// from the config files Qdrant's image layout has, --config-path and the
// QDRANT__ variables.
func TestHealthcheckURL(t *testing.T) {
	f := func(env []string, files map[string]string, configPath, want string, wantTLS bool, wantErr string) {
		t.Helper()
		dir := t.TempDir()
		for name, text := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if configPath != "" {
			configPath = filepath.Join(dir, configPath)
		}
		got, tlsOn, err := healthcheckURL(dir, configPath, env)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%v %v: error %v, want %q", env, files, err, wantErr)
			}
			return
		}
		if err != nil || got != want || tlsOn != wantTLS {
			t.Errorf("%v %v: %q %v %v, want %q %v", env, files, got, tlsOn, err, want, wantTLS)
		}
	}
	f(nil, nil, "", "http://127.0.0.1:6333/readyz", false, "")
	f([]string{"QDRANT__SERVICE__HOST=::", "QDRANT__SERVICE__HTTP_PORT=7000"}, nil, "", "http://[::1]:7000/readyz", false, "")
	f([]string{"QDRANT__SERVICE__HOST=10.1.2.3"}, nil, "", "http://10.1.2.3:6333/readyz", false, "")
	f([]string{"QDRANT__SERVICE__ENABLE_TLS=true"}, nil, "", "https://127.0.0.1:6333/readyz", true, "")
	f([]string{"QDRANT__SERVICE__ENABLE_TLS=false"}, nil, "", "http://127.0.0.1:6333/readyz", false, "")
	// Qdrant's image: RUN_MODE=production reads config/production.yaml in
	// the working directory; the environment overrides it.
	prod := map[string]string{"config/production.yaml": "service:\n  http_port: 7333\n  enable_tls: true\n"}
	f([]string{"RUN_MODE=production"}, prod, "", "https://127.0.0.1:7333/readyz", true, "")
	f([]string{"RUN_MODE=production", "QDRANT__SERVICE__HTTP_PORT=7444"}, prod, "", "https://127.0.0.1:7444/readyz", true, "")
	f(nil, prod, "", "http://127.0.0.1:6333/readyz", false, "")
	f(nil, map[string]string{"my.yaml": "service:\n  host: 127.0.0.2\n"}, "my.yaml", "http://127.0.0.2:6333/readyz", false, "")
	f([]string{"QDRANT__SERVICE__HTTP_PORT=http"}, nil, "", "", false, "service.http_port")
	f(nil, nil, "missing.yaml", "", false, "missing.yaml")
}
