#!/usr/bin/env python3
"""Independent oracle for the teacher forward: builds tiny random teachers and
computes their logits with a from-scratch numpy implementation of DESIGN.md's
teacher (HF layout, rotate_half RoPE, GQA, RMSNorm, SwiGLU).

Writes into OUTDIR:
  qwen2/   an HF folder (config.json, model.safetensors, tokenizer.json),
           Qwen2-style: q/k/v biases, untied head, GQA 4/2
  llama.gguf  a Llama-style teacher written with PyPI gguf the way llama.cpp's
           converter does it (q/k rows permuted), tied head, GQA 4/1
  <name>.tokens.json, <name>.logits.f32  the token ids and the numpy logits
usage: golden_tiny_teacher.py OUTDIR
"""
import json
import os
import struct
import sys

import numpy as np

V, C, L, F = 262, 32, 2, 48
TOKENS = [(i * 37 + 11) % 256 for i in range(23)]


def byte_vocab():
    # GPT-2 byte-to-unicode table.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    m = dict(zip(bs, cs))
    return [chr(m[b]) for b in range(256)]


MERGED = ["he", "the"]  # two merges so that both vocab formats carry real merge lists
MERGES = ["h e", "t he"]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]


def rmsnorm(x, w, eps):
    return x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + eps) * w


