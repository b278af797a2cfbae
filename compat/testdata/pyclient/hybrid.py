"""Hybrid search through the official Python client, against its local mode.

A sparse prefetch and a dense prefetch fused with RRF (the hybrid search the
client documents), DBSF and RRF with its k, a sparse prefetch re-scored by a
dense vector, filters, offsets and thresholds run against a qlite server
(REST, or gRPC with --grpc) and against QdrantClient(":memory:"). Ids, order
and scores (within 1e-5, relative) must agree, except among equal fused
scores, whose order Qdrant leaves to a hash map: those are compared as sets,
and a run of them the limit or the offset may cut by its scores only.

Usage: hybrid.py --host 127.0.0.1 --rest-port P --grpc-port Q [--grpc] [--seed N]
"""

import argparse
import math
import random
import sys

from qdrant_client import QdrantClient, models

DIM = 8
N = 300


class Mismatch(Exception):
    pass


def rand_dense(rng):
    return [round(rng.gauss(0, 1), 4) for _ in range(DIM)]


def rand_sparse(rng, n):
    idx = sorted(rng.sample(range(40), n))
    return models.SparseVector(indices=idx, values=[round(rng.uniform(0.01, 2), 5) for _ in idx])


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)


def check(what, got, want, limit, offset=0):
    if len(got) != len(want):
        raise Mismatch("%s: %d points, local mode %d" % (what, len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if not close(g.score, w.score):
            raise Mismatch("%s: score %d: %r, local mode %r" % (what, i, g.score, w.score))
        if g.payload != w.payload and g.id == w.id:
            raise Mismatch("%s: payload of %s: %r, local mode %r" % (what, g.id, g.payload, w.payload))
    lo = 0
    while lo < len(want):
        hi = lo + 1
        while hi < len(want) and close(want[hi].score, want[lo].score):
            hi += 1
        if hi == len(want) and len(want) == limit:
            break  # a run of ties the limit may cut: any of them may be kept
        if lo == 0 and offset > 0:
            lo = hi  # a run of ties the offset may cut
            continue
        a, b = sorted(str(p.id) for p in got[lo:hi]), sorted(str(p.id) for p in want[lo:hi])
        if a != b:
            raise Mismatch("%s: points %d to %d: %s, local mode %s (scores %s, local mode %s; limit %d, offset %d)" % (
                what, lo, hi - 1, a, b, [p.score for p in got], [p.score for p in want], limit, offset))
        lo = hi


def run(server, local, rng, name):
    for c in (server, local):
        if c.collection_exists(name):
            c.delete_collection(name)
        c.create_collection(name, vectors_config={"dense": models.VectorParams(size=DIM, distance=models.Distance.COSINE)},
                            sparse_vectors_config={"sparse": models.SparseVectorParams()})
    points = []
    for i in range(1, N + 1):
        vec = {"dense": rand_dense(rng)}
        if i % 5:
            vec["sparse"] = rand_sparse(rng, rng.randint(1, 6))
        points.append(models.PointStruct(id=i, vector=vec, payload={"g": i % 4, "price": round(rng.uniform(0, 100), 2)}))
    for c in (server, local):
        c.upsert(name, points=points, wait=True)

    def both(fn):
        return fn(server), fn(local)

    fusions = [models.FusionQuery(fusion=models.Fusion.RRF), models.FusionQuery(fusion=models.Fusion.DBSF),
               models.RrfQuery(rrf=models.Rrf(k=60)), models.RrfQuery(rrf=models.Rrf(k=5))]
    # (Weighted RRF is left to the differential test against the server:
    # local mode ranks some weighted fusions differently from it.)
    for qi in range(40):
        dense, sparse = rand_dense(rng), rand_sparse(rng, rng.randint(2, 5))
        flt = None
        if rng.random() < 0.4:
            flt = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchAny(any=[rng.randrange(4), rng.randrange(4)]))])
        pflt = None
        if rng.random() < 0.3:
            pflt = models.Filter(must=[models.FieldCondition(key="price", range=models.Range(lt=rng.uniform(30, 100)))])
        # Filters sit on the prefetches: local mode answers some queries
        # whose filter sits above their prefetches differently from the
        # server (Qdrant 1.17.1 answers them as qlite does).
        prefetch = [
            models.Prefetch(query=sparse, using="sparse", limit=rng.randint(5, 25), filter=pflt),
            models.Prefetch(query=dense, using="dense", limit=rng.randint(5, 25), filter=flt),
        ]
        fusion = fusions[qi % len(fusions)]
        limit, offset = rng.randint(1, 12), rng.choice([0, 0, 1, 3])
        g, w = both(lambda c: c.query_points(name, prefetch=prefetch, query=fusion, limit=limit,
                                             offset=offset, with_payload=True).points)
        check("hybrid %d (%s)" % (qi, type(fusion).__name__), g, w, limit, offset)
        if len(w) > 2 and w[1].score != w[2].score:
            # A threshold between two fused scores.
            thr = (w[1].score + w[2].score) / 2
            g, w = both(lambda c: c.query_points(name, prefetch=prefetch, query=fusion, limit=limit,
                                                 offset=offset, score_threshold=thr).points)
            check("hybrid %d threshold" % qi, g, w, limit, offset)
        # The sparse candidates re-scored by the dense vector. (Local mode
        # re-scores the results of a nested fusion differently from the
        # server, which keeps the fusion's limit: the differential test
        # against the server covers those.)
        g, w = both(lambda c: c.query_points(name, prefetch=prefetch[0], query=dense, using="dense", limit=limit).points)
        check("re-scored %d" % qi, g, w, limit)

    reqs = [models.QueryRequest(prefetch=[models.Prefetch(query=rand_sparse(rng, 3), using="sparse", limit=10),
                                          models.Prefetch(query=rand_dense(rng), using="dense", limit=10)],
                                query=models.FusionQuery(fusion=models.Fusion.RRF), limit=5) for _ in range(4)]
    g, w = both(lambda c: c.query_batch_points(name, requests=reqs))
    for i, (a, b) in enumerate(zip(g, w)):
        check("batch %d" % i, a.points, b.points, 5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--rest-port", type=int, required=True)
    ap.add_argument("--grpc-port", type=int, required=True)
    ap.add_argument("--grpc", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    server = QdrantClient(host=a.host, port=a.rest_port, grpc_port=a.grpc_port, prefer_grpc=a.grpc, timeout=60,
                          check_compatibility=False)
    local = QdrantClient(":memory:")
    try:
        run(server, local, random.Random(a.seed), "hybrid")
    except Mismatch as e:
        print("MISMATCH (%s): %s" % ("grpc" if a.grpc else "rest", e))
        sys.exit(1)
    print("ok: hybrid search over %d points, %s" % (N, "grpc" if a.grpc else "rest"))


if __name__ == "__main__":
    main()
