#!/usr/bin/env python3
"""`radlads tokenize` vs llama.cpp (PyPI llama-cpp-python) on the same text.

Builds >= --min-bytes (default 100 KB) of deterministic mixed text: prose in
several scripts, Python and kernel documentation, code, long numbers,
whitespace runs, emoji with ZWJ sequences, the model's special tokens inside
text, upper-case contractions, random mixtures of awkward characters and a
few invalid UTF-8 byte strings. Cuts it into chunks of about 1.5 KB,
tokenizes every chunk with llama.cpp (vocab_only, add_bos=False) and with
`radlads tokenize MODEL --file CHUNK --ids`, with and without special-token
parsing, and compares the id sequences chunk by chunk, then the whole text at
once. Prints the number of mismatching chunks and the first diffs; exits 1 on
any mismatch.

Options:
  --pre NAME   also test other pre-tokenizers on the same vocabulary: writes a
               vocab-only GGUF copy of MODEL with tokenizer.ggml.pre = NAME
               (repeatable: smollm, gpt-2, llama-bpe, qwen2, default).
  --via-hf     also tokenize with radlads from an HF folder (tokenizer.json and
               tokenizer_config.json written from MODEL's vocabulary), checking
               the tokenizer.json reader against the same reference.
  --hf-ref     also compare with HF tokenizers (PyPI `tokenizers`) on that
               tokenizer.json (valid UTF-8 chunks only).
  --sweep      add every codepoint U+0000..U+10FFFF (surrogates excluded) in
               letter/digit/space contexts, to compare Unicode classes.

usage: compare_tokenizer.py MODEL.gguf [--bin build/radlads] [--pre NAME]...
       [--via-hf] [--hf-ref] [--sweep] [--min-bytes N] [--jobs 2]
"""
import argparse
import concurrent.futures as cf
import glob
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROSE = [
    # Latin script with accents
    "Le cœur a ses raisons que la raison ne connaît point. Où est l'hôtel ? "
    "Ça coûte 12,50 € — déjà payé. « Voilà ! » dit-il, l'air décidé.",
    "Über allen Gipfeln ist Ruh. Die Straße führt zur Brücke; Größe, Maß und Fuß. "
    "ÄÖÜ äöü ß ẞ — Grüße aus Köln!",
    "¿Dónde está la estación? ¡Qué día más bonito! El niño comió piñata en año nuevo.",
    "Zażółć gęślą jaźń. Łódź, Kraków i Wrocław są pięknymi miastami.",
    "Tiếng Việt có dấu: Hà Nội, Thành phố Hồ Chí Minh, phở bò, cà phê sữa đá.",
    "Þórr og Óðinn. Ærø, Søren Kierkegaard, smørrebrød; İstanbul'da ılık bir gün.",
    # Cyrillic, Greek
    "Съешь же ещё этих мягких французских булок, да выпей чаю. В 2024 году — 1 000 000 рублей.",
    "Україна, Київ: «Ще не вмерла України і слава, і воля». Ґанок, їжак, єнот.",
    "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Η Αθήνα είναι η πρωτεύουσα της Ελλάδας; Ναι.",
    # CJK
    "我能吞下玻璃而不伤身体。今天天气很好，我们去公园散步吧！北京2008年奥运会。",
    "いろはにほへと ちりぬるを。東京タワーは３３３メートルです。カタカナとひらがな、漢字。",
    "다람쥐 헌 쳇바퀴에 타고파. 서울특별시 강남구 123-45번지입니다.",
    # Arabic, Hebrew, Hindi, Thai
    "نص حكيم له سر قاطع وذو شأن عظيم مكتوب على ثوب أخضر ومغلف بجلد أزرق. العدد ١٢٣٤٥٦٧٨٩٠.",
    "דג סקרן שט בים מאוכזב ולפתע מצא חברה. שלום עולם!",
    "ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम। संख्या १२३४५।",
    "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน ๑๒๓",
    # decomposed accents (NFD), ligatures, fullwidth, math, superscripts
    "Cafe\u0301 na\u0308ive re\u0301sume\u0301 — ﬁne ﬂow — ＦＵＬＬＷＩＤＴＨ １２３ — x² + y³ = z⁴ — ½ ¾ Ⅻ ⅷ",
    "∀x∈ℝ: x²≥0; ∑ᵢ aᵢ = ∫₀¹ f(t) dt ≈ 3.14159…; α→β ⇒ γ ≤ δ ≠ ε ± ζ × η ÷ θ",
]

