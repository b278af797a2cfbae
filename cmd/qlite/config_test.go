package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/internal/testcert"
)

// configFlags parses args as qlite serve's command line, then reads the
// config files of dir and path and the environment environ.
func configFlags(t *testing.T, args []string, dir, path string, environ []string) (*pflag.FlagSet, *configReport, error) {
	t.Helper()
	fl := newServeCmd().Flags()
	require.NoError(t, fl.Parse(args))
	r, err := loadConfig(fl, dir, path, environ)
	return fl, r, err
}

func flagValue(t *testing.T, fl *pflag.FlagSet, name string) string {
	t.Helper()
	f := fl.Lookup(name)
	require.NotNil(t, f, name)
	return f.Value.String()
}

func writeFile(t *testing.T, path, data string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(data), 0o644))
	return path
}

// TestConfigPrecedence sets service.http_port in every combination of the
// layers and checks that the last one present wins, as in Qdrant (then
// the command line): defaults < config/config.yaml < config/$RUN_MODE.yaml
// < config/local.yaml < --config-path < QDRANT__ variables < flags.
func TestConfigPrecedence(t *testing.T) {
	const n = 6 // config, run mode, local, --config-path, environment, flag
	for set := 0; set < 1<<n; set++ {
		dir := t.TempDir()
		var args, environ []string
		path := ""
		want := "6333"
		for layer := 0; layer < n; layer++ {
			if set&(1<<layer) == 0 {
				continue
			}
			port := fmt.Sprint(7000 + layer)
			want = port
			yaml := "service:\n  http_port: " + port + "\n"
			switch layer {
			case 0:
				writeFile(t, filepath.Join(dir, "config", "config.yaml"), yaml)
			case 1:
				writeFile(t, filepath.Join(dir, "config", "production.yml"), yaml)
				// The development file is not read with RUN_MODE=production.
				writeFile(t, filepath.Join(dir, "config", "development.yaml"), "service:\n  http_port: 1\n")
			case 2:
				writeFile(t, filepath.Join(dir, "config", "local.yaml"), yaml)
			case 3:
				path = writeFile(t, filepath.Join(dir, "mine.yaml"), yaml)
			case 4:
				environ = append(environ, "QDRANT__SERVICE__HTTP_PORT="+port)
			case 5:
				args = append(args, "--http-port", port)
			}
		}
		environ = append(environ, "RUN_MODE=production", "HOME=/nowhere")
		fl, _, err := configFlags(t, args, dir, path, environ)
		require.NoError(t, err, "layers %06b", set)
		require.Equal(t, want, flagValue(t, fl, "http-port"), "layers %06b", set)
	}

	// Layers merge key by key: a later layer overrides only the keys it
	// sets. Without RUN_MODE, config/development.yaml is read.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config", "development.yaml"), "service:\n  api_key: k1\n  grpc_port: 7100\n")
	path := writeFile(t, filepath.Join(dir, "c.yaml"), "service:\n  host: 127.0.0.2\n  grpc_port: 7200\n")
	fl, r, err := configFlags(t, []string{"--host", "127.0.0.3"}, dir, path,
		[]string{"qdrant__service__enable_cors=false", "QDRANT__SERVICE__ENABLE_STATIC_CONTENT=false"})
	require.NoError(t, err)
	for name, want := range map[string]string{
		"api-key": "k1", "grpc-port": "7200", "host": "127.0.0.3", "disable-cors": "true", "http-port": "6333",
		"disable-dashboard": "true",
	} {
		require.Equal(t, want, flagValue(t, fl, name), name)
	}
	require.Equal(t, []string{filepath.Join(dir, "config", "development.yaml"), path}, r.files)
}

// TestConfigLogLevel checks Qdrant's two log level keys: logger.log_level
// wins over log_level whichever layer sets each, the command line wins
// over both, and a level Qdrant does not have stops startup with the key.
func TestConfigLogLevel(t *testing.T) {
	f := func(args []string, yaml string, environ []string, want string) {
		t.Helper()
		dir := t.TempDir()
		path := writeFile(t, filepath.Join(dir, "c.yaml"), yaml)
		fl, _, err := configFlags(t, args, dir, path, environ)
		require.NoError(t, err)
		require.Equal(t, want, flagValue(t, fl, "log-level"))
	}
	f(nil, "log_level: DEBUG\n", nil, "DEBUG")
	f(nil, "log_level: DEBUG\n", []string{"QDRANT__LOG_LEVEL=warn"}, "warn")
	f(nil, "logger:\n  log_level: error\n", []string{"QDRANT__LOG_LEVEL=warn"}, "error")
	f(nil, "log_level: warn\n", []string{"QDRANT__LOGGER__LOG_LEVEL=trace"}, "trace")
	f([]string{"--log-level", "info"}, "logger:\n  log_level: error\n", nil, "info")

	path := writeFile(t, filepath.Join(t.TempDir(), "c.yaml"), "log_level: chatty\n")
	_, _, err := configFlags(t, nil, t.TempDir(), path, nil)
	require.ErrorContains(t, err, `log_level: "chatty": `)
	require.ErrorContains(t, err, path+" line 1")
}

