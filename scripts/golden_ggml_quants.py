#!/usr/bin/env python3
"""Golden files for the ggml (de)quantization and GGUF reader tests, computed
with an independent implementation: PyPI `gguf` (gguf-py, numpy).

Writes
  tests/data/ggml_quants_golden.json
      - sizes:   (block elements, block bytes) per ggml type from gguf-py
      - dequant: random raw blocks of F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q4_K Q6_K,
                 then (their own random stream, so the first ones keep their
                 bytes) Q5_0 Q5_1 Q2_K Q3_K Q5_K IQ4_NL IQ4_XS (sane fp16
                 scales) and gguf-py's dequantized floats
      - quant:   random floats (with edge cases) and gguf-py's F16 BF16 Q8_0
                 Q4_0 Q4_1 encoding of them
  tests/data/smollm2_135m_q4_1_reference.json   (needs the cached teacher)
      - every metadata key as gguf-py reads it (arrays: length and first items)
      - every tensor: type, shape (PyTorch order), bytes, sum and sum of
        squares of its dequantized values, and 8 sampled values bit for bit

Floats are stored as hex of their little-endian float32 bytes, so the C++ test
compares bit patterns. Re-running with the same gguf-py gives the same files.

Usage: python3 scripts/golden_ggml_quants.py [--model PATH] [--out-dir DIR]
"""
import argparse
import json
import os
import sys
from fractions import Fraction

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def hex_f32(a) -> str:
    return np.ascontiguousarray(a, dtype="<f4").tobytes().hex()


def hex_bytes(a) -> str:
    return np.ascontiguousarray(a).view(np.uint8).tobytes().hex()


def sane_f16(rng, n, lo=1e-4, hi=0.5, signed=True) -> np.ndarray:
    """Log-uniform magnitudes, as fp16 bytes (n, 2); a few special scales
    (zero, negative, fp16 subnormal) are patched in by the callers."""
    mag = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    if signed:
        mag *= rng.choice([-1.0, 1.0], n)
    return mag.astype(np.float16).view(np.uint8).reshape(n, 2)


def f16_bytes(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float16).view(np.uint8).reshape(-1, 2)


def dequant_inputs(rng) -> dict:
    """Raw bytes per type. Scales include 0, a negative value and an fp16
    subnormal so every branch of the fp16 conversion is used."""
    out = {}
    # Plain types: any bit pattern for F32 and BF16 (conversion is a shift);
    # F16 avoids NaN payloads, whose quieting differs between F16C and numpy.
    out[T.F32] = rng.integers(0, 2**32, 64, dtype=np.uint64).astype("<u4").view(np.uint8)
    h = rng.integers(0, 2**16, 512, dtype=np.uint32).astype("<u2")
    h[(h & 0x7C00) == 0x7C00] &= 0xFC00  # NaN -> inf of the same sign
    h[:10] = [0x0000, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x3C00]
    out[T.F16] = h.view(np.uint8)
    b = rng.integers(0, 2**16, 512, dtype=np.uint32).astype("<u2")
    b[:6] = [0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x0001]
    out[T.BF16] = b.view(np.uint8)

    n = 16  # blocks of the 32-element types
    special = f16_bytes([0.0, -0.03125, 3e-6])  # zero, negative, subnormal fp16
    d = sane_f16(rng, n)
    d[:3] = special
    out[T.Q8_0] = np.concatenate([d, rng.integers(0, 256, (n, 32), dtype=np.uint8)], 1)
    d = sane_f16(rng, n)
    d[:3] = special
    out[T.Q4_0] = np.concatenate([d, rng.integers(0, 256, (n, 16), dtype=np.uint8)], 1)
    d = sane_f16(rng, n, signed=False)
    m = sane_f16(rng, n, lo=1e-3, hi=2.0)
    d[:3] = special
    out[T.Q4_1] = np.concatenate([d, m, rng.integers(0, 256, (n, 16), dtype=np.uint8)], 1)

    n = 4  # super-blocks of 256
    d = sane_f16(rng, n, lo=1e-4, hi=1e-2, signed=False)
    dmin = sane_f16(rng, n, lo=1e-4, hi=1e-2, signed=False)
    d[0] = special[2]
    scales = rng.integers(0, 256, (n, 12), dtype=np.uint8)
    out[T.Q4_K] = np.concatenate([d, dmin, scales, rng.integers(0, 256, (n, 128), dtype=np.uint8)], 1)
    d = sane_f16(rng, n, lo=1e-4, hi=1e-2)
    d[0] = special[2]
    ql = rng.integers(0, 256, (n, 128), dtype=np.uint8)
    qh = rng.integers(0, 256, (n, 64), dtype=np.uint8)
    sc = rng.integers(0, 256, (n, 16), dtype=np.uint8)  # int8 scales, both signs
    out[T.Q6_K] = np.concatenate([ql, qh, sc, d], 1)
    return {t: np.ascontiguousarray(v).reshape(-1) for t, v in out.items()}


