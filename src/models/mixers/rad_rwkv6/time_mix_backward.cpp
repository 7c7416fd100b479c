// RAD-RWKV6 time mix backward: the forward's call list (time_mix.cpp) in
// reverse, from the buffers the forward kept. Training windows only (zero
// initial shift and state), so no state gradient is formed.
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "models/mixers/rad_rwkv6/time_mix.h"
#include "ops/activations.h"
#include "ops/blas.h"
#include "ops/gqa.h"
#include "ops/lora.h"
#include "ops/matmul.h"
#include "ops/wkv6.h"

namespace radlads {

static constexpr float kLogWMin = -5.0f;  // must equal the forward's clamp (time_mix.cpp)

void Rwkv6TimeMix::backward(float* d_xn, const float* d_y, const MixDims& d, const int32_t* pos,
                            const RopeTable& rope, Arena* g) {
  CHECK(zero_start_, "Rwkv6TimeMix::backward: the forward must start from zero shift and state (training windows)");
  CHECK(int64_t(go_.size()) == d.M * d.A, "Rwkv6TimeMix::backward: dims differ from the preceding forward");
  const int64_t M = d.M, C = d.C, A = d.A, KD = d.KD;
  auto G = [&](const char* n) { return grad_ptr(g, p_, n); };
  auto sz = [](std::vector<float>& v, int64_t n) { v.resize(size_t(n)); };

  // out = o_proj(g⊙p)
  sz(d_go_, M * A), sz(d_g_, M * A), sz(d_out_, M * A);
  matmul_backward(d_go_.data(), G("o_proj.weight"), nullptr, d_y, go_.data(), wo_, M, A, C);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    d_g_[size_t(i)] = d_go_[size_t(i)] * out_[size_t(i)];
    d_out_[size_t(i)] = d_go_[size_t(i)] * g_[size_t(i)];
  }

  // S_t = diag(w_t)·S_{t−1} + k_tᵀ v_t ; p_t = (r_t·N^-1/2)·S_t   (zero initial state)
  sz(d_r_, M * A), sz(d_kb_, M * A), sz(d_ve_, M * A), sz(d_lw_, M * A);
  wkv6_backward(d_r_.data(), d_kb_.data(), d_ve_.data(), d_lw_.data(), nullptr, d_out_.data(), nullptr, r_.data(),
                kbal_.data(), ve_.data(), logw_.data(), nullptr, d.B, d.T, d.H, d.N, 1.0f / std::sqrt(float(d.N)));

