package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/telemetry"
)

// serveFlags are the settings of qlite serve. Qdrant's environment
// variables set them, and flags given on the command line win.
type serveFlags struct {
	host            string
	httpPort        int
	grpcPort        int
	storage         string
	apiKey          string
	readOnlyAPIKey  string
	disableCORS     bool
	disableUI       bool
	maxRequestSizeM int
	idleTimeout     time.Duration
	maxBatch        int
	maxRequestMemM  int
	maxConditions   int
	headerTimeout   time.Duration
	// Snapshots restored before serving, as Qdrant's flags of the same
	// names.
	storageSnapshot string
	snapshots       []string
	forceSnapshot   bool
	// memoryLimit is the Go heap's soft limit (--memory-limit).
	memoryLimit memoryLimit
	// configPath is a config file in Qdrant's layout (--config-path).
	configPath string
	// TLS of both APIs (Qdrant's service.enable_tls and tls section).
	enableTLS, verifyClientCert bool
	tlsCert, tlsKey, tlsCA      string
	tlsCertTTL                  time.Duration
	// configReport says what the config files and environment set that
	// qlite does not act on.
	configReport []string
	// Logging: Qdrant's log_level and logger.format, and qlite's access
	// log and probe switches.
	logLevel      logLevel
	logFormat     logFormat
	accessLog     bool
	observeProbes bool
	// cpuProfile is the file a CPU profile of the whole serve goes to
	// (--cpuprofile), written when the server stops.
	cpuProfile string
	// debugAddr serves pprof and /debug/memory when set (--debug-addr).
	debugAddr string
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve Qdrant's REST (6333) and gRPC (6334) APIs over a database directory",
		Long: `Serve Qdrant's REST and gRPC APIs over the database in --storage, so that the official
Qdrant clients work unchanged. Settings are read as Qdrant reads them: the defaults, then the
config files config/config.yaml, config/$RUN_MODE.yaml (RUN_MODE=development when unset) and
config/local.yaml under the working directory when they exist, then --config-path FILE (Qdrant's
config.yaml layout), then QDRANT__ environment variables (QDRANT__SERVICE__HTTP_PORT sets
service.http_port); flags given on the command line override them all. Keys qlite acts on:
` + configKeysHelp() + `Other keys are listed at startup as ignored (Qdrant settings qlite has no equivalent of)
or unknown; a value of the wrong type stops startup naming its key. See docs/configuration.md.
--enable-tls serves both APIs over TLS with --tls-cert and --tls-key, read again when the files
change or --tls-cert-ttl has passed; --verify-https-client-certificate refuses clients without
a certificate signed by --tls-ca-cert.
OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_* variables) exports traces and metrics
over OTLP; GET /metrics serves Prometheus metrics either way.
Log records go to stderr, one per line, as text (key=value) or JSON (--log-format), at
--log-level and above; --access-log (on by default) adds one record per REST request and
gRPC call. Health probes (/, /healthz, /livez, /readyz, gRPC health checks) and scrapes of
/metrics and /telemetry make no spans and no access records unless --observe-probes.
See docs/observability.md.
Bounds that keep one client from exhausting or hanging the server: --max-request-size-mb
(REST bodies and gRPC messages, after decompression), --max-batch and
--max-request-memory-mb (search batches and the estimated memory of their results),
--max-filter-conditions,
--idle-timeout and --header-timeout (idle connections, slow headers and handshakes).
--memory-limit (e.g. 512MiB, 2GiB) sets the Go runtime's soft memory limit
(runtime/debug.SetMemoryLimit); unset, the limit is GOMEMLIMIT's, else none. It is not a
hard cap: near the limit the garbage collector runs more often and returns freed memory to the
system sooner, trading CPU for memory; memory still in use is never refused, so a process
whose live data exceeds the limit grows past it (and may then spend much of its time
collecting). It counts the memory the Go runtime manages, not memory allocated outside it
(the store's block cache and memtables in a cgo build, mapped files) nor the page cache;
/metrics reports it as go_gc_gomemlimit_bytes.
Below that ceiling, unless GOGC is set, the server keeps the heap's growth between
collections to a quarter of its live data (at least 16 MiB) by moving the soft limit after
every collection, so that a server holding 200 MiB of vectors peaks near 250 MiB of heap
rather than GOGC=100's 400; go_gc_gomemlimit_bytes shows the limit in force.
--cpuprofile FILE writes a CPU profile of the server, from start to stop, to FILE (see
docs/observability.md).
SIGINT or SIGTERM stops accepting requests, lets in-flight ones finish (up to 30 s) and closes
the storage (up to 10 s more); a second signal stops at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			report, err := loadConfig(cmd.Flags(), ".", f.configPath, os.Environ())
			if err != nil {
				return err
			}
			f.configReport = report.lines()
			return serve(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.host, "host", "0.0.0.0", "address to listen on")
	fl.IntVar(&f.httpPort, "http-port", 6333, "REST port")
	fl.IntVar(&f.grpcPort, "grpc-port", 6334, "gRPC port")
	fl.StringVar(&f.storage, "storage", "./qlite_storage", "database directory (created when missing)")
	fl.StringVar(&f.apiKey, "api-key", "", "require this key (header api-key or Authorization: Bearer) on every request but the health checks")
	fl.StringVar(&f.readOnlyAPIKey, "read-only-api-key", "", "a key that may only read")
	fl.BoolVar(&f.disableCORS, "disable-cors", false, "do not send CORS headers")
	fl.BoolVar(&f.disableUI, "disable-dashboard", false, "do not serve the web UI at /dashboard (service.enable_static_content: false)")
	fl.IntVar(&f.maxRequestSizeM, "max-request-size-mb", 32, "largest REST request body or gRPC message, in MiB, after decompression")
	fl.IntVar(&f.maxBatch, "max-batch", 10_000, "most searches in one batch request (search, query, recommend, discover; REST and gRPC)")
	fl.IntVar(&f.maxRequestMemM, "max-request-memory-mb", 1024, "refuse a search request or batch whose results are estimated to need more memory than this, in MiB")
	fl.IntVar(&f.maxConditions, "max-filter-conditions", 10_000, "most conditions in a request's filters")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", 2*time.Minute, "close REST keep-alive and gRPC connections idle this long")
	fl.DurationVar(&f.headerTimeout, "header-timeout", 10*time.Second, "time a client has to send a REST request's headers or finish a gRPC handshake")
	fl.StringVar(&f.storageSnapshot, "storage-snapshot", "", "restore this full-storage snapshot (every collection and alias) before serving")
	fl.StringArrayVar(&f.snapshots, "snapshot", nil, "restore a collection snapshot before serving, as PATH:COLLECTION (repeatable)")
	fl.Var(&f.memoryLimit, "memory-limit", "soft limit of the Go heap, e.g. 512MiB or 2GiB (default: GOMEMLIMIT, else none); see above")
	fl.StringVar(&f.configPath, "config-path", "", "config file in Qdrant's config.yaml layout, read after config/*.yaml and before QDRANT__ variables")
	fl.BoolVar(&f.enableTLS, "enable-tls", false, "serve REST (HTTPS) and gRPC over TLS (service.enable_tls)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate chain of the server, leaf first (tls.cert)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of the server (tls.key)")
	fl.StringVar(&f.tlsCA, "tls-ca-cert", "", "PEM certificates of the authorities client certificates must chain to (tls.ca_cert)")
	fl.DurationVar(&f.tlsCertTTL, "tls-cert-ttl", time.Hour, "read the certificate files again after this long even if unchanged; 0: only when they change (tls.cert_ttl, in seconds there)")
	fl.BoolVar(&f.verifyClientCert, "verify-https-client-certificate", false, "refuse clients without a certificate signed by --tls-ca-cert (service.verify_https_client_certificate)")
	f.logLevel.s, f.logFormat = "INFO", telemetry.LogFormatText
	fl.Var(&f.logLevel, "log-level", "least level logged: trace, debug, info, warn, error or off (any case; Qdrant's log_level)")
	fl.Var(&f.logFormat, "log-format", "log records as text (key=value) or json, one per line on stderr (Qdrant's logger.format)")
	fl.BoolVar(&f.accessLog, "access-log", true, "log one record per REST request and gRPC call, at level info (logger.access_log)")
	fl.BoolVar(&f.observeProbes, "observe-probes", false, "trace and access-log health probes and scrapes of /metrics and /telemetry too (logger.observe_probes)")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the server, from start to stop (SIGINT or SIGTERM), to this file (go tool pprof reads it)")
	fl.StringVar(&f.debugAddr, "debug-addr", "", "also serve Go's profiles (/debug/pprof/) and a memory report (/debug/memory) on this address, without API key: use a loopback address (e.g. 127.0.0.1:6060); see docs/memory.md")
	fl.BoolVarP(&f.forceSnapshot, "force-snapshot", "f", false, "let --storage-snapshot and --snapshot replace existing collections (else an existing one is an error)")
	return cmd
}

// configKeysHelp lists the config keys qlite acts on and their flags.
func configKeysHelp() string {
	var b strings.Builder
	for _, k := range configKeys {
		if k.flag == "" {
			fmt.Fprintf(&b, "  %-42s (no effect: qlite sends no usage statistics)\n", k.path)
			continue
		}
		fmt.Fprintf(&b, "  %-42s --%s\n", k.path, k.flag)
	}
	return b.String()
}

// tlsConfig returns the TLS configuration of the TLS flags, or nil when
// TLS is off.
func (f *serveFlags) tlsConfig() (*tls.Config, error) {
	if !f.enableTLS {
		return nil, nil
	}
	if f.tlsCert == "" || f.tlsKey == "" {
		return nil, errors.New("service.enable_tls (--enable-tls) needs tls.cert and tls.key (--tls-cert, --tls-key)")
	}
	files := compat.TLSFiles{CertFile: f.tlsCert, KeyFile: f.tlsKey, TTL: f.tlsCertTTL}
	if f.verifyClientCert {
		if f.tlsCA == "" {
			return nil, errors.New("service.verify_https_client_certificate (--verify-https-client-certificate) needs tls.ca_cert (--tls-ca-cert)")
		}
		files.ClientCAFile = f.tlsCA
	}
	return files.TLSConfig()
}

func serve(cmd *cobra.Command, f *serveFlags) error {
	ctx := cmd.Context()
	log, err := f.logger(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(f.cpuProfile)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	defer stopProfile()
	for _, line := range f.configReport {
		// What was read is news; what is not acted on is a warning.
		level := slog.LevelWarn
		if strings.HasPrefix(line, "config: read ") {
			level = slog.LevelInfo
		}
		log.Log(ctx, level, line)
	}
	limit := f.memoryLimit.apply()
	if limit != math.MaxInt64 {
		log.Info("Go memory limit (soft)", "limit", formatBytes(limit))
	}
	defer startHeapPolicy(limit)()
	if f.debugAddr != "" {
		_, stop, err := startDebugServer(ctx, f.debugAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	} else {
		// Only the debug server serves heap profiles; without it the
		// runtime's allocation sampling would keep its stack buckets (a
		// megabyte or two of a server's anonymous memory) for no reader.
		runtime.MemProfileRate = 0
	}
	tlsCfg, err := f.tlsConfig()
	if err != nil {
		return err
	}
	tel, err := telemetry.Setup(ctx, telemetry.Config{})
	if err != nil {
		return err
	}
	// shutdown flushes the exporters after the server has stopped, when
	// ctx is already done.
	shutdown := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), telemetryFlushTimeout)
		defer cancel()
		return tel.Shutdown(sctx)
	}
	opts := engine.Options{Logger: log}
	tel.EngineOptions(&opts)
	recover, err := f.recoverOptions()
	if err != nil {
		return joinErrs(err, shutdown())
	}
	db, err := engine.Open(f.storage, &opts)
	if err != nil {
		return joinErrs(err, shutdown())
	}
	if err := db.Recover(ctx, recover); err != nil {
		return joinErrs(joinErrs(fmt.Errorf("recovering snapshots: %w", err), db.Close()), shutdown())
	}
	srv := compat.NewServer(db, &compat.ServerConfig{
		HTTPAddr:        net.JoinHostPort(f.host, strconv.Itoa(f.httpPort)),
		GRPCAddr:        net.JoinHostPort(f.host, strconv.Itoa(f.grpcPort)),
		APIKey:          f.apiKey,
		ReadOnlyAPIKey:  f.readOnlyAPIKey,
		DisableCORS:     f.disableCORS,
		MaxRequestBytes: int64(f.maxRequestSizeM) << 20,
		IdleTimeout:     f.idleTimeout,
		Limits:          compat.Limits{MaxBatch: f.maxBatch, MaxRequestMemory: int64(f.maxRequestMemM) << 20, MaxFilterConditions: f.maxConditions},
		HeaderTimeout:   f.headerTimeout,
		TLS:             tlsCfg,
		Telemetry:       tel,
		Logger:          log,
		AccessLog:       f.accessLog,
		ObserveProbes:   f.observeProbes,

		DisableDashboard: f.disableUI,
	})
	go func() {
		if h, g, err := srv.Addrs(ctx); err == nil {
			// Scripts find the addresses in the message, after "REST on "
			// and "gRPC on ", each followed by a comma or a space.
			over := ""
			if tlsCfg != nil {
				over = " over TLS"
			}
			log.Info(fmt.Sprintf("serving%s: REST on %s, gRPC on %s (storage %s)", over, h, g, f.storage),
				"rest", h, "grpc", g, "tls", tlsCfg != nil, "storage", f.storage)
		}
	}()
	serr := srv.Serve(ctx)
	// Writes are durable when acknowledged: a close that cannot finish (a
	// write stuck in I/O) is abandoned rather than keeping the process up.
	cerr := db.CloseWithin(storageCloseTimeout)
	if serr == nil && cerr == nil {
		log.Info("stopped; storage closed")
	}
	return joinErrs(joinErrs(serr, cerr), shutdown())
}

// logger returns the logger of --log-level and --log-format, writing to w,
// and makes it the process's default (see telemetry.SetDefaultLogger).
func (f *serveFlags) logger(w io.Writer) (*slog.Logger, error) {
	log, err := telemetry.NewLogger(w, string(f.logFormat), f.logLevel.level)
	if err != nil {
		return nil, err
	}
	telemetry.SetDefaultLogger(log)
	if len(f.logLevel.ignored) > 0 {
		log.Warn("log level: per-module directives ignored (qlite has one level)",
			"ignored", f.logLevel.ignored, "level", f.logLevel.level)
	}
	return log, nil
}

// logLevel is the value of --log-level: Qdrant's log_level (see
// telemetry.ParseLogLevel), checked when set.
type logLevel struct {
	s       string
	level   slog.Level
	ignored []string
}

func (l *logLevel) String() string { return l.s }
func (l *logLevel) Type() string   { return "level" }

func (l *logLevel) Set(s string) error {
	level, ignored, err := telemetry.ParseLogLevel(s)
	if err != nil {
		return err
	}
	l.s, l.level, l.ignored = s, level, ignored
	return nil
}

// logFormat is the value of --log-format, text or json in any case.
type logFormat string

func (f *logFormat) String() string { return string(*f) }
func (f *logFormat) Type() string   { return "format" }

func (f *logFormat) Set(s string) error {
	switch v := strings.ToLower(s); v {
	case telemetry.LogFormatText, telemetry.LogFormatJSON:
		*f = logFormat(v)
		return nil
	}
	return fmt.Errorf("log format %q: want text or json", s)
}

// recoverOptions reads the snapshot flags; a --snapshot value is
// PATH:COLLECTION, split at its last colon as Qdrant does.
func (f *serveFlags) recoverOptions() (*engine.RecoverOptions, error) {
	o := &engine.RecoverOptions{Full: f.storageSnapshot, Overwrite: f.forceSnapshot}
	for _, v := range f.snapshots {
		i := strings.LastIndexByte(v, ':')
		if i <= 0 || i == len(v)-1 {
			return nil, fmt.Errorf("--snapshot %q: want PATH:COLLECTION", v)
		}
		o.Collections = append(o.Collections, engine.SnapshotMapping{Path: v[:i], Collection: v[i+1:]})
	}
	return o, nil
}

// storageCloseTimeout bounds how long qlite serve waits at exit for the
// storage to close, after in-flight requests had their grace period
// (compat.ServerConfig.ShutdownTimeout, 30 s).
const storageCloseTimeout = 10 * time.Second

// telemetryFlushTimeout bounds how long qlite serve waits at exit for the
// last spans and metrics to be exported.
const telemetryFlushTimeout = 5 * time.Second

func joinErrs(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return fmt.Errorf("%w; %w", a, b)
}
