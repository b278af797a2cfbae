package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/qlite/qlite/distance"
)

//go:embed refs/hnswlib_run.py
var hnswlibScript []byte

//go:embed refs/hnswlib_native.cpp
var hnswlibNativeSource []byte

// hnswlibHeader is the header of Debian's libhnswlib-dev.
const hnswlibHeader = "/usr/include/hnswlib/hnswlib.h"

// refOutput is what the reference runners print on stdout.
type refOutput struct {
	BuildSeconds    float64 `json:"build_seconds"`
	BuildCPUSeconds float64 `json:"build_cpu_seconds"`
	GraphBytes      int64   `json:"graph_bytes"`
	LinksBytes      int64   `json:"links_bytes"`
	RSSBytes        int64   `json:"rss_bytes"`
	QueryMode       string  `json:"query_mode"`
	Reference       string  `json:"reference"`
	Runs            []struct {
		Ef     int     `json:"ef"`
		QPS    float64 `json:"qps"`
		P50Ms  float64 `json:"p50_ms"`
		P99Ms  float64 `json:"p99_ms"`
		Labels string  `json:"labels"`
	} `json:"runs"`
}

// hnswlibSpace maps a metric to hnswlib's space name.
func hnswlibSpace(m distance.Metric) (string, error) {
	switch m {
	case distance.Euclid:
		return "l2", nil
	case distance.Cosine:
		return "cosine", nil
	case distance.Dot:
		return "ip", nil
	}
	return "", fmt.Errorf("bench: hnswlib has no %v space", m)
}

// runHNSWLib runs a reference runner (the Python bindings, or the native
// program when native is set) in a child process over the dataset written to
// a temporary directory, and scores the labels it writes against gt.
func runHNSWLib(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, res *Result, native bool) error {
	space, err := hnswlibSpace(ds.Metric)
	if err != nil {
		return err
	}
	var argv []string
	if native {
		bin, err := nativeRunner(ctx, c)
		if err != nil {
			return err
		}
		argv = []string{bin}
	} else {
		if err := checkPythonHNSWLib(ctx, c.Python); err != nil {
			return err
		}
	}

	dir, err := os.MkdirTemp("", "qlite-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	nq := gt.Rows()
	if err := writeFile(filepath.Join(dir, "base.fvecs"), func(w io.Writer) error { return WriteFvecs(w, ds.Base, ds.Dim) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "query.fvecs"), func(w io.Writer) error { return WriteFvecs(w, ds.Queries[:nq*ds.Dim], ds.Dim) }); err != nil {
		return err
	}
	if !native {
		script := filepath.Join(dir, "hnswlib_run.py")
		if err := os.WriteFile(script, hnswlibScript, 0o644); err != nil {
			return err
		}
		argv = []string{c.Python, script}
	}
	efs := make([]string, len(c.Ef))
	for i, ef := range c.Ef {
		efs[i] = strconv.Itoa(ef)
	}
	argv = append(argv,
		"--dir", dir, "--space", space,
		"--m", strconv.Itoa(c.M), "--ef-construct", strconv.Itoa(c.EfConstruct),
		"--ef", strings.Join(efs, ","), "--k", strconv.Itoa(c.K),
		"--threads", strconv.Itoa(c.Threads), "--repeat", strconv.Itoa(c.Repeat), "--seed", strconv.FormatUint(c.Seed, 10))

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(&stderr, c.Log)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench: %s: %w: %s", c.Target, err, tail(stderr.String(), 2000))
	}
	var out refOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return fmt.Errorf("bench: %s: unreadable output: %w: %s", c.Target, err, tail(stdout.String(), 500))
	}

	res.BuildSeconds = out.BuildSeconds
	res.BuildCPUSeconds = out.BuildCPUSeconds
	res.GraphBytes = out.GraphBytes
	res.LinksBytes = out.LinksBytes
	res.RSSBytes = out.RSSBytes
	res.QueryMode = out.QueryMode
	res.Env.Reference = out.Reference
	for _, r := range out.Runs {
		labels, n, k, err := ReadIvecs(r.Labels, 0)
		if err != nil {
			return fmt.Errorf("bench: %s: labels of ef=%d: %w", c.Target, r.Ef, err)
		}
		if n != nq || k != c.K {
			return fmt.Errorf("bench: %s: labels of ef=%d are %dx%d, want %dx%d", c.Target, r.Ef, n, k, nq, c.K)
		}
		m := Measurement{Ef: r.Ef, Recall: Recall(labels, gt, c.K), QPS: r.QPS, P50Ms: r.P50Ms, P99Ms: r.P99Ms}
		fmt.Fprintf(c.Log, "%s ef=%d: recall@%d %.4f, %.0f qps\n", c.Target, m.Ef, c.K, m.Recall, m.QPS)
		res.Runs = append(res.Runs, m)
	}
	return nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// checkPythonHNSWLib verifies that python can import hnswlib and numpy.
