// One model file's inference speed as `radlads generate` runs it: prefill of
// P tokens (one call), then K decode steps of one token, with the linear
// weights held as --dtype. Prints one JSON line: tokens/s of both, the
// weight bytes a decode step reads (every tensor but the embedding table, at
// the format it is held in; a tied head counted once) and that traffic as
// GB/s against the triad bandwidth measured in the same run.
// bench/decode_vs_llamacpp.py runs it beside llama.cpp on the same files.
// usage: bench_decode MODEL [--dtype f32|f16|bf16|q8_0|q4_0|stored] [--threads N] [--prompt P] [--tokens K]
#include <fmt/format.h>

#include <cstring>
#include <string>
#include <vector>

#include "backend/cpu/sgemm_ceiling.h"
#include "core/error.h"
#include "core/sysinfo.h"
#include "engine/context.h"
#include "infer/language_model.h"

using namespace radlads;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [--dtype T] [--threads N] [--prompt P] [--tokens K]\n", argv[0]);
    return 2;
  }
  std::string dtype = "f32";
  int threads = 0, prompt = 512, tokens = 64;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dtype")) dtype = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--prompt")) prompt = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--tokens")) tokens = std::atoi(argv[i + 1]);
  }
  const ExecContext ctx = ExecContext::local(threads);
  try {
    InferOptions o;
    if (dtype == "stored") o.stored = true;  // a teacher's file blocks as they are
    else o.weights = weight_format_from_name(dtype);  // as the CLI does (cli/infer_flags.h)
    auto lm = open_language_model(cpu_backend(), argv[1], o);
    const Model& m = lm->model();
    // Bytes a decode step reads: every tensor but the embedding table (one
    // row), fp32 unless the frozen set holds it; a tied head is the table.
    const float* embed = m.w("model.embed_tokens.weight").ptr();
    const bool tied = m.find("lm_head.weight") == nullptr || m.w("lm_head.weight").ptr() == embed;
    double f32_elems = 0;
    double stored_bytes = 0;  // --dtype stored: the held blocks instead of their fp32 tensors
    for (const auto& [name, t] : m.weights)
      if (t.ptr() != embed && !m.stored.count(name)) f32_elems += double(t.numel());
    for (const auto& [name, w] : m.stored)
      if (m.w(name).ptr() != embed) stored_bytes += double(w.bytes.size());
    double bytes = 4 * f32_elems + stored_bytes;
    if (const Backend::FrozenWeights* f = lm->frozen())
      bytes += double(f->bytes()) - 4 * (double(f->elements()) - (tied ? double(m.w("model.embed_tokens.weight").numel()) : 0));
    else if (tied)
      bytes += 4 * double(m.w("model.embed_tokens.weight").numel());
    const int V = lm->n_vocab();
    std::vector<int32_t> toks(size_t(prompt + tokens));
    for (size_t i = 0; i < toks.size(); i++) toks[i] = int32_t((i * 7919 + 13) % size_t(V));
    std::vector<float> logits(static_cast<size_t>(V));
    auto st = lm->new_state(prompt + tokens + 1);
    double t0 = now_seconds();
    st->feed(toks.data(), prompt, logits.data());
    const double prefill = now_seconds() - t0;
    t0 = now_seconds();
    for (int k = 0; k < tokens; k++) st->feed(&toks[size_t(prompt + k)], 1, logits.data());
    const double decode = now_seconds() - t0;
    const double triad = measure_triad_gbps();
    const double dtps = tokens / decode;
    fmt::print(
        "{{\"model\": \"{}\", \"dtype\": \"{}\", \"threads\": {}, \"prefill_tokens_per_s\": {:.2f}, "
        "\"decode_tokens_per_s\": {:.2f}, \"bytes_per_token\": {:.0f}, \"decode_gbps\": {:.2f}, \"triad_gbps\": {:.2f}, "
        "\"rss_mb\": {:.0f}}}\n",
        argv[1], dtype, ctx.threads, prompt / prefill, dtps, bytes, bytes * dtps / 1e9, triad, double(rss_bytes()) / 1e6);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_decode: %s\n", e.what());
    return 2;
  }
  return 0;
}
