package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
)

// The servers a benchmark starts for itself, each over a fresh storage
// directory on free loopback ports, reached through go-client over gRPC.
const (
	// ServerQdrant is the real Qdrant server, started from its binary
	// with its compiled-in default configuration.
	ServerQdrant = "qdrant"
	// ServerQlite is `qlite serve`, started from the qlite binary in a
	// process of its own; without a binary, compat.NewServer in the
	// benchmark's process.
	ServerQlite = "qlite"
	// ServerEmbedded is qlite in the benchmark's process through
	// go-client's API (compat.NewEmbedded), no server at all.
	ServerEmbedded = "embedded"
)

// qdrantBinaryNote is said beside every figure of the Qdrant server.
const qdrantBinaryNote = "the Qdrant binary is built with the perf profile (opt-level 3, no LTO), a few percent slower than the official release binary"

// serverSpec says how to start the servers of a run.
type serverSpec struct {
	// qdrantBin is the Qdrant server binary.
	qdrantBin string
	// exe is the qlite binary whose `serve` is ServerQlite; empty serves
	// from the benchmark's process.
	exe string
	// threads is the indexing workers of an in-process qlite; 0 is the
	// engine's default.
	threads int
	// log receives qlite serve's log lines.
	log io.Writer
}

// served is a server (or an embedded database) opened for a run: its
// go-client API and what the run reads of its process.
type served struct {
	c compat.Client
	// name says what serves: "qdrant 1.17.1", "qlite serve", ...
	name string
	// pid is the serving process (the benchmark's own when inProcess); 0
	// for a server the benchmark did not start.
	pid int
	// inProcess: the server runs in the benchmark's process, whose memory
	// and CPU figures then include the client and the data.
	inProcess bool
	// storage is the server's data directory, "" when unknown.
	storage string
	// qdrant: the real Qdrant server, whose figures carry qdrantBinaryNote.
	qdrant bool
	stop   func() error
	// restart, for a server in a child process, stops the process and
	// starts it again over the same storage, updating c and pid.
	restart func(ctx context.Context) error
	// hwm is the highest VmHWM read from process hwmPID: Linux can report a
	// lower VmHWM later (its high-water mark is only brought up to date on
	// some paths, and pages given back with madvise lower the current RSS
	// it is compared with), so a peak is the maximum of what was read.
	hwm    int64
	hwmPID int
}

// openServer starts (or connects to) target: ServerQdrant, ServerQlite,
// ServerEmbedded or grpc://HOST:PORT.
func openServer(ctx context.Context, spec serverSpec, target string) (*served, error) {
	switch {
	case target == ServerQdrant:
		if spec.qdrantBin == "" {
			return nil, errors.New("bench: target qdrant needs the Qdrant server binary (--qdrant-bin or QDRANT_BIN)")
		}
		q, err := startRetrying(ctx, func() (*childServer, error) { return startQdrant(ctx, spec.qdrantBin) })
		if err != nil {
			return nil, err
		}
		return q.dial(orUnknown(q.version), true)
	case target == ServerQlite && spec.exe != "":
		s, err := startRetrying(ctx, func() (*childServer, error) { return serveChild(ctx, spec.exe, spec.log) })
		if err != nil {
			return nil, err
		}
		return s.dial("qlite serve", false)
	case target == ServerQlite, target == ServerEmbedded:
		return openInProcess(ctx, spec, target == ServerEmbedded)
	case strings.HasPrefix(target, "grpc://"):
		cl, err := dialGRPC(strings.TrimPrefix(target, "grpc://"))
		if err != nil {
			return nil, fmt.Errorf("bench: target %s: %w", target, err)
		}
		return &served{c: cl, name: target, stop: cl.Close}, nil
	}
	return nil, fmt.Errorf("bench: unknown server target %q (known: %s, %s, %s, grpc://HOST:PORT)", target, ServerQdrant, ServerQlite, ServerEmbedded)
}

