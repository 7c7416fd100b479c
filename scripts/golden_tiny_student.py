#!/usr/bin/env python3
"""Independent oracle for the student time mixes: a float64 numpy
implementation of DESIGN.md's RAD-RWKV6 and RAD-RWKV7 time mixes ("Students"),
written from the maths there, not from our C++ (which was read only for tensor
names, shapes and layouts: HF Linear weights [out,in]; LoRA factors and
token-shift mixers [in,out] as the reference stores them; per-channel vectors
[1,1,n]; v6 state key-major S[i][j], v7 state value-major S[j][i]).

Ten cases, each on B = 2 sequences of T = 5 tokens (sequence 0 at positions
0..4, sequence 1 at 3..7), all q/k/v with biases (Qwen2 style):
  v6        one RAD-RWKV6 layer: use_tokenshift=1, use_rope=0, balance_state=1,
            C = 48, H = 6, KVH = 2 (GQA ratio 3), N = 8
  v6_gn     the same layer shape with use_rope=1, balance_state=0 and the
            reference's ln_x (groupnorm_att=1: GroupNorm after the N^-1/2 scale)
  v7_bal    RAD-RWKV7 layers 0 and 1 (the value residual v_first links them):
            use_rope=1, balance_state=1, groupnorm_att=0, C = 32, H = 4, KVH = 2
  v7_gn     the same pair with balance_state=0, groupnorm_att=1
  v7_plain  the pair with use_rope=0, balance_state=0, groupnorm_att=0
  v7_bal_gn the pair with use_rope=1, balance_state=1, groupnorm_att=1
  v6_g2     v6 with the low-rank output gate (gate_rank_type=2: g = σ(x_g·g1)·g2)
  v6_g0     no gate (gate_rank_type=0), use_rope=1, balance_state=0, groupnorm_att=1
  v7_g1     the v7 pair with the full gate (gate_rank_type=1: g = σ(x·gateᵀ)), use_rope=0, balance_state=1
  v7_g0     the pair with no gate, use_rope=1, balance_state=0, groupnorm_att=1
(v7_plain and v7_bal_gn pin DESIGN.md's corrected output scale: p·N^-1/2
exactly when groupnorm_att=0, whatever balance_state is. The gate types are
the reference's gate_rank_type as its modeling_rwkv6qwen2.py /
modeling_rwkv7qwen2.py compute them: out = o_proj(g⊙p), or o_proj(p) with 0.)
Each layer l reads its own random normed input xn.l. Outputs: y.l, the final
recurrent state state.l (zero initial state), v6's shift state and v7's
v_first; gradients of L = Σ_l Σ y.l ⊙ R.l (R.l fixed random) w.r.t. every
parameter tensor of the case and every xn.l, by central finite differences
(step 1e-6, float64) of this forward — independent of any hand-written backward.

Weights and inputs are written with 4 significant digits; the forward uses
exactly those decimals rounded to float32 (what the C++ test loads), so both
sides start from identical numbers. Golden results carry 9 digits.

usage: golden_tiny_student.py [OUT.json]   (default tests/data/golden_tiny_student.json)
       golden_tiny_student.py --grid [OUT.json]  (forward outputs of every option combination,
                                                   default tests/data/golden_option_grid.json)
       golden_tiny_student.py --check      (FD at two steps; prints their disagreement, writes nothing)
"""
import json
import os
import sys

import numpy as np

B, T = 2, 5
POS = np.array([np.arange(T), np.arange(T) + 3])  # (B,T) absolute positions
ROPE_THETA = 500.0  # small, so that every rotary pair turns visibly over 8 positions
FD_STEP = 1e-6
LOG_W_MIN = -5.0


# ---------------------------------------------------------------- shared pieces
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def linear(x, w, b=None):  # HF Linear: y = x·Wᵀ + b
    y = x @ w.T
    return y if b is None else y + b


