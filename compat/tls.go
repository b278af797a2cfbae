package compat

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// TLSFiles names the PEM files of a server's TLS certificate, as Qdrant's
// tls section does (cert, key, ca_cert, cert_ttl).
type TLSFiles struct {
	// CertFile holds the server's certificate chain, leaf first, and
	// KeyFile its private key. Both are required.
	CertFile, KeyFile string
	// ClientCAFile, when set, holds the certificates of the authorities
	// that client certificates must chain to: a client without such a
	// certificate is refused in the handshake (mutual TLS, Qdrant's
	// service.verify_https_client_certificate with tls.ca_cert).
	ClientCAFile string
	// TTL makes a handshake re-read the files when they were last read
	// this long ago, even if they look unchanged. Zero re-reads them only
	// when they change (size, modification time, or another file under
	// the name, as when a directory of certificates is swapped).
	TTL time.Duration
	// Logger receives a record when the files change and cannot be read
	// (the certificates read before stay in use) and when new ones are
	// in use. Default slog.Default().
	Logger *slog.Logger
	// now is the clock of TTL; tests replace it.
	now func() time.Time
}

// TLSConfig returns a server TLS configuration that serves the files'
// current certificates: each handshake first checks whether the files
// changed or TTL has passed, and reads them again if so, so that a
// certificate rotated on disk is served to new connections without a
// restart. When the files change and cannot be read (a rotation half
// done, a key that does not match the certificate), handshakes go on with
// the certificates read before and the failure is logged. TLSConfig
// returns an error when the files cannot be read now.
func (f TLSFiles) TLSConfig() (*tls.Config, error) {
	if f.CertFile == "" || f.KeyFile == "" {
		return nil, errors.New("qlite: TLS needs a certificate file and a key file")
	}
	if f.Logger == nil {
		f.Logger = slog.Default()
	}
	if f.now == nil {
		f.now = time.Now
	}
	r := &certReloader{files: f}
	cur, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cur = cur
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		NextProtos:         tlsProtos,
		GetConfigForClient: r.configForClient,
	}, nil
}

// tlsProtos are the ALPN protocols served: HTTP/2 (gRPC, and REST clients
// that ask for it) and HTTP/1.1.
var tlsProtos = []string{"h2", "http/1.1"}

// certReloader holds the certificates read from TLSFiles.
type certReloader struct {
	files TLSFiles

	// mu guards cur and lastErr, and serialises reads of the files.
	mu      sync.Mutex
	cur     *loadedCerts
	lastErr string // the last read failure logged, so that it is logged once
}

// loadedCerts is one read of the files.
type loadedCerts struct {
	stamps []os.FileInfo // of CertFile, KeyFile and ClientCAFile, taken before reading them
	at     time.Time
	cfg    *tls.Config // the handshakes' configuration
}

func (r *certReloader) names() []string {
	n := []string{r.files.CertFile, r.files.KeyFile}
	if r.files.ClientCAFile != "" {
		n = append(n, r.files.ClientCAFile)
	}
	return n
}

// configForClient is the handshakes' GetConfigForClient.
func (r *certReloader) configForClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stale() {
		return r.cur.cfg, nil
	}
	next, err := r.load()
	if err != nil {
		if msg := err.Error(); msg != r.lastErr {
			r.lastErr = msg
			r.files.Logger.Error("TLS certificates changed but cannot be read; serving the previous ones", "err", err)
		}
		return r.cur.cfg, nil
	}
	r.lastErr = ""
	r.cur = next
	r.files.Logger.Info("TLS certificates read again", "cert", r.files.CertFile, "not_after", next.cfg.Certificates[0].Leaf.NotAfter)
	return next.cfg, nil
}

// stale reports whether the files changed since cur was read, or TTL has
// passed.
func (r *certReloader) stale() bool {
	if ttl := r.files.TTL; ttl > 0 && r.files.now().Sub(r.cur.at) >= ttl {
		return true
	}
	for i, name := range r.names() {
		fi, err := os.Stat(name)
		if err != nil {
			return true
		}
		was := r.cur.stamps[i]
		if !os.SameFile(fi, was) || !fi.ModTime().Equal(was.ModTime()) || fi.Size() != was.Size() {
			return true
		}
	}
	return false
}

// load reads the files.
func (r *certReloader) load() (*loadedCerts, error) {
	f := &r.files
	at := f.now()
	var stamps []os.FileInfo
	for _, name := range r.names() {
		fi, err := os.Stat(name)
		if err != nil {
			return nil, fmt.Errorf("qlite: TLS: %w", err)
		}
		stamps = append(stamps, fi)
	}
	certPEM, err := os.ReadFile(f.CertFile)
	if err != nil {
		return nil, fmt.Errorf("qlite: TLS: %w", err)
	}
	keyPEM, err := os.ReadFile(f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("qlite: TLS: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("qlite: TLS certificate %s and key %s: %w", f.CertFile, f.KeyFile, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		NextProtos:   tlsProtos,
		Certificates: []tls.Certificate{cert},
	}
	if f.ClientCAFile != "" {
		caPEM, err := os.ReadFile(f.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("qlite: TLS: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("qlite: TLS: no PEM certificate in CA file %s", f.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return &loadedCerts{stamps: stamps, at: at, cfg: cfg}, nil
}
