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

// runQdrantEdge runs refs/qdrant_edge_run.py with the Python of the
// qdrant-edge virtualenv (see qdrantEdgePython): the Qdrant engine in
// process, its HNSW index built by an explicit optimize on c.Threads
// threads, queried one query at a time on one search thread.
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
	out, err := execRef(ctx, c, argv)
	if err != nil {
		return err
	}
	return out.apply(c, gt, nil, res)
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
