"""Random nested prefetch trees through the official Python client, against its local mode.

One collection with two dense named vectors (a: Cosine, b: Dot), a sparse
vector (s, on most points), a multivector (m, max_sim) and payloads is built
in a qlite server (REST, or gRPC with --grpc) and in QdrantClient(":memory:").
Then random universal queries with nested prefetches (depth up to 3: nearest
over each kind of vector, recommend, order_by, fusions rrf and dbsf, formulas
and MMR; filters, limits and thresholds) go to both. Ids, order and scores
(within 1e-5, relative) must agree; points with equal scores may come in any
order among themselves, and a run of them the limit cuts may be cut anywhere.

Ties inside a tree are another matter: Qdrant leaves the order of equal fused
scores to a hash map, and the levels above see that order as ranks, or cut
it by a limit. So before a request is compared, each of its inner nodes that
merges prefetches is run alone in local mode, and a request where one of them
yields equal scores is drawn again.

Where local mode is not Qdrant (the real server answers as qlite does), the
generator leaves the feature out; each such place says what differs:
  - MMR in a prefetch: the server hands the node above other points and
    scores than the MMR query answers on its own, where local mode hands up
    what it answers alone; MMR is drawn at the root only.
  - A stored point as the example of a recommend query in a tree: the
    server keeps it out of the results of the query and of the prefetches
    below it (they find another point in its place); local mode drops it
    from what the prefetches found, and keeps it in the results of some
    prefetches; examples are vectors only.
  - A filter on a node with prefetches, the root's too: the server gives it
    to the prefetches below, which then find other points under it; local
    mode filters what they found (or, under a fusion, ignores it); filters
    sit on the nodes without prefetches only.

Where qlite and local mode agree but Qdrant 1.17.1 answers otherwise, the
generator leaves the feature out too, for the differential tests against the
server to settle:
  - DBSF over order_by results (directly or further down): the server ranks
    the fused points that carry an order value (those order_by found) first,
    by that value, and the others after them by score; qlite and local mode
    rank all by score.

So the script passes against Qdrant's own server too (its ports in place of
qlite's), which is how the differences above were told apart.

Usage: query_tree.py --host 127.0.0.1 --rest-port P --grpc-port Q [--grpc] [--seed N] [--cases N]
"""

import argparse
import copy
import math
import random
import sys

from qdrant_client import QdrantClient, models

DIM = 8
MDIM = 4
N = 200
NAME = "qtree"


class Mismatch(Exception):
    pass


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)


def check(what, got, want, limit):
    if len(got) != len(want):
        raise Mismatch("%s: %d points %s, local mode %d %s" % (
            what, len(got), [(p.id, p.score) for p in got], len(want), [(p.id, p.score) for p in want]))
    for i, (g, w) in enumerate(zip(got, want)):
        if not close(g.score, w.score):
            raise Mismatch("%s: score %d: %r, local mode %r (ids %s, local mode %s)" % (
                what, i, g.score, w.score, [p.id for p in got], [p.id for p in want]))
    lo = 0
    while lo < len(want):
        hi = lo + 1
        while hi < len(want) and close(want[hi].score, want[lo].score):
            hi += 1
        if hi == len(want) and len(want) == limit:
            break  # a run of ties the limit may cut: any of them may be kept
        a, b = sorted(p.id for p in got[lo:hi]), sorted(p.id for p in want[lo:hi])
        if a != b:
            raise Mismatch("%s: points %d to %d: %s, local mode %s (scores %s)" % (
                what, lo, hi - 1, a, b, [p.score for p in want]))
        lo = hi