// startRetrying starts a server up to three times: a port found free may
// be taken by another process before the server binds it.
func startRetrying(ctx context.Context, start func() (*childServer, error)) (*childServer, error) {
	var errs []error
	for range 3 {
		s, err := start()
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// openInProcess opens a database in a new directory and serves it from
// this process: over gRPC on a loopback port, or embedded.
func openInProcess(ctx context.Context, spec serverSpec, embedded bool) (*served, error) {
	dir, err := os.MkdirTemp("", "qlite-bench-serve-")
	if err != nil {
		return nil, err
	}
	db, err := engine.Open(dir, &engine.Options{IndexingWorkers: spec.threads})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	closeDB := func() error { return errors.Join(db.Close(), os.RemoveAll(dir)) }
	s := &served{pid: os.Getpid(), inProcess: true, storage: dir}
	if embedded {
		cl := compat.NewEmbedded(db)
		s.c, s.name = cl, "qlite embedded"
		s.stop = func() error { return errors.Join(cl.Close(), closeDB()) }
		return s, nil
	}
	srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	_, addr, err := srv.Addrs(ctx)
	var cl *qdrant.Client
	if err == nil {
		cl, err = dialGRPC(addr)
	}
	if err != nil {
		cancel()
		return nil, errors.Join(err, <-done, closeDB())
	}
	s.c, s.name = cl, "qlite serve (in process)"
	s.stop = func() error {
		err := cl.Close()
		cancel()
		return errors.Join(err, <-done, closeDB())
	}
	return s, nil
}

func dialGRPC(addr string) (*qdrant.Client, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("port: %w", err)
	}
	return qdrant.NewClient(&qdrant.Config{Host: host, Port: p, SkipCompatibilityCheck: true})
}

func (s *served) status(field string) int64 {
	if s == nil || s.pid == 0 {
		return 0
	}
	return procStatusFile(fmt.Sprintf("/proc/%d/status", s.pid), field)
}

// peakRSS returns the serving process's peak resident set so far: the
// highest VmHWM read from it.
func (s *served) peakRSS() int64 {
	v := s.status("VmHWM")
	if s == nil {
		return v
	}
	if s.hwmPID != s.pid {
		s.hwm, s.hwmPID = 0, s.pid
	}
	s.hwm = max(s.hwm, v)
	return s.hwm
}

// rssAnon returns the serving process's anonymous resident memory.
func (s *served) rssAnon() int64 { return s.status("RssAnon") }

// cpuSeconds returns the CPU time (user and system, every thread) the
// serving process has used so far, 0 when unknown.
func (s *served) cpuSeconds() float64 {
	if s == nil || s.pid == 0 {
		return 0
	}
	return procCPUSeconds(s.pid)
}

// diskBytes returns the space the server's storage takes on disk.
func (s *served) diskBytes() int64 {
	if s == nil || s.storage == "" {
		return 0
	}
	return diskUsage(s.storage)
}

// procCPUSeconds returns utime + stime of /proc/PID/stat (clock ticks of
// 1/100 s, Linux's USER_HZ), or 0.
func procCPUSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return float64(ut+st) / 100
}

// diskUsage returns the bytes allocated to the files under dir, as du
// counts them (sparse files count what they hold).
func diskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else if !d.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// freePort returns a loopback TCP port nobody listens on at the moment.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverDir picks two free loopback ports, for a server's HTTP and gRPC
// APIs, and makes a new directory for its storage.
func serverDir(prefix string) (dir string, httpPort, grpcPort int, err error) {
	if httpPort, err = freePort(); err != nil {
		return "", 0, 0, err
	}
	if grpcPort, err = freePort(); err != nil {
		return "", 0, 0, err
	}
	dir, err = os.MkdirTemp("", prefix)
	return dir, httpPort, grpcPort, err
}

