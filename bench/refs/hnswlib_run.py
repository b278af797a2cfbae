#!/usr/bin/python3
"""Reference runner: hnswlib through its Python bindings.

Reads DIR/base.fvecs and DIR/query.fvecs, builds hnswlib.Index with the
given parameters on --threads threads, then for every ef queries the whole
query set as one knn_query call on one thread (so that Python is not timed
per query), after a warm-up call, --repeat times, keeping the fastest. Writes the labels found at each ef to DIR/labels-ef<ef>.ivecs and
prints a JSON summary on stdout; recall is scored by the caller.

graph_bytes is the growth of the resident set across the build minus the
vector bytes hnswlib copies into the index.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import hnswlib


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


def library_version():
    try:
        from importlib.metadata import version
        return version("hnswlib")
    except Exception:
        return getattr(hnswlib, "__version__", "unknown")


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True)
    p.add_argument("--space", required=True, choices=["l2", "ip", "cosine"])
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construct", type=int, default=100)
    p.add_argument("--ef", default="10,16,24,32,48,64,96,128")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=100)
    p.add_argument("--repeat", type=int, default=1,
                   help="timed passes per ef; the fastest is reported")
    a = p.parse_args()

    base = read_fvecs(os.path.join(a.dir, "base.fvecs"))
    queries = read_fvecs(os.path.join(a.dir, "query.fvecs"))
    n, dim = base.shape
    nq = queries.shape[0]
    if queries.shape[1] != dim:
        sys.exit("queries and base differ in dimension")

    index = hnswlib.Index(space=a.space, dim=dim)
    rss_before = proc_status("VmRSS")
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    index.init_index(max_elements=n, M=a.m, ef_construction=a.ef_construct,
                     random_seed=a.seed)
    index.set_num_threads(a.threads)
    index.add_items(base, np.arange(n), num_threads=a.threads)
    build_seconds = time.perf_counter() - start
    build_cpu_seconds = cpu_seconds() - cpu_before
    rss_after = proc_status("VmRSS")
    print(f"hnswlib: built {n} points in {build_seconds:.2f}s", file=sys.stderr)

    index.set_num_threads(1)
    runs = []
    for ef in (int(x) for x in a.ef.split(",") if x):
        index.set_ef(ef)
        index.knn_query(queries, k=a.k, num_threads=1)  # warm-up
        elapsed = float("inf")
        for _ in range(max(a.repeat, 1)):
            start = time.perf_counter()
            labels, _ = index.knn_query(queries, k=a.k, num_threads=1)
            elapsed = min(elapsed, time.perf_counter() - start)
        path = os.path.join(a.dir, f"labels-ef{ef}.ivecs")
        write_ivecs(path, labels)
        runs.append({"ef": ef, "qps": nq / elapsed, "p50_ms": 0, "p99_ms": 0,
                     "labels": path})
        print(f"hnswlib: ef={ef} {nq / elapsed:.0f} qps", file=sys.stderr)

    json.dump({
        "build_seconds": build_seconds,
        "build_cpu_seconds": build_cpu_seconds,
        "graph_bytes": max(rss_after - rss_before - n * dim * 4, 0),
        "rss_bytes": proc_status("VmHWM"),
        "query_mode": "batch",
        "reference": "hnswlib-python " + library_version(),
        "runs": runs,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