CODE = [
    'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n'
    "    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\n"
    'if __name__ == "__main__":\n\tprint(fib(90))  # 2880067194370816120\n',
    "#include <stdio.h>\nint main(int argc, char **argv) {\n  for (int i = 0; i < argc; ++i)\n"
    '    printf("%d: %s\\n", i, argv[i]);\n  return 0;\n}\n',
    "const add = (a, b) => a + b;\nlet xs = [1, 2, 3].map(x => x ** 2);  // [1, 4, 9]\n"
    "if (xs.length !== 3 && !!window) { throw new Error(`bad ${xs}`); }\n",
    "#!/bin/sh\nset -eu\nfor f in *.txt; do\n  wc -l \"$f\" | awk '{print $1}' >> /tmp/out.log 2>&1\ndone\n",
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC LIMIT 10;\n",
    '{"key": "value", "n": 3.14e-10, "list": [true, false, null], "nested": {"a": {"b": []}}}\n',
    "<html><body class=\"main\"><p>Hello&nbsp;&amp;&lt;world&gt;</p></body></html>\n",
]

NUMBERS = [
    "3141592653589793238462643383279502884197169399375105820974944592307816406286",
    "Phone: +1 (555) 123-4567, ISBN 978-3-16-148410-0, 0xDEADBEEF, 1e-9, 6.022e23, v1.2.3",
    "In 1969, 600000000 people watched; 12,345,678.90 USD; 99.9% of 1000000000 = 999000000.",
    "2024-02-29T23:59:59.999Z 127.0.0.1:8080 192.168.001.010 00000000000000001",
]

WHITESPACE = [
    "a  b   c    d     e\t\tf\t \tg \t h\n\ni\n\n\nj\n \n k\r\nl\r\n\r\nm",
    "    indented 4\n        indented 8\n\t\ttabs\n  \n\n\n\n\n     \n   end   ",
    "trailing spaces   \nnbsp\u00a0here\u00a0\u00a0two; ideographic\u3000space; en\u2002em\u2003thin\u2009",
    "line\u2028separator\u2029paragraph; next\u0085line; zero\u200bwidth; bom\ufeffhere; \u200e\u200f marks",
    "\n\n\n\n",
    "                                                                     ",
]

EMOJI = [
    "I ❤️ emoji 😀😃😄 👍🏽 👋🏿 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷🇯🇵 1️⃣ #️⃣ 🧑🏻‍🤝‍🧑🏿 ✌️ ☃ ★",
    "Rocket🚀launch🌕moon!!! 🤖:beep boop: 💯% (╯°□°)╯︵ ┻━┻ ¯\\_(ツ)_/¯",
]

CONTRACTIONS = [
    "I'M SURE WE'LL GO. DON'T YOU THINK SHE'D LIKE IT? THEY'VE SAID YOU'RE RIGHT; IT'S TRUE.",
    "I'm sure we'll go. Don't you think she'd like it? They've said you're right; it's true.",
    "rock 'n' roll, 'tis, o'clock, y'all'd've, ma'am, '90s, 'S 'T 'RE 'VE 'M 'LL 'D, ’s ’t",
]


def read_docs(limit_py, limit_linux):
    """Deterministic slices of the Debian documentation (if installed)."""
    out = []
    files = sorted(glob.glob("/usr/share/doc/python3.11/html/_sources/**/*.txt", recursive=True))
    total = 0
    for f in files[::7]:
        if total >= limit_py:
            break
        with open(f, "rb") as fh:
            data = fh.read(4000)
        out.append(data)
        total += len(data)
    files = sorted(glob.glob("/usr/share/doc/linux-doc-6.1/Documentation/**/*.rst.gz", recursive=True))
    total = 0
    for f in files[::23]:
        if total >= limit_linux:
            break
        with gzip.open(f, "rb") as fh:
            data = fh.read(4000)
        out.append(data)
        total += len(data)
    return out


def fuzz_chunks(rng, specials, n, length):
    """Random mixtures of characters that stress the pre-tokenizers."""
    pool = list("abcXYZ019 \t\n\r.,;:!?'\"()[]{}<>-_=+*/\\|~`$%^&@#") + [
        "'s", "'T", "'re", "'VE", "'m", "'LL", "'d", "  ", "\n\n", " \n", "\t\n", "\r\n",
        "é", "e\u0301", "ß", "Ж", "ж", "λ", "中", "文", "あ", "한", "ع", "ש", "क", "ि", "ก",
        "١", "٢", "²", "½", "Ⅻ", "①", "\u00a0", "\u3000", "\u0085", "\u2028", "\u200b",
        "\u200d", "\ufeff", "\u0007", "\u001f", "\u007f", "😀", "👍🏽", "🇯🇵", "\ufffd", "€", "©",
        "\U0002ebf0", "\u31ef", "\U0001e4d0", "\u0378", "\ue000",
    ]
    pool += specials + ["<|", "|>", "<|im", "_start|>"]
    return ["".join(rng.choice(pool) for _ in range(length)).encode() for _ in range(n)]


