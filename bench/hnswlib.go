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
		// Case is the index of the filter case the run measured; absent
		// or -1 for an unfiltered run.
		Case *int `json:"case,omitempty"`
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
// a temporary directory, and scores the labels it writes against gt. With
// fw, the matching ids of every filter group go to the runner too (see
// writeFilterFiles), which follows its unfiltered runs with the runs of every
// filter case. Debian's hnswlib 0.6.2 has no filter predicate (that came with
// 0.7), so the runners exclude a group's non-matching points by marking them
// deleted around its queries: hnswlib's search still traverses deleted
// points and only keeps them out of the results, which is what 0.7's filter
// does too.
func runHNSWLib(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result, native bool) error {
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

	nq := gt.Rows()
	dir, err := writeRefData(ds, nq)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if !native {
		script := filepath.Join(dir, "hnswlib_run.py")
		if err := os.WriteFile(script, hnswlibScript, 0o644); err != nil {
			return err
		}
		argv = []string{c.Python, script}
	}
	argv = append(argv,
		"--dir", dir, "--space", space,
		"--m", strconv.Itoa(c.M), "--ef-construct", strconv.Itoa(c.EfConstruct),
		"--ef", joinInts(c.Ef), "--k", strconv.Itoa(c.K),
		"--threads", strconv.Itoa(c.Threads), "--repeat", strconv.Itoa(c.Repeat), "--seed", strconv.FormatUint(c.Seed, 10))
	if fw != nil {
		path, err := writeFilterFiles(dir, fw, nq)
		if err != nil {
			return err
		}
		argv = append(argv, "--filters", path)
	}
	out, err := execRef(ctx, c, argv)
	if err != nil {
		return err
	}
	return out.apply(c, gt, fw, res)
}

// writeRefData writes the base and the first nq queries of ds as
// base.fvecs and query.fvecs into a new temporary directory, which the
// caller removes.
func writeRefData(ds *Dataset, nq int) (string, error) {
	dir, err := os.MkdirTemp("", "qlite-bench-")
	if err != nil {
		return "", err
	}
	if err := writeFile(filepath.Join(dir, "base.fvecs"), func(w io.Writer) error { return WriteFvecs(w, ds.Base, ds.Dim) }); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := writeFile(filepath.Join(dir, "query.fvecs"), func(w io.Writer) error { return WriteFvecs(w, ds.Queries[:nq*ds.Dim], ds.Dim) }); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// execRef runs a reference runner and decodes the JSON it prints.
func execRef(ctx context.Context, c *Config, argv []string) (*refOutput, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(&stderr, c.Log)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench: %s: %w: %s", c.Target, err, tail(stderr.String(), 2000))
	}
	var out refOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return nil, fmt.Errorf("bench: %s: unreadable output: %w: %s", c.Target, err, tail(stdout.String(), 500))
	}
	return &out, nil
}

// apply copies the runner's build figures into res and scores the labels
// of each run: unfiltered runs against gt, the runs of filter case i
// against fw.gts[i].
func (out *refOutput) apply(c *Config, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	res.BuildSeconds = out.BuildSeconds
	res.BuildCPUSeconds = out.BuildCPUSeconds
	res.GraphBytes = out.GraphBytes
	res.LinksBytes = out.LinksBytes
	res.RSSBytes = out.RSSBytes
	res.QueryMode = out.QueryMode
	res.Env.Reference = out.Reference
	nq := gt.Rows()
	for _, r := range out.Runs {
		truth, what := gt, "unfiltered"
		var m Measurement
		if r.Case != nil && *r.Case >= 0 {
			if fw == nil || *r.Case >= len(fw.cases) {
				return fmt.Errorf("bench: %s: a run of unknown filter case %d", c.Target, *r.Case)
			}
			i := *r.Case
			truth, what = fw.gts[i], fw.cases[i].Name
			m.Filter, m.Selectivity = fw.cases[i].Name, fw.selectivity[i]
		}
		labels, n, k, err := ReadIvecs(r.Labels, 0)
		if err != nil {
			return fmt.Errorf("bench: %s: labels of %s ef=%d: %w", c.Target, what, r.Ef, err)
		}
		if n != nq || k != c.K {
			return fmt.Errorf("bench: %s: labels of %s ef=%d are %dx%d, want %dx%d", c.Target, what, r.Ef, n, k, nq, c.K)
		}
		m.Ef, m.Recall, m.QPS, m.P50Ms, m.P99Ms = r.Ef, Recall(labels, truth, c.K), r.QPS, r.P50Ms, r.P99Ms
		fmt.Fprintf(c.Log, "%s %s ef=%d: recall@%d %.4f, %.0f qps\n", c.Target, what, m.Ef, c.K, m.Recall, m.QPS)
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