def rope(x, theta):
    """HF rotate_half RoPE on x (B,T,heads,N): pairs (i, i+N/2) turn by pos·θ^(−2i/N)."""
    N = x.shape[-1]
    inv = theta ** (-np.arange(0, N, 2, dtype=np.float64) / N)
    ang = POS[:, :, None, None] * inv  # (B,T,1,N/2)
    cos, sin = np.cos(ang), np.sin(ang)
    x1, x2 = x[..., : N // 2], x[..., N // 2:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


def heads(x, n, N):  # (..., n·N) -> (..., n, N)
    return x.reshape(*x.shape[:-1], n, N)


def repeat_kv(x, H):  # (B,T,KVH,N) -> (B,T,H,N): query head h reads KV head h // (H/KVH) (HF repeat_kv)
    return np.repeat(x, H // x.shape[2], axis=2)


def output_gate(P, xg, opt):
    """The reference's gate_rank_type: 1 σ(x·gateᵀ), 2 σ(x·g1)·g2, 0 none (None)."""
    if opt["gate_rank_type"] == 1:
        return sigmoid(linear(xg, P["gate.weight"]))
    if opt["gate_rank_type"] == 2:
        return sigmoid(xg @ P["g1"]) @ P["g2"]
    return None


def gated_output(g, p, P):
    p = p.reshape(*p.shape[:2], -1)
    return linear(p if g is None else g * p, P["o_proj.weight"])


# ---------------------------------------------------------------- RAD-RWKV6
def rwkv6_time_mix(P, x, dims, opt):
    """DESIGN.md RAD-RWKV6 on x (B,T,C). Returns y (B,T,C), final state (B,H,N,N) S[i=key][j=value], shift (B,C)."""
    H, KVH, N = dims["H"], dims["KVH"], dims["N"]
    xprev = np.concatenate([np.zeros_like(x[:, :1]), x[:, :-1]], axis=1)  # x₋₁, 0 at a window's start
    delta = xprev - x
    if opt["use_tokenshift"]:
        xxx = x + delta * P["time_maa_x"]
        h = np.tanh(xxx @ P["time_maa_w1"])  # (B,T,5R)
        R = P["time_maa_w2"].shape[1]
        mix = [h[..., s * R:(s + 1) * R] @ P["time_maa_w2"][s] for s in range(5)]
        maa = [P["time_maa_" + n] for n in "rkvwg"]
        xr, xk, xv, xw, xg = (x + delta * (maa[s] + mix[s]) for s in range(5))
    else:
        xr = xk = xv = xw = xg = x
    r = linear(xr, P["q_proj.weight"], P["q_proj.bias"])
    k = linear(xk, P["k_proj.weight"], P["k_proj.bias"])
    v = linear(xv, P["v_proj.weight"], P["v_proj.bias"])
    d = P["time_decay"] + np.tanh(xw @ P["time_decay_w1"]) @ P["time_decay_w2"]
    g = output_gate(P, xg, opt)
    r, k, v = heads(r, H, N), heads(k, KVH, N), heads(v, KVH, N)
    if opt["use_rope"]:
        r, k = rope(r, ROPE_THETA), rope(k, ROPE_THETA)
    k, v = repeat_kv(k, H), repeat_kv(v, H)
    logw = heads(np.maximum(-np.exp(d), LOG_W_MIN), H, N)
    w = np.exp(logw)
    if opt["balance_state"]:
        k = k * (1 - w)
    S = np.zeros((x.shape[0], H, N, N))
    p = np.zeros_like(r)
    for t in range(x.shape[1]):
        S = w[:, t, :, :, None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
        p[:, t] = np.einsum("bhi,bhij->bhj", r[:, t] * N ** -0.5, S)
    if opt["groupnorm_att"]:  # the reference's ln_x: GroupNorm(H groups, eps N·1e-5) after the N^-1/2 scale
        mean = p.mean(-1, keepdims=True)
        var = ((p - mean) ** 2).mean(-1, keepdims=True)
        p = (p - mean) / np.sqrt(var + N * 1e-5) * heads(P["ln_x.weight"], H, N) + heads(P["ln_x.bias"], H, N)
    y = gated_output(g, p, P)
    return y, S, x[:, -1].copy()


# ---------------------------------------------------------------- RAD-RWKV7
def rwkv7_time_mix(P, x, dims, opt, layer, v_first):
    """DESIGN.md RAD-RWKV7 on x (B,T,C). Returns y, final state (B,H,N,N) S[j=value][i=key], and v_first
    (layer 0: its own expanded values; later layers: the one given)."""
    H, KVH, N = dims["H"], dims["KVH"], dims["N"]
    r = linear(x, P["q_proj.weight"], P["q_proj.bias"])
    k = linear(x, P["k_proj.weight"], P["k_proj.bias"])
    v = linear(x, P["v_proj.weight"], P["v_proj.bias"])
    w_lora = P["w0"] + np.tanh(x @ P["w1"]) @ P["w2"]
    w = heads(np.exp(-np.exp(-0.5) * sigmoid(w_lora)), H, N)
    a = heads(sigmoid(P["a0"] + (x @ P["a1"]) @ P["a2"]), H, N)
    g = output_gate(P, x, opt)
    r, k, v = heads(r, H, N), heads(k, KVH, N), heads(v, KVH, N)
    if opt["use_rope"]:  # before the GQA expansion
        r, k = rope(r, ROPE_THETA), rope(k, ROPE_THETA)
    k, v = repeat_kv(k, H), repeat_kv(v, H)
    unit = lambda z: z / np.linalg.norm(z, axis=-1, keepdims=True)  # per head
    if opt["balance_state"]:
        kappa = unit(k)
        kt = k * (1 - w + a)
    else:
        kappa = unit(k * heads(P["k_k"], H, N))
        kt = k * (1 + (a - 1) * heads(P["k_a"], H, N))
    if layer == 0:
        v_first = v
    else:
        v = v + (v_first - v) * heads(sigmoid(P["v0"] + (x @ P["v1"]) @ P["v2"]), H, N)
    S = np.zeros((x.shape[0], H, N, N))  # value-major: S[b,h,j,i]
    p = np.zeros_like(r)
    for t in range(x.shape[1]):
        wt, kap, at = w[:, t], kappa[:, t], a[:, t]
        # S·(diag(w) − κᵀ(a⊙κ)) + vᵀ k̃
        S = (S * wt[:, :, None, :]
             - np.einsum("bhji,bhi->bhj", S, kap)[..., None] * (at * kap)[:, :, None, :]
             + v[:, t, :, :, None] * kt[:, t, :, None, :])
        p[:, t] = np.einsum("bhji,bhi->bhj", S, r[:, t])
    # DESIGN.md (corrected): N^-1/2 exactly when there is no GroupNorm, whatever balance_state is.
    if not opt["groupnorm_att"]:
        p = p * N ** -0.5
    if opt["groupnorm_att"]:
        mean = p.mean(-1, keepdims=True)
        var = ((p - mean) ** 2).mean(-1, keepdims=True)
        p = (p - mean) / np.sqrt(var + N * 1e-5) * heads(P["ln_x.weight"], H, N) + heads(P["ln_x.bias"], H, N)
    y = gated_output(g, p, P)
    return y, S, v_first


# ---------------------------------------------------------------- cases
def rounded(a):
    """Values as written to the file (4 significant digits), and what both sides compute with (float32)."""
    text = ["%.4g" % z for z in np.asarray(a, dtype=np.float64).ravel()]
    vals = np.array([float(np.float32(float(s))) for s in text]).reshape(np.shape(a))
    return vals, text


def make_case(name, arch, dims, opt, ranks, layers, seed):
    opt = dict(opt)
    opt.setdefault("gate_rank_type", 1 if arch == "rad-rwkv6" else 2)  # the reference's defaults
    rng = np.random.default_rng(seed)
    C, H, KVH, N = dims["C"], dims["H"], dims["KVH"], dims["N"]
    A, KD = H * N, KVH * N
    W = {}  # full HF name -> float64 array (float32 values)

    def add(l, leaf, arr):
        W[f"model.layers.{l}.self_attn.{leaf}"] = arr

    nrm = lambda shape, sd, mean=0.0: mean + sd * rng.standard_normal(shape)

    def add_gate(l):  # "all": both gates' tensors (the option grid's shared weights)
        if opt["gate_rank_type"] in (1, "all"):
            add(l, "gate.weight", nrm((A, C), C ** -0.5))
        if opt["gate_rank_type"] in (2, "all"):
            Rg = ranks["lora_gate"]
            add(l, "g1", nrm((C, Rg), C ** -0.5))
            add(l, "g2", nrm((Rg, A), Rg ** -0.5))

    for l in layers:
        # Projections: O(1) outputs from O(1) inputs.
        add(l, "q_proj.weight", nrm((A, C), C ** -0.5))
        add(l, "k_proj.weight", nrm((KD, C), C ** -0.5))
        add(l, "v_proj.weight", nrm((KD, C), C ** -0.5))
        add(l, "o_proj.weight", nrm((C, A), A ** -0.5))
        for n_, rows in (("q", A), ("k", KD), ("v", KD)):
            add(l, n_ + "_proj.bias", nrm(rows, 0.3))
        if arch == "rad-rwkv6":
            Rts, Rd = ranks["lora_tokenshift"], ranks["lora_decay"]
            for n_ in "xrkvwg":
                add(l, "time_maa_" + n_, rng.uniform(0.0, 1.0, (1, 1, C)))
            add(l, "time_maa_w1", nrm((C, 5 * Rts), C ** -0.5))
            add(l, "time_maa_w2", nrm((5, Rts, C), 0.6 * Rts ** -0.5))
            add(l, "time_decay_w1", nrm((C, Rd), C ** -0.5))
            w2 = nrm((Rd, A), 0.3 * Rd ** -0.5)
            add(l, "time_decay_w2", w2)
            # Decays in a sane range: most channels with −log w = e^d in (0.05, 3);
            # every fourth deep in the clamp (e^d > 5), so that its zero gradient is checked.
            # Each stays ≥ 0.3 away from the kink at d = ln 5 whatever the LoRA adds
            # (|tanh| < 1 bounds that term by Σ|decay_W2| over its column).
            bound = np.abs(w2).sum(0)
            td = np.where(np.arange(A) % 4 == 3, np.log(5) + 0.3 + bound + rng.uniform(0, 1, A),
                          rng.uniform(np.log(0.05), np.log(3.0), A))
            td = np.where(np.arange(A) % 4 == 3, td, np.minimum(td, np.log(5) - 0.3 - bound))
            add(l, "time_decay", td.reshape(1, 1, A))
            add_gate(l)
            if opt["groupnorm_att"]:
                add(l, "ln_x.weight", nrm(A, 0.3, 1.0))
                add(l, "ln_x.bias", nrm(A, 0.2))
        else:
            Rw, Ra, Rv = ranks["lora_decay"], ranks["lora_iclr"], ranks["lora_value"]
            add(l, "w0", nrm((1, 1, A), 1.0, -0.5))
            add(l, "w1", nrm((C, Rw), C ** -0.5))
            add(l, "w2", nrm((Rw, A), Rw ** -0.5))
            add(l, "a0", nrm((1, 1, A), 0.5))
            add(l, "a1", nrm((C, Ra), C ** -0.5))
            add(l, "a2", nrm((Ra, A), Ra ** -0.5))
            if l > 0:
                add(l, "v0", nrm((1, 1, A), 0.5))
                add(l, "v1", nrm((C, Rv), C ** -0.5))
                add(l, "v2", nrm((Rv, A), Rv ** -0.5))
            add_gate(l)
            add(l, "k_k", nrm((1, 1, A), 0.2, 0.85))
            add(l, "k_a", nrm((1, 1, A), 0.3, 1.0))
            if opt["groupnorm_att"]:
                add(l, "ln_x.weight", nrm(A, 0.3, 1.0))
                add(l, "ln_x.bias", nrm(A, 0.2))
    X = {f"xn.{l}": nrm((B, T, C), 1.0) for l in layers}
    Rs = {f"R.{l}": nrm((B, T, C), 1.0) for l in layers}
    text = {}
    for d_ in (W, X, Rs):
        for k in d_:
            d_[k], text[k] = rounded(d_[k])
    return dict(name=name, arch=arch, dims=dims, opt=opt, ranks=ranks, layers=layers, W=W, X=X, R=Rs, text=text)


def run(case, W, X):
    """All outputs of a case's layers, in order."""
    out = {}
    v_first = None
    for l in case["layers"]:
        pre = f"model.layers.{l}.self_attn."
        P = {k[len(pre):]: v for k, v in W.items() if k.startswith(pre)}
        x = X[f"xn.{l}"]
        if case["arch"] == "rad-rwkv6":
            y, S, shift = rwkv6_time_mix(P, x, case["dims"], case["opt"])
            out[f"shift.{l}"] = shift
        else:
            y, S, v_first = rwkv7_time_mix(P, x, case["dims"], case["opt"], l, v_first)
            if l == 0:
                out["v_first"] = v_first
        out[f"y.{l}"], out[f"state.{l}"] = y, S
    return out


def loss(case, W, X):
    o = run(case, W, X)
    return sum(float((o[f"y.{l}"] * case["R"][f"R.{l}"]).sum()) for l in case["layers"])


def fd_grads(case, h):
    """Central differences of the loss w.r.t. every entry of every weight and input."""
    W, X = {k: v.copy() for k, v in case["W"].items()}, {k: v.copy() for k, v in case["X"].items()}
    grads = {}
    for store in (W, X):
        for name, arr in store.items():
            g = np.zeros(arr.size)
            flat = arr.reshape(-1)  # a view: perturbs the array run() reads
            for i in range(arr.size):
                x0 = flat[i]
                flat[i] = x0 + h
                lp = loss(case, W, X)
                flat[i] = x0 - h
                lm = loss(case, W, X)
                flat[i] = x0
                g[i] = (lp - lm) / (2 * h)
            grads[name] = g.reshape(arr.shape)
    return grads


def cases():
    v6 = make_case("v6", "rad-rwkv6", dict(C=48, H=6, KVH=2, N=8),
                   dict(use_tokenshift=True, use_rope=False, balance_state=True, groupnorm_att=False),
                   dict(lora_tokenshift=3, lora_decay=5), [0], seed=61)
    v6gn = make_case("v6_gn", "rad-rwkv6", dict(C=48, H=6, KVH=2, N=8),
                     dict(use_tokenshift=True, use_rope=True, balance_state=False, groupnorm_att=True),
                     dict(lora_tokenshift=3, lora_decay=5), [0], seed=62)
    v7_dims = dict(C=32, H=4, KVH=2, N=8)
    v7_ranks = dict(lora_decay=5, lora_iclr=6, lora_value=4, lora_gate=7)
    v7a = make_case("v7_bal", "rad-rwkv7", v7_dims,
                    dict(use_tokenshift=False, use_rope=True, balance_state=True, groupnorm_att=False),
                    v7_ranks, [0, 1], seed=71)
    v7b = make_case("v7_gn", "rad-rwkv7", v7_dims,
                    dict(use_tokenshift=False, use_rope=True, balance_state=False, groupnorm_att=True),
                    v7_ranks, [0, 1], seed=72)
    v7c = make_case("v7_plain", "rad-rwkv7", v7_dims,
                    dict(use_tokenshift=False, use_rope=False, balance_state=False, groupnorm_att=False),
                    v7_ranks, [0, 1], seed=73)
    v7d = make_case("v7_bal_gn", "rad-rwkv7", v7_dims,
                    dict(use_tokenshift=False, use_rope=True, balance_state=True, groupnorm_att=True),
                    v7_ranks, [0, 1], seed=74)
    v6g2 = make_case("v6_g2", "rad-rwkv6", dict(C=48, H=6, KVH=2, N=8),
                     dict(use_tokenshift=True, use_rope=False, balance_state=True, groupnorm_att=False,
                          gate_rank_type=2),
                     dict(lora_tokenshift=3, lora_decay=5, lora_gate=6), [0], seed=63)
    v6g0 = make_case("v6_g0", "rad-rwkv6", dict(C=48, H=6, KVH=2, N=8),
                     dict(use_tokenshift=True, use_rope=True, balance_state=False, groupnorm_att=True,
                          gate_rank_type=0),
                     dict(lora_tokenshift=3, lora_decay=5), [0], seed=64)
    v7g1 = make_case("v7_g1", "rad-rwkv7", v7_dims,
                     dict(use_tokenshift=False, use_rope=False, balance_state=True, groupnorm_att=False,
                          gate_rank_type=1),
                     dict(lora_decay=5, lora_iclr=6, lora_value=4), [0, 1], seed=75)
    v7g0 = make_case("v7_g0", "rad-rwkv7", v7_dims,
                     dict(use_tokenshift=True, use_rope=True, balance_state=False, groupnorm_att=True,
                          gate_rank_type=0),
                     dict(lora_decay=5, lora_iclr=6, lora_value=4), [0, 1], seed=76)
    return [v6, v6gn, v7a, v7b, v7c, v7d, v6g2, v6g0, v7g1, v7g0]


# ---------------------------------------------------------------- the option grid
# Forward only, every combination of the options each architecture has:
# RAD-RWKV6 use_tokenshift × use_rope × balance_state × groupnorm_att ×
# gate_rank_type (48), RAD-RWKV7 use_rope × balance_state × groupnorm_att ×
# gate_rank_type (24, the layer pair). One weight set per architecture holds
# every tensor any option reads; each combination's outputs y.l are written.
GRID_V6 = dict(dims=dict(C=48, H=6, KVH=2, N=8), ranks=dict(lora_tokenshift=3, lora_decay=5, lora_gate=6),
               layers=[0], seed=81)
GRID_V7 = dict(dims=dict(C=32, H=4, KVH=2, N=8), ranks=dict(lora_decay=5, lora_iclr=6, lora_value=4, lora_gate=7),
               layers=[0, 1], seed=82)


def grid():
    """(arch, shared weights case, [(options, outputs)])."""
    out = []
    for arch, g in (("rad-rwkv6", GRID_V6), ("rad-rwkv7", GRID_V7)):
        every = dict(use_tokenshift=arch == "rad-rwkv6", use_rope=True, balance_state=True, groupnorm_att=True,
                     gate_rank_type="all")
        base = make_case("grid_" + arch, arch, g["dims"], every, g["ranks"], g["layers"], g["seed"])
        combos = []
        for ts in ((False, True) if arch == "rad-rwkv6" else (False,)):
            for rope_ in (False, True):
                for bal in (False, True):
                    for gn in (False, True):
                        for gate in (0, 1, 2):
                            opt = dict(use_tokenshift=ts, use_rope=rope_, balance_state=bal, groupnorm_att=gn,
                                       gate_rank_type=gate)
                            o = run(dict(base, opt=opt), base["W"], base["X"])
                            combos.append((opt, {k: v for k, v in o.items() if k.startswith("y.")}))
        out.append((arch, base, combos))
    return out


def grid_json():
    parts = []
    for arch, base, combos in grid():
        lines = ["{", f' "arch": "{arch}", "dims": {json.dumps(dict(base["dims"], B=B, T=T))},',
                 f' "layers": {json.dumps(base["layers"])}, "rope_theta": {ROPE_THETA},',
                 f' "pos": {json.dumps(POS.ravel().tolist())},', ' "weights": {']
        lines.append(",\n".join(f'  "{n}": {{"shape": {json.dumps(list(np.shape(base["W"][n])))}, "data": '
                                f'[{",".join(base["text"][n])}]}}' for n in sorted(base["W"])))
        lines.append(" },")
        lines.append(' "inputs": {' + ", ".join(f'"{n}": {{"shape": {json.dumps(list(np.shape(v)))}, "data": '
                                               f'[{",".join(base["text"][n])}]}}' for n, v in sorted(base["X"].items()))
                     + "},")
        lines.append(' "combinations": [')
        lines.append(",\n".join("  {" + f'"options": {json.dumps(opt)}, ' + ", ".join(
            f'"{n}": {fmt(v, 7)}' for n, v in sorted(outs.items())) + "}" for opt, outs in combos))
        lines.append(" ]")
        parts.append("\n".join(lines) + "\n}")
    return '{"generator": "scripts/golden_tiny_student.py --grid", "architectures": [\n' + ",\n".join(parts) + "\n]}\n"


def fmt(a, digits=9):
    return "[" + ",".join("%.*g" % (digits, z) for z in np.asarray(a, dtype=np.float64).ravel()) + "]"


def case_json(case, outs, grads):
    """One case as JSON text: flat lists, shapes beside them, names sorted."""
    lines = ["{", f' "name": "{case["name"]}", "arch": "{case["arch"]}",',
             f' "dims": {json.dumps(dict(case["dims"], B=B, T=T))},',
             f' "options": {json.dumps(case["opt"])}, "ranks": {json.dumps(case["ranks"])},',
             f' "layers": {json.dumps(case["layers"])}, "rope_theta": {ROPE_THETA},',
             f' "pos": {json.dumps(POS.ravel().tolist())},']

    def block(key, items, last=False):
        body = ",\n".join(f'  "{n}": {{"shape": {json.dumps(list(np.shape(v)))}, "data": {d}}}'
                          for n, v, d in items)
        lines.append(f' "{key}": {{\n{body}\n }}' + ("" if last else ","))

    block("weights", [(n, case["W"][n], "[" + ",".join(case["text"][n]) + "]") for n in sorted(case["W"])])
    block("inputs", [(n, v, "[" + ",".join(case["text"][n]) + "]")
                     for n, v in sorted({**case["X"], **case["R"]}.items())])
    block("outputs", [(n, outs[n], fmt(outs[n])) for n in sorted(outs)])
    block("grads", [(n, grads[n], fmt(grads[n])) for n in sorted(grads)], last=True)
    return "\n".join(lines) + "\n}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        # The FD truncation (∝ h²) and rounding (∝ 1/h) errors: two steps must agree far below the C++ tolerances.
        for c in cases():
            g1, g2 = fd_grads(c, FD_STEP), fd_grads(c, 4 * FD_STEP)
            for n in sorted(g1):
                den = np.abs(g1[n]).max()
                print(f"{c['name']:7s} {n:48s} max|g| {den:9.3g}  fd(h) vs fd(4h) {np.abs(g1[n] - g2[n]).max() / max(den, 1e-300):.1e}")
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--grid":
        out = sys.argv[2] if len(sys.argv) > 2 else os.path.normpath(
            os.path.join(here, "..", "tests", "data", "golden_option_grid.json"))
        with open(out, "w") as f:
            f.write(grid_json())
        print(f"wrote {out} ({os.path.getsize(out)} bytes)", file=sys.stderr)
        return
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(here, "..", "tests", "data", "golden_tiny_student.json"))
    parts = []
    for c in cases():
        outs = run(c, c["W"], c["X"])
        grads = fd_grads(c, FD_STEP)
        parts.append(case_json(c, outs, grads))
        print(f"{c['name']}: {len(c['W'])} weight tensors, loss {loss(c, c['W'], c['X']):.6f}", file=sys.stderr)
    with open(out, "w") as f:
        f.write('{"generator": "scripts/golden_tiny_student.py", "cases": [\n' + ",\n".join(parts) + "\n]}\n")
    print(f"wrote {out} ({os.path.getsize(out)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
