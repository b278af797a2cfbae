package bench

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/qlite/qlite/distance"
)

//go:embed refs/qdrant_edge_run.py
var qdrantEdgeScript []byte

// qdrantEdgeRequirements are what the qdrant-edge virtualenv installs. The
// venv records them in edgeVenvStamp; a venv with other contents is
// rebuilt.
var qdrantEdgeRequirements = []string{"qdrant-edge-py==0.9.0", "numpy"}

const (
	edgeVenvName  = "qdrant-edge-venv"
	edgeVenvStamp = "qlite-requirements.txt"
)

// qdrantEdgeMetric maps a metric to the runner's --metric.
func qdrantEdgeMetric(m distance.Metric) (string, error) {
	switch m {
	case distance.Euclid:
		return "euclid", nil
	case distance.Cosine:
		return "cosine", nil
	case distance.Dot:
		return "dot", nil
	}
	return "", fmt.Errorf("bench: qdrant-edge has no %v distance", m)
}

// edgeFilteredFullScanKB is the shard's full_scan_threshold, in KB of
// vectors, in a filtered run: Qdrant's default, as in a collection made for
// filtered search (and as qlite's segment plans with). It sizes the payload
// blocks the HNSW build links, and Qdrant searches a filter matching fewer
// points than it holds exactly over the payload index. Unfiltered runs keep
// the runner's 1 KB, so that even a small base is searched through its
// graph. A variable so that tests can force the graph on a small base.
var edgeFilteredFullScanKB = 10000

// runQdrantEdge runs refs/qdrant_edge_run.py with the Python of the
// qdrant-edge virtualenv (see qdrantEdgePython): the Qdrant engine in
// process, its HNSW index built by an explicit optimize on c.Threads
// threads, queried one query at a time on one search thread. With fw, the
// points carry their "rnd" and "class" payload (writeEdgePayloads), the
// runner indexes both fields before the optimize and, after the unfiltered
// runs, measures every filter case of fw with Qdrant's own filters.
func runQdrantEdge(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	metric, err := qdrantEdgeMetric(ds.Metric)
	if err != nil {
		return err
	}
	python, err := qdrantEdgePython(ctx, c)
	if err != nil {
		return err
	}
	nq := gt.Rows()
	dir, err := writeRefData(ds, nq)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "qdrant_edge_run.py")
	if err := os.WriteFile(script, qdrantEdgeScript, 0o644); err != nil {
		return err
	}
	argv := []string{python, script,
		"--dir", dir, "--metric", metric,
		"--m", strconv.Itoa(c.M), "--ef-construct", strconv.Itoa(c.EfConstruct),
		"--ef", joinInts(c.Ef), "--k", strconv.Itoa(c.K),
		"--threads", strconv.Itoa(c.Threads), "--repeat", strconv.Itoa(c.Repeat)}
	if c.Quantization != "" {
		argv = append(argv, "--quantization", c.Quantization)
		if c.Oversampling != 0 {
			argv = append(argv, "--oversampling", strconv.FormatFloat(c.Oversampling, 'g', -1, 64))
		}
		if c.Rescore != "" {
			argv = append(argv, "--rescore", c.Rescore)
		}
	}
	if fw != nil {
		if err := writeEdgePayloads(dir, fw); err != nil {
			return err
		}
		path, err := writeFilterFiles(dir, fw, nq)
		if err != nil {
			return err
		}
		argv = append(argv, "--filters", path,
			"--full-scan-threshold", strconv.Itoa(edgeFilteredFullScanKB))
	}
	out, err := execRef(ctx, c, argv)
	if err != nil {
		return err
	}
	return out.apply(c, gt, fw, res)
}

// writeEdgePayloads writes the payload fields the filters use as two files
// of the runner's --dir, each len(fw.payloads) raw little-endian int32:
// payload-rnd.i32 ("rnd") and payload-class.i32 ("class"), in base order.
func writeEdgePayloads(dir string, fw *filteredWorkload) error {
	rnd := make([]int32, len(fw.payloads))
	class := make([]int32, len(fw.payloads))
	for i := range fw.payloads {
		rnd[i] = fw.payloads[i].Rnd
		class[i] = int32(fw.payloads[i].Class)
	}
	if err := writeInt32s(filepath.Join(dir, "payload-rnd.i32"), rnd); err != nil {
		return err
	}
	return writeInt32s(filepath.Join(dir, "payload-class.i32"), class)
}

