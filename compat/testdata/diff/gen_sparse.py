"""Writes the random scenarios of sparse.txt and bm25.txt.

    python3 gen_sparse.py SEED...        scenarios of sparse.txt
    python3 gen_sparse.py --bm25 SEED... scenarios of bm25.txt

A sparse seed gives a collection with an IDF sparse vector, a plain one and a
dense one, random points (Zipf-like dimensions), some rewritten and deleted,
then random searches of every form. A BM25 seed gives documents drawn from
../bm25_corpus.txt (English and other languages, each with its language
option), then random word queries; every query asks for more points than
match, so that the arbitrary order Qdrant gives equal scores can be compared
as a set. The same files are replayed against Qdrant and qlite by
TestDifferential, so they record requests only.
"""
import json
import os
import random
import sys


def sparse(rng, dims, nmax):
    k = rng.randint(1, nmax)
    idx = set()
    while len(idx) < k:
        # Zipf-like: small dimensions are frequent, large ones rare.
        idx.add(min(int(rng.paretovariate(0.8)) - 1, dims - 1))
    idx = list(idx)
    rng.shuffle(idx)
    return {"indices": idx, "values": [round(rng.uniform(-0.5, 3), 4) for _ in idx]}


def dumps(v):
    return json.dumps(v, separators=(", ", ": "))


def scenario(seed):
    rng = random.Random(seed)
    dims = rng.choice([20, 60, 200])
    n = rng.randint(40, 90)
    out = ["=== random sparse points and queries (seed %d)" % seed]
    out.append('PUT /collections/r {"vectors": {"d": {"size": 3, "distance": "Dot"}}, '
               '"sparse_vectors": {"t": {"modifier": "idf"}, "n": {}}}')

    def point(i):
        vec = {}
        if rng.random() < 0.9:
            vec["t"] = sparse(rng, dims, 8)
        if rng.random() < 0.8:
            vec["n"] = sparse(rng, dims, 6)
        if rng.random() < 0.5:
            vec["d"] = [round(rng.uniform(-1, 1), 3) for _ in range(3)]
        return {"id": i, "vector": vec, "payload": {"g": rng.randrange(5), "k": rng.randrange(100)}}

    pts = [point(i) for i in range(1, n + 1)]
    has = {p["id"]: set(p["vector"]) for p in pts}  # the vectors each point has
    for lo in range(0, n, 30):
        out.append("PUT /collections/r/points?wait=true " + dumps({"points": pts[lo:lo + 30]}))
    # Rewrites and vector updates change the document frequencies.
    re = [point(rng.randint(1, n)) for _ in range(5)]
    out.append("PUT /collections/r/points?wait=true " + dumps({"points": re}))
    for p in re:
        has[p["id"]] = set(p["vector"])
    upd = [{"id": rng.randint(1, n), "vector": {"t": sparse(rng, dims, 5)}} for _ in range(4)]
    out.append("PUT /collections/r/points/vectors?wait=true " + dumps({"points": upd}))
    for p in upd:
        has[p["id"]].add("t")

    def flt():
        r = rng.random()
        if r < 0.3:
            return {"must": [{"key": "g", "match": {"value": rng.randrange(5)}}]}
        if r < 0.45:
            return {"must": [{"key": "k", "range": {"lt": rng.randrange(100)}}]}
        return None

    def queries(usings, nq):
        for q in range(nq):
            body = {"query": sparse(rng, dims, 5), "using": rng.choice(usings), "limit": rng.randint(1, 12)}
            f = flt()
            if f:
                body["filter"] = f
            if rng.random() < 0.3:
                body["offset"] = rng.randint(1, 5)
            if rng.random() < 0.25:
                body["score_threshold"] = round(rng.uniform(0, 2), 3)
            out.append("@approx")
            out.append("POST /collections/r/points/query " + dumps(body))
        for q in range(3):
            body = {"vector": {"name": rng.choice(usings), "vector": sparse(rng, dims, 4)}, "limit": 5}
            f = flt()
            if f:
                body["filter"] = f
            out.append("@approx")
            out.append("POST /collections/r/points/search " + dumps(body))
        for q in range(3):
            # Examples are points that have the vector searched (see the
            # scenario "recommend by a point without the vector").
            using = rng.choice(usings)
            ids = sorted(i for i, names in has.items() if using in names)
            rq = {"positive": rng.sample(ids, rng.randint(1, 3))}
            if rng.random() < 0.6:
                rq["negative"] = rng.sample(ids, 1)
            rq["strategy"] = rng.choice(["average_vector", "best_score", "sum_scores"])
            out.append("@approx")
            out.append("POST /collections/r/points/query " + dumps({"query": {"recommend": rq}, "using": using, "limit": 6}))
        searches = [{"query": sparse(rng, dims, 4), "using": rng.choice(usings), "limit": 4} for _ in range(3)]
        out.append("@approx")
        out.append("POST /collections/r/points/query/batch " + dumps({"searches": searches}))
        q = sparse(rng, dims, 5)
        out.append("@approx")
        out.append("@ignore time")
        out.append("GRPC qdrant.Points/Query " + dumps({"collection_name": "r", "query": {"nearest": {"sparse": q}}, "using": usings[0], "limit": 8}))
        out.append("@approx")
        out.append("@ignore time")
        out.append("GRPC qdrant.Points/Search " + dumps({"collection_name": "r", "vector": q["values"], "sparse_indices": {"data": q["indices"]}, "vector_name": usings[-1], "limit": 8}))

    queries(["t", "n"], 12)
    # Deletes: Qdrant's IDF keeps counting deleted points and vectors until
    # its optimizer vacuums them, qlite's counts the live ones (see the
    # scenario "IDF after deletes" of sparse.txt), so from here on only the
    # plain vector "n" is searched.
    dels = rng.sample(range(1, n + 1), 4)
    out.append("POST /collections/r/points/delete?wait=true " + dumps({"points": dels}))
    for i in dels:
        del has[i]
    devs = rng.sample(sorted(has), 3)
    out.append("POST /collections/r/points/vectors/delete?wait=true " + dumps({"points": devs, "vector": ["t"]}))
    for i in devs:
        has[i].discard("t")
    out.append('POST /collections/r/points/count {"filter": {"must": [{"has_vector": "t"}]}, "exact": true}')
    queries(["n"], 6)
    return out