def more_dequant_inputs(rng) -> dict:
    """The rest of the types llama.cpp's presets write (Q4_K_M mixes Q5_0, Q8_0,
    Q6_K and Q4_K; Q2_K/Q3_K_*/Q5_K_* and IQ4_NL/IQ4_XS the others)."""
    n = 6
    out = {}
    d = (sane_f16(rng, n))
    out[T.Q5_0] = np.concatenate([d, rng.integers(0, 256, (n, 4 + 16), dtype=np.uint8)], 1)
    d = (sane_f16(rng, n, signed=False))
    m = (sane_f16(rng, n, lo=1e-3, hi=2.0))
    out[T.Q5_1] = np.concatenate([d, m, rng.integers(0, 256, (n, 4 + 16), dtype=np.uint8)], 1)
    d = (sane_f16(rng, n, lo=1e-4, hi=1e-2, signed=False))
    dmin = (sane_f16(rng, n, lo=1e-4, hi=1e-2, signed=False))
    out[T.Q2_K] = np.concatenate([rng.integers(0, 256, (n, 16 + 64), dtype=np.uint8), d, dmin], 1)
    d = (sane_f16(rng, n, lo=1e-4, hi=1e-2))
    out[T.Q3_K] = np.concatenate([rng.integers(0, 256, (n, 32 + 64 + 12), dtype=np.uint8), d], 1)
    d = (sane_f16(rng, n, lo=1e-4, hi=1e-2, signed=False))
    dmin = (sane_f16(rng, n, lo=1e-4, hi=1e-2, signed=False))
    out[T.Q5_K] = np.concatenate([d, dmin, rng.integers(0, 256, (n, 12 + 32 + 128), dtype=np.uint8)], 1)
    d = (sane_f16(rng, n, lo=1e-4, hi=1e-2))
    out[T.IQ4_NL] = np.concatenate([d, rng.integers(0, 256, (n, 16), dtype=np.uint8)], 1)
    d = (sane_f16(rng, n, lo=1e-4, hi=1e-2))
    out[T.IQ4_XS] = np.concatenate([d, rng.integers(0, 256, (n, 2 + 4 + 128), dtype=np.uint8)], 1)
    return out


def f32_round(fr: Fraction) -> np.float32:
    """Correctly rounded (nearest, ties to even) float32 of an exact rational."""
    c = np.float32(float(fr))
    cands = [np.nextafter(c, np.float32(-np.inf)), c, np.nextafter(c, np.float32(np.inf))]
    return min(cands, key=lambda v: (abs(Fraction(float(v)) - fr), int(v.view(np.uint32)) & 1))


