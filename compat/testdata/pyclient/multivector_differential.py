"""Differential test of multivectors: qlite serve against qdrant-client's local mode.

The same random scenario runs against a server (over REST, or over gRPC with
--grpc) and against QdrantClient(":memory:"): a collection with a Cosine
multivector "c", a Euclid multivector "e" without a graph (m = 0) and a
plain vector "d"; random points with 1 to 4 vectors per multivector, vector
updates and deletes; then multivector queries with filters, limits and
offsets, recommendations (sum_scores), and point reads with their vectors.
Ids, order (points of equal scores may swap), scores (within 1e-4) and the
stored multivectors must agree.

Usage: multivector_differential.py --host H --rest-port P --grpc-port Q [--grpc] [--seed N]
Exit status 0 when everything agrees; the first difference is printed and the
status is 1.
"""

import argparse
import random
import sys

from qdrant_client import QdrantClient, models

N = 150
DIM = 5


class Mismatch(Exception):
    pass


def rand_multi(rng, nmax=4):
    return [[round(rng.gauss(0, 1), 4) for _ in range(DIM)] for _ in range(rng.randint(1, nmax))]


def rand_point(rng, i):
    # Every point has both multivectors: local mode fails on a multivector
    # query over points lacking one.
    vec = {"c": rand_multi(rng), "e": rand_multi(rng)}
    if rng.random() < 0.5:
        vec["d"] = [rng.gauss(0, 1) for _ in range(3)]
    return models.PointStruct(id=i, vector=vec, payload={"g": rng.randrange(5)})


def close(a, b):
    return abs(a - b) <= 1e-4 * max(1.0, abs(a), abs(b))


def compare_hits(what, want, got):
    if len(want) != len(got):
        raise Mismatch(f"{what}: {len(got)} hits, local mode {len(want)}")
    for i, (w, g) in enumerate(zip(want, got)):
        if not close(w.score, g.score):
            raise Mismatch(f"{what}: rank {i}: score {g.id}={g.score}, local mode {w.id}={w.score}")
        if w.id != g.id and not close(w.score, g.score):
            raise Mismatch(f"{what}: rank {i}: id {g.id}, local mode {w.id}")


def compare_vectors(what, want, got):
    for name in set(want) | set(got):
        a, b = want.get(name), got.get(name)
        if (a is None) != (b is None):
            raise Mismatch(f"{what}: vector {name}: present {b is not None}, local mode {a is not None}")
        if a is None:
            continue
        if name == "d":
            a, b = [a], [b]
        if len(a) != len(b) or any(len(x) != len(y) or not all(close(p, q) for p, q in zip(x, y)) for x, y in zip(a, b)):
            raise Mismatch(f"{what}: vector {name}: {b}, local mode {a}")


def run(server, rng):
    local = QdrantClient(":memory:")
    mv = models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)
    config = {
        "c": models.VectorParams(size=DIM, distance=models.Distance.COSINE, multivector_config=mv),
        "e": models.VectorParams(size=DIM, distance=models.Distance.EUCLID, multivector_config=mv,
                                 hnsw_config=models.HnswConfigDiff(m=0)),
        "d": models.VectorParams(size=3, distance=models.Distance.DOT),
    }
    for c in (local, server):
        if c.collection_exists("mv"):
            c.delete_collection("mv")
        c.create_collection("mv", vectors_config=config)
    points = [rand_point(rng, i) for i in range(N)]
    for c in (local, server):
        c.upsert("mv", points=points, wait=True)
    # Vector updates and deletes.
    upd = [models.PointVectors(id=rng.randrange(N), vector={"e": rand_multi(rng)}) for _ in range(10)]
    dels = [rng.randrange(N) for _ in range(5)]
    for c in (local, server):
        c.update_vectors("mv", points=upd, wait=True)
        # Local mode cannot query a multivector deleted this way (it keeps
        # an empty one): the plain vector is deleted.
        c.delete_vectors("mv", vectors=["d"], points=dels, wait=True)

    ids = sorted({rng.randrange(N) for _ in range(20)})
    want = {p.id: p.vector for p in local.retrieve("mv", ids=ids, with_vectors=True)}
    got = {p.id: p.vector for p in server.retrieve("mv", ids=ids, with_vectors=True)}
    if sorted(want) != sorted(got):
        raise Mismatch(f"retrieve: ids {sorted(got)}, local mode {sorted(want)}")
    for i in want:
        compare_vectors(f"retrieve {i}", want[i], got[i])

    for q in range(60):
        using = rng.choice(["c", "e"])
        flt = None
        if rng.random() < 0.4:
            flt = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=rng.randrange(5)))])
        limit, offset = rng.randint(1, 10), rng.choice([0, 0, 2])
        if rng.random() < 0.7:
            query = rand_multi(rng, 3)
        else:
            query = models.RecommendQuery(recommend=models.RecommendInput(
                positive=[rng.randrange(N), rand_multi(rng, 2)], negative=[rng.randrange(N)],
                strategy=models.RecommendStrategy.SUM_SCORES))
        res = [c.query_points("mv", query=query, using=using, query_filter=flt, limit=limit, offset=offset,
                              search_params=models.SearchParams(exact=True)).points for c in (local, server)]
        compare_hits(f"query {q} using {using}", res[0], res[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--rest-port", type=int, default=6333)
    ap.add_argument("--grpc-port", type=int, default=6334)
    ap.add_argument("--grpc", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    server = QdrantClient(host=a.host, port=a.rest_port, grpc_port=a.grpc_port, prefer_grpc=a.grpc, timeout=60)
    try:
        run(server, random.Random(a.seed))
    except Mismatch as e:
        print("MISMATCH:", e)
        sys.exit(1)
    print("multivectors: server and local mode agree")


if __name__ == "__main__":
    main()
