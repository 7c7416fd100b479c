#!/usr/bin/env python3
"""Decode and prefill speed: radlads (bench_decode) vs llama.cpp
(llama-cpp-python) on the same GGUF files, same thread counts, one run.

Writes, from TEACHER (any GGUF radlads reads): the teacher and a RAD-RWKV6
student (step 0, random new weights: speed does not depend on training) as
f32, q8_0 and q4_0 GGUFs with `radlads export`. For each file and thread
count, llama.cpp evaluates a prompt of P tokens in one batch, then K single
tokens; bench_decode does the same with the weights held in the file's type
(--dtype). Prints a table: tokens/s of both, our/llama ratio, our decode
traffic as a share of the triad bandwidth measured in the same process.

usage: decode_vs_llamacpp.py --teacher M.gguf [--bin build] [--threads 1,2]
       [--prompt 512] [--tokens 64] [--dtypes f32,q8_0,q4_0] [--json OUT]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def llama_rates(path, threads, prompt, tokens):
    # llama.cpp's extra buffer types (weights repacked for AMX / the CPU's
    # best kernels) crash llama-cpp-python 0.3.36 on a Q8_0 file on an AMX
    # Xeon (segfault in the first eval): off, so every file runs the plain
    # ggml CPU kernels (AVX-512 / VNNI dot products).
    import llama_cpp
    import llama_cpp.llama as llama_mod
    from llama_cpp import Llama
    if not getattr(llama_cpp, "_radlads_patched", False):
        default = llama_cpp.llama_model_default_params

        def params():
            p = default()
            p.use_extra_bufts = False
            return p
        llama_mod.llama_cpp.llama_model_default_params = params
        llama_cpp._radlads_patched = True
    llm = Llama(model_path=path, n_ctx=prompt + tokens + 8, n_batch=prompt, n_ubatch=prompt,
                n_threads=threads, n_threads_batch=threads, verbose=False)
    V = llm.n_vocab()
    toks = [(i * 7919 + 13) % V for i in range(prompt + tokens)]
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(toks[:prompt])
    t1 = time.perf_counter()
    for k in range(tokens):
        llm.eval([toks[prompt + k]])
    t2 = time.perf_counter()
    del llm
    return prompt / (t1 - t0), tokens / (t2 - t1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--bin", default="build")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--dtypes", default="f32,q8_0,q4_0")
    ap.add_argument("--json")
    a = ap.parse_args()
    radlads = os.path.join(a.bin, "radlads")
    bench = os.path.join(a.bin, "bench_decode")
    tmp = tempfile.mkdtemp(prefix="radlads_decode_")
    try:
        student_dir = os.path.join(tmp, "student")
        run([radlads, "init", "--teacher", a.teacher, "--arch", "rad-rwkv6", "--out", student_dir])
        files = []
        for model, src in (("teacher", a.teacher), ("rad-rwkv6", student_dir)):
            for dt in a.dtypes.split(","):
                out = os.path.join(tmp, f"{model}.{dt}.gguf")
                run([radlads, "export", src, "--format", "gguf", "--dtype", dt, "--out", out])
                files.append((model, dt, out))
        rows = []
        for model, dt, path in files:
            for th in [int(t) for t in a.threads.split(",")]:
                ours = json.loads(run([bench, path, "--dtype", dt, "--threads", str(th), "--prompt", str(a.prompt),
                                       "--tokens", str(a.tokens)]))
                lp, ld = llama_rates(path, th, a.prompt, a.tokens)
                rows.append(dict(model=model, dtype=dt, threads=th, ours_prefill=ours["prefill_tokens_per_s"],
                                 llama_prefill=lp, ours_decode=ours["decode_tokens_per_s"], llama_decode=ld,
                                 bytes_per_token=ours["bytes_per_token"], decode_gbps=ours["decode_gbps"],
                                 triad_gbps=ours["triad_gbps"], rss_mb=ours["rss_mb"]))
                r = rows[-1]
                print(f"{model:10s} {dt:5s} t={th}  prefill {r['ours_prefill']:8.1f} vs {lp:8.1f} "
                      f"({r['ours_prefill'] / lp:4.2f}x)  decode {r['ours_decode']:6.1f} vs {ld:6.1f} "
                      f"({r['ours_decode'] / ld:4.2f}x)  {r['decode_gbps']:5.1f} GB/s = "
                      f"{100 * r['decode_gbps'] / r['triad_gbps']:3.0f}% of triad {r['triad_gbps']:.1f}  "
                      f"RSS {r['rss_mb']:.0f} MB", flush=True)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(rows, f, indent=1)
    finally:
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    main()