class Gen:
    def __init__(self, rng):
        self.rng = rng

    def dense(self):
        return [round(self.rng.gauss(0, 1), 3) for _ in range(DIM)]

    def multi(self):
        return [[round(self.rng.gauss(0, 1), 3) for _ in range(MDIM)] for _ in range(self.rng.randint(1, 3))]

    def sparse(self):
        idx = sorted(self.rng.sample(range(20), self.rng.randint(1, 5)))
        return models.SparseVector(indices=idx, values=[round(self.rng.random(), 3) + 0.001 for _ in idx])

    def filter(self):
        r = self.rng.randrange(6)
        if r == 0:
            return models.Filter(must=[models.FieldCondition(key="g", match=models.MatchAny(any=[self.rng.randrange(7) for _ in range(3)]))])
        if r == 1:
            return models.Filter(must_not=[models.FieldCondition(key="g", match=models.MatchValue(value=self.rng.randrange(7)))])
        if r == 2:
            lo = self.rng.random() * 60
            return models.Filter(must=[models.FieldCondition(key="f", range=models.Range(gte=lo, lt=lo + 50))])
        if r == 3:
            return models.Filter(should=[models.FieldCondition(key="tag", match=models.MatchValue(value="x")),
                                         models.HasIdCondition(has_id=[self.rng.randrange(1, N + 1) for _ in range(3)])])
        return None

    def leaf(self, n):
        """A query over the collection, setting n's using; n is a dict of Prefetch fields."""
        r = self.rng.randrange(7)
        if r <= 1:
            n["using"] = self.rng.choice(["a", "b"])
            return self.dense()
        if r == 2:
            n["using"] = "s"
            return self.sparse()
        if r == 3:
            n["using"] = "m"
            return self.multi()
        if r == 4:
            n["using"] = self.rng.choice(["a", "b", "m"])
            ex = self.multi if n["using"] == "m" else self.dense
            # (No stored points as examples: see the module's doc.)
            pos = [ex() for _ in range(self.rng.randint(1, 2))]
            neg = [ex()] if self.rng.random() < 0.5 else None
            strategies = [models.RecommendStrategy.BEST_SCORE, models.RecommendStrategy.SUM_SCORES]
            if n["using"] != "m":
                strategies.append(models.RecommendStrategy.AVERAGE_VECTOR)
            strategy = self.rng.choice(strategies)
            return models.RecommendQuery(recommend=models.RecommendInput(positive=pos, negative=neg, strategy=strategy))
        if r == 5:
            return models.OrderByQuery(order_by=models.OrderBy(key="f", direction=self.rng.choice(
                [models.Direction.ASC, models.Direction.DESC])))
        # (No MMR: see the module's doc.)
        n["using"] = self.rng.choice(["a", "b"])
        return self.dense()

    def merge(self, n, k, depth):
        """A query applied to the results of k prefetches at depth."""
        r = self.rng.randrange(9)
        if r == 0:
            return models.FusionQuery(fusion=models.Fusion.RRF)
        if r == 1:
            return models.FusionQuery(fusion=models.Fusion.DBSF)
        if r == 2:
            w = [round(self.rng.uniform(0.1, 3), 2) for _ in range(k)] if self.rng.random() < 0.5 else None
            return models.RrfQuery(rrf=models.Rrf(k=self.rng.randint(1, 60), weights=w))
        if r == 3:
            terms = [models.MultExpression(mult=[round(self.rng.uniform(0.1, 2), 2), "$score[%d]" % i]) for i in range(k)]
            terms.append(self.expression(2))
            defaults = {"$score[%d]" % i: 0.0 for i in range(k)}
            if self.rng.random() < 0.5:
                del defaults["$score[0]"]  # a point $score[0] lacks then scores 0 too
            return models.FormulaQuery(formula=models.SumExpression(sum=terms), defaults=defaults)
        if r <= 5 and depth == 1:
            # (MMR at the root only: see the module's doc.)
            mmr = models.Mmr(diversity=round(self.rng.random(), 2), candidates_limit=self.rng.choice([None, self.rng.randint(5, 40)]))
            if r == 4:
                n["using"] = "a"
                return models.NearestQuery(nearest=self.dense(), mmr=mmr)
            n["using"] = "m"
            return models.NearestQuery(nearest=self.multi(), mmr=mmr)
        return self.leaf(n)

    def expression(self, depth):
        """A formula term over the payload: finite wherever it is evaluated."""
        r = self.rng.randrange(9 if depth > 0 else 3)
        if r == 0:
            return round(self.rng.uniform(-2, 2), 2)
        if r == 1:
            return models.MultExpression(mult=[round(self.rng.uniform(-0.05, 0.05), 3), "f"])
        if r == 2:
            return models.FieldCondition(key="g", match=models.MatchAny(any=[self.rng.randrange(7), self.rng.randrange(7)]))
        if r == 3:
            return models.SumExpression(sum=[self.expression(depth - 1), self.expression(depth - 1)])
        if r == 4:
            return models.MultExpression(mult=[self.expression(depth - 1), self.expression(depth - 1)])
        if r == 5:
            return models.AbsExpression(abs=self.expression(depth - 1))
        if r == 6:
            return models.NegExpression(neg=self.expression(depth - 1))
        if r == 7:
            return models.DivExpression(div=models.DivParams(left=self.expression(depth - 1), right="g", by_zero_default=0.5))
        decay = models.DecayParamsExpression(x="f", target=round(self.rng.uniform(0, 100), 1),
                                             scale=round(self.rng.uniform(5, 50), 1),
                                             midpoint=self.rng.choice([None, 0.2, 0.7]))
        return self.rng.choice([models.ExpDecayExpression(exp_decay=decay), models.GaussDecayExpression(gauss_decay=decay),
                                models.LinDecayExpression(lin_decay=decay)])

    def node(self, depth):
        """A Prefetch's fields at depth (1 to 3), and whether it merges prefetches."""
        n = {}
        if depth < 3 and self.rng.random() < 0.5:
            k = self.rng.randint(1, 3)
            n["prefetch"] = [models.Prefetch(**self.node(depth + 1)) for _ in range(k)]
            while True:
                q = self.merge(n, k, depth)
                if isinstance(q, models.OrderByQuery):
                    continue
                # (No DBSF over order_by: see the module's doc.)
                if isinstance(q, models.FusionQuery) and q.fusion == models.Fusion.DBSF and ordered(n["prefetch"]):
                    continue
                break
            n["query"] = q
        else:
            n["query"] = self.leaf(n)
            f = self.filter()
            if f is not None:
                n["filter"] = f
        if self.rng.random() < 0.66:
            n["limit"] = self.rng.randint(1, 25)
        q = n["query"]
        if self.rng.random() < 0.2 and not isinstance(q, (models.OrderByQuery, models.NearestQuery)):
            if isinstance(q, (models.FusionQuery, models.RrfQuery)):
                n["score_threshold"] = round(self.rng.random() * 0.5, 2)
            elif n.get("using") == "a":
                n["score_threshold"] = round(self.rng.random() - 0.3, 2)
            else:
                n["score_threshold"] = round(self.rng.gauss(0, 1), 2)
        return n


