// The CUDA backend's heavy ops on the GPU, at the shapes a conversion runs
// (a Qwen2.5-1.5B-sized layer by default: C = 1536, 12 heads of 128 with 2
// KV heads for attention, 24 heads of 64 for the students' WKV, V = 151936):
//   - fp32 GEMM (TF32 tensor cores, the default) and the frozen bf16 view's
//     GEMM: TFLOP/s and the fraction of the card's dense peak (--peak-tf32,
//     --peak-bf16, TFLOP/s; defaults are the H100 SXM's 495 / 989);
//   - WKV6 and WKV7 forward and backward, B × T tokens: tokens/s and GFLOP/s
//     (bench_wkv.cpp's FLOP conventions);
//   - the full-vocabulary KL (forward + gradient): rows/s and GB/s against
//     the bytes it must move (read student and teacher, write the gradient);
//   - causal attention forward and backward: tokens/s.
// Each op runs once to warm up, then --reps times between two stream syncs.
// usage: bench_gpu_ops [--reps R] [--B 8] [--T 512] [--rows 2048] [--json]
// Exits 2 with one line when the build has no CUDA or no GPU is visible.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

using namespace radlads;

namespace {

struct Buf {
  const Backend& be;
  float* p;
  Buf(const Backend& be, size_t n, uint64_t seed, float lo, float hi) : be(be) {
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> h(n);
    for (auto& x : h) x = d(g);
    p = static_cast<float*>(be.alloc(n * sizeof(float)));
    be.to_device(p, h.data(), n * sizeof(float));
  }
  ~Buf() { be.free(p); }
};

// Seconds per call: one warm-up, then reps calls between syncs.
double time_op(const Backend& be, int reps, const std::function<void()>& f) {
  float sink = 0;
  static float* probe = static_cast<float*>(be.alloc(sizeof(float)));
  f();
  be.to_host(&sink, probe, sizeof sink);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; i++) f();
  be.to_host(&sink, probe, sizeof sink);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 10, B = 8, T = 512, rows = 2048;
  double peak_tf32 = 495, peak_bf16 = 989;
  bool json = false;
  for (int i = 1; i < argc; i++) {
    auto next = [&] { return i + 1 < argc ? argv[++i] : (fmt::print(stderr, "{} needs a value\n", argv[i]), exit(2), ""); };
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(next());
    else if (!std::strcmp(argv[i], "--B")) B = std::atoi(next());
    else if (!std::strcmp(argv[i], "--T")) T = std::atoi(next());
    else if (!std::strcmp(argv[i], "--rows")) rows = std::atoi(next());
    else if (!std::strcmp(argv[i], "--peak-tf32")) peak_tf32 = std::atof(next());
    else if (!std::strcmp(argv[i], "--peak-bf16")) peak_bf16 = std::atof(next());
    else if (!std::strcmp(argv[i], "--json")) json = true;
    else {
      fmt::print(stderr, "bench_gpu_ops: unknown argument {}\n", argv[i]);
      return 2;
    }
  }
  try {
    if (cuda_device_count() == 0) fail("bench_gpu_ops: no CUDA GPU is visible{}", cuda_built() ? "" : " (and this build has no CUDA)");
    const Backend& be = cuda_backend(0);
    std::vector<std::string> lines;
    auto row = [&](const std::string& name, double sec, const std::string& what) {
      lines.push_back(fmt::format("{{\"op\": \"{}\", \"ms\": {:.4f}, \"figure\": \"{}\"}}", name, sec * 1e3, what));
      if (!json) fmt::print("{:<28} {:>10.3f} ms   {}\n", name, sec * 1e3, what);
    };
    if (!json) fmt::print("{}\n", cuda_device_summary());

    {  // GEMMs: a 1.5B MLP projection over `rows` tokens
      const int M = rows, K = 1536, N = 8960;
      Buf a(be, size_t(M) * K, 1, -1, 1), w(be, size_t(N) * K, 2, -1, 1), c(be, size_t(M) * N, 3, 0, 0);
      const double flop = 2.0 * M * N * K;
      double s = time_op(be, reps, [&] { be.matmul_forward(c.p, a.p, w.p, nullptr, M, K, N); });
      row("matmul fp32 (TF32)", s, fmt::format("{:.1f} TFLOP/s, {:.0f}% of {:.0f}", flop / s / 1e12,
                                               100 * flop / s / 1e12 / peak_tf32, peak_tf32));
      auto fw = be.frozen_weights(WeightFormat::BF16);
      fw->add(w.p, N, K);
      s = time_op(be, reps, [&] { fw->backend().matmul_forward(c.p, a.p, w.p, nullptr, M, K, N); });
      row("matmul frozen bf16", s, fmt::format("{:.1f} TFLOP/s, {:.0f}% of {:.0f}", flop / s / 1e12,
                                               100 * flop / s / 1e12 / peak_bf16, peak_bf16));
    }
    {  // WKV: B × T tokens of 24 heads of 64
      const int H = 24, N = 64;
      const size_t n = size_t(B) * T * H * N, ns = size_t(B) * H * N * N;
      Buf r(be, n, 4, -1, 1), k(be, n, 5, -1, 1), v(be, n, 6, -1, 1), lw(be, n, 7, -5, 0), w(be, n, 8, 0.55f, 0.99f),
          a(be, n, 9, -0.1f, 0), b(be, n, 10, 0, 0.1f), o(be, n, 11, 0, 0), dy(be, n, 12, -1, 1), s(be, ns, 13, 0, 0);
      Buf g1(be, n, 0, 0, 0), g2(be, n, 0, 0, 0), g3(be, n, 0, 0, 0), g4(be, n, 0, 0, 0), g5(be, n, 0, 0, 0),
          g6(be, n, 0, 0, 0);
      const double tok = double(B) * T, hn2 = double(H) * N * N;
      auto fig = [&](double sec, double flop_per_hn2) {
        return fmt::format("{:.0f} ktok/s, {:.0f} GFLOP/s", tok / sec / 1e3, tok * hn2 * flop_per_hn2 / sec / 1e9);
      };
      double t = time_op(be, reps, [&] { be.wkv6_forward(o.p, nullptr, r.p, k.p, v.p, lw.p, B, T, H, N, 0.125f); });
      row("wkv6 forward", t, fig(t, 5));
      t = time_op(be, reps, [&] {
        be.wkv6_backward(g1.p, g2.p, g3.p, g4.p, nullptr, dy.p, nullptr, r.p, k.p, v.p, lw.p, nullptr, B, T, H, N,
                         0.125f);
      });
      row("wkv6 backward", t, fig(t, 16));
      t = time_op(be, reps, [&] { be.wkv7_forward(o.p, nullptr, r.p, w.p, k.p, v.p, a.p, b.p, B, T, H, N, 0.125f); });
      row("wkv7 forward", t, fig(t, 9));
      t = time_op(be, reps, [&] {
        be.wkv7_backward(g1.p, g2.p, g3.p, g4.p, g5.p, g6.p, nullptr, dy.p, nullptr, r.p, w.p, k.p, v.p, a.p, b.p,
                         nullptr, B, T, H, N, 0.125f);
      });
      row("wkv7 backward", t, fig(t, 26));
    }
    {  // KL over the full vocabulary
      const int64_t V = 151936;
      Buf st(be, size_t(rows) * V, 14, -8, 8), te(be, size_t(rows) * V, 15, -8, 8), g(be, size_t(rows) * V, 0, 0, 0);
      const double t = time_op(be, reps, [&] { be.kl_divergence(g.p, st.p, te.p, rows, V, 1.0f); });
      const double bytes = 3.0 * rows * V * 4;  // the least it moves: read s, t, write g
      row("kl_divergence", t, fmt::format("{:.0f} rows/s, {:.0f} GB/s of the 3 passes' minimum", rows / t,
                                          bytes / t / 1e9));
    }
    {  // attention over T tokens, 12 heads of 128, 2 KV heads
      const int H = 12, KVH = 2, N = 128;
      Buf q(be, size_t(T) * H * N, 16, -1, 1), k(be, size_t(T) * KVH * N, 17, -1, 1), v(be, size_t(T) * KVH * N, 18, -1, 1),
          o(be, size_t(T) * H * N, 0, 0, 0), dq(be, size_t(T) * H * N, 0, 0, 0), dk(be, size_t(T) * KVH * N, 0, 0, 0),
          dv(be, size_t(T) * KVH * N, 0, 0, 0);
      double t = time_op(be, reps, [&] { be.attention_forward(o.p, q.p, k.p, v.p, T, T, H, KVH, N, KVH * N); });
      row("attention forward", t, fmt::format("{:.0f} ktok/s", T / t / 1e3));
      t = time_op(be, reps, [&] { be.attention_backward(dq.p, dk.p, dv.p, o.p, q.p, k.p, v.p, T, H, KVH, N); });
      row("attention backward", t, fmt::format("{:.0f} ktok/s", T / t / 1e3));
    }
    if (json) {
      fmt::print("{{\"device\": \"{}\", \"B\": {}, \"T\": {}, \"rows\": {}, \"ops\": [", cuda_device_summary(), B, T, rows);
      for (size_t i = 0; i < lines.size(); i++) fmt::print("{}{}", i ? ", " : "", lines[i]);
      fmt::print("]}}\n");
    }
  } catch (const Error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 2;
  }
  return 0;
}
