#!/usr/bin/env python3
"""Reference runner: the Qdrant engine in-process through qdrant-edge-py.

Reads DIR/base.fvecs and DIR/query.fvecs, creates an EdgeShard in a new
directory under DIR with the metric, M and ef_construct given, one target
segment, indexing and full-scan thresholds of 1 KB (so that even a small
base gets an HNSW graph and searches use it), --threads indexing threads and
one search thread. Upserts the base in batches of --batch points with ids
0..n-1, then runs shard.optimize(), which builds the HNSW index; the
optimize call is the timed build (the upsert time goes to stderr).

Then, for every ef, makes a warm-up pass and --repeat timed passes over the
queries, one shard.query() call per query with SearchParams(hnsw_ef=ef),
timing each call (the request objects are built before the pass), and keeps
the QPS and p50/p99 latency of the fastest pass. Writes the ids found at
each ef to DIR/labels-ef<ef>.ivecs (-1 pads a short result) and prints a
JSON summary on stdout; recall is scored by the caller.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import qdrant_edge as qe


def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        sys.exit(f"{path}: empty")
    dim = int(raw[0])
    if dim <= 0 or raw.size % (dim + 1) != 0:
        sys.exit(f"{path}: not an fvecs file")
    rows = raw.reshape(-1, dim + 1)
    if not (rows[:, 0] == dim).all():
        sys.exit(f"{path}: mixed dimensions")
    return np.ascontiguousarray(rows[:, 1:]).view(np.float32)


def write_ivecs(path, labels):
    n, k = labels.shape
    out = np.empty((n, k + 1), dtype=np.int32)
    out[:, 0] = k
    out[:, 1:] = labels.astype(np.int32)
    out.tofile(path)


def proc_status(field):
    """Returns a size field of /proc/self/status in bytes, 0 if absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def library_version():
    try:
        from importlib.metadata import version
        return version("qdrant-edge-py")
    except Exception:
        return "unknown"


def percentile_ms(lat, p):
    """Nearest-rank p-quantile of lat (seconds) in milliseconds."""
    if not lat:
        return 0.0
    v = sorted(lat)
    i = min(max(int(len(v) * p + 0.999999) - 1, 0), len(v) - 1)
    return v[i] * 1e3


DISTANCES = {"euclid": qe.Distance.Euclid, "cosine": qe.Distance.Cosine, "dot": qe.Distance.Dot}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True)
    p.add_argument("--metric", required=True, choices=sorted(DISTANCES))
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construct", type=int, default=100)
    p.add_argument("--ef", default="10,16,24,32,48,64,96,128")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=1000, help="points per upsert")
    p.add_argument("--repeat", type=int, default=1,
                   help="timed passes per ef; the fastest is reported")
    a = p.parse_args()

    base = read_fvecs(os.path.join(a.dir, "base.fvecs"))
    queries = read_fvecs(os.path.join(a.dir, "query.fvecs"))
    n, dim = base.shape
    nq = queries.shape[0]
    if queries.shape[1] != dim:
        sys.exit("queries and base differ in dimension")

    config = qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=dim, distance=DISTANCES[a.metric]),
        hnsw_config=qe.HnswIndexConfig(m=a.m, ef_construct=a.ef_construct,
                                       full_scan_threshold=1,
                                       max_indexing_threads=a.threads),
        optimizers=qe.EdgeOptimizersConfig(default_segment_number=1,
                                           indexing_threshold=1,
                                           max_segment_size=1 << 40),
        max_search_threads=1,
        wal_enabled=False,
    )
    shard_dir = os.path.join(a.dir, "shard")
    shard = qe.EdgeShard.create(shard_dir, config)

    start = time.perf_counter()
    for lo in range(0, n, a.batch):
        hi = min(lo + a.batch, n)
        shard.update(qe.UpdateOperation.upsert_points(
            [qe.Point(i, base[i]) for i in range(lo, hi)]))
    upsert_seconds = time.perf_counter() - start

    cpu_before = cpu_seconds()
    start = time.perf_counter()
    shard.optimize()
    build_seconds = time.perf_counter() - start
    build_cpu_seconds = cpu_seconds() - cpu_before
    info = shard.info()
    print(f"qdrant-edge: upserted {n} points in {upsert_seconds:.2f}s, "
          f"optimized in {build_seconds:.2f}s on {a.threads} threads: {info}",
          file=sys.stderr)
    if info.indexed_vectors_count < n:
        sys.exit(f"qdrant-edge: only {info.indexed_vectors_count} of {n} vectors indexed after optimize")

    qvecs = [queries[i] for i in range(nq)]
    runs = []
    for ef in (int(x) for x in a.ef.split(",") if x):
        params = qe.SearchParams(hnsw_ef=ef)
        reqs = [qe.QueryRequest(limit=a.k, query=qe.Query.Nearest(v.tolist()), params=params)
                for v in qvecs]
        for r in reqs:  # warm-up
            shard.query(r)
        labels = np.full((nq, a.k), -1, dtype=np.int32)
        lat = [0.0] * nq
        best = None
        for _ in range(max(a.repeat, 1)):
            found = [None] * nq
            pass_start = time.perf_counter()
            for i, r in enumerate(reqs):
                t0 = time.perf_counter()
                found[i] = shard.query(r)
                lat[i] = time.perf_counter() - t0
            elapsed = time.perf_counter() - pass_start
            if best is None or elapsed < best[0]:
                best = (elapsed, percentile_ms(lat, 0.50), percentile_ms(lat, 0.99))
                for i, pts in enumerate(found):
                    ids = [int(pt.id) for pt in pts[:a.k]]
                    labels[i, :len(ids)] = ids
        path = os.path.join(a.dir, f"labels-ef{ef}.ivecs")
        write_ivecs(path, labels)
        elapsed, p50, p99 = best
        runs.append({"ef": ef, "qps": nq / elapsed, "p50_ms": p50, "p99_ms": p99,
                     "labels": path})
        print(f"qdrant-edge: ef={ef} {nq / elapsed:.0f} qps, p50 {p50:.3f} ms, p99 {p99:.3f} ms",
              file=sys.stderr)
    shard.close()

    json.dump({
        "build_seconds": build_seconds,
        "build_cpu_seconds": build_cpu_seconds,
        "rss_bytes": proc_status("VmHWM"),
        "query_mode": "single",
        "reference": "qdrant-edge-py " + library_version(),
        "runs": runs,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
