package compat

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/internal/testcert"
)

// tlsTestFiles writes a server certificate of a new authority into a
// temporary directory and returns the authority and the files.
func tlsTestFiles(t *testing.T) (*testcert.CA, TLSFiles) {
	ca := testcert.NewCA(t, "qlite test CA")
	dir := t.TempDir()
	cert, key := ca.Server(t, "qlite")
	return ca, TLSFiles{
		CertFile: testcert.Write(t, dir, "cert.pem", cert),
		KeyFile:  testcert.Write(t, dir, "key.pem", key),
	}
}

// startTLSServer serves a new database over TLS with files.
func startTLSServer(t *testing.T, files TLSFiles) (h, g string) {
	cfg, err := files.TLSConfig()
	require.NoError(t, err)
	_, h, g = startServer(t, &ServerConfig{TLS: cfg})
	return h, g
}

// httpsClient trusts ca and presents certs.
func httpsClient(ca *testcert.CA, certs ...tls.Certificate) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca.Pool(), Certificates: certs},
		ForceAttemptHTTP2: true,
	}}
}

func httpsDo(c *http.Client, method, u, body string) (int, string, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// goClientTLS connects go-client to a TLS gRPC address.
func goClientTLS(t *testing.T, addr string, cfg *tls.Config) *qdrant.Client {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, UseTLS: true, TLSConfig: cfg, SkipCompatibilityCheck: true})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestTLSServesRESTAndGRPC serves both APIs over TLS: net/http and
// go-client trusting the test authority get answers (health checks
// included), while plain-text clients and clients that do not trust the
// authority are refused.
func TestTLSServesRESTAndGRPC(t *testing.T) {
	ca, files := tlsTestFiles(t)
	h, g := startTLSServer(t, files)
	hc := httpsClient(ca)
	for _, p := range []string{"/", "/healthz", "/livez", "/readyz"} {
		code, body, err := httpsDo(hc, http.MethodGet, "https://"+h+p, "")
		require.NoError(t, err, p)
		require.Equal(t, http.StatusOK, code, "%s: %s", p, body)
	}
	code, body, err := httpsDo(hc, http.MethodPut, "https://"+h+"/collections/c",
		`{"vectors":{"size":2,"distance":"Dot"}}`)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)
	resp, err := hc.Get("https://" + h + "/collections")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "HTTP/2.0", resp.Proto, "REST negotiates HTTP/2 over TLS")

	ctx := context.Background()
	c := goClientTLS(t, g, &tls.Config{RootCAs: ca.Pool()})
	names, err := c.ListCollections(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, names)
	_, err = c.HealthCheck(ctx)
	require.NoError(t, err)

	// Clients that speak plain text, or do not trust the authority.
	code, _, err = httpsDo(http.DefaultClient, http.MethodGet, "http://"+h+"/healthz", "")
	require.True(t, err != nil || code == http.StatusBadRequest, "plain HTTP to the TLS port: %d %v", code, err)
	_, _, err = httpsDo(&http.Client{}, http.MethodGet, "https://"+h+"/healthz", "")
	require.ErrorContains(t, err, "certificate")
	stranger := goClientTLS(t, g, &tls.Config{RootCAs: testcert.NewCA(t, "other CA").Pool()})
	_, err = stranger.ListCollections(ctx)
	require.ErrorContains(t, err, "certificate")
}

// TestTLSClientCertificates checks mutual TLS: with ClientCAFile, REST and
// gRPC clients without a certificate, or with one another authority
// signed, are refused, and a client with a certificate the authority
// signed is served.
func TestTLSClientCertificates(t *testing.T) {
	ca, files := tlsTestFiles(t)
	dir := filepath.Dir(files.CertFile)
	files.ClientCAFile = testcert.Write(t, dir, "ca.pem", ca.PEM)
	h, g := startTLSServer(t, files)

	pair := func(ca *testcert.CA) tls.Certificate {
		c, k := ca.Client(t, "client")
		cert, err := tls.X509KeyPair(c, k)
		require.NoError(t, err)
		return cert
	}
	good := pair(ca)
	foreign := pair(testcert.NewCA(t, "other CA"))
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		certs []tls.Certificate
		ok    bool
	}{
		{"no certificate", nil, false},
		{"another authority's", []tls.Certificate{foreign}, false},
		{"the authority's", []tls.Certificate{good}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, err := httpsDo(httpsClient(ca, tc.certs...), http.MethodGet, "https://"+h+"/healthz", "")
			c := goClientTLS(t, g, &tls.Config{RootCAs: ca.Pool(), Certificates: tc.certs})
			_, gerr := c.ListCollections(ctx)
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, code, body)
				require.NoError(t, gerr)
				return
			}
			require.Error(t, err, "REST")
			require.Error(t, gerr, "gRPC")
		})
	}
}

