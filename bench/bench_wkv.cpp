// WKV6 / WKV7 throughput at B=1, T=512, H=9, N=64 (a SmolLM2-135M-sized
// layer): tokens/s and GFLOP/s of the naive oracle, the fast forward and the
// backward, and the naive:fast ratio, all measured in the same run. Two
// experiments back the kernel choices in src/ops (kept here, CONVENTIONS 14):
//  - wkv6 sequential: the plain per-token recurrence, vectorised along the
//    value axis, against the chunked wkv6_forward;
//  - wkv7 chunked lower bound: only the sgemms a chunked WY form of WKV7 must
//    do (4 inter-chunk, then also 7 intra-chunk), against the sequential
//    wkv7_forward. If they alone are not faster, no chunked form can be.
// FLOP conventions (per token and head, those of the sequential recurrence):
// wkv6 forward 5N² (decay, kᵀv, add: 3N²; readout 2N²), backward 16N²;
// wkv7 forward 9N² (S a 2N², update 5N², readout 2N²), backward 26N².
// On a shared machine read the cpu column with --threads 1: wall time then
// includes waiting for a core.
// usage: bench_wkv [--threads N] [--reps R]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <vector>

#include "core/sysinfo.h"
#include "backend/cpu/sgemm_ceiling.h"
#include "engine/context.h"
#include "backend/cpu/blas.h"
#include "backend/cpu/wkv6.h"
#include "backend/cpu/wkv6_chunk.h"  // exp_array, for the sequential experiment
#include "backend/cpu/wkv7.h"

using namespace radlads;

static std::vector<float> rnd(size_t n, uint64_t seed, float lo, float hi) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

static int g_reps = 5;

