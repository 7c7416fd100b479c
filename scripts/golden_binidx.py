#!/usr/bin/env python3
"""Independent Megatron binidx writer/checker (numpy), the oracle for
tests/train_data/test_binidx_golden.cpp. Written from the format description
(as in RWKV-LM's src/binidx.py / Megatron's indexed_dataset), not from our C++:

  .idx: b"MMIDIDX\\x00\\x00", <Q version=1, <B dtype code, <Q n docs,
        <Q doc-index length, int32 sizes[n], int64 pointers[n], int64 doc_idx
  .bin: the documents' tokens back to back.

  golden_binidx.py write PREFIX DTYPE SEED   # writes PREFIX.{bin,idx} and PREFIX.json (the documents)
  golden_binidx.py check PREFIX JSON         # reads PREFIX.{bin,idx}, exits 1 unless it holds JSON's documents
"""
import json
import struct
import sys

import numpy as np

MAGIC = b"MMIDIDX\x00\x00"
CODES = {"uint8": 1, "int8": 2, "int16": 3, "int32": 4, "int64": 5, "uint16": 8}


def write(prefix, dtype_name, seed):
    dtype = np.dtype(dtype_name)
    rng = np.random.RandomState(seed)
    hi = min(np.iinfo(dtype).max, 200000)
    # Awkward sizes: empty documents first, between and last; one long one.
    sizes = [0, 5, 1, 0, 300, 17, 2, 0]
    docs = [rng.randint(0, hi + 1, size=s).astype(np.int64) for s in sizes]
    if docs[4].size:
        docs[4][0] = hi  # the dtype's largest id (65535 for uint16) must survive
    with open(prefix + ".bin", "wb") as f:
        for d in docs:
            f.write(d.astype(dtype).tobytes(order="C"))
    pointers, addr = [], 0
    for s in sizes:
        pointers.append(addr)
        addr += s * dtype.itemsize
    doc_idx = list(range(len(sizes) + 1))  # Megatron's builder: 0, then len(sizes) after each document
    with open(prefix + ".idx", "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", CODES[dtype_name]))
        f.write(struct.pack("<Q", len(sizes)))
        f.write(struct.pack("<Q", len(doc_idx)))
        f.write(np.array(sizes, dtype="<i4").tobytes())
        f.write(np.array(pointers, dtype="<i8").tobytes())
        f.write(np.array(doc_idx, dtype="<i8").tobytes())
    with open(prefix + ".json", "w") as f:
        json.dump({"dtype": dtype_name, "docs": [d.tolist() for d in docs]}, f)


def check(prefix, json_path):
    want = json.load(open(json_path))
    raw = open(prefix + ".idx", "rb").read()
    assert raw[:9] == MAGIC, "bad magic"
    (version,) = struct.unpack_from("<Q", raw, 9)
    assert version == 1, f"version {version}"
    (code,) = struct.unpack_from("<B", raw, 17)
    names = {v: k for k, v in CODES.items()}
    assert code in names, f"dtype code {code}"
    dtype = np.dtype(names[code])
    assert names[code] == want["dtype"], f"dtype {names[code]} != {want['dtype']}"
    n, m = struct.unpack_from("<QQ", raw, 18)
    off = 34
    sizes = np.frombuffer(raw, dtype="<i4", count=n, offset=off)
    pointers = np.frombuffer(raw, dtype="<i8", count=n, offset=off + 4 * n)
    doc_idx = np.frombuffer(raw, dtype="<i8", count=m, offset=off + 12 * n)
    assert len(raw) == off + 12 * n + 8 * m, "idx size"
    assert doc_idx.tolist() == list(range(n + 1)), f"doc_idx {doc_idx.tolist()}"
    bin_ = np.fromfile(prefix + ".bin", dtype=dtype)
    assert n == len(want["docs"]), f"{n} docs, want {len(want['docs'])}"
    for i, d in enumerate(want["docs"]):
        assert sizes[i] == len(d), f"doc {i} size {sizes[i]} != {len(d)}"
        start = pointers[i] // dtype.itemsize
        got = bin_[start:start + sizes[i]].astype(np.int64).tolist()
        assert got == d, f"doc {i} tokens differ"
    assert bin_.size == sum(len(d) for d in want["docs"]), "bin size"


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        try:
            check(sys.argv[2], sys.argv[3])
        except AssertionError as e:
            print(f"golden_binidx check failed: {e}")
            sys.exit(1)
        print("ok")
    else:
        print(__doc__)
        sys.exit(2)
