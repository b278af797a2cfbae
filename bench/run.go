package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// Run loads the dataset, obtains its exact ground truth (cached), builds and
// measures the target index, writes the JSON and CSV results when asked to,
// prints the table to cfg.Out, and returns the result.
func Run(ctx context.Context, cfg *Config) (*Result, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(c.Log, format+"\n", args...) }

	rss0 := freeRSS()
	start := time.Now()
	ds, err := LoadDataset(c.Dataset, &LoadOptions{
		Metric:          c.Metric,
		FashionMNISTDir: c.FashionMNISTDir,
		MaxPoints:       c.Points,
	})
	if err != nil {
		return nil, err
	}
	nq := ds.NQ
	if c.Queries > 0 && c.Queries < nq {
		nq = c.Queries
	}
	if c.K > ds.N {
		return nil, fmt.Errorf("bench: k=%d exceeds the %d base points", c.K, ds.N)
	}
	logf("dataset %s: %d points, %d queries (using %d), %d dims, %v, loaded in %.1fs",
		ds.Name, ds.N, ds.NQ, nq, ds.Dim, ds.Metric, time.Since(start).Seconds())

	gt, err := ds.GroundTruth(ctx, nq, c.K, &GroundTruthOptions{CacheDir: c.CacheDir, Log: c.Log})
	if err != nil {
		return nil, fmt.Errorf("bench: ground truth: %w", err)
	}

	var fw *filteredWorkload
	if len(c.FilterSelectivity) > 0 {
		if fw, err = prepareFiltered(ctx, &c, ds, nq); err != nil {
			return nil, err
		}
	}

	// What this process holds for the data, and its peak from here on
	// (the index's, in process, plus the data).
	dataRSS := freeRSS() - rss0
	peakReset := resetPeakRSS()

	res := &Result{
		Dataset: ds.Name,
		Target:  c.Target,
		Params: Params{
			M: c.M, EfConstruct: c.EfConstruct, K: c.K, Threads: c.Threads, QueryThreads: 1, Repeat: c.Repeat,
			Seed: c.Seed, Ef: c.Ef, DeleteFraction: c.DeleteFraction, Concurrency: c.Concurrency,
			Quantization: c.Quantization, Oversampling: c.Oversampling, Rescore: c.Rescore,
			OnDiskVectors: c.OnDiskVectors, OnDiskGraph: c.OnDiskGraph,
		},
		Points:  ds.N,
		Dims:    ds.Dim,
		Metric:  ds.Metric.String(),
		Queries: nq,
		Env:     currentEnv(),
	}
	if fw != nil {
		res.Params.FilterSelectivity = c.FilterSelectivity
		res.Params.FilterKind = c.FilterKind
		res.Params.ClassLabels = fw.classLabels
		if c.Target == "hnsw" {
			indexed := !c.NoPayloadIndex
			res.Params.PayloadIndex = &indexed
		}
	}
	switch {
	case c.Target == "hnsw" && fw != nil:
		err = runSegment(ctx, &c, ds, gt, fw, res)
	case c.Target == "hnsw":
		err = runHNSW(ctx, &c, ds, gt, res)
	case c.Target == "embedded" || c.Target == TargetEngine:
		err = runEmbedded(ctx, &c, ds, gt, fw, res)
	case isRemoteTarget(c.Target):
		err = runRemote(ctx, &c, ds, gt, fw, res)
	case c.Target == TargetServe || c.Target == TargetQdrant:
		err = runServer(ctx, &c, ds, gt, fw, res)
	case c.Target == "faiss":
		err = runFaiss(ctx, &c, ds, gt, fw, res)
	case c.Target == "qdrant-edge":
		err = runQdrantEdge(ctx, &c, ds, gt, fw, res)
	case c.Target == "hnswlib":
		err = runHNSWLib(ctx, &c, ds, gt, fw, res, false)
	case c.Target == "hnswlib-native":
		err = runHNSWLib(ctx, &c, ds, gt, fw, res, true)
	}
	if err != nil {
		return nil, err
	}
	if res.RSSBytes == 0 {
		res.RSSBytes = procStatus("VmHWM")
	}
	if c.Target == "embedded" || c.Target == TargetEngine || c.Target == "hnsw" {
		res.DataRSSBytes = dataRSS
		if !peakReset {
			logf("the peak RSS could not be reset after loading the data (/proc/self/clear_refs): it may be the loading's")
		}
	}

	if c.JSONPath != "" {
		if err := writeFile(c.JSONPath, res.WriteJSON); err != nil {
			return nil, err
		}
		logf("wrote %s", c.JSONPath)
	}
	if c.CSVPath != "" {
		if err := writeFile(c.CSVPath, res.WriteCSV); err != nil {
			return nil, err
		}
		logf("wrote %s", c.CSVPath)
	}
	if err := res.WriteTable(c.Out); err != nil {
		return nil, err
	}
	return res, nil
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
