#!/usr/bin/env python3
"""radlads serve end to end, on loopback, bounded in requests and time.

Starts the server on the real SmolLM2 teacher (Q8_0 weights) and on a step-0
RAD-RWKV7 student, and checks through the PyPI `openai` client and raw HTTP:
completions and chat (streamed and not) equal `radlads generate` greedy
output; logprobs (echoed prompt's equal `radlads score`'s, completion and
chat alternatives) and n completions (forked state; seeded sampling repeats;
streamed per index); concurrent requests are batched (fewer steps than tokens) and each
equals its result alone; a kept session resumes (cached prompt tokens) with
the text a fresh request gets; malformed bodies and parameters get 400 error
objects, an oversized body 413; a client that disconnects frees its slot;
kept sessions saved with --session-dir resume after a restart;
the student's kept state does not grow with the context; SIGTERM drains the
in-flight request and exits 0.

usage: test_server.py --bin build/radlads --teacher SmolLM2.gguf
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


class Server:
    def __init__(self, binary, model, *args):
        self.p = subprocess.Popen([binary, "--threads", "2", "serve", model, "--port", "0", *args],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        self.err = []
        while time.time() < deadline:
            line = self.p.stderr.readline()
            if not line:
                break
            self.err.append(line)
            m = re.search(r"listening on http://([\d.]+):(\d+)", line)
            if m:
                self.base = f"http://{m.group(1)}:{m.group(2)}"
                self.port = int(m.group(2))
                threading.Thread(target=self._drain, daemon=True).start()
                return
        self.p.kill()
        sys.exit("server did not start:\n" + "".join(self.err))

    def _drain(self):
        for line in self.p.stderr:
            self.err.append(line)

    def http(self, method, path, body=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        _, text = self.http("GET", "/metrics")
        return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+) ([\d.e+-]+)$", text, re.M)}

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
        return self.p.returncode


def resume_and_fresh(client, model, messages, max_tokens, session):
    """The same chat asked under a kept session and fresh: (cached prompt tokens, same answer)."""
    r = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens, temperature=0,
                                       extra_body={"session_id": session})
    fresh = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens, temperature=0)
    return r, r.usage.prompt_tokens_details.cached_tokens, r.choices[0].message.content == fresh.choices[0].message.content


def generate(binary, model, prompt, n, chat=False):
    cmd = [binary, "--threads", "2", "generate", model, "--prompt", prompt, "--max-tokens", str(n), "--temp", "0",
           "--dtype", "q8_0"] + (["--chat"] if chat else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    out = out[:-1] if out.endswith("\n") else out
    return out if chat else out[len(prompt):]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--teacher", required=True)
    a = ap.parse_args()
    from openai import OpenAI, BadRequestError

    session_dir = tempfile.mkdtemp(prefix="radlads_sessions_")
    s = Server(a.bin, a.teacher, "--dtype", "q8_0", "--max-sessions", "8", "--max-tokens", "256",
               "--max-body-kb", "64", "--session-dir", session_dir)
    try:
        client = OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
        st, body = s.http("GET", "/health")
        check(st == 200 and json.loads(body)["status"] == "ok", "/health says ok")
        model = client.models.list().data[0].id
        check(model == os.path.basename(a.teacher), f"/v1/models lists {model}")

        # Completions and chat equal the CLI's greedy generation.
        prompt = "The capital of France is"
        r = client.completions.create(model=model, prompt=prompt, max_tokens=8, temperature=0)
        want = generate(a.bin, a.teacher, prompt, 8)
        check(r.choices[0].text == want, f"completion {r.choices[0].text!r} == generate {want!r}")
        check(r.usage.completion_tokens == 8 and r.usage.prompt_tokens > 0, "completion usage counts")
        msgs = [{"role": "user", "content": "Name three colours."}]
        c = client.chat.completions.create(model=model, messages=msgs, max_tokens=12, temperature=0)
        want = generate(a.bin, a.teacher, "Name three colours.", 12, chat=True)
        check(c.choices[0].message.content == want, f"chat {c.choices[0].message.content!r} == generate --chat")
        parts = [ch.choices[0].delta.content or "" for ch in
                 client.chat.completions.create(model=model, messages=msgs, max_tokens=12, temperature=0,
                                                stream=True) if ch.choices]
        check("".join(parts) == c.choices[0].message.content and len(parts) > 3,
              f"streamed chat ({len(parts)} chunks) equals the whole answer")

        # A stop string spanning tokens: its start must not stream before the whole string is seen.
        stop = " obvious colour"
        cut = c.choices[0].message.content.split(stop)[0]
        parts = [ch.choices[0].delta.content or "" for ch in
                 client.chat.completions.create(model=model, messages=msgs, max_tokens=12, temperature=0,
                                                stop=[stop], stream=True) if ch.choices]
        check(stop in c.choices[0].message.content and "".join(parts) == cut,
              f"streamed chat with a stop string stops before it: {''.join(parts)!r}")

        # Concurrent requests: batched, each with its own result.
        prompts = ["Once upon a time", "The best way to learn", "In 1969, astronauts", "def fibonacci(n):",
                   "My favourite food is", "The ocean is"]
        alone = [client.completions.create(model=model, prompt=p, max_tokens=10, temperature=0).choices[0].text
                 for p in prompts]
        before = s.metrics()
        results = [None] * len(prompts)

        def one(i):
            results[i] = OpenAI(base_url=s.base + "/v1", api_key="x", max_retries=0).completions.create(
                model=model, prompt=prompts[i], max_tokens=10, temperature=0).choices[0].text
        ts = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
        [t.start() for t in ts]
        [t.join() for t in ts]
        after = s.metrics()
        check(results == alone, "concurrent results equal each request alone")
        steps = after["radlads_batch_steps_total"] - before["radlads_batch_steps_total"]
        toks = after["radlads_generated_tokens_total"] - before["radlads_generated_tokens_total"]
        check(steps < toks, f"batched: {steps:.0f} steps for {toks:.0f} tokens")

        # A kept session resumes where it stopped and answers as a fresh request.
        m1 = [{"role": "user", "content": "Tell me about cats."}]
        r1 = client.chat.completions.create(model=model, messages=m1, max_tokens=16, temperature=0,
                                            extra_body={"session_id": "s1"})
        m2 = m1 + [{"role": "assistant", "content": r1.choices[0].message.content},
                   {"role": "user", "content": "And dogs?"}]
        r2, cached, same = resume_and_fresh(client, model, m2, 12, "s1")
        check(cached > 10, f"session resumed with {cached} cached prompt tokens")
        check(same, "the resumed session answers as a fresh request")

        # logprobs: the prompt's (echo, max_tokens 0: how harnesses score text) equal `radlads score`'s
        # log-softmax at every position (another path: one batched forward, not chunked decoding).
        text = "The quick brown fox jumps over the lazy dog because"
        e = client.completions.create(model=model, prompt=text, max_tokens=0, echo=True, logprobs=2, temperature=0)
        lp = e.choices[0].logprobs
        check(e.choices[0].text == text and lp.token_logprobs[0] is None and len(lp.tokens) > 5,
              f"echo: the prompt back with {len(lp.tokens)} token logprobs, the first null")
        ids = [int(t) for t in subprocess.run([a.bin, "tokenize", a.teacher, "--text", text, "--ids"],
                                              capture_output=True, text=True, check=True).stdout.split()]
        with tempfile.TemporaryDirectory() as tmp:
            open(os.path.join(tmp, "ids"), "w").write(" ".join(map(str, ids)))
            subprocess.run([a.bin, "score", a.teacher, "--ids-file", os.path.join(tmp, "ids"), "--logits-out",
                            os.path.join(tmp, "l.npy"), "--dtype", "q8_0"], check=True, capture_output=True)
            import numpy as np
            logits = np.load(os.path.join(tmp, "l.npy")).astype(np.float64)
        ls = logits - logits.max(-1, keepdims=True)
        ls = ls - np.log(np.exp(ls).sum(-1, keepdims=True))
        want = [float(ls[i - 1, ids[i]]) for i in range(1, len(ids))]
        got = lp.token_logprobs[1:]
        check(len(ids) == len(lp.tokens) and max(abs(x - y) for x, y in zip(got, want)) < 2e-3,
              f"echo logprobs equal radlads score's (max diff {max(abs(x - y) for x, y in zip(got, want)):.1e})")
        check(all(len(t) == 2 for t in lp.top_logprobs[1:]) and
              all(max(t.values()) >= v - 1e-6 for t, v in zip(lp.top_logprobs[1:], got)),
              "each prompt token has its 2 likeliest alternatives, none less likely than the token itself")
        g = client.completions.create(model=model, prompt=prompt, max_tokens=6, temperature=0, logprobs=3)
        glp = g.choices[0].logprobs
        check(len(glp.tokens) == 6 and all(abs(max(t.values()) - v) < 1e-6 for t, v in
                                           zip(glp.top_logprobs, glp.token_logprobs)),
              "greedy completion logprobs: each chosen token is its step's likeliest")
        check("".join(glp.tokens) == g.choices[0].text, "the logprob tokens spell the completion")
        cl = client.chat.completions.create(model=model, messages=msgs, max_tokens=5, temperature=0, logprobs=True,
                                            top_logprobs=2)
        content = cl.choices[0].logprobs.content
        check(len(content) == 5 and all(len(x.top_logprobs) == 2 and x.logprob <= 0 for x in content) and
              "".join(x.token for x in content) == cl.choices[0].message.content,
              "chat logprobs: one entry per token with 2 alternatives")

        # n completions of one prompt: the prefilled state forked, each choice sampled on its own.
        many = client.completions.create(model=model, prompt=prompt, max_tokens=8, temperature=0, n=3)
        check(len(many.choices) == 3 and all(c.text == r.choices[0].text for c in many.choices) and
              [c.index for c in many.choices] == [0, 1, 2], "n=3 greedy: three copies of the greedy completion")
        check(many.usage.completion_tokens == 24, f"n=3 usage counts every choice ({many.usage.completion_tokens})")
        sampled = client.completions.create(model=model, prompt="Once upon a time", max_tokens=12,
                                            temperature=1.0, n=3, seed=11)
        again = client.completions.create(model=model, prompt="Once upon a time", max_tokens=12,
                                          temperature=1.0, n=3, seed=11)
        texts = [c.text for c in sampled.choices]
        check(len(set(texts)) > 1 and texts == [c.text for c in again.choices],
              "n=3 sampled with a seed: the choices differ, and repeat with the seed")
        streamed = {}
        for ch in client.chat.completions.create(model=model, messages=msgs, max_tokens=12, temperature=1.0, n=2,
                                                 seed=5, stream=True):
            for c in ch.choices:
                streamed[c.index] = streamed.get(c.index, "") + (c.delta.content or "")
        whole = client.chat.completions.create(model=model, messages=msgs, max_tokens=12, temperature=1.0, n=2,
                                               seed=5)
        check(streamed == {c.index: c.message.content for c in whole.choices},
              "n=2 streamed chat: each index's deltas equal its whole choice")

        # Bad input: error objects, never a crash.
        for raw, why in ((b"{bad", "malformed JSON"), (b"[1,2]", "not an object"),
                         (json.dumps({"prompt": 5}).encode(), "prompt not a string"),
                         (json.dumps({"prompt": "x", "max_tokens": 100000}).encode(), "max_tokens over the limit"),
                         (json.dumps({"prompt": "x", "n": 17}).encode(), "n over the limit"),
                         (json.dumps({"prompt": "x", "logprobs": 6}).encode(), "logprobs over 5"),
                         (json.dumps({"prompt": "x", "max_tokens": 0}).encode(), "max_tokens 0 without echo"),
                         (json.dumps({"prompt": "x", "temperature": "hot"}).encode(), "temperature a string")):
            st, body = s.http("POST", "/v1/completions", raw=raw)
            check(st == 400 and "error" in json.loads(body), f"{why}: 400 with an error object")
        st, body = s.http("POST", "/v1/chat/completions", body={"messages": [{"role": "robot", "content": "x"}]})
        check(st == 400, "unknown chat role: 400")
        st, body = s.http("POST", "/v1/chat/completions",
                          raw=b'{"messages": [{"role": "r\xff\xfe", "content": "x"}]}')
        check(st == 400, f"invalid UTF-8 in a role: {st}")
        st, _ = s.http("POST", "/v1/completions", raw=json.dumps({"prompt": "x" * 100000}).encode())
        check(st == 413, f"body over --max-body-kb: {st}")
        try:
            client.completions.create(model=model, prompt="x", max_tokens=0)
            check(False, "the openai client sees a 400 as BadRequestError")
        except BadRequestError:
            check(True, "the openai client sees a 400 as BadRequestError")

        # A client that leaves mid-stream frees its slot.
        cancelled0 = s.metrics()["radlads_requests_cancelled_total"]
        sock = socket.create_connection(("127.0.0.1", s.port))
        body = json.dumps({"prompt": "Count to one thousand:", "max_tokens": 250, "stream": True}).encode()
        sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        got, deadline = b"", time.time() + 30
        while b"data:" not in got and time.time() < deadline:
            got += sock.recv(4096)
        check(b"data:" in got, "stream started")
        sock.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            m = s.metrics()
            if m["radlads_active_sequences"] == 0 and m["radlads_requests_cancelled_total"] > cancelled0:
                break
            time.sleep(0.2)
        check(m["radlads_active_sequences"] == 0 and m["radlads_requests_cancelled_total"] > cancelled0,
              "the disconnected client's sequence was dropped")

        # SIGTERM drains: the request in flight completes, then exit 0.
        done = {}

        def inflight():
            done["r"] = client.completions.create(model=model, prompt="Once upon a time", max_tokens=40,
                                                  temperature=0)
        t = threading.Thread(target=inflight)
        t.start()
        time.sleep(0.3)
        s.p.send_signal(signal.SIGTERM)
        t.join(60)
        rc = s.p.wait(60)
        check("r" in done and done["r"].usage.completion_tokens == 40, "the in-flight request finished")
        check(rc == 0, f"exit status after SIGTERM: {rc}")
    finally:
        s.stop()

    # --session-dir: the kept sessions outlive a restart. The session s1 resumes
    # in a new server with every earlier token cached, and answers as a fresh
    # request; a damaged file is skipped with a line, not loaded.
    files = [f for f in os.listdir(session_dir) if f.endswith(".session")]
    check(len(files) >= 1, f"sessions saved at shutdown: {len(files)} file(s)")
    open(os.path.join(session_dir, "0000000000000000.session"), "wb").write(b"RADLADS-SESSION 1\n{bad")
    s = Server(a.bin, a.teacher, "--dtype", "q8_0", "--max-sessions", "8", "--session-dir", session_dir)
    try:
        client = OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
        m3 = m2 + [{"role": "assistant", "content": r2.choices[0].message.content},
                   {"role": "user", "content": "And birds?"}]
        _, cached3, same = resume_and_fresh(client, model, m3, 10, "s1")
        check(cached3 > cached, f"after a restart s1 resumed with {cached3} cached tokens (> {cached})")
        check(same, "the restored session answers as a fresh request")
        check(any("0000000000000000.session" in line and "skipped" in line for line in s.err),
              "a damaged session file is skipped with a message")
    finally:
        check(s.stop() == 0, "the restarted server stops cleanly")
        import shutil
        shutil.rmtree(session_dir, ignore_errors=True)

    # The student: its kept state is the same size after 8 or 300 prompt tokens.
    with tempfile.TemporaryDirectory() as tmp:
        stu = os.path.join(tmp, "student")
        subprocess.run([a.bin, "init", "--teacher", a.teacher, "--arch", "rad-rwkv7", "--out", stu],
                       check=True, capture_output=True)
        sdir = os.path.join(tmp, "sessions")
        s = Server(a.bin, stu, "--dtype", "q8_0", "--max-sessions", "4", "--session-dir", sdir)
        try:
            client = OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
            client.completions.create(model="student", prompt="Hello there, friend.", max_tokens=4,
                                      extra_body={"session_id": "short"})
            short = s.metrics()["radlads_state_bytes"]
            # max_tokens 1: the kept history is the prompt itself (the sampled token is never fed)
            client.completions.create(model="student", prompt=" ".join(["word"] * 300), max_tokens=1,
                                      extra_body={"session_id": "long"})
            both = s.metrics()["radlads_state_bytes"]
            check(short > 0 and both == 2 * short, f"student state {short:.0f} B per session at any length")
            # A step-0 student emits arbitrary byte tokens: invalid UTF-8 must
            # stream as U+FFFD, not stop the server.
            for stream in (True, False):
                r = client.completions.create(model="student", prompt="Hi", max_tokens=64, temperature=1.0,
                                              seed=3, stream=stream)
                if stream:
                    list(r)
            check(s.p.poll() is None, "the server survives arbitrary generated bytes")
        finally:
            check(s.stop() == 0, "the student server stops cleanly")
        # The student's recurrent state, restored after a restart, continues as a fresh request would.
        s = Server(a.bin, stu, "--dtype", "q8_0", "--max-sessions", "4", "--session-dir", sdir)
        try:
            client = OpenAI(base_url=s.base + "/v1", api_key="unused", max_retries=0)
            longer = " ".join(["word"] * 300) + " and more"
            r = client.completions.create(model="student", prompt=longer, max_tokens=4, temperature=0,
                                          extra_body={"session_id": "long"})
            fresh = client.completions.create(model="student", prompt=longer, max_tokens=4, temperature=0)
            check(r.usage.prompt_tokens_details.cached_tokens >= 300 and r.choices[0].text == fresh.choices[0].text,
                  f"the student's session restored after a restart ({r.usage.prompt_tokens_details.cached_tokens} "
                  "cached tokens) answers as a fresh request")
        finally:
            check(s.stop() == 0, "the restarted student server stops cleanly")
    if FAILS:
        sys.exit(f"{len(FAILS)} check(s) failed: {FAILS}")


if __name__ == "__main__":
    main()
