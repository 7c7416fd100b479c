// Teacher throughput: prefill tokens/s at B*T = 512, decode tokens/s at
// context 0, 512 and 2048, the GFLOP/s the prefill reaches, and the machine's
// own sgemm GFLOP/s measured in the same run (the ceiling).
// usage: bench_teacher MODEL [--threads N]
#include <fmt/format.h>
#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "backend/backend.h"
#include "core/sysinfo.h"
#include "backend/cpu/sgemm_ceiling.h"
#include "engine/context.h"
#include "models/teacher.h"

using namespace radlads;

// Model FLOPs of a prefill of T tokens (matmuls incl. lm_head + attention).
static double prefill_flops(const TeacherConfig& c, int T) {
  const double C = c.n_embd, QD = double(c.n_head) * c.head_dim, KD = double(c.n_head_kv) * c.head_dim;
  const double per_tok_layer = 2 * (C * QD + 2 * C * KD + QD * C + 3 * C * c.n_ff);
  const double attn_layer = 2.0 * 2.0 * c.n_head * c.head_dim * (double(T) * (T + 1) / 2);
  return c.n_layer * (T * per_tok_layer + attn_layer) + 2.0 * T * C * c.n_vocab;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [--threads N]\n", argv[0]);
    return 2;
  }
  const ExecContext ctx =
      ExecContext::local(argc >= 4 && std::strcmp(argv[2], "--threads") == 0 ? std::atoi(argv[3]) : 0);
  try {
    fmt::print("{}\n", system_line());
    const double sgemm = measure_sgemm_ceiling().gflops;
    Model m = open_model(argv[1]);
    Teacher t(cpu_backend(), m);
    const TeacherConfig& c = t.cfg();
    fmt::print("threads {}  sgemm ceiling {:.1f} GFLOP/s  model {} ({:.1f} M params)\n", ctx.threads,
               sgemm, argv[1], m.n_params() / 1e6);
    const int T = 512;
    std::vector<int32_t> toks(size_t(4096));
    for (size_t i = 0; i < toks.size(); i++) toks[i] = int32_t((i * 7919) % size_t(c.n_vocab));
    std::vector<float> logits(size_t(T) * c.n_vocab);
    // Prefill: B*T = 512 as 1 x 512, all logits (what training and perplexity need).
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
      KVCache kv(c, T);
      double t0 = now_seconds();
      t.forward(toks.data(), 1, T, &kv, logits.data(), Teacher::Logits::All);
      best = std::min(best, now_seconds() - t0);
    }
    const double gf = prefill_flops(c, T) / best / 1e9;
    fmt::print("prefill  B*T=512  {:8.1f} tokens/s  {:6.1f} GFLOP/s  ({:.0f}% of sgemm)\n", T / best, gf,
               100 * gf / sgemm);
    for (int ctx : {0, 512, 2048}) {
      const int steps = 32;
      KVCache kv(c, ctx + steps + 1);
      if (ctx > 0) t.forward(toks.data(), 1, ctx, &kv, nullptr, Teacher::Logits::None);
      std::vector<float> last(size_t(c.n_vocab));
      double t0 = now_seconds();
      for (int s = 0; s < steps; s++) t.forward(&toks[size_t(ctx + s)], 1, 1, &kv, last.data(), Teacher::Logits::Last);
      double dt = now_seconds() - t0;
      fmt::print("decode   ctx={:<5d} {:8.1f} tokens/s  KV cache {:.1f} MB\n", ctx, steps / dt,
                 double(kv.bytes()) / 1e6);
    }
    fmt::print("peak RSS {:.0f} MB\n", double(peak_rss_bytes()) / 1e6);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_teacher: %s\n", e.what());
    return 2;
  }
  return 0;
}