INVALID_UTF8 = [
    b"valid \xff invalid \xfe bytes",
    b"truncated \xe2\x82 euro and \xc3 lone lead",
    b"stray \x80\x81 continuation \xbf",
    b"overlong \xc0\xaf and \xe0\x80\xaf slash",
    b"surrogate \xed\xa0\x80 half",
    b"mixed \xf0\x9f\x98 emoji \xf0\x9f\x98\x80 ok",
]


def group(pieces, size):
    """Joins consecutive pieces into chunks of at least size bytes: fewer
    radlads processes, while a diff still shows where in the chunk it is."""
    out, cur = [], b""
    for p in pieces:
        cur += p
        if len(cur) >= size:
            out.append(cur)
            cur = b""
    if cur:
        out.append(cur)
    return out


def build_corpus(specials, min_bytes, sweep):
    rng = random.Random(20240601)
    chunks = []
    for samples in (PROSE, CODE, NUMBERS, WHITESPACE, EMOJI, CONTRACTIONS):
        chunks += [s.encode() for s in samples]
    # Special tokens embedded in text, adjacent to words and spaces.
    for i, t in enumerate(specials):
        chunks.append(f"{t}user\nHello {t}{t} there{t}\n\n{t} 42 {PROSE[i % len(PROSE)][:40]}{t}".encode())
    chunks += INVALID_UTF8
    docs = read_docs(min_bytes // 2, min_bytes // 4)
    for d in docs:  # paragraphs as chunks, so a mismatch is localised
        for para in d.split(b"\n\n"):
            if para.strip():
                chunks.append(para + b"\n\n")
    fuzz = fuzz_chunks(rng, specials, 200, 120)
    chunks += fuzz
    # Variations of the prose until the corpus is large enough.
    everything = PROSE + CODE + NUMBERS + WHITESPACE + EMOJI + CONTRACTIONS
    while sum(len(c) for c in chunks) < min_bytes:
        k = rng.randint(2, 6)
        chunks.append("\n".join(rng.choice(everything) for _ in range(k)).encode())
    chunks = group(chunks, 1500)
    if sweep:
        step = 16384
        for lo in range(0, 0x110000, step):
            parts = []
            for cp in range(lo, min(lo + step, 0x110000)):
                if 0xD800 <= cp <= 0xDFFF:
                    continue
                c = chr(cp)
                parts.append(f"a{c}a {c}1{c}{c} {c}\n")
            chunks.append("".join(parts).encode("utf-8", "surrogatepass"))
    return chunks


def write_variant_gguf(src, pre, path):
    """A vocab-only copy of src's metadata with tokenizer.ggml.pre = pre."""
    import gguf

    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(path, arch)
    for key, f in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        val = f.contents()
        if key == "tokenizer.ggml.pre":
            val = pre
        sub = f.types[1] if f.types[0] == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, val, f.types[0], sub)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


