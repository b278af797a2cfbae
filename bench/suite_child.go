package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	add("--qdrant-bin", cfg.QdrantBin)
	add("--quantization", cfg.Quantization)
	if cfg.Oversampling != 0 {
		add("--oversampling", strconv.FormatFloat(cfg.Oversampling, 'g', -1, 64))
	}
	add("--rescore", cfg.Rescore)
	if cfg.Concurrency > 1 {
		add("--concurrency", strconv.Itoa(cfg.Concurrency))
	}
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