def ordered(prefetches):
    """Whether an order_by query is among prefetches or below them."""
    return any(isinstance(p.query, models.OrderByQuery) or ordered(p.prefetch or []) for p in prefetches)


def inner_nodes(p, out):
    for c in p.prefetch or []:
        if c.prefetch:
            out.append(c)
            inner_nodes(c, out)
    return out


def kinds(p, depth, seen):
    """Adds to seen what node p at depth and the nodes below it use."""
    q = p.query
    if isinstance(q, models.FusionQuery):
        seen.add(q.fusion.value)
    elif isinstance(q, models.RrfQuery):
        seen.add("weighted rrf" if q.rrf.weights else "rrf with k")
    elif isinstance(q, models.FormulaQuery):
        seen.add("formula")
    elif isinstance(q, models.RecommendQuery):
        seen.add("recommend")
    elif isinstance(q, models.OrderByQuery):
        seen.add("order_by")
    elif isinstance(q, models.NearestQuery):
        seen.add("mmr " + p.using)
    else:
        seen.add("nearest " + p.using)
    if p.filter is not None:
        seen.add("filter")
    if p.score_threshold is not None:
        seen.add("threshold")
    if depth == 3:
        seen.add("depth 3")
    for c in p.prefetch or []:
        kinds(c, depth + 1, seen)
    return seen