def fma_sensitive(d: float, lo: float, hi: float, offset: float, base: float = 0.0) -> list:
    """Up to 6 values x in [lo, hi] where a code like ggml's Q4_0
    trunc((x - base)*id + offset), id = 1/d, differs between rounding the
    product first (ggml's C as written, numpy) and a fused multiply-add (what
    GCC emits for that C when FMA is enabled and contraction is not turned
    off). A quantizer that contracts gets these codes wrong by one."""
    id_ = np.float32(np.float32(1) / np.float32(d))
    found = []
    for k in range(1, 16):  # codes k-1 and k meet where (x-base)*id + offset = k
        x = np.float32(base + (k - offset) / float(id_))
        for _ in range(64):
            x = np.nextafter(x, np.float32(-np.inf))
        for _ in range(128):
            x = np.nextafter(x, np.float32(np.inf))
            xv = np.float32(x - np.float32(base))
            if not (lo <= float(x) <= hi):
                continue
            sep = int(np.trunc(np.float32(np.float32(xv * id_) + np.float32(offset))))
            exact = Fraction(float(xv)) * Fraction(float(id_)) + Fraction(offset)
            if sep != int(np.trunc(f32_round(exact))):
                found.append(float(x))
                break
    assert found, (d, lo, hi)
    return found[:6]


def quant_inputs(rng) -> dict:
    """Floats to quantize, 16 blocks of 32, with the cases that test rounding:
    zero and constant blocks, one outlier, exact .5 ties after scaling, and a
    dominant negative value (Q4_0 keeps its sign in d)."""
    x = (rng.standard_normal((16, 32)) * np.exp(rng.uniform(-6, 3, (16, 1)))).astype(np.float32)
    x[0] = 0.0
    x[1] = 0.75
    x[2] = 0.0
    x[2, 7] = -3.0
    x[3] = np.arange(32) - 15.5  # an evenly spaced ramp
    x[4, :] = np.array([127.0] + [k + 0.5 for k in range(-15, 16)], dtype=np.float32)  # Q8_0 ties
    x[5, 0] = -40.0 * np.abs(x[5]).max()
    # Blocks whose Q4_0 codes depend on the product being rounded before the
    # add (see fma_sensitive); zeros elsewhere keep the block max in place.
    # Q4_1 has no such inputs: its offset 0.5 is smaller than the product, so
    # the product's rounding error is always below half an ulp of the sum.
    x[6] = 0.0
    x[6, 0] = -7.0  # Q4_0: d = max/-8
    f = fma_sensitive(np.float32(-7.0) / np.float32(-8), -7.0, 7.0, 8.5)
    x[6, 1:1 + len(f)] = f
    x[7] = 0.0
    x[7, 0] = 6.3
    f = fma_sensitive(np.float32(6.3) / np.float32(-8), -6.3, 6.3, 8.5)
    x[7, 1:1 + len(f)] = f
    blocks = x.reshape(-1)

    # F16/BF16: wide range, overflow, subnormals, ties and NaN.
    f = (rng.standard_normal(448) * np.exp(rng.uniform(-30, 14, 448))).astype(np.float32)
    ties16 = (np.arange(1, 9, dtype=np.float32) * 2.0**-10 + 2.0**-11 + 1.0).astype(np.float32)
    tiesbf = (np.arange(1, 9, dtype=np.uint32) << 16 | 0x8000).astype("<u4").view(np.float32)
    extra = np.array([0.0, -0.0, np.inf, -np.inf, 65504.0, 65520.0, 70000.0, 6e-8, 3e-8, 1e-45,
                      np.nan, -np.nan, 1.0, -2.5, 1e-30, 3e38], dtype=np.float32)
    nan_bits = np.array([0x7F800001, 0xFF81ABCD, 0x7FFFFFFF, 0x7FC00001], dtype="<u4").view(np.float32)
    nan_bits16 = np.full(28, np.float32(np.nan))  # canonical NaN only for F16 (see dequant_inputs)
    plain16 = np.concatenate([f, ties16, extra, nan_bits16]).astype(np.float32)
    plainbf = np.concatenate([f, tiesbf, extra, nan_bits, nan_bits16[:24]]).astype(np.float32)
    return {T.Q8_0: blocks, T.Q4_0: blocks, T.Q4_1: blocks, T.F16: plain16, T.BF16: plainbf}