  // k ← k⊙(1−w) (balance_state) ; log w = max(−exp(d), −5) ; d = time_decay + lora.
  // In place: d_kb_ becomes the gradient of the expanded k, d_lw_ that of d.
  // Where the clamp is active log w does not depend on d (torch.clamp passes
  // the gradient only where the input is ≥ the bound), and ∂(−e^d)/∂d = log w.
  const bool bal = opt_.balance_state;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const size_t u = size_t(i);
    float dlw = d_lw_[u];
    if (bal) {
      const float w = std::exp(logw_[u]);
      dlw -= d_kb_[u] * ke_[u] * w;
      d_kb_[u] *= 1.0f - w;
    }
    d_lw_[u] = -std::exp(dd_[u]) >= kLogWMin ? dlw * logw_[u] : 0.0f;
  }
  const float* d_dd = d_lw_.data();

  // repeat k,v to H heads (GQA): a group's head gradients sum onto its KV head
  sz(d_k_, M * KD), sz(d_v_, M * KD);
  gqa_reduce(d_k_.data(), d_kb_.data(), M, d.H, d.KVH, d.N);
  gqa_reduce(d_v_.data(), d_ve_.data(), M, d.H, d.KVH, d.N);

  // optional RoPE on r,k: the gradient rotates back
  if (opt_.use_rope) {
    rope_backward(d_r_.data(), pos, M, d.H, rope);
    rope_backward(d_k_.data(), pos, M, d.KVH, rope);
  }

  // Gradients of the five mixed inputs x_r, x_k, x_v, x_w, x_g (slices of d_x5_).
  sz(d_x5_, 5 * M * C);
  float *dxr = d_x5_.data(), *dxk = dxr + M * C, *dxv = dxk + M * C, *dxw = dxv + M * C, *dxg = dxw + M * C;
  const float *xr = x5_.data(), *xk = xr + M * C, *xv = xk + M * C, *xw = xv + M * C, *xg = xw + M * C;

  // g = σ(x_g·gateᵀ)  (d_g_ in place becomes the pre-sigmoid gradient)
  sigmoid_backward(d_g_.data(), d_g_.data(), g_.data(), M * A);
  matmul_backward(dxg, G("gate.weight"), nullptr, d_g_.data(), xg, gate_, M, C, A);

  // d = time_decay + tanh(x_w·decay_W1)·decay_W2
  add_colsum(G("time_decay"), d_dd, M, A);
  sz(d_dh_, M * Rd_);
  lora_matmul_backward(d_dh_.data(), G("time_decay_w2"), d_dd, dh_.data(), tdw2_, M, Rd_, A);
  tanh_backward(d_dh_.data(), d_dh_.data(), dh_.data(), M * Rd_);
  lora_matmul_backward(dxw, G("time_decay_w1"), d_dh_.data(), xw, tdw1_, M, C, Rd_);

  // r = q_proj(x_r) ; k = k_proj(x_k) ; v = v_proj(x_v)
  matmul_backward(dxv, G("v_proj.weight"), bv_ ? G("v_proj.bias") : nullptr, d_v_.data(), xv, wv_, M, C, KD);
  matmul_backward(dxk, G("k_proj.weight"), bk_ ? G("k_proj.bias") : nullptr, d_k_.data(), xk, wk_, M, C, KD);
  matmul_backward(dxr, G("q_proj.weight"), bq_ ? G("q_proj.bias") : nullptr, d_r_.data(), xr, wq_, M, C, A);

  if (!opt_.use_tokenshift) {  // x_* = x
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M * C; i++) d_xn[i] = dxr[i] + dxk[i] + dxv[i] + dxw[i] + dxg[i];
    return;
  }

  // x_s = x + δ⊙(maa_s + m_s), m_s = h[:, sR:(s+1)R]·W2[s], h = tanh(xxx·W1).
  // d_delta_ collects ∂/∂δ; d_m_ = d_x_s⊙δ serves both ∂/∂m_s and ∂/∂maa_s (its column sums).
  const char* maa_names[5] = {"time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"};
  float* d_w2 = G("time_maa_w2");
  sz(d_delta_, M * C), sz(d_m_, M * C), sz(d_h_, M * 5 * R_), sz(d_xxx_, M * C);
  std::memset(d_delta_.data(), 0, sizeof(float) * size_t(M * C));
  for (int s = 0; s < 5; s++) {
    const float* dxs = d_x5_.data() + s * M * C;
    const float* ms = m_.data() + s * M * C;
    const float* maa = maa_[s];
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M * C; i++) {
      const int64_t c = i % C;
      d_delta_[size_t(i)] += dxs[i] * (maa[c] + ms[i]);
      d_m_[size_t(i)] = dxs[i] * delta_[size_t(i)];
    }
    add_colsum(G(maa_names[s]), d_m_.data(), M, C);
    // d_h[:, sR:(s+1)R] = d_m_s·W2[s]ᵀ ; d_W2[s] += h_sᵀ·d_m_s
    gemm<float>(false, true, int(M), R_, int(C), 1.0f, d_m_.data(), int(C), w2_ + int64_t(s) * R_ * C, int(C), 0.0f,
                d_h_.data() + s * R_, 5 * R_);
    if (d_w2)
      gemm<float>(true, false, R_, int(C), int(M), 1.0f, h_.data() + s * R_, 5 * R_, d_m_.data(), int(C), 1.0f,
                  d_w2 + int64_t(s) * R_ * C, int(C));
  }
  tanh_backward(d_h_.data(), d_h_.data(), h_.data(), M * 5 * R_);
  lora_matmul_backward(d_xxx_.data(), G("time_maa_w1"), d_h_.data(), xxx_.data(), w1_, M, C, 5 * int64_t(R_));

  // xxx = x + δ⊙maa_x  (d_m_ reused for d_xxx⊙δ, the per-row terms of ∂/∂maa_x)
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * C; i++) {
    const int64_t c = i % C;
    const float dxxx = d_xxx_[size_t(i)];
    d_delta_[size_t(i)] += dxxx * maa_x_[c];
    d_m_[size_t(i)] = dxxx * delta_[size_t(i)];
  }
  add_colsum(G("time_maa_x"), d_m_.data(), M, C);

  // δ = x₋₁ − x, x₋₁ the previous row of the same sequence (zero at t = 0 in a
  // training window, so row 0's δ sends nothing further back).
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M; i++) {
    const bool has_next = int(i % d.T) < d.T - 1;  // row i is x₋₁ of row i+1
    for (int64_t c = 0; c < C; c++) {
      const int64_t j = i * C + c;
      float acc = dxr[j] + dxk[j] + dxv[j] + dxw[j] + dxg[j] + d_xxx_[size_t(j)] - d_delta_[size_t(j)];
      if (has_next) acc += d_delta_[size_t(j + C)];
      d_xn[j] = acc;
    }
  }
}

}  // namespace radlads
