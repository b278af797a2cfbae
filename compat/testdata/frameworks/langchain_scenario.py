"""LangChain's Qdrant vector store (langchain-qdrant) against a server.

Runs one scenario through QdrantVectorStore (from_texts with metadata,
similarity search with scores, metadata filters, as_retriever, get_by_ids,
delete) over REST or gRPC, with deterministic fake embeddings (no model, no
network beyond the server), and prints what the store answered as one JSON
document, so that answers from two servers can be compared.
"""

import argparse
import json
import uuid

from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_qdrant import QdrantVectorStore
from qdrant_client import QdrantClient, models

TEXTS = [
    ("Red apples grow in the orchard.", {"color": "red", "kind": "fruit", "n": 1}),
    ("A green pear ripens slowly.", {"color": "green", "kind": "fruit", "n": 2}),
    ("The red fire truck raced by.", {"color": "red", "kind": "vehicle", "n": 3}),
    ("Blue whales sing in the ocean.", {"color": "blue", "kind": "animal", "n": 4}),
    ("A yellow banana for lunch.", {"color": "yellow", "kind": "fruit", "n": 5}),
    ("The green frog jumped into the pond.", {"color": "green", "kind": "animal", "n": 6}),
    ("Red cardinals visit the feeder.", {"color": "red", "kind": "animal", "n": 7}),
    ("A blue bicycle leans on the wall.", {"color": "blue", "kind": "vehicle", "n": 8}),
]
QUERIES = ["red fruit in the orchard", "animals near water", "vehicles on the street"]


def doc_ids():
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"langchain-{i}")) for i in range(len(TEXTS))]


def docs(pairs):
    return [{"text": d.page_content, "metadata": d.metadata, "id": d.id} for d in pairs]


def scored(pairs):
    return [{"text": d.page_content, "metadata": d.metadata, "id": d.id, "score": s} for d, s in pairs]


def meta(key, value):
    return models.FieldCondition(key=f"metadata.{key}", match=models.MatchValue(value=value))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--rest-port", type=int, required=True)
    ap.add_argument("--grpc-port", type=int, required=True)
    ap.add_argument("--grpc", action="store_true")
    ap.add_argument("--collection", default="langchain")
    a = ap.parse_args()

    emb = DeterministicFakeEmbedding(size=64)
    ids = doc_ids()
    out = {}
    where = {"host": a.host, "port": a.rest_port, "grpc_port": a.grpc_port, "prefer_grpc": a.grpc}
    store = QdrantVectorStore.from_texts(
        [t for t, _ in TEXTS],
        emb,
        metadatas=[m for _, m in TEXTS],
        ids=ids,
        collection_name=a.collection,
        force_recreate=True,
        **where,
    )
    client = store.client
    info = client.get_collection(a.collection)
    out["vectors_config"] = json.loads(
        json.dumps(info.config.params.vectors, default=lambda o: o.model_dump(mode="json", exclude_none=True))
    )
    out["count"] = client.count(a.collection, exact=True).count

    out["search"] = {q: scored(store.similarity_search_with_score(q, k=4)) for q in QUERIES}
    red = models.Filter(must=[meta("color", "red")])
    out["search_red"] = scored(store.similarity_search_with_score(QUERIES[0], k=5, filter=red))
    fruit_or_blue = models.Filter(should=[meta("kind", "fruit"), meta("color", "blue")],
                                  must_not=[meta("color", "yellow")])
    out["search_fruit_or_blue"] = scored(store.similarity_search_with_score(QUERIES[1], k=10, filter=fruit_or_blue))
    n_range = models.Filter(must=[models.FieldCondition(key="metadata.n", range=models.Range(gte=3, lt=7))])
    out["search_range"] = scored(store.similarity_search_with_score(QUERIES[2], k=10, filter=n_range))
    out["relevance"] = scored(store.similarity_search_with_relevance_scores(QUERIES[0], k=3))

    retriever = store.as_retriever(search_kwargs={"k": 2, "filter": models.Filter(must=[meta("kind", "animal")])})
    out["retriever"] = docs(retriever.invoke(QUERIES[1]))
    out["retriever_threshold"] = docs(store.as_retriever(
        search_type="similarity_score_threshold", search_kwargs={"k": 8, "score_threshold": 0.5}).invoke(QUERIES[0]))

    out["get_by_ids"] = docs(store.get_by_ids([ids[0], ids[3]]))
    out["delete"] = store.delete(ids=[ids[0], ids[2]])
    out["count_after_delete"] = client.count(a.collection, exact=True).count
    out["search_red_after_delete"] = scored(store.similarity_search_with_score(QUERIES[0], k=5, filter=red))

    added = store.add_texts(["A red kite in the wind."], metadatas=[{"color": "red", "kind": "toy", "n": 9}],
                            ids=[str(uuid.uuid5(uuid.NAMESPACE_URL, "langchain-added"))])
    out["added"] = added
    out["search_red_after_add"] = scored(store.similarity_search_with_score(QUERIES[0], k=5, filter=red))
    client.delete_collection(a.collection)
    check(out, ids)
    print(json.dumps(out, indent=1, sort_keys=True))


def check(out, ids):
    """Checks the answers against the data itself, so that a run with no
    second server to compare with still tests something."""
    def expect(cond, what):
        if not cond:
            raise SystemExit(f"langchain scenario: {what}: {json.dumps(out, sort_keys=True)}")

    metas = [m for _, m in TEXTS]
    expect(out["count"] == len(TEXTS), "count after from_texts")
    red = sum(m["color"] == "red" for m in metas)
    expect([r["metadata"]["color"] for r in out["search_red"]] == ["red"] * red, "search with a metadata filter")
    want = sum((m["kind"] == "fruit" or m["color"] == "blue") and m["color"] != "yellow" for m in metas)
    expect(len(out["search_fruit_or_blue"]) == want, "search with should and must_not")
    expect(len(out["search_range"]) == sum(3 <= m["n"] < 7 for m in metas), "search with a range")
    expect(all(r["metadata"]["kind"] == "animal" for r in out["retriever"]) and len(out["retriever"]) == 2,
           "retriever with a filter")
    expect([d["metadata"]["_id"] for d in out["get_by_ids"]] == [ids[0], ids[3]], "get_by_ids")
    expect(out["count_after_delete"] == len(TEXTS) - 2, "count after delete")
    gone = {ids[0], ids[2]}
    expect(not any(r["metadata"]["_id"] in gone for r in out["search_red_after_delete"]), "search after delete")
    expect(len(out["search_red_after_add"]) == len(out["search_red_after_delete"]) + 1, "search after add_texts")


if __name__ == "__main__":
    main()