// childServer is a server running in a child process: Qdrant or qlite
// serve.
type childServer struct {
	what    string // "qdrant", "qlite serve", for errors
	cmd     *exec.Cmd
	dir     string // removed by stop
	storage string // the server's data, under dir
	grpc    string
	version string
	exited  chan error
	// onExit, when set, runs once the process has exited.
	onExit func()
	// launch makes s.cmd afresh and starts it (s.start): used to start the
	// server and to restart it over the same storage.
	launch func(ctx context.Context) error
}

// newChildServer makes the directory and ports of a server.
func newChildServer(what, prefix string) (s *childServer, httpPort, grpcPort int, err error) {
	dir, httpPort, grpcPort, err := serverDir(prefix)
	if err != nil {
		return nil, 0, 0, err
	}
	return &childServer{what: what, dir: dir, storage: filepath.Join(dir, "storage"),
		grpc: net.JoinHostPort("127.0.0.1", strconv.Itoa(grpcPort)), exited: make(chan error, 1)}, httpPort, grpcPort, nil
}

// start starts s.cmd and waits until ready is closed or returns an error,
// up to a minute; on failure the process is killed and the directory
// removed.
func (s *childServer) start(ctx context.Context, ready func() <-chan struct{}, tail *tailWriter) error {
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(s.dir)
		return fmt.Errorf("bench: start %s: %w", s.what, err)
	}
	go func() {
		err := s.cmd.Wait()
		if s.onExit != nil {
			s.onExit()
		}
		s.exited <- err
	}()
	up := ready()
	deadline := time.After(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-up:
			return nil
		case err := <-s.exited:
			s.exited <- err
			os.RemoveAll(s.dir)
			return fmt.Errorf("bench: %s exited: %v: %s", s.what, err, lastLine(tail.String()))
		case <-tick.C:
			// A port taken between the choice and the bind: give up
			// at once, the caller retries with other ports.
			if strings.Contains(strings.ToLower(tail.String()), "address already in use") {
				break wait
			}
		case <-deadline:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	s.cmd.Process.Kill()
	<-s.exited
	os.RemoveAll(s.dir)
	return fmt.Errorf("bench: %s did not start: %s", s.what, lastLine(tail.String()))
}

// stop stops the server with SIGTERM (SIGKILL after 30 s) and removes its
// directory.
func (s *childServer) stop() error {
	return errors.Join(s.terminate(), os.RemoveAll(s.dir))
}

// terminate stops the server's process with SIGTERM (SIGKILL after 30 s),
// leaving its directory.
func (s *childServer) terminate() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		err = fmt.Errorf("bench: %s did not stop on SIGTERM: %v", s.what, <-s.exited)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled() {
		err = nil // stopped by the SIGTERM
	}
	return err
}

// dial connects go-client to the server; the served value stops both.
func (s *childServer) dial(name string, isQdrant bool) (*served, error) {
	cl, err := dialGRPC(s.grpc)
	if err != nil {
		return nil, errors.Join(err, s.stop())
	}
	sv := &served{c: cl, name: name, pid: s.cmd.Process.Pid, storage: s.storage, qdrant: isQdrant}
	sv.stop = func() error { return errors.Join(sv.c.Close(), s.stop()) }
	sv.restart = func(ctx context.Context) error {
		if err := errors.Join(sv.c.Close(), s.terminate()); err != nil {
			return err
		}
		s.exited = make(chan error, 1)
		if err := s.launch(ctx); err != nil {
			return err
		}
		cl, err := dialGRPC(s.grpc)
		if err != nil {
			return err
		}
		sv.c, sv.pid = cl, s.cmd.Process.Pid
		return nil
	}
	return sv, nil
}