static double cpu_seconds() {  // this process, all threads
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

struct Timing {
  double wall, cpu;  // best of g_reps, seconds
};

// Best wall and best CPU time of g_reps runs after one warm-up. On a shared
// machine the wall time includes waiting for a core; with one thread the CPU
// time is what the kernel costs on an idle core (with more, it also counts
// OpenMP spin-waits, so read the wall column then).
static Timing best_time(const std::function<void()>& f) {
  f();
  Timing best{1e30, 1e30};
  for (int i = 0; i < g_reps; i++) {
    const double t0 = now_seconds(), c0 = cpu_seconds();
    f();
    best.wall = std::min(best.wall, now_seconds() - t0);
    best.cpu = std::min(best.cpu, cpu_seconds() - c0);
  }
  return best;
}

// Rates from the CPU time divided by the threads the kernel uses: the
// idle-machine rate for one thread, a lower bound on it for more (the CPU time
// then also counts OpenMP spin-waits).
static void report(const char* name, Timing t, double tokens, double flops, int threads) {
  const double sec = t.cpu / threads;
  fmt::print("  {:<34} wall {:8.3f} ms  cpu {:8.3f} ms  {:9.0f} tok/s  {:6.2f} GFLOP/s\n", name,
             t.wall * 1e3, t.cpu * 1e3, tokens / sec, flops / sec / 1e9);
}

// Experiment: the plain sequential WKV6, key-major state, vectorised over j,
// with the same vectorised exp as the chunked kernel.
static void wkv6_sequential(float* out, float* state, const float* r, const float* k,
                            const float* v, const float* logw, int B, int T, int H, int N,
                            float scale) {
  const int64_t rs = int64_t(H) * N, NN = int64_t(N) * N;
#pragma omp parallel
  {
    std::vector<float> w(size_t(N), 0.0f);
#pragma omp for schedule(dynamic)
    for (int bh = 0; bh < B * H; bh++) {
      const int b = bh / H, h = bh % H;
      float* S = state + bh * NN;
      for (int t = 0; t < T; t++) {
        const int64_t o = (int64_t(b) * T + t) * rs + int64_t(h) * N;
        float* ot = out + o;
        const float* vt = v + o;
        wkv6_detail::exp_array(w.data(), logw + o, N);
        std::fill_n(ot, N, 0.0f);
        for (int i = 0; i < N; i++) {
          const float wi = w[size_t(i)], ki = k[o + i], qi = r[o + i] * scale;
          float* si = S + int64_t(i) * N;
#pragma omp simd
          for (int j = 0; j < N; j++) {
            si[j] = si[j] * wi + ki * vt[j];
            ot[j] += qi * si[j];
          }
        }
      }
    }
  }
}

// Experiment: the sgemms a chunked (WY) WKV7 cannot avoid, per chunk of L
// and head. Inter-chunk: r·S0 and a·S0 (L×N×N), and the state update's kᵀv
// and bᵀu (N×L×N). With intra: the four L×L scores a·b, a·k, r·k, r·b (L×N×L)
// and their products with V, U (three L×L×N). Left out, so this is a lower
// bound: the decay factors, the triangular solve for U, every elementwise op.
static void wkv7_chunk_gemms(int B, int T, int H, int N, int L, bool intra, const float* X,
                             float* Y) {
  const int nc = (T + L - 1) / L;
#pragma omp parallel for schedule(dynamic)
  for (int bh = 0; bh < B * H; bh++) {
    std::vector<float> S(size_t(N) * N, 0.01f), o(size_t(L) * N), P(size_t(L) * L);
    for (int c = 0; c < nc; c++) {
      const float* x = X + size_t(c % 4) * L * N;
      gemm<float>(false, false, L, N, N, 1, x, N, S.data(), N, 0, o.data(), N);
      gemm<float>(false, false, L, N, N, 1, x, N, S.data(), N, 1, o.data(), N);
      gemm<float>(true, false, N, N, L, 1, x, N, o.data(), N, 1, S.data(), N);
      gemm<float>(true, false, N, N, L, 1, x, N, o.data(), N, 1, S.data(), N);
      if (!intra) continue;
      for (int m = 0; m < 4; m++)
        gemm<float>(false, true, L, L, N, 1, x, N, o.data(), N, 0, P.data(), L);
      for (int m = 0; m < 3; m++)
        gemm<float>(false, false, L, N, L, 1, P.data(), L, x, N, 1, o.data(), N);
    }
    Y[bh] = S[0];
  }
}

int main(int argc, char** argv) {
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads"))
      threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps"))
      g_reps = std::max(1, std::atoi(argv[i + 1]));
  }
  const int B = 1, T = 512, H = 9, N = 64;
  const size_t n = size_t(B) * T * H * N, ns = size_t(B) * H * N * N;
  const double tok = double(B) * T, th = double(B) * T * H, NN = double(N) * N;
  const ExecContext ctx = ExecContext::local(threads);
  const int nt = ctx.threads;
  fmt::print("{}\n", system_line());
  fmt::print(
      "bench_wkv: B={} T={} H={} N={}  threads {}  best of {}  sgemm ceiling {:.1f} GFLOP/s\n", B,
      T, H, N, nt, g_reps, measure_sgemm_ceiling(2).gflops);

  auto r = rnd(n, 1, -1, 1), k = rnd(n, 2, -1, 1), v = rnd(n, 3, -1, 1),
       logw = rnd(n, 4, -5.0f, -0.01f), dout = rnd(n, 5, -1, 1), s0 = rnd(ns, 6, -0.5f, 0.5f);
  std::vector<float> out(n), st(ns), d1(n), d2(n), d3(n), d4(n), d5(n), d6(n), ds(ns);
  const float scale = 1.0f / std::sqrt(float(N));

  fmt::print("wkv6\n");
  const Timing t6n = best_time([&] {
    st = s0;
    wkv6_forward_naive(out.data(), st.data(), r.data(), k.data(), v.data(), logw.data(), B, T, H, N,
                       scale);
  });
  const Timing t6f = best_time([&] {
    st = s0;
    wkv6_forward(out.data(), st.data(), r.data(), k.data(), v.data(), logw.data(), B, T, H, N,
                 scale);
  });
  const Timing t6s = best_time([&] {
    st = s0;
    wkv6_sequential(out.data(), st.data(), r.data(), k.data(), v.data(), logw.data(), B, T, H, N,
                    scale);
  });
  const Timing t6b = best_time([&] {
    wkv6_backward(d1.data(), d2.data(), d3.data(), d4.data(), ds.data(), dout.data(), nullptr,
                  r.data(), k.data(), v.data(), logw.data(), s0.data(), B, T, H, N, scale);
  });
  report("naive forward (1 thread, double)", t6n, tok, 5 * NN * th, 1);
  report("chunked forward", t6f, tok, 5 * NN * th, nt);
  report("backward", t6b, tok, 16 * NN * th, nt);
  report("[exp] sequential forward", t6s, tok, 5 * NN * th, nt);
  fmt::print("  naive / chunked forward = {:.1f}x   sequential / chunked = {:.2f}x (cpu time)\n",
             t6n.cpu / t6f.cpu, t6s.cpu / t6f.cpu);

  // WKV7 inputs as the model makes them: w ∈ (0.545, 1), a = −κ, b = κ·σ.
  auto w = rnd(n, 7, 0.545f, 1.0f), a = rnd(n, 8, -1, 1), b = a;
  for (size_t row = 0; row < n; row += size_t(N)) {
    float nrm = 0;
    for (int i = 0; i < N; i++) nrm += a[row + i] * a[row + i];
    nrm = std::sqrt(nrm);
    for (int i = 0; i < N; i++) {
      a[row + i] = -a[row + i] / nrm;
      b[row + i] = -a[row + i] * 0.5f;
    }
  }
  fmt::print("wkv7\n");
  const Timing t7n = best_time([&] {
    st = s0;
    wkv7_forward_naive(out.data(), st.data(), r.data(), w.data(), k.data(), v.data(), a.data(),
                       b.data(), B, T, H, N, scale);
  });
  const Timing t7f = best_time([&] {
    st = s0;
    wkv7_forward(out.data(), st.data(), r.data(), w.data(), k.data(), v.data(), a.data(), b.data(),
                 B, T, H, N, scale);
  });
  const Timing t7b = best_time([&] {
    wkv7_backward(d1.data(), d2.data(), d3.data(), d4.data(), d5.data(), d6.data(), ds.data(),
                  dout.data(), nullptr, r.data(), w.data(), k.data(), v.data(), a.data(), b.data(),
                  s0.data(), B, T, H, N, scale);
  });
  report("naive forward (1 thread, double)", t7n, tok, 9 * NN * th, 1);
  report("sequential forward", t7f, tok, 9 * NN * th, nt);
  report("backward", t7b, tok, 26 * NN * th, nt);
  fmt::print("  naive / fast forward = {:.1f}x (cpu time)\n", t7n.cpu / t7f.cpu);
  std::vector<float> X = rnd(size_t(4) * 64 * N, 9, -1, 1), Y(size_t(B) * H);
  for (int L : {16, 32, 64})
    for (bool intra : {false, true}) {
      const Timing tg =
          best_time([&] { wkv7_chunk_gemms(B, T, H, N, L, intra, X.data(), Y.data()); });
      fmt::print(
          "  [exp] chunked lower bound, L={:<2} {:>10}: cpu {:7.3f} ms = {:.2f}x the "
          "sequential forward\n",
          L, intra ? "11 sgemms" : "4 sgemms", tg.cpu * 1e3, tg.cpu / t7f.cpu);
    }
  return 0;
}
