#!/usr/bin/env python3
"""Our RAD-RWKV6 / RAD-RWKV7 student vs llama.cpp (PyPI llama-cpp-python)
running the GGUF `radlads export` writes for it (rwkv6qwen2 / arwkv7).

Makes a student with `radlads init` from TEACHER (untrained: the function is
still fully defined), exports it to GGUF at each --dtypes, scores the first
--tokens tokens of held-out text with `radlads score` (f32, the HF folder) and
with llama.cpp, and reports max |dlogit|, mean KL(ours || llama.cpp) in nats
per token and top-1 agreement. Then decode speed: tokens/s of `radlads
generate` and of llama.cpp's single-token eval on the f32 GGUF, same threads,
after the same prompt.

--perturb S adds Gaussian noise to every tensor first (std S x the tensor's
RMS, or S itself where the tensor is all zeros, as step 0 leaves the
token-shift and decay LoRAs), so that every path of the architecture is live
in the comparison; it checks that no tensor is left all zero and that the
perturbation moves the logits (mean KL from the unperturbed student >= 1e-3).
--perturb-decay X adds X to every RAD-RWKV6 time_decay first, so that our −5
floor on log w binds (llama.cpp has none) and its effect can be measured.
Exits 1 when f32 mean KL >= 1e-4 or f32 top-1 agreement < 99 % (unless
--perturb-decay is given: then it only reports).

--converter-layout writes the f32 GGUF with scripts/converter_gguf.py (llama.cpp's
converter's layout, no radlads.student_config) instead of `radlads export`, and
also scores that file with radlads (importing it from its metadata alone): both
llama.cpp and our import must then agree with the folder. --init-args passes
more student options to `radlads init` (e.g. "--gate none --groupnorm 1").

usage: compare_student_llamacpp.py --bin build/radlads --teacher T.gguf --text F
       [--arch rad-rwkv6|rad-rwkv7] [--tokens 512] [--dtypes f32,f16,q8_0]
       [--perturb S] [--perturb-decay X] [--decode 64] [--threads N]
       [--converter-layout] [--init-args "..."]
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(cmd, env=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


def perturb_time_decay(folder, add):
    """Adds `add` to every *.time_decay tensor of an f32 model.safetensors in place."""
    path = os.path.join(folder, "model.safetensors")
    with open(path, "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        for name, info in header.items():
            if name.endswith(".time_decay"):
                assert info["dtype"] == "F32", name
                b, e = info["data_offsets"]
                f.seek(base + b)
                x = np.frombuffer(f.read(e - b), dtype=np.float32) + np.float32(add)
                f.seek(base + b)
                f.write(x.astype(np.float32).tobytes())


def perturb_all(folder, scale, seed=1234):
    """Adds noise to every tensor of an f32 model.safetensors in place; returns
    the names of tensors still all zero afterwards (none, unless scale is 0)."""
    rng = np.random.default_rng(seed)
    path = os.path.join(folder, "model.safetensors")
    zero = []
    with open(path, "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        for name in sorted(k for k in header if k != "__metadata__"):
            info = header[name]
            assert info["dtype"] == "F32", name
            b, e = info["data_offsets"]
            f.seek(base + b)
            x = np.frombuffer(f.read(e - b), dtype=np.float32).astype(np.float64)
            rms = float(np.sqrt((x * x).mean())) if x.size else 0.0
            std = scale * (rms if rms > 0 else 1.0)
            x = x + rng.standard_normal(x.size) * std
            if not np.any(x):
                zero.append(name)
            f.seek(base + b)
            f.write(x.astype(np.float32).tobytes())
    return zero


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    return x - (np.log(np.exp(x - m).sum(-1, keepdims=True)) + m)


def compare(ours, ref):
    lo, lr = log_softmax(ours), log_softmax(ref)
    kl = (np.exp(lo) * (lo - lr)).sum(-1)
    return {"max_abs_dlogit": float(np.abs(ours - ref).max()), "mean_kl": float(kl.mean()),
            "max_kl": float(kl.max()), "top1": float((ours.argmax(-1) == ref.argmax(-1)).mean())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/radlads")
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--arch", default="rad-rwkv6", choices=["rad-rwkv6", "rad-rwkv7"])
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--dtypes", default="f32,f16,q8_0")
    ap.add_argument("--perturb", type=float, default=0.0)
    ap.add_argument("--perturb-decay", type=float, default=0.0)
    ap.add_argument("--decode", type=int, default=64, help="tokens to decode for the speed comparison (0: skip)")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    ap.add_argument("--converter-layout", action="store_true")
    ap.add_argument("--init-args", default="")
    a = ap.parse_args()
    from llama_cpp import Llama

    tmp = tempfile.mkdtemp(prefix="radlads_student_cmp_")
    try:  # the GGUFs are ~0.7 GB each: never leave them behind
        return compare_all(a, tmp, Llama)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare_all(a, tmp, Llama):
    student = os.path.join(tmp, "student")
    init = [a.bin, "init", "--teacher", a.teacher, "--arch", a.arch, "--out", student]
    if a.arch == "rad-rwkv7":  # the only options under which arwkv7 computes our function
        init += ["--use-rope", "0", "--balance-state", "0"]
    run(init + a.init_args.split())
    ids = [int(t) for t in run([a.bin, "tokenize", a.teacher, "--file", a.text, "--ids", "--no-special"]).stdout.split()]
    if len(ids) < a.tokens:
        sys.exit(f"{a.text}: only {len(ids)} tokens, need {a.tokens}")
    ids = ids[:a.tokens]
    p = os.path.join(tmp, "ids.txt")
    open(p, "w").write(" ".join(map(str, ids)))
    npy = os.path.join(tmp, "ours.npy")
    results = {"arch": a.arch, "tokens": a.tokens, "threads": a.threads, "perturb": a.perturb,
               "perturb_decay": a.perturb_decay}
    if a.perturb:
        run([a.bin, "score", student, "--ids-file", p, "--logits-out", npy])
        before = np.load(npy)
        zero = perturb_all(student, a.perturb)
        if zero:
            sys.exit(f"tensors still all zero after --perturb: {zero}")
    if a.perturb_decay:
        perturb_time_decay(student, a.perturb_decay)
    run([a.bin, "score", student, "--ids-file", p, "--logits-out", npy])
    ours = np.load(npy)
    if a.perturb:
        results["perturbation"] = compare(ours, before)
        print("perturbation (perturbed vs step-0 student): " + json.dumps(results["perturbation"]), flush=True)
        if results["perturbation"]["mean_kl"] < 1e-3:
            sys.exit("--perturb barely moved the logits: the comparison would not test the perturbed paths")
    ggufs = {}
    for dt in a.dtypes.split(","):
        g = os.path.join(tmp, f"student.{dt}.gguf")
        if a.converter_layout:
            if dt != "f32":
                sys.exit("--converter-layout writes f32 only")
            here = os.path.dirname(os.path.abspath(__file__))
            run([sys.executable, os.path.join(here, "converter_gguf.py"), student, g, "--tokenizer-from", a.teacher])
            imp = os.path.join(tmp, "imported.npy")  # radlads reading the converter's file alone
            run([a.bin, "score", g, "--ids-file", p, "--logits-out", imp])
            results["import_vs_folder"] = compare(np.load(imp), ours)
            print("import_vs_folder: " + json.dumps(results["import_vs_folder"]), flush=True)
            out = ""
        else:
            out = run([a.bin, "export", student, "--format", "gguf", "--dtype", dt, "--out", g]).stdout
        clamp = re.search(r"can bind in (\d+) of (\d+) channels", out)
        if clamp:
            results["clamp_may_bind_channels"] = f"{clamp.group(1)}/{clamp.group(2)}"
        ggufs[dt] = g
        llm = Llama(model_path=g, n_ctx=a.tokens, n_batch=a.tokens, logits_all=True, n_threads=a.threads,
                    verbose=False)
        llm.eval(ids)
        ref = np.array(llm.scores[:a.tokens], dtype=np.float32)
        del llm
        results[dt] = compare(ours, ref)
        if a.converter_layout:
            results[dt]["import_vs_llamacpp"] = compare(np.load(imp), ref)
        if dt != "f32":
            # Our forward on the very weights the file holds (imported, dequantized): what
            # remains is llama.cpp's own arithmetic (it also rounds activations), not layout.
            deq = os.path.join(tmp, f"deq_{dt}")
            run([a.bin, "export", g, "--format", "hf", "--out", deq])
            dnpy = os.path.join(tmp, f"deq_{dt}.npy")
            run([a.bin, "score", deq, "--ids-file", p, "--logits-out", dnpy])
            results[dt]["vs_ours_dequantized"] = compare(np.load(dnpy), ref)
        print(f"{dt}: " + json.dumps(results[dt]), flush=True)
    if a.decode > 0 and "f32" in ggufs:
        results["decode"] = decode_speed(a, student, ggufs["f32"], ids[:a.prompt_tokens], Llama)
        print("decode: " + json.dumps(results["decode"]), flush=True)
    print(json.dumps(results))
    if a.perturb_decay or "f32" not in results:
        return 0
    ok = results["f32"]["mean_kl"] < 1e-4 and results["f32"]["top1"] >= 0.99
    if a.converter_layout:  # our import of the converter's file computes the folder's function
        ok = ok and results["import_vs_folder"]["mean_kl"] < 1e-6 and results["import_vs_folder"]["top1"] >= 0.999
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def decode_speed(a, student, gguf, prompt_ids, Llama):
    """Single-token decode after the same prompt, same thread count, one run each."""
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    # The prompt as text (about as many tokens): a recurrent decode step costs the same at any position.
    prompt = open(a.text, encoding="utf-8", errors="replace").read()[: 4 * len(prompt_ids)]
    r = run([a.bin, "generate", student, "--prompt", prompt, "--max-tokens", str(a.decode), "--temp", "0"], env)
    m = re.search(r"prompt (\d+) tokens in ([\d.]+) s; generated (\d+) tokens at ([\d.]+) tokens/s", r.stderr)
    ours = {"prompt_tokens": int(m.group(1)), "generated": int(m.group(3)), "tokens_per_s": float(m.group(4))}
    llm = Llama(model_path=gguf, n_ctx=len(prompt_ids) + a.decode + 8, n_batch=512, n_threads=a.threads,
                logits_all=False, verbose=False)
    llm.eval(prompt_ids)
    n = a.decode
    tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    t0 = time.perf_counter()
    for _ in range(n):
        llm.eval([tok])
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    dt = time.perf_counter() - t0
    return {"ours": ours, "llamacpp": {"prompt_tokens": len(prompt_ids), "generated": n, "tokens_per_s": n / dt}}


if __name__ == "__main__":
    sys.exit(main())
