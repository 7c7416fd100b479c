#!/usr/bin/env python3
"""`radlads eval` per-choice log-likelihoods vs llama.cpp (PyPI llama-cpp-python).

Exports MODEL to an F32 GGUF with radlads (both sides then compute in f32 from
the same dequantized weights), runs `radlads eval F32 --tasks TASK --limit N
--dump-requests`, and feeds each dumped request's exact tokens to llama.cpp:
the log-likelihood of the last n_cont tokens is recomputed in float64 from
llama.cpp's logits and compared with ours. Also checks that llama.cpp's own
tokenizer splits context / continuation the way the harness does
(encode(context), then encode(context + continuation) minus that prefix) and
gives our tokens, that the greedy flags agree, and that both give the same
acc and acc_norm. Exits 1 if any choice differs by more than --tol (relative).
llama.cpp runs with an f32 KV cache (its default f16 cache alone moves a
summed log-likelihood by up to ~1e-3 relative) and decodes a context shared
by consecutive choices once (--no-reuse: every request from scratch).
About 3 minutes on two quiet cores for 200 items; far longer when busy.

usage: compare_eval_llamacpp.py --bin build/radlads --model M.gguf
       [--task hellaswag] [--limit 200] [--tol 1e-3] [--data DIR]
"""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def loglik(logits, tokens, n_cont):
    """Sum of log softmax(logits[p])[tokens[p+1]] over the last n_cont positions."""
    n_in = len(tokens) - 1
    x = np.asarray(logits[n_in - n_cont:n_in], dtype=np.float64)
    m = x.max(-1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(-1)) + m[:, 0]
    tgt = np.asarray(tokens[n_in - n_cont + 1:], dtype=np.int64)
    lp = x[np.arange(n_cont), tgt] - lse
    greedy = bool((x.argmax(-1) == tgt).all())
    return float(lp.sum()), greedy


def harness_tokens(llm, context, continuation):
    """lm-eval-harness's _encode_pair with llama.cpp's tokenizer (no BOS, no special parsing)."""
    n = len(context) - len(context.rstrip())
    if n:
        continuation = context[-n:] + continuation
        context = context[:-n]
    enc = lambda s: llm.tokenize(s.encode(), add_bos=False, special=False) if s else []
    ctx = enc(context)
    whole = enc(context + continuation)
    cont = whole[len(ctx):] or enc(continuation)
    return ctx + cont


def choice_len(cont):
    return len(cont[1:] if cont.startswith(" ") else cont)


def accuracy(rows, key):
    items = {}
    for r in rows:
        items.setdefault(r["item"], []).append(r)
    acc = norm = 0
    for rs in items.values():
        ll = np.array([r[key] for r in rs])
        ln = np.array([max(1, choice_len(r["continuation"])) for r in rs])
        acc += int(np.argmax(ll) == rs[0]["gold"])
        norm += int(np.argmax(ll / ln) == rs[0]["gold"])
    return acc / len(items), norm / len(items), len(items)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/radlads")
    ap.add_argument("--model", required=True, help="GGUF or HF folder (exported to F32 first)")
    ap.add_argument("--f32", help="use this F32 GGUF instead of exporting one")
    ap.add_argument("--task", default="hellaswag")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--data", help="evaluation data folder (radlads eval --data)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--no-reuse", action="store_true", help="decode every request from scratch in llama.cpp")
    a = ap.parse_args()
    from llama_cpp import Llama

    tmp = tempfile.mkdtemp(prefix="radlads_evalcmp_")

    atexit.register(shutil.rmtree, tmp, True)  # the f32 GGUF is ~600 MB: never leave it behind
    f32 = a.f32
    if not f32:
        f32 = os.path.join(tmp, "model.f32.gguf")
        run([a.bin, "export", a.model, "--format", "gguf", "--dtype", "f32", "--out", f32])
    dump = os.path.join(tmp, "requests.jsonl")
    cmd = [a.bin, "--threads", str(a.threads), "eval", f32, "--tasks", a.task, "--limit", str(a.limit),
           "--dump-requests", dump]
    if a.data:
        cmd += ["--data", a.data]
    run(cmd)
    rows = [json.loads(l) for l in open(dump)]
    n_ctx = max(len(r["tokens"]) for r in rows) + 8
    # An f32 KV cache (ggml type 0): llama.cpp's default f16 cache alone puts
    # ~1e-3 relative noise into a summed log-likelihood, as much as the tolerance.
    llm = Llama(model_path=f32, n_ctx=n_ctx, n_batch=n_ctx, logits_all=True, n_threads=a.threads,
                type_k=0, type_v=0, verbose=False)

    max_rel, max_abs, worst, greedy_diff, tok_diff, fed = 0.0, 0.0, None, 0, 0, 0
    prev = []
    t0 = time.time()
    for r in rows:
        toks, k = r["tokens"], r["n_cont"]
        if harness_tokens(llm, r["context"], r["continuation"]) != toks:
            tok_diff += 1
        inp = toks[:-1]
        # Choices of one item share their context: llama.cpp keeps it in its KV
        # cache (and its logits rows) and decodes only what differs.
        keep = 0
        if not a.no_reuse:
            while keep < min(len(prev), len(inp)) and prev[keep] == inp[keep]:
                keep += 1
        if keep == 0:
            llm.reset()
        llm.n_tokens = keep
        if keep < len(inp):
            llm.eval(inp[keep:])
            fed += len(inp) - keep
        prev = inp
        ref, g = loglik(np.array(llm.scores[:len(inp)]), toks, k)
        r["ref"] = ref
        d = abs(r["loglik"] - ref)
        rel = d / max(abs(ref), 1e-12)
        greedy_diff += int(g != r["greedy"])
        max_abs = max(max_abs, d)
        if rel > max_rel:
            max_rel, worst = rel, (r["item"], r["choice"], r["loglik"], ref)
    secs = time.time() - t0
    acc, norm, n = accuracy(rows, "loglik")
    racc, rnorm, _ = accuracy(rows, "ref")
    print(f"{a.task}: {n} items, {len(rows)} choices, {sum(r['n_cont'] for r in rows)} scored tokens; "
          f"llama.cpp decoded {fed} tokens in {secs:.0f} s")
    print(f"max relative difference {max_rel:.3e}, max absolute {max_abs:.3e} (nats)"
          f"{'' if worst is None else f'; worst: item {worst[0]} choice {worst[1]}: ours {worst[2]:.6f} llama.cpp {worst[3]:.6f}'}")
    print(f"greedy flags differing: {greedy_diff}; requests whose llama.cpp harness tokenization differs: {tok_diff}")
    print(f"acc ours {acc:.4f} llama.cpp {racc:.4f}; acc_norm ours {norm:.4f} llama.cpp {rnorm:.4f}")
    ok = max_rel <= a.tol
    print("OK" if ok else f"FAIL: relative difference above {a.tol}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
