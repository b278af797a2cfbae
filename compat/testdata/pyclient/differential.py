"""Differential test of qlite serve against qdrant-client's local mode.

The same random scenario runs against a qlite server (over REST, or over
gRPC with --grpc) and against QdrantClient(":memory:"), which implements
Qdrant's semantics in Python. Ids, order, payloads and scores (within 1e-4)
must agree. Known differences between local mode and the server are handled
explicitly where they arise (see KNOWN below).

Usage: differential.py --host 127.0.0.1 --rest-port P --grpc-port Q [--grpc] [--seed N]
Exit status 0 when everything agrees; the first difference is printed and
the status is 1.
"""

import argparse
import math
import random
import sys
import uuid

from qdrant_client import QdrantClient, models

# Known differences between the local mode and Qdrant's server, which qlite
# follows, and how the scenario meets them:
# - score_threshold: the server keeps strictly better scores, local mode
#   keeps equal ones too. The threshold test asserts the server's rule on a
#   threshold equal to a score (check_threshold_equality), and the other
#   thresholds never equal a score.
# - Local mode is exact; the server searches its graph unless told exact, so
#   every search here says exact.

DISTANCES = [models.Distance.COSINE, models.Distance.EUCLID, models.Distance.DOT, models.Distance.MANHATTAN]
DIM = 8
N = 300


class Mismatch(Exception):
    pass


def rand_payload(rng, i):
    p = {
        "i": i,
        "class": rng.randrange(5),
        "price": round(rng.uniform(0, 100), 3),
        "tag": rng.choice(["red", "green", "blue", "Red Apple", "green tea"]),
        "tags": rng.sample(["a", "b", "c", "d", "e"], rng.randrange(0, 4)),
        "nested": {"x": rng.randrange(10), "y": rng.choice(["u", "v"])},
        "items": [{"k": rng.randrange(4), "w": rng.choice([True, False])} for _ in range(rng.randrange(0, 3))],
        "loc": {"lon": round(rng.uniform(-10, 10), 4), "lat": round(rng.uniform(40, 60), 4)},
        "when": "2024-0%d-1%dT10:00:00Z" % (rng.randrange(1, 10), rng.randrange(0, 10)),
        "text": rng.choice(["the quick brown fox", "lazy dog", "quick tea time", "brown bread"]),
    }
    if rng.random() < 0.2:
        p["maybe"] = None
    if rng.random() < 0.2:
        del p["class"]
    if rng.random() < 0.1:
        p["price"] = rng.randrange(100)  # an integer where others have floats
    return p


def rand_id(rng, i):
    if i % 7 == 3:
        return str(uuid.UUID(int=rng.getrandbits(128)))
    return i


def filters(rng, ids):
    F = models
    some_ids = rng.sample(ids, 5)
    return [
        None,
        F.Filter(must=[F.FieldCondition(key="class", match=F.MatchValue(value=2))]),
        F.Filter(must=[F.FieldCondition(key="tag", match=F.MatchAny(any=["red", "blue"]))]),
        F.Filter(must=[F.FieldCondition(key="class", match=F.MatchExcept(**{"except": [0, 1]}))]),
        F.Filter(must=[F.FieldCondition(key="price", range=F.Range(gte=20.5, lt=70))]),
        F.Filter(should=[F.FieldCondition(key="nested.x", match=F.MatchValue(value=3)),
                         F.FieldCondition(key="tags", match=F.MatchValue(value="a"))]),
        F.Filter(must_not=[F.FieldCondition(key="nested.y", match=F.MatchValue(value="u"))]),
        F.Filter(must=[F.IsEmptyCondition(is_empty=F.PayloadField(key="tags"))]),
        F.Filter(must=[F.IsNullCondition(is_null=F.PayloadField(key="maybe"))]),
        F.Filter(must=[F.HasIdCondition(has_id=some_ids)]),
        F.Filter(must=[F.FieldCondition(key="tags", values_count=F.ValuesCount(gte=2))]),
        F.Filter(must=[F.FieldCondition(key="loc", geo_radius=F.GeoRadius(
            center=F.GeoPoint(lon=0, lat=50), radius=400000.0))]),
        F.Filter(must=[F.FieldCondition(key="loc", geo_bounding_box=F.GeoBoundingBox(
            top_left=F.GeoPoint(lon=-5, lat=55), bottom_right=F.GeoPoint(lon=5, lat=45)))]),
        F.Filter(must=[F.FieldCondition(key="loc", geo_polygon=F.GeoPolygon(exterior=F.GeoLineString(points=[
            F.GeoPoint(lon=-8, lat=42), F.GeoPoint(lon=8, lat=42), F.GeoPoint(lon=8, lat=58),
            F.GeoPoint(lon=-8, lat=58), F.GeoPoint(lon=-8, lat=42)])))]),
        F.Filter(must=[F.FieldCondition(key="when", range=F.DatetimeRange(gte="2024-03-01T00:00:00Z", lt="2024-07-01T00:00:00Z"))]),
        F.Filter(must=[F.FieldCondition(key="text", match=F.MatchText(text="quick"))]),
        F.Filter(must=[F.NestedCondition(nested=F.Nested(key="items", filter=F.Filter(must=[
            F.FieldCondition(key="k", match=F.MatchValue(value=1)),
            F.FieldCondition(key="w", match=F.MatchValue(value=True))])))]),
        F.Filter(min_should=F.MinShould(conditions=[
            F.FieldCondition(key="class", match=F.MatchValue(value=1)),
            F.FieldCondition(key="tag", match=F.MatchValue(value="red")),
            F.FieldCondition(key="nested.x", range=F.Range(lt=5))], min_count=2)),
        F.Filter(must=[F.Filter(should=[F.FieldCondition(key="class", match=F.MatchValue(value=4)),
                                        F.FieldCondition(key="price", range=F.Range(gt=90))])]),
    ]


