#!/usr/bin/env python3
"""Write a Qwen2-architecture teacher GGUF of a real model's shape with random
weights, for memory-plan checks of teachers bigger than the ones we download
(issue: "Qwen2.5-1.5B-shaped teachers, GGUF written by a script").

    python3 scripts/shaped_teacher.py --shape qwen2.5-1.5b --tokenizer QWEN.gguf --out big.gguf [--type q8_0]

The tokenizer (vocabulary, merges, special ids) is copied from an existing
Qwen2 GGUF (the Qwen2.5-Coder-0.5B file scripts/setup.sh downloads), so that
data prepared with it fits. Linear weights are N(0, 0.02) quantized to --type
with gguf-py's quantizer; norms are 1, biases 0. Written with gguf-py (the
converter's library), tensor by tensor: memory stays near one tensor.
"""
import argparse

import numpy as np
import gguf

from gguf_tokenizer_copy import copy_tokenizer

SHAPES = {
    # hidden, intermediate, layers, heads, kv heads, vocab, tied
    "qwen2.5-0.5b": (896, 4864, 24, 14, 2, 151936, True),
    "qwen2.5-1.5b": (1536, 8960, 28, 12, 2, 151936, True),
    "qwen2.5-3b": (2048, 11008, 36, 16, 2, 151936, True),
    "qwen2.5-7b": (3584, 18944, 28, 28, 4, 152064, False),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-1.5b")
    ap.add_argument("--tokenizer", required=True, help="a Qwen2 GGUF whose tokenizer is copied")
    ap.add_argument("--out", required=True)
    ap.add_argument("--type", default="q8_0", choices=["f32", "f16", "q8_0"])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    C, F, L, H, KVH, V, tied = SHAPES[a.shape]
    N = C // H
    qtype = {"f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
             "q8_0": gguf.GGMLQuantizationType.Q8_0}[a.type]
    src = gguf.GGUFReader(a.tokenizer)

    w = gguf.GGUFWriter(a.out, "qwen2")
    w.add_name(f"random {a.shape}")
    w.add_context_length(32768)
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(KVH)
    w.add_rope_freq_base(1e6)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(int(qtype) if a.type != "q8_0" else 7)  # 7: LLAMA_FTYPE_MOSTLY_Q8_0
    copy_tokenizer(src, w)  # the tokenizer, as the source file has it

    rng = np.random.default_rng(a.seed)

    def linear(name, rows, cols):
        x = rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(0.02)
        if qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, x)
        else:
            q = gguf.quants.quantize(x, qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)

    def vec(name, n, value):
        w.add_tensor(name, np.full((n,), value, dtype=np.float32))

    linear("token_embd.weight", V, C)
    if not tied:
        linear("output.weight", V, C)
    vec("output_norm.weight", C, 1.0)
    for l in range(L):
        p = f"blk.{l}."
        vec(p + "attn_norm.weight", C, 1.0)
        linear(p + "attn_q.weight", H * N, C)
        linear(p + "attn_k.weight", KVH * N, C)
        linear(p + "attn_v.weight", KVH * N, C)
        vec(p + "attn_q.bias", H * N, 0.0)
        vec(p + "attn_k.bias", KVH * N, 0.0)
        vec(p + "attn_v.bias", KVH * N, 0.0)
        linear(p + "attn_output.weight", C, H * N)
        vec(p + "ffn_norm.weight", C, 1.0)
        linear(p + "ffn_gate.weight", F, C)
        linear(p + "ffn_up.weight", F, C)
        linear(p + "ffn_down.weight", C, F)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()


if __name__ == "__main__":
    main()