// TestTLSCertificateReload rotates the certificate files under a running
// server: new handshakes on both ports get the new certificate without a
// restart; a half-done rotation (a certificate whose key is not there
// yet) keeps the previous one; files rewritten so that they look
// unchanged are read again once the TTL has passed.
func TestTLSCertificateReload(t *testing.T) {
	ca, files := tlsTestFiles(t)
	dir := filepath.Dir(files.CertFile)
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	files.now = func() time.Time { return time.Unix(0, clock.Load()) }
	files.TTL = time.Hour
	// Every file is padded to one size, so that a rewrite can leave size
	// and modification time as they were.
	const size = 4096
	pad := func(b []byte) []byte { return append(b, strings.Repeat("\n", size-len(b))...) }
	replace := func(path string, data []byte) { // as a rotation does: a new file renamed over
		tmp := testcert.Write(t, dir, "tmp", pad(data))
		require.NoError(t, os.Rename(tmp, path))
	}
	issue := func(cn string) (cert, key []byte) { return ca.Server(t, cn) }
	c0, k0 := issue("v0")
	replace(files.CertFile, c0)
	replace(files.KeyFile, k0)
	h, g := startTLSServer(t, files)

	served := func(want string) {
		t.Helper()
		for _, addr := range []string{h, g} {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool(), NextProtos: []string{"h2"}})
			require.NoError(t, err, addr)
			got := conn.ConnectionState().PeerCertificates[0].Subject.CommonName
			conn.Close()
			require.Equal(t, want, got, addr)
		}
	}
	served("v0")

	c1, k1 := issue("v1")
	replace(files.CertFile, c1)
	replace(files.KeyFile, k1)
	served("v1")

	c2, k2 := issue("v2")
	replace(files.CertFile, c2)
	served("v1") // key v1 does not match certificate v2
	replace(files.KeyFile, k2)
	served("v2")

	// Rewrite both files in place with v3 and put their modification
	// times back: they look unchanged until the TTL has passed.
	c3, k3 := issue("v3")
	for _, f := range []struct {
		path string
		data []byte
	}{{files.CertFile, c3}, {files.KeyFile, k3}} {
		fi, err := os.Stat(f.path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(f.path, pad(f.data), 0o600))
		require.NoError(t, os.Chtimes(f.path, time.Time{}, fi.ModTime()))
	}
	served("v2")
	clock.Add(int64(time.Hour))
	served("v3")
}

// TestTLSConfigErrors checks that missing or mismatched files are refused
// when the server starts.
func TestTLSConfigErrors(t *testing.T) {
	ca, files := tlsTestFiles(t)
	dir := filepath.Dir(files.CertFile)
	f := func(files TLSFiles, want string) {
		t.Helper()
		_, err := files.TLSConfig()
		require.ErrorContains(t, err, want)
	}
	f(TLSFiles{CertFile: files.CertFile}, "key file")
	missing := files
	missing.KeyFile = filepath.Join(dir, "nope.pem")
	f(missing, "nope.pem")
	_, otherKey := ca.Server(t, "other")
	mismatch := files
	mismatch.KeyFile = testcert.Write(t, dir, "other-key.pem", otherKey)
	f(mismatch, "private key does not match")
	noCA := files
	noCA.ClientCAFile = testcert.Write(t, dir, "empty.pem", []byte("not a certificate\n"))
	f(noCA, "no PEM certificate")
}

// TestPythonClientTLS connects the official Python client with
// https=True, trusting the test authority, over REST and over gRPC.
func TestPythonClientTLS(t *testing.T) {
	py := pythonWithClient(t)
	ca, files := tlsTestFiles(t)
	caFile := testcert.Write(t, filepath.Dir(files.CertFile), "ca.pem", ca.PEM)
	h, g := startTLSServer(t, files)
	host, rest, _ := net.SplitHostPort(h)
	_, grpcPort, _ := net.SplitHostPort(g)
	cmd := exec.Command(py, filepath.Join("testdata", "pyclient", "tls.py"),
		"--host", host, "--rest-port", rest, "--grpc-port", grpcPort, "--ca", caFile)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+caFile)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s", out)
	for _, line := range []string{"rest ok\n", "grpc ok\n", "rest untrusted refused:", "grpc untrusted refused:"} {
		require.Contains(t, string(out), line)
	}
	// The client's version check (GET / over https) succeeded.
	require.NotContains(t, string(out), "Failed to obtain server version")
}