def same_payload(a, b):
    return (a or {}) == (b or {})


def check_points(what, got, want, scores=True):
    if len(got) != len(want):
        raise Mismatch("%s: %d points, local mode %d\n got  %s\n want %s" % (
            what, len(got), len(want), [p.id for p in got], [p.id for p in want]))
    for g, w in zip(got, want):
        if str(g.id) != str(w.id):
            raise Mismatch("%s: ids differ\n got  %s\n want %s" % (what, [p.id for p in got], [p.id for p in want]))
        if scores and hasattr(w, "score") and w.score is not None:
            if not math.isclose(g.score, w.score, rel_tol=1e-4, abs_tol=1e-4):
                raise Mismatch("%s: id %s score %r, local mode %r" % (what, g.id, g.score, w.score))
        if not same_payload(g.payload, w.payload):
            raise Mismatch("%s: id %s payload\n got  %r\n want %r" % (what, g.id, g.payload, w.payload))


def check_threshold_equality(server, name, q, pivot, distance, exact):
    # pivot comes from the server, so its score is exactly the server's.
    """A threshold equal to a score excludes that point on the server (strict),
    where local mode would keep it."""
    got = server.query_points(name, query=q, limit=50, score_threshold=pivot.score, search_params=exact).points
    if any(str(p.id) == str(pivot.id) for p in got):
        raise Mismatch("%s: score_threshold equal to the score of %s kept it; the server's rule is strict" % (name, pivot.id))


