// Student vs teacher decoding: prefill tokens/s (B*T = 512), decode tokens/s at
// context 4096 for both, and the student's memory at 256 vs 8192 tokens of
// context (state bytes and process RSS) — constant for a pure RNN student, a
// growing KV cache for the teacher.
// usage: bench_student TEACHER [rad-rwkv6|rad-rwkv7] [--threads N]
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
#include "infer/language_model.h"
#include "models/student_weights.h"

using namespace radlads;

// Feeds n tokens in chunks of 512 (bounded scratch), returns seconds.
static double prefill(DecodeState& st, const std::vector<int32_t>& toks, int n, float* logits) {
  double t0 = now_seconds();
  for (int i = 0; i < n; i += 512) st.feed(toks.data() + i, std::min(512, n - i), logits);
  return now_seconds() - t0;
}

static double decode_rate(DecodeState& st, const std::vector<int32_t>& toks, int steps, float* logits) {
  double t0 = now_seconds();
  for (int s = 0; s < steps; s++) st.feed(&toks[size_t(st.n_past() % 4096)], 1, logits);
  return steps / (now_seconds() - t0);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TEACHER [rad-rwkv6|rad-rwkv7] [--threads N]\n", argv[0]);
    return 2;
  }
  std::string arch = argc >= 3 && argv[2][0] != '-' ? argv[2] : "rad-rwkv7";
  int threads = 0;
  for (int i = 2; i + 1 < argc; i++)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  const ExecContext ctx = ExecContext::local(threads);
  try {
    fmt::print("{}\n", system_line());
    const double sgemm = measure_sgemm_ceiling().gflops;
    Model teacher = open_model(argv[1]);
    Model student_model = init_student(teacher, StudentOptions::defaults(student_arch_from_name(arch), teacher.cfg), 1);
    auto t = make_language_model(cpu_backend(), std::move(teacher));
    auto s = make_language_model(cpu_backend(), std::move(student_model));
    const int V = t->n_vocab();
    std::vector<int32_t> toks(8192);
    for (size_t i = 0; i < toks.size(); i++) toks[i] = int32_t((i * 7919) % size_t(V));
    std::vector<float> logits(size_t(512) * V);
    fmt::print("threads {}  sgemm ceiling {:.1f} GFLOP/s  student {}\n", ctx.threads, sgemm, arch);
    for (auto [name, lm] : {std::pair{"teacher", t.get()}, std::pair{"student", s.get()}}) {
      double best = 1e30;
      for (int r = 0; r < 2; r++) {
        double t0 = now_seconds();
        lm->score(toks.data(), 1, 512, logits.data());
        best = std::min(best, now_seconds() - t0);
      }
      auto st = lm->new_state(4096 + 64);
      prefill(*st, toks, 4096, logits.data());
      const double rate = decode_rate(*st, toks, 32, logits.data());
      fmt::print("{:8s} prefill B*T=512 {:8.1f} tokens/s   decode at ctx 4096 {:6.1f} tokens/s   state {:.1f} MB\n",
                 name, 512 / best, rate, double(st->state_bytes()) / 1e6);
    }
    // Student memory vs context: state bytes and RSS after 256 and 8192 tokens.
    for (int ctx : {256, 8192}) {
      auto st = s->new_state(ctx + 1);
      const double secs = prefill(*st, toks, ctx, logits.data());
      fmt::print("student  ctx {:5d}: state {:.2f} MB, RSS {:.0f} MB (prefill {:.1f} s)\n", ctx,
                 double(st->state_bytes()) / 1e6, double(rss_bytes()) / 1e6, secs);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_student: %s\n", e.what());
    return 2;
  }
  return 0;
}
