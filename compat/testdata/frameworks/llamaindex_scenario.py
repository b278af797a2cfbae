"""LlamaIndex's Qdrant vector store (llama-index-vector-stores-qdrant)
against a server.

Indexes documents with a VectorStoreIndex over a QdrantVectorStore, queries
it through retrievers with metadata filters, and deletes nodes by id, by
filters and by document, over REST or gRPC. Embeddings are a bag of hashed
words (no model, no network beyond the server), no LLM is called, and every
node id is derived from its document, so that the JSON document printed can
be compared between servers.
"""

import argparse
import hashlib
import json
import uuid
from typing import List

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters
from llama_index.vector_stores.qdrant import QdrantVectorStore
from qdrant_client import QdrantClient

DIM = 32

DOCS = [
    ("doc-apple", "Red apples grow in the orchard. They are sweet.", {"color": "red", "kind": "fruit", "n": 1}),
    ("doc-pear", "A green pear ripens slowly on the tree.", {"color": "green", "kind": "fruit", "n": 2}),
    ("doc-truck", "The red fire truck raced down the street.", {"color": "red", "kind": "vehicle", "n": 3}),
    ("doc-whale", "Blue whales sing in the deep ocean.", {"color": "blue", "kind": "animal", "n": 4}),
    ("doc-banana", "A yellow banana makes a fine lunch.", {"color": "yellow", "kind": "fruit", "n": 5}),
    ("doc-frog", "The green frog jumped into the pond water.", {"color": "green", "kind": "animal", "n": 6}),
    ("doc-cardinal", "Red cardinals visit the feeder each morning.", {"color": "red", "kind": "animal", "n": 7}),
    ("doc-bike", "A blue bicycle leans on the wall by the street.", {"color": "blue", "kind": "vehicle", "n": 8}),
]
QUERIES = ["red fruit in the orchard", "animals near the water", "vehicles on the street"]


def word_vector(word: str) -> List[float]:
    h = hashlib.sha256(word.encode()).digest()
    return [(b - 127.5) / 127.5 for b in h[:DIM]]


class HashEmbedding(BaseEmbedding):
    """A deterministic bag-of-words embedding: the sum of one pseudo-random
    vector per lower-cased word."""

    def _embed(self, text: str) -> List[float]:
        v = [0.0] * DIM
        for w in text.lower().replace(".", " ").split():
            for i, x in enumerate(word_vector(w)):
                v[i] += x
        return v

    def _get_text_embedding(self, text: str) -> List[float]:
        return self._embed(text)

    def _get_query_embedding(self, query: str) -> List[float]:
        return self._embed(query)

    async def _aget_query_embedding(self, query: str) -> List[float]:
        return self._embed(query)


def node_id(i, doc):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{doc.id_}-{i}"))


def retrieved(nodes):
    return [{"text": n.node.get_content(), "metadata": n.node.metadata, "id": n.node.node_id,
             "ref_doc_id": n.node.ref_doc_id, "score": n.score} for n in nodes]


