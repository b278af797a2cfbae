package bench

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/qlite/qlite/distance"
)

//go:embed refs/faiss_run.py
var faissScript []byte

// faissMetric maps a metric to the runner's --metric: faiss indexes L2 or
// inner product; Cosine is inner product over normalised vectors.
func faissMetric(m distance.Metric) (string, error) {
	switch m {
	case distance.Euclid:
		return "l2", nil
	case distance.Cosine:
		return "cosine", nil
	case distance.Dot:
		return "ip", nil
	}
	return "", fmt.Errorf("bench: faiss has no %v metric", m)
}

// checkPythonFaiss verifies that python can import faiss and numpy.
func checkPythonFaiss(ctx context.Context, python string) error {
	if _, err := exec.LookPath(python); err != nil {
		return fmt.Errorf("bench: target faiss needs %s: apt-get install python3 python3-faiss python3-numpy", python)
	}
	out, err := exec.CommandContext(ctx, python, "-c", "import faiss, numpy").CombinedOutput()
	if err != nil {
		return fmt.Errorf("bench: %s cannot import faiss and numpy (apt-get install python3-faiss python3-numpy): %s", python, tail(string(out), 500))
	}
	return nil
}

// runFaiss runs refs/faiss_run.py in a child process: FAISS IndexHNSWFlat
// built on c.Threads threads and queried one batch per ef (per filter group
// when filtered) on one thread. With fw, the matching ids of every filter
// group go to the runner, which filters with an IDSelectorBitmap.
func runFaiss(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	metric, err := faissMetric(ds.Metric)
	if err != nil {
		return err
	}
	if err := checkPythonFaiss(ctx, c.Python); err != nil {
		return err
	}
	nq := gt.Rows()
	dir, err := writeRefData(ds, nq)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "faiss_run.py")
	if err := os.WriteFile(script, faissScript, 0o644); err != nil {
		return err
	}
	argv := []string{c.Python, script,
		"--dir", dir, "--metric", metric,
		"--m", strconv.Itoa(c.M), "--ef-construct", strconv.Itoa(c.EfConstruct),
		"--ef", joinInts(c.Ef), "--k", strconv.Itoa(c.K),
		"--threads", strconv.Itoa(c.Threads), "--repeat", strconv.Itoa(c.Repeat)}
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

// refFilters is the filters.json a reference runner reads: per filter case,
// the groups of queries sharing a filter, each with the files of its
// matching base ids and of its query indexes (little-endian int32, raw).
type refFilters struct {
	Cases []refFilterCase `json:"cases"`
}

type refFilterCase struct {
	Name   string           `json:"name"`
	Groups []refFilterGroup `json:"groups"`
}

type refFilterGroup struct {
	Filter  string `json:"filter"`
	IDs     string `json:"ids"`
	Queries string `json:"queries"`
}

// writeFilterFiles writes the filter cases of fw over the first nq queries
// into dir and returns the path of filters.json.
func writeFilterFiles(dir string, fw *filteredWorkload, nq int) (string, error) {
	var spec refFilters
	for i, fc := range fw.cases {
		rc := refFilterCase{Name: fc.Name}
		for g, qs := range fc.groupQueries(0, nq) {
			if len(qs) == 0 {
				continue
			}
			qids := make([]int32, len(qs))
			for j, q := range qs {
				qids[j] = int32(q)
			}
			grp := refFilterGroup{
				Filter:  fc.Groups[g].JSON,
				IDs:     filepath.Join(dir, fmt.Sprintf("case%d-group%d-ids.i32", i, g)),
				Queries: filepath.Join(dir, fmt.Sprintf("case%d-group%d-queries.i32", i, g)),
			}
			if err := writeInt32s(grp.IDs, fc.Groups[g].IDs); err != nil {
				return "", err
			}
			if err := writeInt32s(grp.Queries, qids); err != nil {
				return "", err
			}
			rc.Groups = append(rc.Groups, grp)
		}
		spec.Cases = append(spec.Cases, rc)
	}
	path := filepath.Join(dir, "filters.json")
	raw, err := json.MarshalIndent(&spec, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, raw, 0o644)
}

// writeInt32s writes v as raw little-endian 32-bit integers.
func writeInt32s[T int32 | uint32](path string, v []T) error {
	return writeFile(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := binary.Write(bw, binary.LittleEndian, v); err != nil {
			return err
		}
		return bw.Flush()
	})
}
