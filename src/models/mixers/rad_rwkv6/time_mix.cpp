// RAD-RWKV6 time mix forward (backward in rad_rwkv6_backward.cpp).
#include "models/mixers/rad_rwkv6/time_mix.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/activations.h"
#include "ops/blas.h"
#include "ops/gqa.h"
#include "ops/lora.h"
#include "ops/matmul.h"
#include "ops/wkv6.h"

namespace radlads {

static constexpr float kLogWMin = -5.0f;  // DESIGN.md: log w = max(−exp(d), −5)

Rwkv6TimeMix::Rwkv6TimeMix(const Model& m, int l)
    : p_("model.layers." + std::to_string(l) + ".self_attn."), opt_(m.student) {
  auto P = [&](const char* n) { return m.w(p_ + n).ptr(); };
  auto B = [&](const char* n) -> const float* {
    const Tensor* t = m.find(p_ + n);
    return t ? t->ptr() : nullptr;
  };
  maa_x_ = P("time_maa_x");
  const char* names[5] = {"time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"};
  for (int i = 0; i < 5; i++) maa_[i] = P(names[i]);
  w1_ = P("time_maa_w1");
  w2_ = P("time_maa_w2");
  td_ = P("time_decay");
  tdw1_ = P("time_decay_w1");
  tdw2_ = P("time_decay_w2");
  gate_ = P("gate.weight");
  wq_ = P("q_proj.weight"), bq_ = B("q_proj.bias");
  wk_ = P("k_proj.weight"), bk_ = B("k_proj.bias");
  wv_ = P("v_proj.weight"), bv_ = B("v_proj.bias");
  wo_ = P("o_proj.weight");
  R_ = int(m.w(p_ + "time_maa_w1").dim(1) / 5);
  Rd_ = int(m.w(p_ + "time_decay_w1").dim(1));
}

void Rwkv6TimeMix::forward(const MixDims& d, TimeMixIO& io, const RopeTable& rope) {
  const int64_t M = d.M, C = d.C, A = d.A, KD = d.KD;
  const float* xn = io.xn;
  zero_start_ = !io.state && (!io.shift || !opt_.use_tokenshift);
  auto sz = [](std::vector<float>& v, int64_t n) { v.resize(size_t(n)); };
  sz(x5_, 5 * M * C);
  if (opt_.use_tokenshift) {
    sz(xprev_, M * C), sz(delta_, M * C), sz(xxx_, M * C), sz(h_, M * 5 * R_), sz(m_, 5 * M * C);
    // x₋₁: the previous row of the same sequence; the carried shift state (or 0) at t = 0.
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) {
      const int t = int(i % d.T), b = int(i / d.T);
      const float* prev = t > 0 ? xn + (i - 1) * C : (io.shift ? io.shift + int64_t(b) * C : nullptr);
      for (int64_t c = 0; c < C; c++) {
        const float xp = prev ? prev[c] : 0.0f;
        xprev_[size_t(i * C + c)] = xp;
        const float dl = xp - xn[i * C + c];
        delta_[size_t(i * C + c)] = dl;
        xxx_[size_t(i * C + c)] = xn[i * C + c] + dl * maa_x_[c];
      }
    }
    lora_matmul_forward(h_.data(), xxx_.data(), w1_, M, C, 5 * int64_t(R_));
    tanh_forward(h_.data(), h_.data(), M * 5 * R_);
    for (int s = 0; s < 5; s++) {  // m_s = h[:, sR:(s+1)R] · W2[s]
      gemm<float>(false, false, int(M), int(C), R_, 1.0f, h_.data() + s * R_, 5 * R_, w2_ + int64_t(s) * R_ * C,
                  int(C), 0.0f, m_.data() + s * M * C, int(C));
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < M * C; i++) {
        const int64_t c = i % C;
        x5_[size_t(s * M * C + i)] = xn[i] + delta_[size_t(i)] * (maa_[s][c] + m_[size_t(s * M * C + i)]);
      }
    }
    if (io.shift)
      for (int b = 0; b < d.B; b++)
        std::memcpy(io.shift + int64_t(b) * C, xn + (int64_t(b) * d.T + d.T - 1) * C, sizeof(float) * size_t(C));
  } else {
    for (int s = 0; s < 5; s++) std::memcpy(x5_.data() + s * M * C, xn, sizeof(float) * size_t(M * C));
  }
  const float *xr = x5_.data(), *xk = xr + M * C, *xv = xk + M * C, *xw = xv + M * C, *xg = xw + M * C;
  sz(r_, M * A), sz(k_, M * KD), sz(v_, M * KD), sz(dh_, M * Rd_), sz(dd_, M * A), sz(g_, M * A);
  matmul_forward(r_.data(), xr, wq_, bq_, M, C, A);
  matmul_forward(k_.data(), xk, wk_, bk_, M, C, KD);
  matmul_forward(v_.data(), xv, wv_, bv_, M, C, KD);
  lora_matmul_forward(dh_.data(), xw, tdw1_, M, C, Rd_);
  tanh_forward(dh_.data(), dh_.data(), M * Rd_);
  lora_matmul_forward(dd_.data(), dh_.data(), tdw2_, M, Rd_, A);
  matmul_forward(g_.data(), xg, gate_, nullptr, M, C, A);
  sigmoid_forward(g_.data(), g_.data(), M * A);
  if (opt_.use_rope) {
    rope_forward(r_.data(), io.pos, M, d.H, rope);
    rope_forward(k_.data(), io.pos, M, d.KVH, rope);
  }
  sz(ke_, M * A), sz(ve_, M * A), sz(logw_, M * A), sz(kbal_, M * A), sz(out_, M * A), sz(go_, M * A);
  gqa_expand(ke_.data(), k_.data(), M, d.H, d.KVH, d.N);
  gqa_expand(ve_.data(), v_.data(), M, d.H, d.KVH, d.N);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    dd_[size_t(i)] += td_[i % A];
    const float lw = std::max(-std::exp(dd_[size_t(i)]), kLogWMin);
    logw_[size_t(i)] = lw;
    kbal_[size_t(i)] = opt_.balance_state ? ke_[size_t(i)] * (1.0f - std::exp(lw)) : ke_[size_t(i)];
  }
  wkv6_forward(out_.data(), io.state, r_.data(), kbal_.data(), ve_.data(), logw_.data(), d.B, d.T, d.H, d.N,
               1.0f / std::sqrt(float(d.N)));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) go_[size_t(i)] = g_[size_t(i)] * out_[size_t(i)];
  matmul_forward(io.y, go_.data(), wo_, nullptr, M, A, C);
}

}  // namespace radlads