def bm25_scenario(seed):
    rng = random.Random(seed)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "bm25_corpus.txt"), encoding="utf-8") as f:
        corpus = [line.rstrip("\n").split("\t", 1) for line in f if "\t" in line]
    docs = rng.sample(corpus, 60)
    out = ["=== random BM25 documents and queries (seed %d)" % seed]
    out.append('PUT /collections/d {"sparse_vectors": {"t": {"modifier": "idf"}, "n": {}}}')

    def doc(lang, text):
        d = {"text": text, "model": "qdrant/bm25"}
        if lang != "english":
            d["options"] = {"language": lang}
        return d

    pts = [{"id": i + 1, "vector": {"t": doc(lang, text), "n": doc(lang, text)}, "payload": {"lang": lang, "g": rng.randrange(3)}}
           for i, (lang, text) in enumerate(docs)]
    for lo in range(0, len(pts), 20):
        out.append("PUT /collections/d/points?wait=true " + dumps({"points": pts[lo:lo + 20]}))
    english = [text for lang, text in docs if lang == "english"]

    def queries(usings, nq):
        for q in range(nq):
            words = rng.choice(english).split()
            text = " ".join(rng.sample(words, min(len(words), rng.randint(1, 3))))
            body = {"query": {"text": text, "model": "qdrant/bm25"}, "using": rng.choice(usings), "limit": 100}
            if rng.random() < 0.3:
                body["filter"] = {"must": [{"key": "g", "match": {"value": rng.randrange(3)}}]}
            out.append("@approx")
            out.append("@unordered result.points")
            out.append("POST /collections/d/points/query " + dumps(body))

    queries(["t", "n"], 12)
    # After deletes only the plain vector is searched (see scenario()).
    out.append('POST /collections/d/points/delete?wait=true ' + dumps({"points": rng.sample(range(1, 61), 3)}))
    queries(["n"], 4)
    for lang, text in docs:
        if lang not in ("english", "none") and rng.random() < 0.5:
            words = text.split()
            body = {"query": doc(lang, " ".join(rng.sample(words, min(2, len(words))))), "using": "n", "limit": 100}
            out.append("@approx")
            out.append("@unordered result.points")
            out.append("POST /collections/d/points/query " + dumps(body))
    return out


if __name__ == "__main__":
    gen, seeds = scenario, sys.argv[1:]
    if seeds and seeds[0] == "--bm25":
        gen, seeds = bm25_scenario, seeds[1:]
    for s in seeds:
        print("\n".join(gen(int(s))))
        print()