def run(server, local, rng, name, distance):
    for c in (server, local):
        if c.collection_exists(name):
            c.delete_collection(name)
        c.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=distance))
    ids = []
    points = []
    for i in range(N):
        pid = rand_id(rng, i)
        ids.append(pid)
        points.append(models.PointStruct(id=pid, vector=[rng.gauss(0, 1) for _ in range(DIM)], payload=rand_payload(rng, i)))
    for c in (server, local):
        for start in range(0, N, 64):
            c.upsert(name, points=points[start:start + 64], wait=True)

    exact = models.SearchParams(exact=True)

    def both(fn):
        return fn(server), fn(local)

    # Counts and scrolls under every filter.
    for fi, flt in enumerate(filters(rng, ids)):
        g, w = both(lambda c: c.count(name, count_filter=flt, exact=True).count)
        if g != w:
            raise Mismatch("%s count filter %d: %d, local mode %d" % (name, fi, g, w))
        got, want = [], []
        for c, out in ((server, got), (local, want)):
            offset = None
            while True:
                page, offset = c.scroll(name, scroll_filter=flt, limit=17, offset=offset, with_payload=True)
                out.extend(page)
                if offset is None:
                    break
        check_points("%s scroll filter %d" % (name, fi), got, want, scores=False)

        q = [rng.gauss(0, 1) for _ in range(DIM)]
        g, w = both(lambda c: c.query_points(name, query=q, query_filter=flt, limit=10, with_payload=True,
                                             search_params=exact).points)
        check_points("%s query filter %d" % (name, fi), g, w)

    # Offsets, thresholds, payload selectors, vectors.
    q = [rng.gauss(0, 1) for _ in range(DIM)]
    g, w = both(lambda c: c.query_points(name, query=q, limit=5, offset=7, with_payload=["i", "nested.x"],
                                         search_params=exact).points)
    check_points(name + " query offset+include", g, w)
    mid = w[2].score
    thr = mid + (1e-3 if distance in (models.Distance.COSINE, models.Distance.DOT) else -1e-3)
    g, w = both(lambda c: c.query_points(name, query=q, limit=50, score_threshold=thr,
                                         search_params=exact).points)
    check_points(name + " score_threshold", g, w)
    check_threshold_equality(server, name, q, g[2], distance, exact)
    g, w = both(lambda c: c.query_points(name, query=q, limit=3, with_vectors=True,
                                         with_payload=models.PayloadSelectorExclude(exclude=["items", "loc"]),
                                         search_params=exact).points)
    check_points(name + " exclude", g, w)
    for a, b in zip(g, w):
        if any(not math.isclose(x, y, abs_tol=1e-5) for x, y in zip(a.vector, b.vector)):
            raise Mismatch("%s: vector of %s differs: %r vs %r" % (name, a.id, a.vector, b.vector))

    # Query by point id, recommend.
    pid = ids[5]
    g, w = both(lambda c: c.query_points(name, query=pid, limit=5, search_params=exact).points)
    check_points(name + " query by id", g, w)
    for strategy in (models.RecommendStrategy.AVERAGE_VECTOR, models.RecommendStrategy.BEST_SCORE,
                     models.RecommendStrategy.SUM_SCORES):
        rq = models.RecommendQuery(recommend=models.RecommendInput(positive=[ids[1], ids[2]], negative=[ids[3]],
                                                                   strategy=strategy))
        g, w = both(lambda c: c.query_points(name, query=rq, limit=8, search_params=exact).points)
        check_points("%s recommend %s" % (name, strategy), g, w)

    # Retrieve, including missing ids.
    want_ids = [ids[0], ids[3], 999999, ids[10]]
    g, w = both(lambda c: c.retrieve(name, ids=want_ids, with_payload=True))
    key = lambda p: str(p.id)
    check_points(name + " retrieve", sorted(g, key=key), sorted(w, key=key), scores=False)

    # Payload operations.
    sel = [ids[i] for i in range(0, 40, 3)]
    flt = models.Filter(must=[models.FieldCondition(key="class", match=models.MatchValue(value=3))])
    for c in (server, local):
        c.set_payload(name, payload={"new": 1, "tag": None}, points=sel, wait=True)
        c.set_payload(name, payload={"deep": {"z": [1, 2.5, "s"]}}, points=flt, wait=True)
        c.set_payload(name, payload={"x": 42}, points=[ids[4], ids[6]], key="nested", wait=True)
        c.overwrite_payload(name, payload={"only": True}, points=[ids[7]], wait=True)
        c.delete_payload(name, keys=["price", "nested.y"], points=[ids[i] for i in range(20)], wait=True)
        c.clear_payload(name, points_selector=[ids[8]], wait=True)
        c.delete(name, points_selector=models.FilterSelector(filter=models.Filter(must=[
            models.FieldCondition(key="i", range=models.Range(gte=250))])), wait=True)
        c.delete(name, points_selector=[ids[9], ids[11]], wait=True)
    got, want = both(lambda c: c.scroll(name, limit=1000, with_payload=True)[0])
    # Known differences of local mode, asserted here rather than skipped:
    # - set_payload with a null value removes the key on the server (local
    #   mode stores the null);
    # - delete_payload with a nested path ("nested.y") removes it on the
    #   server (local mode leaves nested keys in place).
    for p in want:
        pl = p.payload or {}
        if p.id in sel and "tag" in pl:
            if pl["tag"] is not None:
                raise Mismatch("%s: local mode kept tag=%r after setting it to null" % (name, pl["tag"]))
            del pl["tag"]
        if p.id in ids[:20] and isinstance(pl.get("nested"), dict):
            pl["nested"].pop("y", None)
    for p in got:
        pl = p.payload or {}
        if p.id in sel and "tag" in pl:
            raise Mismatch("%s: point %s kept key tag after set_payload with tag null" % (name, p.id))
    check_points(name + " after payload ops", got, want, scores=False)


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
    rng = random.Random(a.seed)
    try:
        for distance in DISTANCES:
            run(server, local, rng, "diff_" + distance.value.lower(), distance)
    except Mismatch as e:
        print("MISMATCH (%s): %s" % ("grpc" if a.grpc else "rest", e))
        sys.exit(1)
    print("ok: %d distances, %d points each, %s" % (len(DISTANCES), N, "grpc" if a.grpc else "rest"))


if __name__ == "__main__":
    main()
