"""Write Fashion-MNIST's raw pixels (0..255) as base.fvecs and query.fvecs.

Usage: python3 fmnist_fvecs.py OUTDIR [IDX_DIR]

The result is a dataset for `qlite bench run --dataset fvecs:OUTDIR --metric
dot`: maximum inner product search over non-negative vectors.
"""
import array
import gzip
import os
import struct
import sys


def images(path):
    b = gzip.open(path).read()
    n, rows, cols = struct.unpack(">III", b[4:16])
    return n, rows * cols, b[16:]


def main():
    out = sys.argv[1]
    src = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    os.makedirs(out, exist_ok=True)
    for name, dst in (("train-images-idx3-ubyte.gz", "base.fvecs"),
                      ("t10k-images-idx3-ubyte.gz", "query.fvecs")):
        n, dim, data = images(os.path.join(src, name))
        with open(os.path.join(out, dst), "wb") as f:
            head = struct.pack("<i", dim)
            for i in range(n):
                f.write(head)
                f.write(array.array("f", list(data[i * dim:(i + 1) * dim])).tobytes())


if __name__ == "__main__":
    main()
