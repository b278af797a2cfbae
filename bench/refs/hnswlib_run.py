#!/usr/bin/python3
"""Reference runner: hnswlib through its Python bindings.

Reads DIR/base.fvecs and DIR/query.fvecs, builds hnswlib.Index with the
given parameters on --threads threads, then for every ef queries the whole
query set as one knn_query call on one thread (so that Python is not timed
per query), after a warm-up call, --repeat times, keeping the fastest.
Writes the labels found at each ef to DIR/labels-ef<ef>.ivecs and prints a
JSON summary on stdout; recall is scored by the caller.

With --filters FILE (JSON: cases of groups, each group a file of matching
base ids and a file of the queries that use it, raw little-endian int32),
the unfiltered runs are followed by the runs of every filter case, labelled
"case": i. Debian's hnswlib 0.6.2 has no filter argument (knn_query's
filter= and C++'s BaseFilterFunctor came with hnswlib 0.7), so a group's
filter is applied through the one exclusion hnswlib 0.6.2 has: before the
group's queries every non-matching label is marked deleted (mark_deleted),
and unmarked after them, neither timed. hnswlib's search treats a deleted
point exactly as 0.7 treats a point its filter rejects: it is still
traversed and its distance computed, only kept out of the results, and the
search goes on until ef admitted points are found; so the runs measure
hnswlib's own filtered search, minus the cost of a Python callback per
candidate that 0.7's filter= would add. Each group's queries are one
knn_query call per ef and pass on one thread, after a warm-up call; a
pass's time is the sum over the case's groups, and the fastest of --repeat
passes is reported. A group matching fewer than k points asks for that
many; a query whose search finds fewer is searched alone and padded with
-1 (hnswlib's batch call refuses ragged results).

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


def knn(index, xq, k):
    """Returns the labels of the k nearest admitted points of each row of
    xq, one knn_query call on one thread; when hnswlib finds fewer than k
    for some query (it then refuses the whole batch), the queries are
    searched one by one with the largest k that succeeds, padded with -1."""
    try:
        return index.knn_query(xq, k=k, num_threads=1)[0].astype(np.int64)
    except RuntimeError:
        pass
    out = np.full((len(xq), k), -1, dtype=np.int64)
    for i in range(len(xq)):
        for kk in range(k, 0, -1):
            try:
                out[i, :kk] = index.knn_query(xq[i:i + 1], k=kk, num_threads=1)[0][0]
                break
            except RuntimeError:
                pass
    return out


def filtered_runs(index, spec, queries, n, efs, k, repeat, out_dir, runs):
    """Appends the runs of every filter case of spec to runs (see the module
    docstring)."""
    nq = len(queries)
    passes = max(repeat, 1)
    for ci, case in enumerate(spec["cases"]):
        times = {ef: [0.0] * passes for ef in efs}
        labels = {ef: np.full((nq, k), -1, dtype=np.int64) for ef in efs}
        for g in case["groups"]:
            ids = np.fromfile(g["ids"], dtype="<i4")
            qidx = np.fromfile(g["queries"], dtype="<i4")
            kk = min(k, len(ids))
            if kk == 0 or len(qidx) == 0:
                continue  # nothing matches: the labels stay -1
            xq = np.ascontiguousarray(queries[qidx])
            excluded = np.ones(n, dtype=bool)
            excluded[ids] = False
            excluded = np.flatnonzero(excluded).tolist()
            for label in excluded:
                index.mark_deleted(label)
            try:
                for ef in efs:
                    index.set_ef(ef)
                    knn(index, xq, kk)  # warm-up
                    for r in range(passes):
                        start = time.perf_counter()
                        found = knn(index, xq, kk)
                        times[ef][r] += time.perf_counter() - start
                    labels[ef][qidx, :kk] = found
            finally:
                for label in excluded:
                    index.unmark_deleted(label)
        for ef in efs:
            elapsed = min(times[ef])
            qps = nq / elapsed if elapsed > 0 else 0
            path = os.path.join(out_dir, f"labels-case{ci}-ef{ef}.ivecs")
            write_ivecs(path, labels[ef])
            runs.append({"ef": ef, "qps": qps, "p50_ms": 0, "p99_ms": 0,
                         "labels": path, "case": ci})
            print(f"hnswlib: {case['name']} ef={ef} {qps:.0f} qps", file=sys.stderr)


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
    p.add_argument("--filters", help="JSON file of filter cases")
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
    efs = [int(x) for x in a.ef.split(",") if x]
    for ef in efs:
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

    if a.filters:
        with open(a.filters) as f:
            spec = json.load(f)
        filtered_runs(index, spec, queries, n, efs, a.k, a.repeat, a.dir, runs)

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
