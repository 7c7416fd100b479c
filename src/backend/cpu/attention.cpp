// Attention forward: per (head, block of 64 queries) tasks so two cores stay
// busy even with 9 heads; each task does scores = Q K^T and out = P V with
// gemm over only the keys its block can see (half the work of a full mask).
// Backward, FlashAttention-2 style in two race-free passes: (1) per (head,
// query block) recompute P, keep each row's log-sum-exp and D = Σ_j P·dP
// (= dO·O), write dQ; (2) per (KV head, key block) recompute the P tiles of
// every query head of the group from the kept log-sum-exp and accumulate dK,
// dV for those keys only, so no two tasks write the same rows and the result
// does not depend on the thread count.
#include "backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/blas.h"
#include "backend/cpu/scratch.h"

namespace radlads {

static constexpr int kQueryBlock = 64;

template <typename F>
void attention_forward_t(F* out, const F* q, const F* k, const F* v, int Tq, int Tk, int H,
                         int KVH, int N, int64_t kv_stride) {
  const int group = H / KVH;
  const int nblk = (Tq + kQueryBlock - 1) / kQueryBlock;
  const F scale = F(1) / std::sqrt(F(N));
  const int64_t qs = int64_t(H) * N;  // row stride of q and out
#pragma omp parallel
  {
    thread_local std::vector<F> scores;  // kept between calls: no allocation after the first
#pragma omp for schedule(dynamic)
    for (int task = 0; task < H * nblk; task++) {
      const int h = task / nblk, b = task % nblk;
      const int g = h / group;
      const int i0 = b * kQueryBlock, nq = std::min(kQueryBlock, Tq - i0);
      const int nk = Tk - Tq + i0 + nq;  // keys visible to the last query of the block
      if (scores.capacity() < size_t(nq) * nk)  // decoding grows nk by one per token: grow by doubling
        scores.reserve(std::max({size_t(nq) * nk, 2 * scores.capacity(), size_t(4096)}));
      scores.resize(size_t(nq) * nk);
      const F* qb = q + int64_t(i0) * qs + int64_t(h) * N;
      const F* kg = k + int64_t(g) * N;
      const F* vg = v + int64_t(g) * N;
      gemm<F>(false, true, nq, nk, N, scale, qb, int(qs), kg, int(kv_stride), F(0), scores.data(),
              nk);
      for (int i = 0; i < nq; i++) {
        F* s = scores.data() + size_t(i) * nk;
        const int visible = Tk - Tq + i0 + i + 1;
        F mx = -INFINITY;
        for (int j = 0; j < visible; j++) mx = std::max(mx, s[j]);
        F sum = 0;
        for (int j = 0; j < visible; j++) sum += (s[j] = std::exp(s[j] - mx));
        const F inv = F(1) / sum;
        for (int j = 0; j < visible; j++) s[j] *= inv;
        std::fill(s + visible, s + nk, F(0));
      }
      gemm<F>(false, false, nq, N, nk, F(1), scores.data(), nk, vg, int(kv_stride), F(0),
              out + int64_t(i0) * qs + int64_t(h) * N, int(qs));
    }
  }
}

// With S = scale·Q Kᵀ (causal), P = softmax(S), O = P V:
//   dP = dO Vᵀ,  dS = P ⊙ (dP − D) with D_i = Σ_j P_ij dP_ij = dO_i·O_i,
//   dQ = scale·dS K,  dK = scale·dSᵀ Q,  dV = Pᵀ dO   (dK, dV summed over the group).
template <typename F>
void attention_backward_t(F* d_q, F* d_k, F* d_v, const F* d_out, const F* q, const F* k,
                          const F* v, int T, int H, int KVH, int N) {
  if (T <= 0) return;
  const int group = H / KVH;
  const int nblk = (T + kQueryBlock - 1) / kQueryBlock;
  const F scale = F(1) / std::sqrt(F(N));
  const int64_t qs = int64_t(H) * N, kvs = int64_t(KVH) * N;
  // Per (position, head): log-sum-exp of the scaled scores, and D. O(T·H) only.
  thread_local std::vector<F> lse_buf, delta_buf;  // kept between calls (backend/cpu/scratch.h)
  F* lse = grown(lse_buf, size_t(T) * H).data();    // the workers must not name the caller's thread_locals
  F* delta = grown(delta_buf, size_t(T) * H).data();

  // Pass 1: dQ. Late query blocks see the most keys, so they are handed out first.
#pragma omp parallel
  {
    thread_local std::vector<F> p, dp;
#pragma omp for schedule(dynamic)
    for (int task = 0; task < H * nblk; task++) {
      const int b = nblk - 1 - task / H, h = task % H, g = h / group;
      const int i0 = b * kQueryBlock, nq = std::min(kQueryBlock, T - i0), nk = i0 + nq;
      p.resize(size_t(nq) * nk);
      dp.resize(size_t(nq) * nk);
      const F* qb = q + int64_t(i0) * qs + int64_t(h) * N;
      const F* dob = d_out + int64_t(i0) * qs + int64_t(h) * N;
      const F* kg = k + int64_t(g) * N;
      const F* vg = v + int64_t(g) * N;
      gemm<F>(false, true, nq, nk, N, scale, qb, int(qs), kg, int(kvs), F(0), p.data(), nk);
      gemm<F>(false, true, nq, nk, N, F(1), dob, int(qs), vg, int(kvs), F(0), dp.data(), nk);
      for (int i = 0; i < nq; i++) {
        F* s = p.data() + size_t(i) * nk;
        F* ds = dp.data() + size_t(i) * nk;
        const int visible = i0 + i + 1;
        F mx = -INFINITY;
        for (int j = 0; j < visible; j++) mx = std::max(mx, s[j]);
        double sum = 0;
        for (int j = 0; j < visible; j++) sum += (s[j] = std::exp(s[j] - mx));
        const F inv = F(1.0 / sum);
        // D accumulated in double: dS subtracts it from dP, so its error is
        // amplified where P·dP nearly cancels.
        double d = 0;
        for (int j = 0; j < visible; j++) d += double(s[j] *= inv) * ds[j];
        lse[size_t(i0 + i) * H + h] = mx + F(std::log(sum));
        delta[size_t(i0 + i) * H + h] = F(d);
        for (int j = 0; j < visible; j++) ds[j] = s[j] * (ds[j] - F(d));
        std::fill(ds + visible, ds + nk, F(0));
      }
      gemm<F>(false, false, nq, N, nk, scale, dp.data(), nk, kg, int(kvs), F(0),
              d_q + int64_t(i0) * qs + int64_t(h) * N, int(qs));
    }
  }

  // Pass 2: dK, dV per (KV head, key block); early key blocks are seen by the
  // most queries, so they are handed out first.
#pragma omp parallel
  {
    thread_local std::vector<F> p, dp;
    grown(p, size_t(kQueryBlock) * kQueryBlock);
    grown(dp, size_t(kQueryBlock) * kQueryBlock);
#pragma omp for schedule(dynamic)
    for (int task = 0; task < KVH * nblk; task++) {
      const int kb = task / KVH, g = task % KVH;
      const int j0 = kb * kQueryBlock, nkb = std::min(kQueryBlock, T - j0);
      const F* kblk = k + int64_t(j0) * kvs + int64_t(g) * N;
      const F* vblk = v + int64_t(j0) * kvs + int64_t(g) * N;
      F* dk = d_k + int64_t(j0) * kvs + int64_t(g) * N;
      F* dv = d_v + int64_t(j0) * kvs + int64_t(g) * N;
      for (int j = 0; j < nkb; j++) {
        std::fill_n(dk + j * kvs, N, F(0));
        std::fill_n(dv + j * kvs, N, F(0));
      }
      for (int h = g * group; h < (g + 1) * group; h++)
        for (int b = kb; b < nblk; b++) {  // query blocks before kb see none of these keys
          const int i0 = b * kQueryBlock, nq = std::min(kQueryBlock, T - i0);
          const F* qb = q + int64_t(i0) * qs + int64_t(h) * N;
          const F* dob = d_out + int64_t(i0) * qs + int64_t(h) * N;
          gemm<F>(false, true, nq, nkb, N, scale, qb, int(qs), kblk, int(kvs), F(0), p.data(), nkb);
          gemm<F>(false, true, nq, nkb, N, F(1), dob, int(qs), vblk, int(kvs), F(0), dp.data(),
                  nkb);
          for (int i = 0; i < nq; i++) {
            F* s = p.data() + size_t(i) * nkb;
            F* ds = dp.data() + size_t(i) * nkb;
            const F l = lse[size_t(i0 + i) * H + h], d = delta[size_t(i0 + i) * H + h];
            const int visible = std::clamp(i0 + i - j0 + 1, 0, nkb);  // key j0+j ≤ query i0+i
            for (int j = 0; j < visible; j++) {
              s[j] = std::exp(s[j] - l);
              ds[j] = s[j] * (ds[j] - d);
            }
            std::fill(s + visible, s + nkb, F(0));
            std::fill(ds + visible, ds + nkb, F(0));
          }
          gemm<F>(true, false, nkb, N, nq, F(1), p.data(), nkb, dob, int(qs), F(1), dv, int(kvs));
          gemm<F>(true, false, nkb, N, nq, scale, dp.data(), nkb, qb, int(qs), F(1), dk, int(kvs));
        }
    }
  }
}

template void attention_forward_t<float>(float*, const float*, const float*, const float*, int,
                                         int, int, int, int, int64_t);
template void attention_forward_t<double>(double*, const double*, const double*, const double*,
                                          int, int, int, int, int, int64_t);
template void attention_backward_t<float>(float*, float*, float*, const float*, const float*,
                                          const float*, const float*, int, int, int, int);
template void attention_backward_t<double>(double*, double*, double*, const double*,
                                           const double*, const double*, const double*, int, int,
                                           int, int);

void attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk,
                       int H, int KVH, int N, int64_t kv_stride) {
  attention_forward_t<float>(out, q, k, v, Tq, Tk, H, KVH, N, kv_stride);
}