def eq(key, value):
    return MetadataFilter(key=key, value=value, operator=FilterOperator.EQ)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--rest-port", type=int, required=True)
    ap.add_argument("--grpc-port", type=int, required=True)
    ap.add_argument("--grpc", action="store_true")
    ap.add_argument("--collection", default="llamaindex")
    a = ap.parse_args()

    client = QdrantClient(host=a.host, port=a.rest_port, grpc_port=a.grpc_port, prefer_grpc=a.grpc)
    if client.collection_exists(a.collection):
        client.delete_collection(a.collection)
    store = QdrantVectorStore(collection_name=a.collection, client=client)
    embed = HashEmbedding()
    docs = [Document(id_=i, text=t, metadata=m) for i, t, m in DOCS]
    splitter = SentenceSplitter(chunk_size=64, chunk_overlap=0, tokenizer=str.split, id_func=node_id)
    index = VectorStoreIndex.from_documents(
        docs, storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed, transformations=[splitter])
    out = {}
    info = client.get_collection(a.collection)
    out["vectors_config"] = json.loads(
        json.dumps(info.config.params.vectors, default=lambda o: o.model_dump(mode="json", exclude_none=True)))
    out["count"] = client.count(a.collection, exact=True).count

    out["retrieve"] = {q: retrieved(index.as_retriever(similarity_top_k=3).retrieve(q)) for q in QUERIES}
    red = MetadataFilters(filters=[eq("color", "red")])
    out["retrieve_red"] = retrieved(index.as_retriever(similarity_top_k=5, filters=red).retrieve(QUERIES[0]))
    fruit_or_blue = MetadataFilters(filters=[eq("kind", "fruit"), eq("color", "blue")], condition=FilterCondition.OR)
    out["retrieve_fruit_or_blue"] = retrieved(
        index.as_retriever(similarity_top_k=10, filters=fruit_or_blue).retrieve(QUERIES[1]))
    n_range = MetadataFilters(filters=[
        MetadataFilter(key="n", value=3, operator=FilterOperator.GTE),
        MetadataFilter(key="n", value=7, operator=FilterOperator.LT),
        MetadataFilter(key="color", value=["red", "green"], operator=FilterOperator.IN)])
    out["retrieve_range_in"] = retrieved(index.as_retriever(similarity_top_k=10, filters=n_range).retrieve(QUERIES[2]))
    not_red = MetadataFilters(filters=[MetadataFilter(key="color", value="red", operator=FilterOperator.NE)])
    out["retrieve_not_red"] = retrieved(index.as_retriever(similarity_top_k=4, filters=not_red).retrieve(QUERIES[0]))

    # delete_nodes with filters only: the store sends should: [] alongside
    # the filter's must.
    store.delete_nodes(filters=MetadataFilters(filters=[eq("kind", "vehicle")]))
    out["count_after_delete_vehicles"] = client.count(a.collection, exact=True).count
    out["retrieve_after_delete_vehicles"] = retrieved(index.as_retriever(similarity_top_k=10).retrieve(QUERIES[2]))
    whale = [node_id(0, d) for d in docs if d.id_ == "doc-whale"]
    store.delete_nodes(node_ids=whale)
    out["count_after_delete_ids"] = client.count(a.collection, exact=True).count
    store.delete_nodes(node_ids=[node_id(0, d) for d in docs if d.id_ == "doc-pear"],
                       filters=MetadataFilters(filters=[eq("color", "green")]))
    out["count_after_delete_ids_and_filters"] = client.count(a.collection, exact=True).count
    index.delete_ref_doc("doc-apple", delete_from_docstore=True)
    out["count_after_delete_ref_doc"] = client.count(a.collection, exact=True).count
    out["retrieve_red_after_deletes"] = retrieved(index.as_retriever(similarity_top_k=5, filters=red).retrieve(QUERIES[0]))
    out["get_nodes"] = sorted(n.node_id for n in store.get_nodes(filters=MetadataFilters(filters=[eq("kind", "fruit")])))
    client.delete_collection(a.collection)
    check(out)
    print(json.dumps(out, indent=1, sort_keys=True))


def check(out):
    """Checks the answers against the data itself (each document is one
    node), so that a run with no second server to compare with still tests
    something."""
    def expect(cond, what):
        if not cond:
            raise SystemExit(f"llamaindex scenario: {what}: {json.dumps(out, sort_keys=True)}")

    metas = {i: m for i, _, m in DOCS}
    expect(out["count"] == len(DOCS), "count after indexing")
    red = sorted(i for i, m in metas.items() if m["color"] == "red")
    expect(sorted(r["ref_doc_id"] for r in out["retrieve_red"]) == red, "retrieve with a filter")
    want = sorted(i for i, m in metas.items() if m["kind"] == "fruit" or m["color"] == "blue")
    expect(sorted(r["ref_doc_id"] for r in out["retrieve_fruit_or_blue"]) == want, "retrieve with OR filters")
    want = sorted(i for i, m in metas.items() if 3 <= m["n"] < 7 and m["color"] in ("red", "green"))
    expect(sorted(r["ref_doc_id"] for r in out["retrieve_range_in"]) == want, "retrieve with range and in")
    expect(all(r["metadata"]["color"] != "red" for r in out["retrieve_not_red"]), "retrieve with !=")
    left = {i for i, m in metas.items() if m["kind"] != "vehicle"}
    expect(out["count_after_delete_vehicles"] == len(left), "delete_nodes with filters")
    expect(all(r["ref_doc_id"] in left for r in out["retrieve_after_delete_vehicles"]), "retrieve after delete_nodes")
    left.discard("doc-whale")
    expect(out["count_after_delete_ids"] == len(left), "delete_nodes with ids")
    # ids and filters: the points with those ids that match the filters.
    left.discard("doc-pear")
    expect(out["count_after_delete_ids_and_filters"] == len(left), "delete_nodes with ids and filters")
    left.discard("doc-apple")
    expect(out["count_after_delete_ref_doc"] == len(left), "delete_ref_doc")
    expect(sorted(r["ref_doc_id"] for r in out["retrieve_red_after_deletes"]) == sorted(i for i in left if metas[i]["color"] == "red"),
           "retrieve after deletes")


if __name__ == "__main__":
    main()