// qdrantEdgePython returns the interpreter of the qdrant-edge virtualenv,
// <cache>/qdrant-edge-venv, creating it on first use: python3 -m venv, then
// pip install of qdrantEdgeRequirements (this needs the network). The venv
// is made by the first interpreter that can: python3 on PATH (pyenv's, say),
// then c.Python (Debian's lacks venv without python3-venv). It is built in
// a private directory and renamed into place, so concurrent runs do not see
// a half-built venv; later runs reuse it once it imports qdrant_edge.
func qdrantEdgePython(ctx context.Context, c *Config) (string, error) {
	cacheDir := c.CacheDir
	if cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("bench: no cache directory for the qdrant-edge virtualenv: %w", err)
		}
		cacheDir = filepath.Join(d, "qlite")
	}
	venv := filepath.Join(cacheDir, edgeVenvName)
	stamp := []byte(fmt.Sprintln(qdrantEdgeRequirements))
	if python, err := checkEdgeVenv(ctx, venv, stamp); err == nil {
		return python, nil
	} else if _, statErr := os.Stat(venv); statErr == nil {
		fmt.Fprintf(c.Log, "qdrant-edge: rebuilding %s: %v\n", venv, err)
		if err := os.RemoveAll(venv); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(cacheDir, edgeVenvName+".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)

	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	if c.Python != "" && (len(candidates) == 0 || candidates[0] != c.Python) {
		candidates = append(candidates, c.Python)
	}
	var errs []error
	made := false
	for _, py := range candidates {
		fmt.Fprintf(c.Log, "qdrant-edge: creating a virtualenv with %s\n", py)
		if msg, err := exec.CommandContext(ctx, py, "-m", "venv", work).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s -m venv: %w: %s", py, err, tail(string(msg), 300)))
			fmt.Fprintf(c.Log, "qdrant-edge: %v; trying the next python\n", errs[len(errs)-1])
			os.RemoveAll(work)
			continue
		}
		made = true
		break
	}
	if !made {
		errs = append(errs, errors.New("no python3 with venv (apt-get install python3-venv, or put pyenv's python3 on PATH)"))
		return "", fmt.Errorf("bench: target qdrant-edge: %w", errors.Join(errs...))
	}
	python := filepath.Join(work, "bin", "python")
	args := append([]string{"-m", "pip", "install", "--disable-pip-version-check", "-q"}, qdrantEdgeRequirements...)
	fmt.Fprintf(c.Log, "qdrant-edge: pip install %v\n", qdrantEdgeRequirements)
	if msg, err := exec.CommandContext(ctx, python, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: target qdrant-edge: pip install %v: %w: %s", qdrantEdgeRequirements, err, tail(string(msg), 1000))
	}
	if err := os.WriteFile(filepath.Join(work, edgeVenvStamp), stamp, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(work, venv); err != nil {
		// Another run finished first; use its venv.
		if python, err2 := checkEdgeVenv(ctx, venv, stamp); err2 == nil {
			return python, nil
		}
		return "", fmt.Errorf("bench: target qdrant-edge: %w", err)
	}
	python = filepath.Join(venv, "bin", "python")
	if _, err := checkEdgeVenv(ctx, venv, stamp); err != nil {
		return "", fmt.Errorf("bench: target qdrant-edge: the new virtualenv: %w", err)
	}
	fmt.Fprintf(c.Log, "qdrant-edge: virtualenv ready in %s\n", venv)
	return python, nil
}

// checkEdgeVenv returns the interpreter of the venv at dir if the venv was
// made for the requirements in stamp and imports qdrant_edge and numpy.
func checkEdgeVenv(ctx context.Context, dir string, stamp []byte) (string, error) {
	have, err := os.ReadFile(filepath.Join(dir, edgeVenvStamp))
	if err != nil {
		return "", err
	}
	if !bytes.Equal(have, stamp) {
		return "", fmt.Errorf("made for %s", bytes.TrimSpace(have))
	}
	python := filepath.Join(dir, "bin", "python")
	if msg, err := exec.CommandContext(ctx, python, "-c", "import qdrant_edge, numpy").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s cannot import qdrant_edge and numpy: %w: %s", python, err, tail(string(msg), 300))
	}
	return python, nil
}
