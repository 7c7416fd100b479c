#!/usr/bin/env python3
"""Writes a student as llama.cpp's own converter (convert_hf_to_gguf.py,
conversion/rwkv.py) would: an independent path to the GGUFs people already
have, with no radlads.student_config. radlads must import such a file from its
metadata and tensors alone, and score it as llama.cpp runs it.

  rad-rwkv6 folder -> `rwkv6qwen2`: the converter's RWKV6Qwen2Model applied to
      the reference's RWKV6Qwen2 layout (our HF folder is that layout): names
      through the tensor map, time_mix_w1 / decay_w1 / decay_w2 transposed,
      time_mix_w2 permuted (0,2,1), the five lerp vectors stacked into
      time_mix_lerp_fused in the order w,k,v,r,g, and the w1/w2 LoRA slices
      reordered from the reference's r,k,v,w,g to w,k,v,r,g; metadata
      context_length 2^20, wkv.head_size, time_mix_extra_dim,
      time_decay_extra_dim, layer_norm_rms_epsilon, token_shift_count 1,
      head_count 0, head_count_kv.
  rad-rwkv7 folder -> `arwkv7`: the converter's ARwkv7Model reads ARWKV
      (RwkvHybridForCausalLM) folders, not rwkv7qwen2 ones, so the student is
      first written as the ARWKV folder computing the same function: token-shift
      vectors x_r..x_g zero, bonus r_k zero, keys and values expanded to every
      head (ARWKV has no GQA), and the output scale moved into the receptance
      (ARWKV has no N^-1/2, and its GroupNorm eps is 64e-5 where ours is
      N·1e-5: r·√(64/N) makes them equal). Then Rwkv7Model.modify_tensors:
      squeezed vectors, LoRA factors transposed, r_k flattened, layer 0's unused
      value-mix tensors replaced by copies of its a0/a1/a2, x_* stacked into
      time_mix_lerp_fused (5 slices without a gate). The converter hard-codes
      ARWKV-7B's LoRA ranks (64/64/32/128) in the metadata; here they are the
      tensors' own, which llama.cpp needs to load them.

Only options llama.cpp computes are accepted (the same ones `radlads export`
checks); every tensor is written as F32 (the converter's --outtype f32).

usage: converter_gguf.py FOLDER OUT.gguf --tokenizer-from TEACHER.gguf
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import gguf

from gguf_tokenizer_copy import copy_tokenizer


def read_f32_safetensors(folder):
    """Every tensor of FOLDER/model.safetensors (F32, as `radlads init` writes it)."""
    path = os.path.join(folder, "model.safetensors")
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] != "F32":
                sys.exit(f"{path}: {name} is {info['dtype']}; this script reads F32 folders")
            b, e = info["data_offsets"]
            f.seek(base + b)
            out[name] = np.frombuffer(f.read(e - b), dtype=np.float32).reshape(info["shape"]).copy()
    return out


BASE = {  # the converter's tensor map for the parts every student shares
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def rwkv6qwen2(cfg, W, w):
    C, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    H = cfg["num_attention_heads"]
    N = C // H
    if cfg.get("use_rope") or not cfg.get("balance_state", True) or cfg.get("groupnorm_att") or \
            cfg.get("gate_rank_type", 1) != 1 or cfg.get("num_attention_layers", 0) or not cfg.get("use_tokenshift", True):
        sys.exit("rwkv6qwen2: the converter's graph needs use_tokenshift=1, use_rope=0, balance_state=1, "
                 "groupnorm_att=0, gate_rank_type=1, no attention layers")
    R = W["model.layers.0.self_attn.time_maa_w1"].shape[1] // 5
    Rd = W["model.layers.0.self_attn.time_decay_w1"].shape[1]
    w.add_context_length(1048576)
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_wkv_head_size(N)
    w.add_time_mix_extra_dim(R)
    w.add_time_decay_extra_dim(Rd)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_file_type(0)
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_token_shift_count(1)
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_head_count(0)
    order = [3, 1, 2, 0, 4]  # the reference's slices r,k,v,w,g -> llama.cpp's w,k,v,r,g
    amap = {"time_decay": "time_mix_decay", "time_decay_w1": "time_mix_decay_w1",
            "time_decay_w2": "time_mix_decay_w2", "time_maa_x": "time_mix_lerp_x",
            "time_maa_w1": "time_mix_w1", "time_maa_w2": "time_mix_w2", "gate.weight": "time_mix_gate.weight",
            "q_proj.weight": "time_mix_receptance.weight", "q_proj.bias": "time_mix_receptance.bias",
            "k_proj.weight": "time_mix_key.weight", "k_proj.bias": "time_mix_key.bias",
            "v_proj.weight": "time_mix_value.weight", "v_proj.bias": "time_mix_value.bias",
            "o_proj.weight": "time_mix_output.weight"}
    tensors = {}
    for l in range(L):
        p = f"model.layers.{l}.self_attn."
        for leaf, g in amap.items():
            if p + leaf not in W:
                continue
            x = W[p + leaf]
            if leaf in ("time_decay_w1", "time_decay_w2"):
                x = x.T
            if leaf == "time_maa_w1":  # transpose, then the slices reordered
                x = x.T.reshape(5, R, C)[order].reshape(5 * R, C)
            if leaf == "time_maa_w2":  # permute(0,2,1), then the slices reordered
                x = x.transpose(0, 2, 1)[order]
            if leaf in ("time_decay", "time_maa_x"):
                x = x.reshape(-1)
            name = g if g.endswith((".weight", ".bias")) else g + ".weight"
            tensors[f"blk.{l}.{name}"] = x
        lerp = {n: W[p + "time_maa_" + n].reshape(-1) for n in "wkvrg"}
        tensors[f"blk.{l}.time_mix_lerp_fused.weight"] = np.stack([lerp[n][None] for n in "wkvrg"])[:, None]
    return tensors


def arwkv7(cfg, W, w):
    C, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    H, KVH = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    N = C // H
    gn = bool(cfg.get("groupnorm_att"))
    gate = cfg.get("gate_rank_type", 2)
    if cfg.get("use_rope") or cfg.get("balance_state", True) or cfg.get("attention_bias") or gate == 1 or \
            cfg.get("num_attention_layers", 0) or cfg.get("rwkv7_output_scale", "groupnorm") != "groupnorm":
        sys.exit("arwkv7: the graph needs use_rope=0, balance_state=0, no q/k/v biases, gate_rank_type 2 or 0, "
                 "no attention layers, the reference's output scale")
    first = "model.layers.0.self_attn."
    Rw, Ra = W[first + "w1"].shape[1], W[first + "a1"].shape[1]
    Rv = W["model.layers.1.self_attn.v1"].shape[1] if L > 1 else Ra
    Rg = W[first + "g1"].shape[1] if gate == 2 else 0
    w.add_context_length(1048576)
    w.add_embedding_length(C)
    w.add_block_count(L)
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_wkv_head_size(N)
    w.add_decay_lora_rank(Rw)
    w.add_iclr_lora_rank(Ra)
    w.add_value_residual_mix_lora_rank(Rv)
    w.add_gate_lora_rank(Rg)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_file_type(0)
    w.add_token_shift_count(1)
    w.add_head_count(0)
    # The ARWKV receptance computing our output: p is linear in r (r_k = 0).
    r_scale = math.sqrt(64.0 / N) if gn else N ** -0.5
    tensors = {}
    for l in range(L):
        p = f"model.layers.{l}.self_attn."
        b = f"blk.{l}."
        lerps = 6 if gate == 2 else 5  # x_r x_w x_k x_v x_a (x_g): zeros, RAD-RWKV7 has no token shift
        tensors[b + "time_mix_lerp_fused.weight"] = np.zeros((lerps, 1, 1, C), np.float32)
        leaves = ["w0", "w1", "w2", "a0", "a1", "a2"] + (["v0", "v1", "v2"] if l > 0 else []) + \
                 (["g1", "g2"] if gate == 2 else []) + ["k_k", "k_a"]
        for leaf in leaves:
            x = W[p + leaf]
            x = x.T if leaf[1] in "12" else x.reshape(-1)  # LoRA factors transposed, vectors squeezed
            tensors[b + f"time_mix_{leaf}.weight"] = x
            if l == 0 and leaf[0] == "a":  # the converter's dummy layer-0 value mix: copies of a0/a1/a2
                tensors[b + f"time_mix_v{leaf[1]}.weight"] = x
        tensors[b + "time_mix_r_k.weight"] = np.zeros(H * N, np.float32)  # no bonus (flattened [H, N])
        expand = lambda t: np.repeat(t.reshape(KVH, N, C), H // KVH, axis=0).reshape(H * N, C)
        tensors[b + "time_mix_receptance.weight"] = W[p + "q_proj.weight"] * np.float32(r_scale)
        tensors[b + "time_mix_key.weight"] = expand(W[p + "k_proj.weight"])
        tensors[b + "time_mix_value.weight"] = expand(W[p + "v_proj.weight"])
        tensors[b + "time_mix_output.weight"] = W[p + "o_proj.weight"]
        if gn:
            tensors[b + "time_mix_ln.weight"] = W[p + "ln_x.weight"]
            tensors[b + "time_mix_ln.bias"] = W[p + "ln_x.bias"]
    return tensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("--tokenizer-from", required=True, help="a GGUF whose tokenizer.* fields are copied")
    a = ap.parse_args()
    cfg = json.load(open(os.path.join(a.folder, "config.json")))
    W = read_f32_safetensors(a.folder)
    arch = {"rwkv6qwen2": "rwkv6qwen2", "rwkv7qwen2": "arwkv7"}[cfg["model_type"]]
    w = gguf.GGUFWriter(a.out, arch)
    w.add_name(os.path.basename(os.path.normpath(a.folder)))
    tensors = (rwkv6qwen2 if arch == "rwkv6qwen2" else arwkv7)(cfg, W, w)
    copy_tokenizer(gguf.GGUFReader(a.tokenizer_from), w)
    for hf, g in BASE.items():
        tensors[g] = W[hf]
    for l in range(cfg["num_hidden_layers"]):
        for leaf, g in LAYER.items():
            tensors[f"blk.{l}.{g}"] = W[f"model.layers.{l}.{leaf}"]
    for name in sorted(tensors, key=lambda n: (n.split(".")[0] != "token_embd", n)):
        w.add_tensor(name, np.ascontiguousarray(tensors[name], dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {a.out} ({arch}, {len(tensors)} tensors, no radlads.student_config)", file=sys.stderr)


if __name__ == "__main__":
    main()