HF_PRE = {
    "smollm": {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
    "gpt-2": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "qwen2": {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
         "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
}


def write_hf_folder(src, folder):
    """tokenizer.json + tokenizer_config.json equivalent to src's vocabulary."""
    import gguf

    r = gguf.GGUFReader(src)
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    merges = r.fields["tokenizer.ggml.merges"].contents()
    pre = r.fields["tokenizer.ggml.pre"].contents()
    if pre not in HF_PRE:
        sys.exit(f"--via-hf: no tokenizer.json form for pre '{pre}'")
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": types[i] == 3}
             for i, t in enumerate(tokens) if types[i] in (3, 4)]
    # The [left, right] form of recent HF files (the unit tests cover "a b").
    merges_json = [m.split(" ", 1) for m in merges]
    tj = {"version": "1.0", "added_tokens": added, "normalizer": None, "pre_tokenizer": HF_PRE[pre],
          "post_processor": None,
          "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
          "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                    "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                    "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges_json}}
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as fh:
        json.dump(tj, fh, ensure_ascii=False)
    cfg = {}
    for key, name in (("bos_token", "tokenizer.ggml.bos_token_id"), ("eos_token", "tokenizer.ggml.eos_token_id")):
        if name in r.fields:
            cfg[key] = tokens[r.fields[name].contents()]
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
        json.dump(cfg, fh, ensure_ascii=False)


def radlads_ids(binary, model, data, special, tmpdir, tag):
    path = os.path.join(tmpdir, f"chunk_{tag}.txt")
    with open(path, "wb") as fh:
        fh.write(data)
    cmd = [binary, "tokenize", model, "--file", path, "--ids"] + ([] if special else ["--no-special"])
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode(errors='replace')}")
    return [int(x) for x in r.stdout.split()]


class LlamaRef:
    """llama.cpp's tokenizer for one GGUF."""
    name = "llama.cpp"

    def __init__(self, model):
        import llama_cpp
        self.llm = llama_cpp.Llama(model_path=model, vocab_only=True, verbose=False)

    def encode(self, data, special):
        return self.llm.tokenize(data, add_bos=False, special=special)

    def piece(self, t):
        return self.llm.detokenize([t], special=True)


class HfRef:
    """HF tokenizers on a tokenizer.json. It takes str, not bytes, so chunks
    that are not valid UTF-8 are skipped (Python's replacement rule is not
    llama.cpp's one U+FFFD per byte)."""
    name = "HF tokenizers"

    def __init__(self, path):
        import tokenizers
        self.tok = tokenizers.Tokenizer.from_file(path)

    def encode(self, data, special):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        # encode_special_tokens=True treats special added tokens as text, like
        # llama.cpp's parse_special=false (non-special added tokens still split).
        self.tok.encode_special_tokens = not special
        return self.tok.encode(text, add_special_tokens=False).ids

    def piece(self, t):
        return self.tok.id_to_token(t)


def describe_diff(ref_tok, chunk, ref, ours):
    i = next((k for k in range(min(len(ref), len(ours))) if ref[k] != ours[k]), min(len(ref), len(ours)))
    lo = max(0, i - 3)

    def pieces(ids):
        return " ".join(f"{t}:{ref_tok.piece(t)!r}" for t in ids)
    excerpt = chunk[:160]
    return (f"    text {excerpt!r}{'...' if len(chunk) > 160 else ''}\n"
            f"    first difference at token {i} ({ref_tok.name} {len(ref)} tokens, radlads {len(ours)})\n"
            f"    {ref_tok.name}: {pieces(ref[lo:i + 4])}\n"
            f"    radlads: {pieces(ours[lo:i + 4])}")


def compare(label, ref_tok, binary, model, chunks, jobs, tmpdir):
    """Returns the number of mismatching chunks over both special modes."""
    bad_total = 0
    for special in (True, False):
        ref = [ref_tok.encode(c, special) for c in chunks]
        todo = [k for k in range(len(chunks)) if ref[k] is not None]
        with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
            got = list(ex.map(lambda k: radlads_ids(binary, model, chunks[k], special, tmpdir, k), todo))
        ours = dict(zip(todo, got))
        bad = [k for k in todo if ref[k] != ours[k]]
        whole = b"".join(chunks[k] for k in todo)
        whole_ok = ref_tok.encode(whole, special) == radlads_ids(binary, model, whole, special, tmpdir, "whole")
        n_tok = sum(len(ref[k]) for k in todo)
        skipped = f" ({len(chunks) - len(todo)} invalid-UTF-8 chunks skipped)" if len(todo) < len(chunks) else ""
        print(f"[{label}] special={special}: {len(todo)} chunks{skipped}, {len(whole)} bytes, {n_tok} tokens: "
              f"{len(bad)} mismatching chunks; whole text {'matches' if whole_ok else 'MISMATCHES'}")
        for k in bad[:5]:
            print(f"  chunk {k}:\n{describe_diff(ref_tok, chunks[k], ref[k], ours[k])}")
        bad_total += len(bad) + (0 if whole_ok else 1)
    return bad_total


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "radlads"))
    ap.add_argument("--pre", action="append", default=[])
    ap.add_argument("--via-hf", action="store_true")
    ap.add_argument("--hf-ref", action="store_true")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--min-bytes", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    import gguf

    r = gguf.GGUFReader(args.model)
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    specials = [t for t, ty in zip(tokens, types) if ty in (3, 4)][:40]
    chunks = build_corpus(specials, args.min_bytes, args.sweep)
    print(f"corpus: {len(chunks)} chunks, {sum(len(c) for c in chunks)} bytes, "
          f"{len(specials)} special tokens embedded")

    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        # (label, reference tokenizer factory, model path given to radlads)
        runs = [("model", lambda: LlamaRef(args.model), args.model)]
        for pre in args.pre:
            path = os.path.join(tmp, f"vocab_{pre}.gguf")
            write_variant_gguf(args.model, pre, path)
            runs.append((f"pre={pre}", lambda p=path: LlamaRef(p), path))
        folder = os.path.join(tmp, "hf")
        if args.via_hf or args.hf_ref:
            write_hf_folder(args.model, folder)
        if args.via_hf:
            runs.append(("radlads on tokenizer.json vs llama.cpp", lambda: LlamaRef(args.model), folder))
        if args.hf_ref:
            runs.append(("radlads vs HF tokenizers", lambda: HfRef(os.path.join(folder, "tokenizer.json")),
                         args.model))
        for label, make_ref, our_model in runs:
            bad += compare(label, make_ref(), args.bin, our_model, chunks, args.jobs, tmp)
    print("OK: no mismatches" if bad == 0 else f"FAIL: {bad} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