def has_ties(local, p):
    limit = p.limit if p.limit is not None else 10
    p = p.model_copy(deep=True)
    pts = local.query_points(NAME, prefetch=p.prefetch, query=p.query, using=p.using, limit=limit + 1,
                             score_threshold=p.score_threshold).points
    return any(close(a.score, b.score) for a, b in zip(pts, pts[1:]))


def build(server, local, rng):
    for c in (server, local):
        if c.collection_exists(NAME):
            c.delete_collection(NAME)
        c.create_collection(NAME, vectors_config={
            "a": models.VectorParams(size=DIM, distance=models.Distance.COSINE),
            "b": models.VectorParams(size=DIM, distance=models.Distance.DOT),
            "m": models.VectorParams(size=MDIM, distance=models.Distance.COSINE,
                                     multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)),
        }, sparse_vectors_config={"s": models.SparseVectorParams()})
    g = Gen(rng)
    points = []
    for i in range(1, N + 1):
        vec = {"a": g.dense(), "b": g.dense(), "m": g.multi()}
        if i % 6:
            idx = sorted(rng.sample(range(20), rng.randint(1, 4)))
            vec["s"] = models.SparseVector(indices=idx, values=[round(rng.random() * 2, 6) + 0.001 for _ in idx])
        points.append(models.PointStruct(id=i, vector=vec, payload={
            "g": i % 7, "f": round(rng.random() * 100, 4), "tag": ["x", "y", "z"][i % 3]}))
    for c in (server, local):
        c.upsert(NAME, points=points, wait=True)
    server.create_payload_index(NAME, "g", models.PayloadSchemaType.INTEGER, wait=True)
    server.create_payload_index(NAME, "f", models.PayloadSchemaType.FLOAT, wait=True)


def run(server, local, rng, cases):
    build(server, local, rng)
    g = Gen(rng)
    redrawn = 0
    counts = {}
    for qi in range(cases):
        while True:
            root = g.node(1)
            if "prefetch" not in root:
                continue
            p = models.Prefetch(**root)
            if not any(has_ties(local, c) for c in inner_nodes(p, [])):
                break
            redrawn += 1
        limit = root.get("limit", 10)
        args = dict(prefetch=p.prefetch, query=p.query, using=p.using, limit=limit)
        # Each call gets its own copy: a client may change the request it is given.
        want = local.query_points(NAME, **copy.deepcopy(args)).points
        if len(want) > 2 and not close(want[1].score, want[2].score) and rng.random() < 0.3:
            args["score_threshold"] = (want[1].score + want[2].score) / 2
            want = local.query_points(NAME, **copy.deepcopy(args)).points
        got = server.query_points(NAME, **copy.deepcopy(args)).points
        for k in kinds(models.Prefetch(**dict(root, score_threshold=args.get("score_threshold"))), 1, set()):
            counts[k] = counts.get(k, 0) + 1
        try:
            check("tree %d" % qi, got, want, limit)
        except Mismatch as e:
            raise Mismatch("%s\nrequest: %s" % (e, models.QueryRequest(filter=args.get("query_filter"), **{
                k: v for k, v in args.items() if k != "query_filter"}).model_dump_json(exclude_none=True)))
    return redrawn, counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--rest-port", type=int, required=True)
    ap.add_argument("--grpc-port", type=int, required=True)
    ap.add_argument("--grpc", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=120)
    a = ap.parse_args()
    server = QdrantClient(host=a.host, port=a.rest_port, grpc_port=a.grpc_port, prefer_grpc=a.grpc, timeout=60,
                          check_compatibility=False)
    local = QdrantClient(":memory:")
    try:
        redrawn, counts = run(server, local, random.Random(a.seed), a.cases)
    except Mismatch as e:
        print("MISMATCH (%s): %s" % ("grpc" if a.grpc else "rest", e))
        sys.exit(1)
    print("ok: %d random query trees over %d points, %s (%d drawn again for ties inside the tree)" % (
        a.cases, N, "grpc" if a.grpc else "rest", redrawn))
    print("requests using each kind of node: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main()