// TestConfigQdrantSample reads a config in Qdrant's layout: the keys qlite
// has set their flags; the Qdrant settings it has no equivalent of are
// listed as ignored, keys of neither as unknown, and nulls set nothing.
func TestConfigQdrantSample(t *testing.T) {
	sample := filepath.Join("testdata", "qdrant-config.yaml")
	fl, r, err := configFlags(t, nil, t.TempDir(), sample,
		[]string{"QDRANT__CLUSTER__ENABLED=false", "QDRANT__SERVICE__NO_SUCH=1", "QDRANT_URL=x"})
	require.NoError(t, err)
	for name, want := range map[string]string{
		"storage": "./data/vectors", "host": "127.0.0.1", "http-port": "7333", "grpc-port": "7334",
		"max-request-size-mb": "64", "disable-cors": "true", "enable-tls": "false",
		"verify-https-client-certificate": "false", "api-key": "secret-key",
		"read-only-api-key": "reader-key", "tls-cert": "./tls/cert.pem", "tls-key": "./tls/key.pem",
		"tls-ca-cert": "./tls/cacert.pem", "tls-cert-ttl": "10m0s",
	} {
		require.Equal(t, want, flagValue(t, fl, name), name)
	}
	ignored := []string{
		"storage.snapshots_path (" + sample + " line 7)",
		"storage.on_disk_payload (" + sample + " line 9)",
		"storage.wal (" + sample + " line 10)",
		"storage.performance (" + sample + " line 13)",
		"storage.optimizers (" + sample + " line 16)",
		"storage.hnsw_index (" + sample + " line 20)",
		"service.max_workers (" + sample + " line 30)",
		"cluster (" + sample + " line 37)",
		"cluster.enabled (QDRANT__CLUSTER__ENABLED)",
	}
	require.Equal(t, "INFO", flagValue(t, fl, "log-level"))
	require.ElementsMatch(t, ignored, r.ignored)
	require.Equal(t, []string{"service.no_such (QDRANT__SERVICE__NO_SUCH)"}, r.unknown)
	require.Equal(t, []string{sample}, r.files)

	_, r, err = configFlags(t, nil, t.TempDir(), writeFile(t, filepath.Join(t.TempDir(), "u.yaml"),
		"storage:\n  storage_path: /x\n  bogus: 1\nservice:\n  bogus: {a: 1}\nextra: [1]\n"), nil)
	require.NoError(t, err)
	require.Empty(t, r.ignored)
	require.Len(t, r.unknown, 3)
	require.Contains(t, strings.Join(r.lines(), "\n"), "unknown key (not a Qdrant setting either): storage.bogus (")
}