void attention_backward(float* d_q, float* d_k, float* d_v, const float* d_out, const float* q,
                        const float* k, const float* v, int T, int H, int KVH, int N) {
  attention_backward_t<float>(d_q, d_k, d_v, d_out, q, k, v, T, H, KVH, N);
}

void attention_forward_naive(float* out, const float* q, const float* k, const float* v, int Tq,
                             int Tk, int H, int KVH, int N, int64_t kv_stride) {
  const int group = H / KVH;
  std::vector<double> p(static_cast<size_t>(Tk));
  for (int i = 0; i < Tq; i++)
    for (int h = 0; h < H; h++) {
      const int g = h / group, visible = Tk - Tq + i + 1;
      const float* qi = q + (int64_t(i) * H + h) * N;
      double mx = -INFINITY;
      for (int j = 0; j < visible; j++) {
        double s = 0;
        for (int n = 0; n < N; n++) s += double(qi[n]) * k[j * kv_stride + g * N + n];
        p[size_t(j)] = s / std::sqrt(double(N));
        mx = std::max(mx, p[size_t(j)]);
      }
      double sum = 0;
      for (int j = 0; j < visible; j++) sum += (p[size_t(j)] = std::exp(p[size_t(j)] - mx));
      for (int n = 0; n < N; n++) {
        double o = 0;
        for (int j = 0; j < visible; j++) o += p[size_t(j)] * v[j * kv_stride + g * N + n];
        out[(int64_t(i) * H + h) * N + n] = float(o / sum);
      }
    }
}

}  // namespace radlads