def quant_golden() -> dict:
    rng = np.random.default_rng(20241129)
    sizes = []
    for t in [T.F32, T.F16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K,
              T.Q5_K, T.Q6_K, T.Q8_K, T.I8, T.I16, T.I32, T.I64, T.F64, T.BF16, T.IQ4_NL, T.IQ4_XS]:
        # Q8_1 is left out: gguf-py still lists its old fp32 layout (40 bytes);
        # ggml's block_q8_1 has fp16 d and s (36 bytes).
        elems, nbytes = GGML_QUANT_SIZES[t]
        sizes.append({"type": int(t), "block_elems": elems, "block_bytes": nbytes})

    dequant = []
    for t, raw in dequant_inputs(rng).items():
        y = gguf.quants.dequantize(raw, t).astype(np.float32).reshape(-1)
        dequant.append({"type": int(t), "name": t.name, "n": int(y.size), "raw": hex_bytes(raw),
                        "out": hex_f32(y)})

    quant = []
    qin = quant_inputs(rng)
    for t, raw in more_dequant_inputs(np.random.default_rng(20261207)).items():
        y = gguf.quants.dequantize(raw, t).astype(np.float32).reshape(-1)
        dequant.append({"type": int(t), "name": t.name, "n": int(y.size), "raw": hex_bytes(raw),
                        "out": hex_f32(y)})
    for t, x in qin.items():
        with np.errstate(over="ignore"):  # F16 overflow to inf is one of the cases
            q = gguf.quants.quantize(x, t)
        quant.append({"type": int(t), "name": t.name, "n": int(x.size), "in": hex_f32(x),
                      "out": hex_bytes(q)})
    return {"generator": f"gguf-py {getattr(gguf, '__version__', '?')} via scripts/golden_ggml_quants.py",
            "sizes": sizes, "dequant": dequant, "quant": quant}


def json_scalar(v):
    if isinstance(v, float) and not np.isfinite(v):
        return repr(v)
    return v


def model_reference(path: str) -> dict:
    r = gguf.GGUFReader(path)
    meta = []
    for key, f in r.fields.items():
        if key.startswith("GGUF."):
            continue  # header fields gguf-py exposes as pseudo-keys
        types = [t.name.lower() for t in f.types]
        entry = {"key": key, "type": types[0]}
        v = f.contents()
        if f.types[0] == gguf.GGUFValueType.ARRAY:
            entry["elem_type"] = types[1] if len(types) > 1 else "uint8"
            entry["length"] = len(v)
            entry["head"] = [json_scalar(e) for e in v[:3]]
        else:
            entry["value"] = json_scalar(v)
        meta.append(entry)

    tensors = []
    for t in r.tensors:
        y = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        n = y.size
        pos = sorted({0, n - 1} | {int(k * n // 7) for k in range(1, 7)})
        y64 = y.astype(np.float64)
        tensors.append({
            "name": t.name, "type": int(t.tensor_type),
            "shape": [int(d) for d in reversed(t.shape.tolist())],  # PyTorch order
            "nbytes": int(t.n_bytes), "offset": int(t.data_offset - r.data_offset),
            "sum": float(y64.sum()), "sumsq": float((y64 * y64).sum()),
            "sample_pos": pos, "sample": hex_f32(y[pos]),
        })
    return {"generator": "gguf-py GGUFReader + gguf.quants.dequantize via scripts/golden_ggml_quants.py",
            "file": os.path.basename(path), "file_size": os.path.getsize(path),
            "data_offset": int(r.data_offset), "metadata": meta, "tensors": tensors}


def main() -> int:
    cache = os.environ.get("RADLADS_CACHE", os.path.expanduser("~/.cache/radlads"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(cache, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "tests", "data"))
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)

    out = os.path.join(args.out_dir, "ggml_quants_golden.json")
    golden = quant_golden()  # computed before the file is opened: no half-written file
    with open(out, "w") as f:
        json.dump(golden, f, indent=0)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")

    if not os.path.exists(args.model):
        print(f"{args.model}: not found (run scripts/setup.sh); model reference not written",
              file=sys.stderr)
        return 1
    out = os.path.join(args.out_dir, "smollm2_135m_q4_1_reference.json")
    reference = model_reference(args.model)
    with open(out, "w") as f:
        json.dump(reference, f, indent=0)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