func checkPythonHNSWLib(ctx context.Context, python string) error {
	if _, err := exec.LookPath(python); err != nil {
		return fmt.Errorf("bench: target hnswlib needs %s: apt-get install python3 python3-hnswlib python3-numpy", python)
	}
	out, err := exec.CommandContext(ctx, python, "-c", "import hnswlib, numpy").CombinedOutput()
	if err != nil {
		return fmt.Errorf("bench: %s cannot import hnswlib and numpy (apt-get install python3-hnswlib python3-numpy): %s", python, tail(string(out), 500))
	}
	return nil
}

// nativeCompileFlags are the g++ flags of the native runner.
var nativeCompileFlags = []string{"-O3", "-march=native", "-std=c++17", "-pthread", "-DNDEBUG"}

// nativeRunner returns the path of the compiled native runner, compiling it
// into the cache directory when no binary for the current source, flags,
// compiler and hnswlib headers exists yet.
func nativeRunner(ctx context.Context, c *Config) (string, error) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		return "", errors.New("bench: target hnswlib-native needs a C++ compiler: apt-get install g++")
	}
	headers, err := filepath.Glob(filepath.Join(filepath.Dir(hnswlibHeader), "*.h"))
	if err != nil || len(headers) == 0 {
		return "", fmt.Errorf("bench: target hnswlib-native needs %s: apt-get install libhnswlib-dev", hnswlibHeader)
	}
	version, err := exec.CommandContext(ctx, gxx, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("bench: %s --version: %w", gxx, err)
	}
	h := sha256.New()
	h.Write(hnswlibNativeSource)
	h.Write([]byte(strings.Join(nativeCompileFlags, " ")))
	h.Write(version)
	for _, p := range headers {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		h.Write([]byte(p))
		h.Write(b)
	}
	cacheDir := c.CacheDir
	if cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("bench: no cache directory for the native runner: %w", err)
		}
		cacheDir = filepath.Join(d, "qlite")
	}
	binDir := filepath.Join(cacheDir, "bin")
	bin := filepath.Join(binDir, "hnswlib-native-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", err
	}
	// Compile in a private directory so that concurrent runs do not
	// trample each other, then rename the binary into place.
	work, err := os.MkdirTemp(binDir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	src := filepath.Join(work, "hnswlib_native.cpp")
	if err := os.WriteFile(src, hnswlibNativeSource, 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(work, "hnswlib-native")
	fmt.Fprintf(c.Log, "compiling %s\n", bin)
	args := append(append([]string{}, nativeCompileFlags...), "-o", out, src)
	if msg, err := exec.CommandContext(ctx, gxx, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: compiling the native hnswlib runner: %w: %s", err, tail(string(msg), 2000))
	}
	if err := os.Rename(out, bin); err != nil {
		return "", err
	}
	// Binaries of older sources are of no further use.
	if old, err := filepath.Glob(filepath.Join(binDir, "hnswlib-native-*")); err == nil {
		for _, p := range old {
			if p != bin {
				os.Remove(p)
			}
		}
	}
	return bin, nil
}
