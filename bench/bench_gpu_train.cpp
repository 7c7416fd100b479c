// RADLADS steps 1 and 2 on a GPU at a real model's shape, random weights
// (no file to carry): whole optimiser steps (teacher forward, the student's
// forward and backward, the loss, the gradient norm, AdamW), all in GPU
// memory. Prints tokens/s, the model FLOPs they represent (train_flops.h),
// MFU against the card's dense bf16 peak (--peak-bf16, TFLOP/s; default the
// H100 SXM's 989) and the peak GPU memory of each step.
// usage: bench_gpu_train [--shape smollm2-135m|qwen2.5-1.5b] [--arch rad-rwkv6|rad-rwkv7]
//                        [--T 512] [--B 4] [--steps 3] [--teacher-gemm bf16|f32] [--peak-bf16 989]
// Exits 2 with one line when the build has no CUDA or no GPU is visible.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "core/error.h"
#include "engine/context.h"
#include "models/device_model.h"
#include "models/student_weights.h"
#include "train/adamw.h"
#include "train/objective.h"
#include "train/param_set.h"
#include "shape_configs.h"
#include "train_flops.h"

using namespace radlads;

int main(int argc, char** argv) {
  std::string shape = "smollm2-135m", arch = "rad-rwkv7", teacher_gemm = "bf16";
  int T = 512, B = 4, steps = 3;
  double peak = 989;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) {
      fmt::print(stderr, "bench_gpu_train: {} needs a value\n", argv[i]);
      return 2;
    }
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--shape") shape = v;
    else if (k == "--arch") arch = v;
    else if (k == "--T") T = std::atoi(v.c_str());
    else if (k == "--B") B = std::atoi(v.c_str());
    else if (k == "--steps") steps = std::atoi(v.c_str());
    else if (k == "--teacher-gemm") teacher_gemm = v;
    else if (k == "--peak-bf16") peak = std::atof(v.c_str());
    else {
      fmt::print(stderr, "bench_gpu_train: unknown argument {}\n", k);
      return 2;
    }
  }
  try {
    if (cuda_device_count() == 0)
      fail("bench_gpu_train: no CUDA GPU is visible{}", cuda_built() ? "" : " (and this build has no CUDA)");
    const Backend& be = cuda_backend(0);
    const TeacherGemm tg = teacher_gemm_from_name(teacher_gemm, be);
    const TeacherConfig c = bench::shape_config(shape);
    const auto t0 = std::chrono::steady_clock::now();
    Model teacher = random_teacher(c, 1);
    Model student = init_student(teacher, StudentOptions::defaults(student_arch_from_name(arch), c), 1);
    const Model dt = model_on_device(teacher, be);
    Model ds = model_on_device(student, be);
    fmt::print("{}\n{} teacher ({:.0f} M params, random) → {} student ({:.0f} M), T {} × B {}, teacher GEMMs {}, "
               "set up in {:.1f} s\n",
               cuda_device_summary(), shape, teacher.n_params() / 1e6, arch, student.n_params() / 1e6, T, B,
               teacher_gemm_name(tg), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::vector<int32_t> win(size_t(B) * (T + 1));
    for (size_t i = 0; i < win.size(); i++) win[i] = int32_t((uint64_t(i) * 7919 + 13) % uint64_t(c.n_vocab));
    const bench::StepFlops sf = bench::step_flops(c, student, T);
    float sink = 0;
    for (int which = 0; which < 2; which++) {
      const bool align = which == 0;
      cuda_reset_memory_high_water();
      ParamSet p(be, ds, [&](const std::string& n) { return !align || is_time_mix_param(ds, n); });
      AdamW opt(p, AdamWConfig{});
      auto obj = align ? make_align_objective(be, dt, ds, tg) : make_distill_objective(be, &dt, ds, 1, 0, tg);
      const float scale = float(1.0 / double(obj->rows_per_window(T) * B));
      double best = 1e30;
      for (int s = 0; s < steps + 1; s++) {  // the first step warms up allocations and cuBLAS
        const auto a = std::chrono::steady_clock::now();
        p.zero_grad();
        obj->accumulate(win.data(), B, T, scale, &p.grads);
        p.grad_norm();
        opt.step(p, 1e-5);
        be.to_host(&sink, p.grads.flat(), sizeof sink);  // waits for the step's last kernel
        const double dt_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
        if (s > 0) best = std::min(best, dt_s);
      }
      const double tokens = double(B) * T, flops = (align ? sf.step1 : sf.step2) * tokens;
      fmt::print("step {} ({:7s})  {:9.0f} tokens/s  {:7.1f} TFLOP/s model FLOPs  MFU {:5.1f}% of {:.0f}  "
                 "({:.3f} s/step, {:.2f} GFLOP/token)  peak GPU memory {:.1f} GiB\n",
                 which + 1, align ? "align" : "distill", tokens / best, flops / best / 1e12,
                 100 * flops / best / 1e12 / peak, peak, best, flops / tokens / 1e9,
                 double(cuda_memory_high_water()) / double(1 << 30));
    }
  } catch (const Error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 2;
  }
  return 0;
}
