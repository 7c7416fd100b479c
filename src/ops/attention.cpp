// Attention forward: per (head, block of 64 queries) tasks so two cores stay
// busy even with 9 heads; each task does scores = Q K^T and out = P V with
// sgemm over only the keys its block can see (half the work of a full mask).
#include "ops/attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace radlads {

static constexpr int kQueryBlock = 64;

void attention_forward(float* out, const float* q, const float* k, const float* v, int Tq, int Tk,
                       int H, int KVH, int N, int64_t kv_stride) {
  const int group = H / KVH;
  const int nblk = (Tq + kQueryBlock - 1) / kQueryBlock;
  const float scale = 1.0f / std::sqrt(float(N));
  const int64_t qs = int64_t(H) * N;  // row stride of q and out
#pragma omp parallel
  {
    std::vector<float> scores;
#pragma omp for schedule(dynamic)
    for (int task = 0; task < H * nblk; task++) {
      const int h = task / nblk, b = task % nblk;
      const int g = h / group;
      const int i0 = b * kQueryBlock, nq = std::min(kQueryBlock, Tq - i0);
      const int nk = Tk - Tq + i0 + nq;  // keys visible to the last query of the block
      scores.resize(size_t(nq) * nk);
      const float* qb = q + int64_t(i0) * qs + int64_t(h) * N;
      const float* kg = k + int64_t(g) * N;
      const float* vg = v + int64_t(g) * N;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, nk, N, scale, qb, int(qs), kg,
                  int(kv_stride), 0.0f, scores.data(), nk);
      for (int i = 0; i < nq; i++) {
        float* s = scores.data() + size_t(i) * nk;
        const int visible = Tk - Tq + i0 + i + 1;
        float mx = -INFINITY;
        for (int j = 0; j < visible; j++) mx = std::max(mx, s[j]);
        float sum = 0;
        for (int j = 0; j < visible; j++) sum += (s[j] = std::exp(s[j] - mx));
        const float inv = 1.0f / sum;
        for (int j = 0; j < visible; j++) s[j] *= inv;
        std::fill(s + visible, s + nk, 0.0f);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nq, N, nk, 1.0f, scores.data(), nk, vg,
                  int(kv_stride), 0.0f, out + int64_t(i0) * qs + int64_t(h) * N, int(qs));
    }
  }
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
