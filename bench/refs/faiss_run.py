#!/usr/bin/python3
"""Reference runner: FAISS IndexHNSWFlat through its Python bindings.

Reads DIR/base.fvecs and DIR/query.fvecs and builds faiss.IndexHNSWFlat
with M and efConstruction on --threads OpenMP threads (Cosine: vectors
normalised, inner product). Then, on one thread, for every ef queries the
whole query set as one search call (so that Python is not timed per query)
after a warm-up call, --repeat times, keeping the fastest.

With --filters FILE (JSON: cases of groups, each group a file of matching
base ids and a file of the queries that use it, raw little-endian int32),
the unfiltered runs are followed by the runs of every filter case: each
group's queries are one search call with SearchParametersHNSW(efSearch=ef,
sel=IDSelectorBitmap(matching ids)); a case's time is the sum over its
groups.

Writes the labels found by each run to DIR/labels-*.ivecs and prints a JSON
summary on stdout; recall is scored by the caller. graph_bytes is the growth
of the resident set across the build minus the vector bytes the index
copies; links_bytes counts the HNSW arrays (neighbours, offsets, levels).
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import faiss


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


def vector_bytes(v, width):
    try:
        return v.size() * width
    except Exception:
        return 0


def timed(fn, repeat):
    """Calls fn once to warm up, then repeat times; returns the fastest
    time and the last result."""
    fn()
    best, out = float("inf"), None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def search_groups(index, groups, params, nq, k):
    """Searches each group's queries in one call with its parameters;
    returns the summed search time (scattering the labels is not timed)
    and the labels in query order."""
    labels = np.full((nq, k), -1, dtype=np.int64)
    total = 0.0
    for (_, _, qidx, xq), prm in zip(groups, params):
        start = time.perf_counter()
        found = index.search(xq, k, params=prm)[1]
        total += time.perf_counter() - start
        labels[qidx] = found
    return total, labels


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True)
    p.add_argument("--metric", required=True, choices=["l2", "ip", "cosine"])
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construct", type=int, default=100)
    p.add_argument("--ef", default="10,16,24,32,48,64,96,128")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count())
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
    if a.metric == "cosine":
        faiss.normalize_L2(base)
        faiss.normalize_L2(queries)
    if a.metric == "l2":
        index = faiss.IndexHNSWFlat(dim, a.m)
    else:
        index = faiss.IndexHNSWFlat(dim, a.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = a.ef_construct

    faiss.omp_set_num_threads(a.threads)
    rss_before = proc_status("VmRSS")
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    index.add(base)
    build_seconds = time.perf_counter() - start
    build_cpu_seconds = cpu_seconds() - cpu_before
    rss_after = proc_status("VmRSS")
    print(f"faiss: built {n} points in {build_seconds:.2f}s on {a.threads} threads",
          file=sys.stderr)
    hnsw = index.hnsw
    links_bytes = (vector_bytes(hnsw.neighbors, 4) + vector_bytes(hnsw.offsets, 8) +
                   vector_bytes(hnsw.levels, 4))

    faiss.omp_set_num_threads(1)
    efs = [int(x) for x in a.ef.split(",") if x]
    runs = []
    for ef in efs:
        def search():
            hnsw.efSearch = ef
            return index.search(queries, a.k)[1]
        elapsed, labels = timed(search, a.repeat)
        path = os.path.join(a.dir, f"labels-ef{ef}.ivecs")
        write_ivecs(path, labels)
        runs.append({"ef": ef, "qps": nq / elapsed, "p50_ms": 0, "p99_ms": 0,
                     "labels": path, "case": -1})
        print(f"faiss: unfiltered ef={ef} {nq / elapsed:.0f} qps", file=sys.stderr)

    if a.filters:
        with open(a.filters) as f:
            spec = json.load(f)
        for ci, case in enumerate(spec["cases"]):
            groups = []
            for g in case["groups"]:
                ids = np.fromfile(g["ids"], dtype="<i4")
                qidx = np.fromfile(g["queries"], dtype="<i4")
                mask = np.zeros(n, dtype=bool)
                mask[ids] = True
                bitmap = np.packbits(mask, bitorder="little")
                sel = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bitmap))
                # bitmap and sel must outlive every search that uses them.
                groups.append((bitmap, sel, qidx, np.ascontiguousarray(queries[qidx])))
            for ef in efs:
                params = [faiss.SearchParametersHNSW(sel=sel, efSearch=ef)
                          for _, sel, _, _ in groups]
                search_groups(index, groups, params, nq, a.k)  # warm-up
                elapsed, labels = float("inf"), None
                for _ in range(max(a.repeat, 1)):
                    t, labels = search_groups(index, groups, params, nq, a.k)
                    elapsed = min(elapsed, t)
                path = os.path.join(a.dir, f"labels-case{ci}-ef{ef}.ivecs")
                write_ivecs(path, labels)
                runs.append({"ef": ef, "qps": nq / elapsed, "p50_ms": 0, "p99_ms": 0,
                             "labels": path, "case": ci})
                print(f"faiss: {case['name']} ef={ef} {nq / elapsed:.0f} qps",
                      file=sys.stderr)

    json.dump({
        "build_seconds": build_seconds,
        "build_cpu_seconds": build_cpu_seconds,
        "graph_bytes": max(rss_after - rss_before - n * dim * 4, 0),
        "links_bytes": links_bytes,
        "rss_bytes": proc_status("VmHWM"),
        "query_mode": "batch",
        "reference": "faiss-python " + faiss.__version__,
        "runs": runs,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