// startQdrant starts the Qdrant server bin over a new storage directory on
// free loopback ports, as the official container image runs it: its
// compiled-in default configuration (RUN_MODE=production and a working
// directory without config/), telemetry off. It waits until /readyz
// answers, up to a minute.
func startQdrant(ctx context.Context, bin string) (*childServer, error) {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	version := ""
	if out, err := exec.CommandContext(ctx, bin, "--version").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	s, httpPort, grpcPort, err := newChildServer("qdrant", "qlite-bench-qdrant-")
	if err != nil {
		return nil, err
	}
	s.version = version
	work := filepath.Join(s.dir, "run")
	if err := os.MkdirAll(filepath.Join(work, "snapshots"), 0o755); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	s.launch = func(ctx context.Context) error { return s.launchQdrant(ctx, bin, work, httpPort, grpcPort) }
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// launchQdrant starts the Qdrant server over s's storage.
func (s *childServer) launchQdrant(ctx context.Context, bin, work string, httpPort, grpcPort int) error {
	s.cmd = exec.Command(bin, "--disable-telemetry")
	s.cmd.Dir = work
	s.cmd.Env = append(os.Environ(),
		"RUN_MODE=production",
		"QDRANT__SERVICE__HOST=127.0.0.1",
		"QDRANT__SERVICE__HTTP_PORT="+strconv.Itoa(httpPort),
		"QDRANT__SERVICE__GRPC_PORT="+strconv.Itoa(grpcPort),
		"QDRANT__STORAGE__STORAGE_PATH="+s.storage,
		"QDRANT__STORAGE__SNAPSHOTS_PATH="+filepath.Join(work, "snapshots"),
		"QDRANT__TELEMETRY_DISABLED=true",
	)
	// The server's log is kept for the error of a failed start, not
	// copied: it logs every collection operation.
	tail := &tailWriter{}
	s.cmd.Stdout, s.cmd.Stderr = tail, tail
	readyURL := fmt.Sprintf("http://127.0.0.1:%d/readyz", httpPort)
	stopPoll := make(chan struct{})
	defer close(stopPoll)
	ready := func() <-chan struct{} {
		ch := make(chan struct{})
		go func() {
			hc := &http.Client{Timeout: time.Second}
			for {
				// Ready once /readyz answers and the gRPC port accepts
				// connections: Qdrant opens its gRPC listener apart.
				if resp, err := hc.Get(readyURL); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						if conn, err := net.DialTimeout("tcp", s.grpc, time.Second); err == nil {
							conn.Close()
							close(ch)
							return
						}
					}
				}
				select {
				case <-stopPoll:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		return ch
	}
	return s.start(ctx, ready, tail)
}

// serveChild starts `exe serve` over a new directory on loopback ports and
// waits until it serves, up to a minute.
func serveChild(ctx context.Context, exe string, log io.Writer) (*childServer, error) {
	s, httpPort, grpcPort, err := newChildServer("qlite serve", "qlite-bench-serve-")
	if err != nil {
		return nil, err
	}
	s.launch = func(ctx context.Context) error { return s.launchServe(ctx, exe, log, httpPort, grpcPort) }
	if err := s.launch(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// launchServe starts `exe serve` over s's storage.
func (s *childServer) launchServe(ctx context.Context, exe string, log io.Writer, httpPort, grpcPort int) error {
	// No access log: a record per query would load the pipe below and
	// this process with work the measured server does not otherwise do.
	s.cmd = exec.Command(exe, "serve", "--host", "127.0.0.1",
		"--http-port", strconv.Itoa(httpPort), "--grpc-port", strconv.Itoa(grpcPort),
		"--storage", s.storage, "--access-log=false")
	if log == nil {
		log = io.Discard
	}
	tail := &tailWriter{}
	pr, pw := io.Pipe()
	s.cmd.Stderr = io.MultiWriter(pw, tail)
	s.cmd.Stdout = log
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(log, sc.Text())
			// The record that says where the server listens.
			if strings.Contains(sc.Text(), "serving") && strings.Contains(sc.Text(), "REST on ") {
				once.Do(func() { close(up) })
			}
		}
		io.Copy(io.Discard, pr)
	}()
	s.onExit = func() { pw.Close() }
	return s.start(ctx, func() <-chan struct{} { return up }, tail)
}
