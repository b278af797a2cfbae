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

With --filters FILE (the filtered workload) the runner also reads
DIR/payload-rnd.i32 and DIR/payload-class.i32, two arrays of n raw
little-endian int32: the "rnd" and "class" of base point i are their i-th
values, upserted as the point's payload {"rnd": int, "class": int}. FILE is
JSON, {"cases": [{"name": ..., "groups": [{"filter": ..., "ids": ...,
"queries": ...}]}]}: per filter case the groups of queries sharing a filter,
the filter in Qdrant's REST syntax (must/should/must_not lists of field
conditions with "range" or "match": {"value": ...}) and a raw int32 file of
the query indexes using it (the file of matching ids is not read: Qdrant
evaluates the filter). After the upsert, and before the optimize so that
the HNSW build adds its payload-aware links for them, the runner creates
the payload indexes a Qdrant user would make for these filters: "rnd" an
integer index with range and without lookup, "class" an integer index with
lookup and without range. The shard's full-scan threshold is then
--full-scan-threshold KB (default 10000, Qdrant's default) instead of 1 KB:
it sizes the payload blocks that get extra links, and the query planner
searches a filter matching fewer points than it holds exactly over the
payload index, as in a default Qdrant collection (a search of a base
smaller than it, unfiltered too, is then a full scan). After the
unfiltered runs, for every case and ef, the queries are timed as above,
each one shard.query() call with its group's filter converted to
qdrant_edge's Filter; the labels go to DIR/labels-case<i>-ef<ef>.ivecs and
the run to the summary with "case": i.

With --quantization the vector gets that quantization config (kept in RAM),
and every search passes --oversampling and --rescore as its quantization
parameters (Qdrant's defaults when absent).
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


def read_i32s(path, n=None):
    v = np.fromfile(path, dtype="<i4")
    if n is not None and v.size != n:
        sys.exit(f"{path}: {v.size} values, want {n}")
    return v


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

# The payload fields of the filtered workload, each with the index a Qdrant
# user would create for its filters: range conditions on "rnd", match
# conditions on "class".
PAYLOAD_INDEXES = {
    "rnd": qe.IntegerIndexParams(lookup=False, range=True),
    "class": qe.IntegerIndexParams(lookup=True, range=False),
}

RANGE_OPS = ("gt", "gte", "lt", "lte")


def to_condition(c):
    """Converts one condition of a REST filter: a nested filter, or a field
    condition with a range or a match on a value."""
    if not isinstance(c, dict):
        raise ValueError(f"condition {c!r}")
    if "key" not in c:
        return to_filter(c)
    extra = set(c) - {"key", "range", "match"}
    if extra or ("range" in c) == ("match" in c):
        raise ValueError(f"unsupported condition {c!r}")
    if "range" in c:
        r = c["range"]
        if not r or set(r) - set(RANGE_OPS):
            raise ValueError(f"unsupported range {r!r}")
        # qdrant_edge has one numeric range, RangeFloat; integer indexes
        # take it.
        return qe.FieldCondition(key=c["key"], range=qe.RangeFloat(
            **{op: float(r[op]) for op in RANGE_OPS if op in r}))
    m = c["match"]
    if not isinstance(m, dict) or set(m) != {"value"}:
        raise ValueError(f"unsupported match {m!r}")
    return qe.FieldCondition(key=c["key"], match=qe.MatchValue(m["value"]))


def to_filter(f):
    """Converts a filter in Qdrant's REST syntax to a qdrant_edge Filter."""
    extra = set(f) - {"must", "should", "must_not"}
    if extra:
        raise ValueError(f"unsupported filter clauses {sorted(extra)}")
    return qe.Filter(**{clause: [to_condition(c) for c in f[clause]]
                        for clause in ("must", "should", "must_not") if clause in f})


def measure(shard, reqs, k, repeat):
    """Makes a warm-up pass over reqs, then repeat timed passes, timing each
    shard.query() call; returns the elapsed time, p50 and p99 (ms) of the
    fastest pass and the ids it found, -1 padded."""
    nq = len(reqs)
    for r in reqs:  # warm-up
        shard.query(r)
    labels = np.full((nq, k), -1, dtype=np.int32)
    lat = [0.0] * nq
    best = None
    for _ in range(max(repeat, 1)):
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
                ids = [int(pt.id) for pt in pts[:k]]
                labels[i, :len(ids)] = ids
    return best + (labels,)


def read_cases(path, nq):
    """Reads the filter cases of --filters: per case its name and the
    qdrant_edge filter of each query (None where no group covers it)."""
    with open(path) as f:
        spec = json.load(f)
    cases = []
    for case in spec["cases"]:
        per_query = [None] * nq
        for g in case["groups"]:
            try:
                flt = to_filter(json.loads(g["filter"]))
            except (ValueError, TypeError, KeyError) as e:
                sys.exit(f"qdrant-edge: filter case {case['name']}: {g['filter']}: {e}")
            for q in read_i32s(g["queries"]):
                if not 0 <= q < nq:
                    sys.exit(f"qdrant-edge: filter case {case['name']}: query {q} out of range")
                per_query[q] = flt
        if any(flt is None for flt in per_query):
            sys.exit(f"qdrant-edge: filter case {case['name']} leaves queries without a filter")
        cases.append((case["name"], per_query))
    return cases


def quantization(a):
    """The collection's quantization config and the searches' quantization
    parameters that the arguments ask for (None, None for none)."""
    q = a.quantization
    if not q:
        return None, None
    if q == "scalar":
        cfg = qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, always_ram=True)
    elif q.startswith("binary-"):
        enc = {"1bit": qe.BinaryQuantizationEncoding.OneBit,
               "1.5bit": qe.BinaryQuantizationEncoding.OneAndHalfBits,
               "2bit": qe.BinaryQuantizationEncoding.TwoBits}.get(q[len("binary-"):])
        if enc is None:
            sys.exit(f"unknown binary quantization {q}")
        cfg = qe.BinaryQuantizationConfig(always_ram=True, encoding=enc)
    elif q.startswith("pq-x"):
        ratio = getattr(qe.CompressionRatio, "X" + q[len("pq-x"):], None)
        if ratio is None:
            sys.exit(f"unknown product quantization {q}")
        cfg = qe.ProductQuantizationConfig(compression=ratio, always_ram=True)
    else:
        sys.exit(f"unknown quantization {q}")
    rescore = None if a.rescore is None else a.rescore == "true"
    oversampling = a.oversampling if a.oversampling and a.oversampling > 1 else None
    return cfg, qe.QuantizationSearchParams(rescore=rescore, oversampling=oversampling)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
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
    p.add_argument("--filters", help="JSON file of filter cases (see above)")
    p.add_argument("--full-scan-threshold", type=int, default=10000,
                   help="full_scan_threshold in KB with --filters (Qdrant's default)")
    p.add_argument("--quantization",
                   help="scalar, binary-1bit, binary-1.5bit, binary-2bit or pq-x4 ... pq-x64 "
                        "(kept in RAM)")
    p.add_argument("--oversampling", type=float, help="quantization oversampling of the searches")
    p.add_argument("--rescore", choices=("true", "false"),
                   help="quantization rescore of the searches (default: Qdrant's)")
    a = p.parse_args()

    base = read_fvecs(os.path.join(a.dir, "base.fvecs"))
    queries = read_fvecs(os.path.join(a.dir, "query.fvecs"))
    n, dim = base.shape
    nq = queries.shape[0]
    if queries.shape[1] != dim:
        sys.exit("queries and base differ in dimension")
    rnd = cls = cases = None
    full_scan_threshold = 1
    if a.filters:
        rnd = read_i32s(os.path.join(a.dir, "payload-rnd.i32"), n)
        cls = read_i32s(os.path.join(a.dir, "payload-class.i32"), n)
        cases = read_cases(a.filters, nq)
        full_scan_threshold = a.full_scan_threshold

    quant, search_quant = quantization(a)
    config = qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=dim, distance=DISTANCES[a.metric],
                                    quantization_config=quant),
        hnsw_config=qe.HnswIndexConfig(m=a.m, ef_construct=a.ef_construct,
                                       full_scan_threshold=full_scan_threshold,
                                       max_indexing_threads=a.threads),
        optimizers=qe.EdgeOptimizersConfig(default_segment_number=1,
                                           indexing_threshold=1,
                                           max_segment_size=1 << 40),
        max_search_threads=1,
        wal_enabled=False,
    )
    shard_dir = os.path.join(a.dir, "shard")
    shard = qe.EdgeShard.create(shard_dir, config)

    if rnd is None:
        def point(i):
            return qe.Point(i, base[i])
    else:
        def point(i):
            return qe.Point(i, base[i], {"rnd": int(rnd[i]), "class": int(cls[i])})
    start = time.perf_counter()
    for lo in range(0, n, a.batch):
        hi = min(lo + a.batch, n)
        shard.update(qe.UpdateOperation.upsert_points([point(i) for i in range(lo, hi)]))
    upsert_seconds = time.perf_counter() - start

    if cases is not None:
        start = time.perf_counter()
        for field, params in PAYLOAD_INDEXES.items():
            shard.update(qe.UpdateOperation.create_field_index(field, params))
        print(f"qdrant-edge: payload indexes {sorted(PAYLOAD_INDEXES)} in "
              f"{time.perf_counter() - start:.2f}s", file=sys.stderr)

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
    if cases is not None:
        schema = info.payload_schema
        for field in PAYLOAD_INDEXES:
            if field not in schema or schema[field].points != n:
                sys.exit(f"qdrant-edge: payload index of {field} after optimize: {schema.get(field)}")

    efs = [int(x) for x in a.ef.split(",") if x]
    qvecs = [queries[i].tolist() for i in range(nq)]
    runs = []
    for ef in efs:
        params = qe.SearchParams(hnsw_ef=ef, quantization=search_quant)
        reqs = [qe.QueryRequest(limit=a.k, query=qe.Query.Nearest(v), params=params)
                for v in qvecs]
        elapsed, p50, p99, labels = measure(shard, reqs, a.k, a.repeat)
        path = os.path.join(a.dir, f"labels-ef{ef}.ivecs")
        write_ivecs(path, labels)
        runs.append({"ef": ef, "qps": nq / elapsed, "p50_ms": p50, "p99_ms": p99,
                     "labels": path})
        print(f"qdrant-edge: ef={ef} {nq / elapsed:.0f} qps, p50 {p50:.3f} ms, p99 {p99:.3f} ms",
              file=sys.stderr)

    for ci, (name, filters) in enumerate(cases or []):
        for ef in efs:
            params = qe.SearchParams(hnsw_ef=ef, quantization=search_quant)
            reqs = [qe.QueryRequest(limit=a.k, query=qe.Query.Nearest(v), filter=flt,
                                    params=params)
                    for v, flt in zip(qvecs, filters)]
            elapsed, p50, p99, labels = measure(shard, reqs, a.k, a.repeat)
            path = os.path.join(a.dir, f"labels-case{ci}-ef{ef}.ivecs")
            write_ivecs(path, labels)
            runs.append({"ef": ef, "qps": nq / elapsed, "p50_ms": p50, "p99_ms": p99,
                         "labels": path, "case": ci})
            print(f"qdrant-edge: {name} ef={ef} {nq / elapsed:.0f} qps, p50 {p50:.3f} ms, "
                  f"p99 {p99:.3f} ms", file=sys.stderr)
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
