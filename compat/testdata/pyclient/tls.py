"""Connects the official Python client to a TLS server with https=True,
trusting the test authority (--ca), over REST and over gRPC (prefer_grpc),
and checks that a client that does not trust it is refused.

The client's version check reads GET / with httpx's default trust, which
SSL_CERT_FILE sets; the caller sets it to the authority too."""

import argparse
import ssl
import sys

import certifi

from qdrant_client import QdrantClient, models

p = argparse.ArgumentParser()
p.add_argument("--host", required=True)
p.add_argument("--rest-port", type=int, required=True)
p.add_argument("--grpc-port", type=int, required=True)
p.add_argument("--ca", required=True)
args = p.parse_args()

with open(args.ca, "rb") as f:
    ca = f.read()

for mode in ("rest", "grpc"):
    client = QdrantClient(
        host=args.host,
        port=args.rest_port,
        grpc_port=args.grpc_port,
        https=True,
        prefer_grpc=mode == "grpc",
        verify=ssl.create_default_context(cafile=args.ca),
        grpc_options={"root_certificates": ca},
    )
    name = "tls_" + mode
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[float(i), 1.0]) for i in range(1, 4)], wait=True)
    hits = client.query_points(name, query=[1.0, 0.0], limit=1).points
    if [h.id for h in hits] != [3]:
        sys.exit(f"{mode}: got {hits}")
    client.close()
    print(mode, "ok")

# Public authorities (certifi's) do not include the test one.
with open(certifi.where(), "rb") as f:
    public = f.read()
for mode in ("rest", "grpc"):
    client = QdrantClient(host=args.host, port=args.rest_port, grpc_port=args.grpc_port,
                          https=True, prefer_grpc=mode == "grpc", timeout=5, check_compatibility=False,
                          verify=ssl.create_default_context(cafile=certifi.where()),
                          grpc_options={"root_certificates": public})
    try:
        client.get_collections()
    except Exception as e:  # noqa: BLE001 (ssl, httpx and grpc errors differ)
        print(mode, "untrusted refused:", type(e).__name__)
    else:
        sys.exit(f"{mode}: a client that does not trust the authority was served")
    client.close()
