"""qdrant-client parses qlite's collection info, qlite's own section included.

Creates a collection, upserts --points points of --dim dims, and reads the
collection's info through the client over REST: the client's models must
accept the answer (which carries qlite's section beside Qdrant's fields)
and report the points. Prints the counts; exit status 1 on a failure.

Usage: collection_info.py --host H --rest-port P --points N --dim D
"""

import argparse
import random
import sys

from qdrant_client import QdrantClient, models


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--rest-port", type=int, required=True)
    ap.add_argument("--points", type=int, required=True)
    ap.add_argument("--dim", type=int, required=True)
    a = ap.parse_args()
    c = QdrantClient(host=a.host, port=a.rest_port, prefer_grpc=False, timeout=60, check_compatibility=False)
    rng = random.Random(1)
    c.create_collection("info", vectors_config=models.VectorParams(size=a.dim, distance=models.Distance.DOT))
    points = [models.PointStruct(id=i, vector=[rng.random() for _ in range(a.dim)], payload={"i": i})
              for i in range(a.points)]
    c.upsert("info", points=points, wait=True)
    info = c.get_collection("info")
    if not isinstance(info, models.CollectionInfo):
        print("get_collection returned %r" % type(info))
        sys.exit(1)
    if info.points_count != a.points:
        print("points_count %r, want %d" % (info.points_count, a.points))
        sys.exit(1)
    print("ok: %d points, status %s" % (info.points_count, info.status.value))


if __name__ == "__main__":
    main()
