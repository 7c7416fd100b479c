#!/usr/bin/env python3
"""Load on `radlads serve`, loopback only, bounded: N concurrent streaming
clients x T tokens against one client alone, for the teacher and a step-0
student of it (same --dtype). Reports aggregate tokens/s, p50/p99 time per
token (between streamed chunks, per client), RSS before/after from
/metrics, and the decode-state memory with 1, 16 and 64 kept sessions of a
512-token conversation: the student's flat, the teacher's KV caches growing.

usage: serve_load.py --teacher M.gguf [--bin build/radlads] [--clients 32]
       [--tokens 128] [--dtype q8_0] [--threads 2] [--json OUT]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "serve"))
from test_server import Server  # noqa: E402


def stream(base, prompt, tokens):
    body = json.dumps({"prompt": prompt, "max_tokens": tokens, "temperature": 0, "stream": True}).encode()
    req = urllib.request.Request(base + "/v1/completions", data=body, headers={"Content-Type": "application/json"})
    times = []
    with urllib.request.urlopen(req, timeout=600) as r:
        for line in r:
            if line.startswith(b"data: {"):
                times.append(time.perf_counter())
    return times


def load(s, clients, tokens):
    out = [None] * clients
    prompts = [f"Story number {i}: once upon a time" for i in range(clients)]
    t0 = time.perf_counter()
    errors = []

    def client(i):
        try:
            out[i] = stream(s.base, prompts[i], tokens)
        except Exception as e:  # reported, not hidden
            errors.append(f"client {i}: {e!r}")
    ts = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    wall = time.perf_counter() - t0
    if errors:
        sys.exit("\n".join(errors))
    gaps = [b - a for times in out for a, b in zip(times, times[1:])]
    n = sum(len(t) for t in out)
    gaps.sort()
    return dict(clients=clients, tokens_per_s=n / wall, p50_ms=1e3 * statistics.median(gaps),
                p99_ms=1e3 * gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))], wall_s=wall)


def sessions(s, counts, prompt_tokens=512):
    rows = []
    kept = 0
    for want in counts:
        while kept < want:
            body = {"prompt": "word " * prompt_tokens, "max_tokens": 1, "session_id": f"s{kept}"}
            s.http("POST", "/v1/completions", body=body)
            kept += 1
        m = s.metrics()
        rows.append(dict(sessions=want, state_mb=m["radlads_state_bytes"] / 1e6,
                         rss_mb=m["process_resident_memory_bytes"] / 1e6))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--bin", default="build/radlads")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--dtype", default="q8_0")
    ap.add_argument("--json")
    a = ap.parse_args()
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        stu = os.path.join(tmp, "student")
        subprocess.run([a.bin, "init", "--teacher", a.teacher, "--arch", "rad-rwkv6", "--out", stu],
                       check=True, capture_output=True)
        for name, model in (("teacher", a.teacher), ("rad-rwkv6", stu)):
            s = Server(a.bin, model, "--dtype", a.dtype, "--max-sessions", "64", "--ctx", "1024")
            try:
                rss0 = s.metrics()["process_resident_memory_bytes"] / 1e6
                one = load(s, 1, a.tokens)
                many = load(s, a.clients, a.tokens)
                rss1 = s.metrics()["process_resident_memory_bytes"] / 1e6
                mem = sessions(s, [1, 16, 64])
            finally:
                s.stop()
            report[name] = dict(one=one, many=many, rss_before_mb=rss0, rss_after_mb=rss1, sessions=mem)
            print(f"{name:10s} 1 client {one['tokens_per_s']:6.1f} tok/s (p50 {one['p50_ms']:.1f} ms)  "
                  f"{a.clients} clients {many['tokens_per_s']:6.1f} tok/s ({many['tokens_per_s'] / one['tokens_per_s']:.1f}x)"
                  f"  p50 {many['p50_ms']:.1f} ms p99 {many['p99_ms']:.1f} ms per token  RSS {rss0:.0f} -> {rss1:.0f} MB",
                  flush=True)
            for r in mem:
                print(f"{'':10s} {r['sessions']:3d} kept sessions of 512 tokens: states {r['state_mb']:8.1f} MB, "
                      f"RSS {r['rss_mb']:.0f} MB", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