def rope(x, theta):  # x (T, heads, N), HF rotate_half
    T, _, N = x.shape
    inv = theta ** (-np.arange(0, N, 2, dtype=np.float64) / N)
    ang = np.arange(T)[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(ang)] * 2, -1)[:, None, :]
    sin = np.concatenate([np.sin(ang)] * 2, -1)[:, None, :]
    rot = np.concatenate([-x[..., N // 2:], x[..., : N // 2]], -1)
    return x * cos + rot * sin


def forward(w, cfg, tokens):
    H, KVH, N = cfg["num_attention_heads"], cfg["num_key_value_heads"], C // cfg["num_attention_heads"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    x = w["model.embed_tokens.weight"][tokens].astype(np.float64)
    T = len(tokens)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(L):
        p = f"model.layers.{l}."
        n = rmsnorm(x, w[p + "input_layernorm.weight"], eps)
        lin = lambda name, a: a @ w[p + name + ".weight"].T + w.get(p + name + ".bias", 0)
        q = rope(lin("self_attn.q_proj", n).reshape(T, H, N), theta)
        k = rope(lin("self_attn.k_proj", n).reshape(T, KVH, N), theta)
        v = lin("self_attn.v_proj", n).reshape(T, KVH, N)
        k = np.repeat(k, H // KVH, axis=1)
        v = np.repeat(v, H // KVH, axis=1)
        s = np.einsum("thn,shn->hts", q, k) / np.sqrt(N) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = np.einsum("hts,shn->thn", s, v).reshape(T, H * N)
        x = x + a @ w[p + "self_attn.o_proj.weight"].T
        m = rmsnorm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = m @ w[p + "mlp.gate_proj.weight"].T
        u = m @ w[p + "mlp.up_proj.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ w[p + "mlp.down_proj.weight"].T
    x = rmsnorm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return (x @ head.T).astype(np.float32)


def random_weights(rng, H, KVH, bias, tied):
    N = C // H
    w = {"model.embed_tokens.weight": rng.normal(0, 1, (V, C)), "model.norm.weight": rng.uniform(0.5, 1.5, C)}
    if not tied:
        w["lm_head.weight"] = rng.normal(0, 0.2, (V, C))
    for l in range(L):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = rng.uniform(0.5, 1.5, C)
        w[p + "post_attention_layernorm.weight"] = rng.uniform(0.5, 1.5, C)
        for name, shape in [("self_attn.q_proj", (H * N, C)), ("self_attn.k_proj", (KVH * N, C)),
                            ("self_attn.v_proj", (KVH * N, C)), ("self_attn.o_proj", (C, H * N)),
                            ("mlp.gate_proj", (F, C)), ("mlp.up_proj", (F, C)), ("mlp.down_proj", (C, F))]:
            w[p + name + ".weight"] = rng.normal(0, 0.3, shape)
            if bias and name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                w[p + name + ".bias"] = rng.normal(0, 0.3, shape[0])
    return {k: v.astype(np.float32) for k, v in w.items()}


def write_safetensors(path, w):
    header, off, blobs = {}, 0, []
    for k in sorted(w):
        b = w[k].astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(w[k].shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_qwen2(out, rng):
    cfg = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": C,
           "num_hidden_layers": L, "num_attention_heads": 4, "num_key_value_heads": 2,
           "intermediate_size": F, "vocab_size": V, "max_position_embeddings": 128,
           "rope_theta": 10000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "hidden_act": "silu"}
    w = random_weights(rng, 4, 2, bias=True, tied=False)
    d = os.path.join(out, "qwen2")
    os.makedirs(d, exist_ok=True)
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=1)
    write_safetensors(os.path.join(d, "model.safetensors"), w)
    vocab = {t: i for i, t in enumerate(byte_vocab() + MERGED)}
    tok = {"version": "1.0",
           "added_tokens": [{"id": 258 + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": True} for i, s in enumerate(SPECIALS)],
           "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
           "decoder": {"type": "ByteLevel"},
           "model": {"type": "BPE", "vocab": vocab, "merges": MERGES}}
    json.dump(tok, open(os.path.join(d, "tokenizer.json"), "w"))
    return w, cfg


def permute(w, n_head):  # llama.cpp's converter: HF rotate_half rows -> adjacent pairs
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_llama_gguf(out, rng):
    import gguf
    H, KVH = 4, 1
    cfg = {"num_attention_heads": H, "num_key_value_heads": KVH, "rms_norm_eps": 1e-5, "rope_theta": 100000.0}
    w = random_weights(rng, H, KVH, bias=False, tied=True)
    g = gguf.GGUFWriter(os.path.join(out, "llama.gguf"), "llama")
    g.add_name("tiny-llama")
    g.add_block_count(L)
    g.add_context_length(128)
    g.add_embedding_length(C)
    g.add_feed_forward_length(F)
    g.add_head_count(H)
    g.add_head_count_kv(KVH)
    g.add_rope_freq_base(cfg["rope_theta"])
    g.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    g.add_file_type(0)
    g.add_tokenizer_model("gpt2")
    g.add_tokenizer_pre("gpt-2")
    g.add_token_list(byte_vocab() + MERGED + SPECIALS)
    g.add_token_types([1] * 258 + [3] * len(SPECIALS))
    g.add_token_merges(MERGES)
    g.add_bos_token_id(258)
    g.add_eos_token_id(260)
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    g.add_tensor("token_embd.weight", w["model.embed_tokens.weight"])
    g.add_tensor("output_norm.weight", w["model.norm.weight"])
    for l in range(L):
        p = f"model.layers.{l}."
        for hf, gg in [("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                       ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"),
                       ("post_attention_layernorm", "ffn_norm"), ("mlp.gate_proj", "ffn_gate"),
                       ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down")]:
            t = w[p + hf + ".weight"]
            if hf == "self_attn.q_proj":
                t = permute(t, H)
            if hf == "self_attn.k_proj":
                t = permute(t, KVH)
            g.add_tensor(f"blk.{l}.{gg}.weight", np.ascontiguousarray(t))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()
    return w, cfg


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    for name, (w, cfg) in [("qwen2", write_qwen2(out, rng)), ("llama", write_llama_gguf(out, rng))]:
        logits = forward(w, cfg, TOKENS)
        json.dump(TOKENS, open(os.path.join(out, name + ".tokens.json"), "w"))
        logits.astype("<f4").tofile(os.path.join(out, name + ".logits.f32"))


if __name__ == "__main__":
    main()