// TestConfigErrors checks that values of the wrong type stop startup with
// the key's path and where it was set, and that the forms Qdrant's reader
// accepts (numbers and bools as strings) are taken.
func TestConfigErrors(t *testing.T) {
	f := func(yaml string, environ []string, want string) {
		t.Helper()
		dir := t.TempDir()
		path := ""
		if yaml != "" {
			path = writeFile(t, filepath.Join(dir, "c.yaml"), yaml)
		}
		_, _, err := configFlags(t, nil, dir, path, environ)
		if want == "" {
			require.NoError(t, err, yaml)
			return
		}
		require.Error(t, err, yaml)
		require.Regexp(t, regexp.MustCompile(want), err.Error())
	}
	f("service: {http_port: \"abc\"}", nil, `^service\.http_port: "abc" is not an integer \(.*c\.yaml line 1\)`)
	f("service:\n  http_port: 70000\n", nil, `^service\.http_port: "70000" is not a port number`)
	f("service:\n  http_port: -1\n", nil, `^service\.http_port: .* not a port number`)
	f("service:\n  http_port: 1.5\n", nil, `^service\.http_port: "1.5" is not an integer`)
	f("service:\n  http_port: [1]\n", nil, `^service\.http_port: want a value, got a list`)
	f("service:\n  enable_cors: maybe\n", nil, `^service\.enable_cors: "maybe" is not a bool`)
	f("service:\n  max_request_size_mb: 0\n", nil, `^service\.max_request_size_mb: "0" is not a positive integer`)
	f("service: 5\n", nil, `^service: want a mapping, got a number`)
	f("tls:\n  cert_ttl: 0\n", nil, `^tls\.cert_ttl: "0" is not a positive integer`)
	f("tls:\n  cert_ttl: x\n", nil, `^tls\.cert_ttl: "x" is not an integer`)
	f("service:\n  grpc_port: null\n", nil, `^service\.grpc_port: null is not supported`)
	f("telemetry_disabled: sometimes\n", nil, `^telemetry_disabled: "sometimes" is not a bool`)
	f("service:\n  host: a\n  host: b\n", nil, `^service\.host: set twice`)
	f("- 1\n- 2\n", nil, `^the document: want a mapping, got a list`)
	f("service: {http_port: 1\n", nil, `c\.yaml: yaml: `)
	f("", []string{"QDRANT__SERVICE__HTTP_PORT=x"}, `^service\.http_port: "x" is not an integer \(QDRANT__SERVICE__HTTP_PORT\)`)
	f("", []string{"QDRANT__SERVICE=x"}, `^service: want a mapping`)
	f("", []string{"QDRANT__SERVICE__ENABLE_TLS=perhaps"}, `^service\.enable_tls: "perhaps" is not a bool`)
	// A wrong value overridden by a later layer is not an error, as in
	// Qdrant, which checks the merged settings.
	f("service:\n  http_port: abc\n", []string{"QDRANT__SERVICE__HTTP_PORT=7000"}, "")
	f("service:\n  http_port: \"7000\"\n  enable_cors: \"no\"\n  enable_tls: 0\n", []string{"QDRANT__SERVICE__VERIFY_HTTPS_CLIENT_CERTIFICATE=yes"}, "")
	f("service: null\ntls:\n  cert_ttl: null\n", nil, "")
	f("# only a comment\n", nil, "")

	_, _, err := configFlags(t, nil, t.TempDir(), filepath.Join(t.TempDir(), "missing.yaml"), nil)
	require.ErrorContains(t, err, "missing.yaml")
}

// lineWriter collects a server's output and reports the addresses it
// serves on.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	addrs chan [2]string
}

var servingRE = regexp.MustCompile(`REST on (\S+), gRPC on (\S+)`)

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := servingRE.FindSubmatch(p); m != nil {
		w.addrs <- [2]string{string(m[1]), string(m[2])}
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestServeConfigTLS runs qlite serve with a config file that turns TLS on
// and an API key from the environment, and calls it over HTTPS.
func TestServeConfigTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "test CA")
	cert, key := ca.Server(t, "qlite")
	cfg := fmt.Sprintf(`service:
  enable_tls: true
  http_port: 6333
  unknown_thing: 1
storage:
  optimizers: {deleted_threshold: 0.2}
tls:
  cert: %s
  key: %s
  cert_ttl: null
`, testcert.Write(t, dir, "cert.pem", cert), testcert.Write(t, dir, "key.pem", key))
	path := writeFile(t, filepath.Join(dir, "qdrant.yaml"), cfg)
	t.Setenv("QDRANT__SERVICE__API_KEY", "k")

	cmd := newRootCmd()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &lineWriter{addrs: make(chan [2]string, 1)}
	cmd.SetOut(w)
	cmd.SetErr(w)
	cmd.SetArgs([]string{"serve", "--config-path", path, "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--storage", filepath.Join(dir, "db")})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var addrs [2]string
	select {
	case addrs = <-w.addrs:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, w)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	get := func(path, key string) int {
		req, err := http.NewRequest(http.MethodGet, "https://"+addrs[0]+path, nil)
		require.NoError(t, err)
		if key != "" {
			req.Header.Set("api-key", key)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, get("/readyz", ""))
	require.Equal(t, http.StatusUnauthorized, get("/collections", ""))
	require.Equal(t, http.StatusOK, get("/collections", "k"))
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop")
	}
	out := w.String()
	require.Contains(t, out, "config: ignored (Qdrant settings qlite has no equivalent of): storage.optimizers ("+path+" line 6)")
	require.Contains(t, out, "config: unknown key (not a Qdrant setting either): service.unknown_thing ("+path+" line 4)")
	require.Contains(t, out, "serving over TLS")
}
