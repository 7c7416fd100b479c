#!/usr/bin/env python3
"""Our teacher vs llama.cpp (PyPI llama-cpp-python) on the same tokens.

Exports MODEL to an F32 GGUF with radlads (so both sides compute in f32 from
the same dequantized weights), tokenizes held-out text with radlads, then for
each window of CTX tokens compares llama.cpp's logits with `radlads score`:
perplexity (every token after each window's first), top-1 agreement, max
logit difference. Also checks `radlads perplexity --json` reports the same
perplexity. Exits 1 if perplexity differs by more than 0.2 % or top-1
agreement is below 99.5 %.

usage: compare_teacher_llamacpp.py --bin build/radlads --model M.gguf --text F
       [--ctx 512] [--windows 5]
"""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def nll_top1(logits, ids):
    # rows 0..T-2 predict tokens 1..T-1
    x = logits[:-1].astype(np.float64)
    m = x.max(-1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(-1)) + m[:, 0]
    tgt = np.asarray(ids[1:])
    return lse - x[np.arange(len(tgt)), tgt], x.argmax(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/radlads")
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    from llama_cpp import Llama

    tmp = tempfile.mkdtemp(prefix="radlads_cmp_")

    atexit.register(shutil.rmtree, tmp, True)  # the f32 GGUF is ~600 MB: never leave it behind
    f32 = os.path.join(tmp, "teacher.f32.gguf")
    run([a.bin, "export", a.model, "--format", "gguf", "--dtype", "f32", "--out", f32])
    ids = [int(t) for t in run([a.bin, "tokenize", f32, "--file", a.text, "--ids", "--no-special"]).split()]
    n = a.ctx * a.windows
    if len(ids) < n:
        sys.exit(f"{a.text}: only {len(ids)} tokens, need {n}")
    ids = ids[:n]
    llm = Llama(model_path=f32, n_ctx=a.ctx, n_batch=a.ctx, logits_all=True, n_threads=a.threads, verbose=False)
    ours_nll, ref_nll, agree, maxdiff, total = 0.0, 0.0, 0, 0.0, 0
    for w in range(a.windows):
        win = ids[w * a.ctx:(w + 1) * a.ctx]
        p = os.path.join(tmp, "ids.txt")
        open(p, "w").write(" ".join(map(str, win)))
        out = os.path.join(tmp, "ours.npy")
        run([a.bin, "score", f32, "--ids-file", p, "--logits-out", out])
        ours = np.load(out)
        llm.reset()
        llm.eval(win)
        ref = np.array(llm.scores[: a.ctx], dtype=np.float32)
        n_o, top_o = nll_top1(ours, win)
        n_r, top_r = nll_top1(ref, win)
        ours_nll += n_o.sum()
        ref_nll += n_r.sum()
        agree += int((top_o == top_r).sum())
        total += len(n_o)
        maxdiff = max(maxdiff, float(np.abs(ours - ref).max()))
        print(f"window {w}: ppl ours {np.exp(n_o.mean()):.4f} llama.cpp {np.exp(n_r.mean()):.4f} "
              f"top-1 agreement {(top_o == top_r).mean():.4f} max |dlogit| {np.abs(ours - ref).max():.4f}")
    ppl_o, ppl_r = float(np.exp(ours_nll / total)), float(np.exp(ref_nll / total))
    # The CLI's own perplexity over the same first windows of the same text.
    pj = json.loads(run([a.bin, "perplexity", f32, "--file", a.text, "--ctx", str(a.ctx),
                         "--max-tokens", str(n), "--json"]).strip().splitlines()[-1])
    rel = abs(ppl_o - ppl_r) / ppl_r
    res = {"positions": total, "ppl_radlads": ppl_o, "ppl_llamacpp": ppl_r, "ppl_rel_diff": rel,
           "ppl_cli": pj["ppl"], "top1_agreement": agree / total, "max_abs_logit_diff": maxdiff}
    print(json.dumps(res))
    ok = rel <= 0.002 and agree / total >= 0.995 and abs(pj["ppl"] - ppl_o) / ppl_o < 1e-4
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
