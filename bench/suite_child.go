package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ExitNotInstalled is the exit status of `qlite bench run` when the dataset
// is not installed (ErrNotInstalled), so that a suite running it as a child
// process skips the dataset as it would in process.
const ExitNotInstalled = 3

// childArgs returns the arguments of `bench run` that make the run cfg
// describes, writing its result to cfg.JSONPath.
func childArgs(cfg *Config) []string {
	args := []string{"bench", "run",
		"--dataset", cfg.Dataset,
		"--target", cfg.Target,
		"--json", cfg.JSONPath, "--csv", "-",
		"--repeat", strconv.Itoa(cfg.Repeat),
		"--seed", strconv.FormatUint(cfg.Seed, 10),
		"--points", strconv.Itoa(cfg.Points),
		"--queries", strconv.Itoa(cfg.Queries),
	}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	add("--metric", cfg.Metric)
	add("--fashion-mnist-dir", cfg.FashionMNISTDir)
	add("--cache-dir", cfg.CacheDir)
	add("--python", cfg.Python)
	if cfg.Threads > 0 {
		add("--threads", strconv.Itoa(cfg.Threads))
	}
	if len(cfg.Ef) > 0 {
		add("--ef", joinInts(cfg.Ef))
	}
	if len(cfg.FilterSelectivity) > 0 {
		sel := make([]string, len(cfg.FilterSelectivity))
		for i, s := range cfg.FilterSelectivity {
			sel[i] = strconv.FormatFloat(s, 'g', -1, 64)
		}
		add("--filter-selectivity", strings.Join(sel, ","))
	}
	if cfg.Log == nil || cfg.Log == io.Discard {
		args = append(args, "-q")
	}
	return args
}

// tailWriter keeps the last bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// lastLine returns the last line of s.
func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// runChild makes the run cfg describes in a child process `exe bench run`,
// its log going to cfg.Log, and reads the result it wrote. A dataset that
// is not installed is reported as ErrNotInstalled.
func runChild(ctx context.Context, exe string, cfg *Config) (*Result, error) {
	tail := &tailWriter{}
	cmd := exec.CommandContext(ctx, exe, childArgs(cfg)...)
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	cmd.Stderr = io.MultiWriter(log, tail)
	cmd.Stdout = io.Discard
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == ExitNotInstalled:
		return nil, fmt.Errorf("%w: %s", ErrNotInstalled, strings.TrimPrefix(lastLine(tail.String()), "qlite: "))
	case err != nil:
		return nil, fmt.Errorf("bench: %s %s: %w: %s", filepath.Base(exe), strings.Join(cmd.Args[1:3], " "), err, lastLine(tail.String()))
	}
	return ReadResult(cfg.JSONPath)
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

// servedChild is `qlite serve` running in a child process.
type servedChild struct {
	cmd    *exec.Cmd
	dir    string
	grpc   string
	exited chan error
}

// serveChild starts `exe serve` over a new directory on loopback ports and
// waits until it serves, up to a minute.
func serveChild(ctx context.Context, exe string, log io.Writer) (*servedChild, error) {
	dir, httpPort, grpcPort, err := serverDir("qlite-suite-serve-")
	if err != nil {
		return nil, err
	}
	s := &servedChild{dir: dir, grpc: net.JoinHostPort("127.0.0.1", strconv.Itoa(grpcPort)), exited: make(chan error, 1)}
	s.cmd = exec.Command(exe, "serve", "--host", "127.0.0.1",
		"--http-port", strconv.Itoa(httpPort), "--grpc-port", strconv.Itoa(grpcPort),
		"--storage", filepath.Join(dir, "storage"))
	if log == nil {
		log = io.Discard
	}
	tail := &tailWriter{}
	pr, pw := io.Pipe()
	s.cmd.Stderr = io.MultiWriter(pw, tail)
	s.cmd.Stdout = log
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(log, sc.Text())
			if strings.Contains(sc.Text(), "qlite: serving ") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() {
		s.exited <- s.cmd.Wait()
		pw.Close()
	}()
	select {
	case <-ready:
		return s, nil
	case err := <-s.exited:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bench: qlite serve exited: %v: %s", err, lastLine(tail.String()))
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	s.cmd.Process.Kill()
	<-s.exited
	os.RemoveAll(dir)
	return nil, fmt.Errorf("bench: qlite serve did not start: %s", lastLine(tail.String()))
}

// peakRSS returns the server's peak resident set size so far.
func (s *servedChild) peakRSS() int64 {
	return procStatusFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid), "VmHWM")
}

// stop stops the server with SIGTERM (SIGKILL after 30 s) and removes its
// directory.
func (s *servedChild) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-s.exited:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		err = fmt.Errorf("bench: qlite serve did not stop on SIGTERM: %v", <-s.exited)
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// runChildGRPC measures qlite's gRPC API with the server and the client in
// separate child processes: `exe serve` over a new directory, `exe bench
// run --target grpc://...` against it. The result's peak RSS is the
// server's, the process that holds the index.
func runChildGRPC(ctx context.Context, exe string, cfg *Config) (*Result, error) {
	srv, err := serveChild(ctx, exe, cfg.Log)
	if err != nil {
		return nil, err
	}
	c := *cfg
	c.Target = "grpc://" + srv.grpc
	res, err := runChild(ctx, exe, &c)
	rss := srv.peakRSS()
	serr := srv.stop()
	if err != nil {
		return nil, errors.Join(err, serr)
	}
	res.Target = suiteGRPC
	res.RSSBytes = rss
	return res, errors.Join(serr, writeFile(cfg.JSONPath, res.WriteJSON))
}
