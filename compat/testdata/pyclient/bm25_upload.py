"""Upload and query figures of server-side BM25 over REST (not run by the tests).

Sends the same 50k documents (doc comments of the Go standard library, from
`go env GOROOT`) as qdrant/bm25 Documents to a server, 256 per upsert with
wait=true, into an IDF sparse vector, then 200 document queries (limit 10),
one client, and prints documents per second and queries per second. Run it
against qlite serve and against Qdrant in the same session, then compare the
two result files (ids may differ only among equal scores):

    python3 bm25_upload.py http://127.0.0.1:6333 50000 /tmp/res-server.json
"""
import glob
import json
import os
import sys
import time
import urllib.request


def corpus(n):
    root = os.popen("go env GOROOT").read().strip() + "/src"
    docs, cur = [], []
    for f in sorted(glob.glob(root + "/**/*.go", recursive=True)):
        if f.endswith("_test.go") or "/testdata/" in f:
            continue
        for line in open(f, errors="replace"):
            s = line.strip()
            if s.startswith("//") and not s.startswith("//go:"):
                cur.append(s[2:].strip())
                continue
            if cur:
                t = " ".join(cur).strip()
                if len(t) > 20:
                    docs.append(t)
                cur = []
                if len(docs) >= n:
                    return docs
    return docs


def req(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(base + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(r, timeout=300) as resp:
        return json.loads(resp.read())


def main():
    base, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    docs = corpus(n)
    try:
        req(base, "DELETE", "/collections/bm")
    except Exception:
        pass
    req(base, "PUT", "/collections/bm", {"sparse_vectors": {"t": {"modifier": "idf"}}})
    t0 = time.time()
    for i in range(0, len(docs), 256):
        pts = [{"id": i + j, "vector": {"t": {"text": d, "model": "qdrant/bm25"}}} for j, d in enumerate(docs[i:i + 256])]
        req(base, "PUT", "/collections/bm/points?wait=true", {"points": pts})
    up = time.time() - t0
    qs = [" ".join(d.split(" ")[:4]) for d in docs[::max(1, len(docs) // 200)]][:200]
    t0 = time.time()
    res = []
    for q in qs:
        r = req(base, "POST", "/collections/bm/points/query",
                {"query": {"text": q, "model": "qdrant/bm25"}, "using": "t", "limit": 10})
        res.append([(p["id"], round(p["score"], 4)) for p in r["result"]["points"]])
    qt = time.time() - t0
    with open(out, "w") as f:
        json.dump(res, f)
    print("docs %d upload %.2fs = %.0f docs/s; %d queries %.2fs = %.0f qps (REST, one client)" % (
        len(docs), up, len(docs) / up, len(qs), qt, len(qs) / qt))


if __name__ == "__main__":
    main()
