// Training throughput of RADLADS steps 1 and 2 on a real teacher: tokens/s of
// whole optimiser steps (forwards, backwards, AdamW) at T = 512, the model
// FLOPs they represent, and that as a fraction of the machine's sgemm GFLOP/s
// measured in the same run (the ceiling). Also a per-phase breakdown of one
// step-2 micro-batch (teacher forward, student forward, loss, backward).
// usage: bench_train MODEL [--arch rad-rwkv6|rad-rwkv7] [--threads N] [--steps S] [--T 512]
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
#include "models/student_weights.h"
#include "train/adamw.h"
#include "train/objective.h"
#include "train/param_set.h"
#include "train_flops.h"

using namespace radlads;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [--arch rad-rwkv6|rad-rwkv7] [--threads N] [--steps S] [--T 512] [--teacher-gemm auto|f32|bf16]\n", argv[0]);
    return 2;
  }
  std::string arch = "rad-rwkv7", teacher_gemm = "auto";
  int steps = 2, T = 512, threads = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--arch")) arch = argv[i + 1];
    else if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--T")) T = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--teacher-gemm")) teacher_gemm = argv[i + 1];
  }
  const ExecContext ctx = ExecContext::local(threads);
  try {
    fmt::print("{}\n", system_line());
    const SgemmCeiling ceil = measure_sgemm_ceiling();
    const double sgemm = ceil.gflops;
    const TeacherGemm tg = teacher_gemm_from_name(teacher_gemm, cpu_backend());
    fmt::print("sgemm ceiling {:.1f} GFLOP/s ({}; ours {:.1f}, OpenBLAS {:.1f}; best of n = 1024, 2048)  teacher GEMMs {}\n",
               sgemm, ceil.which, ceil.ours, ceil.openblas, teacher_gemm_name(tg));
    Model teacher = open_model(argv[1]);
    const TeacherConfig& c = teacher.cfg;
    Model student = init_student(teacher, StudentOptions::defaults(student_arch_from_name(arch), c), 1);
    fmt::print("threads {}  sgemm ceiling {:.1f} GFLOP/s  teacher {}  student {} ({:.1f} M params)  T {}\n",
               ctx.threads, sgemm, argv[1], arch, student.n_params() / 1e6, T);
    std::vector<int32_t> win(size_t(T + 1));
    for (int i = 0; i <= T; i++) win[size_t(i)] = int32_t((uint64_t(i) * 7919 + 13) % uint64_t(c.n_vocab));

    const bench::StepFlops sf = bench::step_flops(c, student, T);
    const double step1_flops = sf.step1, step2_flops = sf.step2;

    for (int which = 0; which < 2; which++) {
      const bool align = which == 0;
      ParamSet p(cpu_backend(), student, [&](const std::string& n) { return !align || is_time_mix_param(student, n); });
      AdamW opt(p, AdamWConfig{});
      auto obj = align ? make_align_objective(cpu_backend(), teacher, student, tg) : make_distill_objective(cpu_backend(), &teacher, student, 1, 0, tg);
      const float scale = float(1.0 / double(obj->rows_per_window(T)));
      double best = 1e30;
      for (int s = 0; s < steps + 1; s++) {  // the first step warms up allocations
        const double t0 = now_seconds();
        p.zero_grad();
        obj->accumulate(win.data(), 1, T, scale, &p.grads);
        p.grad_norm();
        opt.step(p, 1e-5);
        const double dt = now_seconds() - t0;
        if (s > 0) best = std::min(best, dt);
      }
      const double flops = (align ? step1_flops : step2_flops) * T;
      const double gf = flops / best / 1e9;
      fmt::print("step {} ({:7s})  {:8.1f} tokens/s  {:6.1f} GFLOP/s model FLOPs  {:5.1f}% of sgemm  ({:.2f} s/step of {} tokens, {:.2f} GFLOP/token)\n",
                 which + 1, align ? "align" : "distill", T / best, gf, 100 * gf / sgemm, best, T,
                 flops / T / 1e9);
    }
    fmt::print("peak RSS {:.0f} MB\n", peak_rss_bytes() / 1e6);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
