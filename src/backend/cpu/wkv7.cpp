// WKV7 forward: the naive per-token oracle, the fast sequential forward and the
// decode step. Maths and layouts in wkv7.h.
//
// Why sequential and not chunked: per token and head the recurrence costs
// ~5 N² multiply-adds over a state that sits in L1, which the AVX2 kernel
// (wkv7_token.h) runs near the FMA ports' rate. A chunked WY form must do, per
// chunk of L, four L×N×N-class sgemms against the chunk-start state and state
// update, and seven L×L×N-class ones inside the chunk, before its decays and
// triangular solve. bench/bench_wkv.cpp times exactly those sgemms (N = 64,
// T = 512, H = 9, one thread, CPU time): 1.05-2.14x the whole sequential
// forward across runs for L = 16/32/64 (the four inter-chunk ones alone:
// 0.46-0.82x). So no chunked form can win on this CPU; the sequential form is
// the fast path.
#include "backend/cpu/wkv7.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "backend/cpu/wkv7_token.h"

// The per-ISA part: no std:: containers or algorithms here (their inline
// instances would be compiled with this build's flags and could be merged
// into the other's), plain loops, malloc and memset instead.
namespace radlads::RADLADS_ISA_NS {

namespace {

template <typename F, typename S>
void forward_s(F* out, F* state, const F* r, const F* w, const F* k, const F* v, const F* a, const F* b, int B,
               int T, int H, int N, F scale) {
  const int64_t rs = int64_t(H) * N, NN = int64_t(N) * N;
#pragma omp parallel
  {
    F* own_state = nullptr;  // this thread's zero initial state, when the caller keeps none
#pragma omp for schedule(dynamic)
    for (int bh = 0; bh < B * H; bh++) {
      const int bi = bh / H, h = bh % H;
      F* St = state ? state + bh * NN : nullptr;
      if (!St) {
        if (!own_state) own_state = wkv7_detail::thread_scratch<F, 0>(NN);
        std::memset(own_state, 0, sizeof(F) * size_t(NN));
        St = own_state;
      }
      for (int t = 0; t < T; t++) {
        const int64_t o = (int64_t(bi) * T + t) * rs + int64_t(h) * N;
        wkv7_detail::token_update<true, F, S>(St, St, out + o, static_cast<F*>(nullptr), r + o, w + o, k + o,
                                              v + o, a + o, b + o, N, scale);
      }
    }
  }
}

}  // namespace

template <typename F>
void wkv7_forward_impl(F* out, F* state, const F* r, const F* w, const F* k, const F* v, const F* a, const F* b,
                       int B, int T, int H, int N, double scale) {
#if defined(__AVX512F__)
  if (N % wkv7_detail::Simd512<F>::W == 0)
    return forward_s<F, wkv7_detail::Simd512<F>>(out, state, r, w, k, v, a, b, B, T, H, N, F(scale));
#endif
  forward_s<F, wkv7_detail::Simd<F>>(out, state, r, w, k, v, a, b, B, T, H, N, F(scale));
}

template void wkv7_forward_impl<float>(float*, float*, const float*, const float*, const float*, const float*,
                                       const float*, const float*, int, int, int, int, double);
template void wkv7_forward_impl<double>(double*, double*, const double*, const double*, const double*,
                                        const double*, const double*, const double*, int, int, int, int, double);

}  // namespace radlads::RADLADS_ISA_NS

#if RADLADS_ISA_PRIMARY
namespace radlads {

static void check_dims(int B, int T, int H, int N) {
  CHECK(B > 0 && T > 0 && H > 0 && N > 0, "wkv7: bad dims B={} T={} H={} N={}", B, T, H, N);
}

template <typename F>
void wkv7_forward_naive_t(F* out, F* state, const F* r, const F* w, const F* k, const F* v,
                          const F* a, const F* b, int B, int T, int H, int N, double scale) {
  check_dims(B, T, H, N);
  const int64_t rs = int64_t(H) * N, NN = int64_t(N) * N;
  std::vector<double> S(static_cast<size_t>(NN)), sa(static_cast<size_t>(N));
  for (int bi = 0; bi < B; bi++)
    for (int h = 0; h < H; h++) {
      F* st = state ? state + (int64_t(bi) * H + h) * NN : nullptr;
      for (int64_t e = 0; e < NN; e++) S[size_t(e)] = st ? double(st[e]) : 0.0;
      for (int t = 0; t < T; t++) {
        const int64_t o = (int64_t(bi) * T + t) * rs + int64_t(h) * N;
        for (int j = 0; j < N; j++) {  // sa = S a (from the old state)
          double acc = 0;
          for (int i = 0; i < N; i++) acc += S[size_t(j) * N + i] * double(a[o + i]);
          sa[size_t(j)] = acc;
        }
        for (int j = 0; j < N; j++) {  // S = S diag(w) + (S a) b + vᵀ k ; o = scale S r
          double acc = 0;
          for (int i = 0; i < N; i++) {
            double& s = S[size_t(j) * N + i];
            s = s * double(w[o + i]) + sa[size_t(j)] * double(b[o + i]) +
                double(v[o + j]) * double(k[o + i]);
            acc += s * double(r[o + i]);
          }
          out[o + j] = F(acc * scale);
        }
      }
      if (st)
        for (int64_t e = 0; e < NN; e++) st[e] = F(S[size_t(e)]);
    }
}

template <typename F>
void wkv7_forward_t(F* out, F* state, const F* r, const F* w, const F* k, const F* v, const F* a,
                    const F* b, int B, int T, int H, int N, double scale) {
  check_dims(B, T, H, N);
  CHECK(N % 8 == 0, "wkv7_forward: N = {} must be a multiple of 8", N);
  RADLADS_ISA_CALL(wkv7_forward_impl<F>)(out, state, r, w, k, v, a, b, B, T, H, N, scale);
}

template void wkv7_forward_naive_t<float>(float*, float*, const float*, const float*, const float*,
                                          const float*, const float*, const float*, int, int, int,
                                          int, double);
template void wkv7_forward_naive_t<double>(double*, double*, const double*, const double*,
                                           const double*, const double*, const double*,
                                           const double*, int, int, int, int, double);
template void wkv7_forward_t<float>(float*, float*, const float*, const float*, const float*,
                                    const float*, const float*, const float*, int, int, int, int,
                                    double);
template void wkv7_forward_t<double>(double*, double*, const double*, const double*, const double*,
                                     const double*, const double*, const double*, int, int, int,
                                     int, double);

void wkv7_forward_naive(float* out, float* state, const float* r, const float* w, const float* k,
                        const float* v, const float* a, const float* b, int B, int T, int H, int N,
                        float scale) {
  wkv7_forward_naive_t<float>(out, state, r, w, k, v, a, b, B, T, H, N, scale);
}

void wkv7_forward(float* out, float* state, const float* r, const float* w, const float* k,
                  const float* v, const float* a, const float* b, int B, int T, int H, int N,
                  float scale) {
  wkv7_forward_t<float>(out, state, r, w, k, v, a, b, B, T, H, N, scale);
}

void wkv7_step(float* out, float* state, const float* r, const float* w, const float* k,
               const float* v, const float* a, const float* b, int B, int H, int N, float scale) {
  CHECK(state != nullptr, "wkv7_step needs a state");
  // (B,H,N) is (B,T=1,H,N): the forward with T = 1 is the step.
  wkv7_forward_t<float>(out, state, r, w, k, v, a, b, B, 1, H, N, scale);
}

}  // namespace radlads
#endif
