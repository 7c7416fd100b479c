// RAD-RWKV7 time mix backward: the forward's call list (time_mix.cpp) in
// reverse, from the buffers the forward kept. Training windows only (zero
// initial state), so no state gradient is formed. The value residual couples
// layers: later layers add ∂L/∂v_first into d_v_first, and layer 0 (last in
// the backward pass) adds it to the gradient of its own v.
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "models/mixers/rad_rwkv7/time_mix.h"
#include "ops/activations.h"
#include "ops/gqa.h"
#include "ops/group_norm.h"
#include "ops/l2norm.h"
#include "ops/lora.h"
#include "ops/matmul.h"
#include "ops/wkv7.h"

namespace radlads {

static const float kDecayScale = float(std::exp(-0.5));  // must equal the forward's (time_mix.cpp)

void Rwkv7TimeMix::backward(float* d_xn, float* d_v_first, const float* d_y, const MixDims& d, const int32_t* pos,
                            const float* v_first, const RopeTable& rope, Arena* g) {
  CHECK(zero_start_, "Rwkv7TimeMix::backward: the forward must start from a zero state (training windows)");
  CHECK(int64_t(gp_.size()) == d.M * d.A, "Rwkv7TimeMix::backward: dims differ from the preceding forward");
  CHECK(layer_ == 0 || v_first, "Rwkv7TimeMix::backward: layer {} needs v_first", layer_);
  const int64_t M = d.M, C = d.C, A = d.A, KD = d.KD;
  auto G = [&](const char* n) { return grad_ptr(g, p_, n); };
  auto sz = [](std::vector<float>& v, int64_t n) { v.resize(size_t(n)); };

  // out = o_proj(g⊙p)   (d_gp_ in place becomes ∂/∂p after d_g_ is taken)
  sz(d_gp_, M * A), sz(d_g_, M * A);
  matmul_backward(d_gp_.data(), G("o_proj.weight"), nullptr, d_y, gp_.data(), wo_, M, A, C);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    d_g_[size_t(i)] = d_gp_[size_t(i)] * pn_[size_t(i)];
    d_gp_[size_t(i)] *= g_[size_t(i)];
  }

  // groupnorm_att: per-head GroupNorm·ln_x (in place: d_gp_ becomes ∂/∂p_raw)
  if (opt_.groupnorm_att)
    group_norm_backward(d_gp_.data(), G("ln_x.weight"), G("ln_x.bias"), d_gp_.data(), p_raw_.data(), ln_w_,
                        gn_mean_.data(), gn_rstd_.data(), M, d.H, d.N);

  // S_t = S_{t−1}·(diag(w_t) + ka_tᵀ kb_t) + v_tᵀ k̃_t ; p_t = scale·S_t r_t   (zero initial state)
  sz(d_r_, M * A), sz(d_w_, M * A), sz(d_kt_, M * A), sz(d_vm_, M * A), sz(d_ka_, M * A), sz(d_kb_, M * A);
  wkv7_backward(d_r_.data(), d_w_.data(), d_kt_.data(), d_vm_.data(), d_ka_.data(), d_kb_.data(), nullptr,
                d_gp_.data(), nullptr, r_.data(), w_.data(), kt_.data(), vmix_.data(), ka_.data(), kb_.data(), nullptr,
                d.B, d.T, d.H, d.N, opt_.rwkv7_output_scale(d.N));

  // ka = −κ, kb = κ⊙a   (in place: d_ka_ becomes ∂/∂κ, d_kb_ becomes ∂/∂a)
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const size_t u = size_t(i);
    const float dkb = d_kb_[u];
    d_ka_[u] = dkb * a_[u] - d_ka_[u];
    d_kb_[u] = dkb * kappa_[u];
  }
  float *d_kappa = d_ka_.data(), *d_a = d_kb_.data();

  // Value residual. Layer 0: v_first = v, so the later layers' ∂L/∂v_first joins
  // ∂L/∂v. Later layers: v ← v + (v_first − v)⊙s, s = σ(v0 + (x·v1)·v2).
  // d_vm_ in place becomes ∂/∂v (expanded).
  if (layer_ == 0) {
    if (d_v_first) {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < M * A; i++) d_vm_[size_t(i)] += d_v_first[i];
    }
  } else {
    sz(d_vs_, M * A), sz(d_vh_, M * Rv_);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M * A; i++) {
      const size_t u = size_t(i);
      const float s = vs_[u], dvm = d_vm_[u];
      if (d_v_first) d_v_first[i] += dvm * s;
      d_vs_[u] = dvm * (v_first[i] - ve_[u]) * s * (1.0f - s);  // through σ to its input
      d_vm_[u] = dvm * (1.0f - s);
    }
    add_colsum(G("v0"), d_vs_.data(), M, A);
    // d_vh_ is held until the x gradient is formed below (v1 adds to it).
    lora_matmul_backward(d_vh_.data(), G("v2"), d_vs_.data(), vh_.data(), v2_, M, Rv_, A);
  }

  // κ = normalize(kk)   (in place: d_kappa becomes ∂/∂kk)
  l2norm_backward(d_kappa, d_kappa, kk_.data(), M, d.H, d.N);

  // balance_state=1: kk = k, k̃ = k⊙(1 − w + a) ; else kk = k⊙k_k, k̃ = k⊙(1 + (a−1)⊙k_a).
  // d_kt_ in place becomes ∂/∂k (expanded); d_w_, d_a gain k̃'s terms.
  const bool bal = opt_.balance_state;
  float *d_k_k = G("k_k"), *d_k_a = G("k_a");
  if (!bal && (d_k_k || d_k_a)) sz(d_tmp_, M * A), sz(d_tmp2_, M * A);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const size_t u = size_t(i);
    const int64_t c = i % A;
    const float k = ke_[u], a = a_[u], dkt = d_kt_[u], dkk = d_kappa[i];
    if (bal) {
      d_w_[u] -= dkt * k;
      d_a[i] += dkt * k;
      d_kt_[u] = dkk + dkt * (1.0f - w_[u] + a);
    } else {
      if (d_k_k) d_tmp_[u] = dkk * k;
      if (d_k_a) d_tmp2_[u] = dkt * k * (a - 1.0f);
      d_a[i] += dkt * k * k_a_[c];
      d_kt_[u] = dkk * k_k_[c] + dkt * (1.0f + (a - 1.0f) * k_a_[c]);
    }
  }
  if (!bal) {
    if (d_k_k) add_colsum(d_k_k, d_tmp_.data(), M, A);
    if (d_k_a) add_colsum(d_k_a, d_tmp2_.data(), M, A);
  }

  // expand k,v to H heads: a group's head gradients sum onto its KV head
  sz(d_k_, M * KD), sz(d_v_, M * KD);
  gqa_reduce(d_k_.data(), d_kt_.data(), M, d.H, d.KVH, d.N);
  gqa_reduce(d_v_.data(), d_vm_.data(), M, d.H, d.KVH, d.N);

  // optional RoPE on r,k: the gradient rotates back
  if (opt_.use_rope) {
    rope_backward(d_r_.data(), pos, M, d.H, rope);
    rope_backward(d_k_.data(), pos, M, d.KVH, rope);
  }

  // s = σ(w0 + lora_w) stored, w = exp(−e^−0.5·s): ∂w/∂z = −e^−0.5·w·s(1−s).
  // a = σ(a0 + lora_a): ∂a/∂z = a(1−a). In place into d_w_ and d_a.
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * A; i++) {
    const size_t u = size_t(i);
    const float s = sw_[u], a = a_[u];
    d_w_[u] *= -kDecayScale * w_[u] * s * (1.0f - s);
    d_a[i] *= a * (1.0f - a);
  }
  add_colsum(G("w0"), d_w_.data(), M, A);
  add_colsum(G("a0"), d_a, M, A);

  // The LoRAs, each down to its rank; the x gradients follow below.
  // g = σ(x·g1)·g2
  sz(d_gh_, M * Rg_);
  lora_matmul_backward(d_gh_.data(), G("g2"), d_g_.data(), gh_.data(), g2_, M, Rg_, A);
  sigmoid_backward(d_gh_.data(), d_gh_.data(), gh_.data(), M * Rg_);
  // a = σ(a0 + (x·a1)·a2)
  sz(d_ah_, M * Ra_);
  lora_matmul_backward(d_ah_.data(), G("a2"), d_a, ah_.data(), a2_, M, Ra_, A);
  // w_lora = w0 + tanh(x·w1)·w2
  sz(d_wh_, M * Rw_);
  lora_matmul_backward(d_wh_.data(), G("w2"), d_w_.data(), wh_.data(), w2_, M, Rw_, A);
  tanh_backward(d_wh_.data(), d_wh_.data(), wh_.data(), M * Rw_);

  // r,k,v = q_proj(x), k_proj(x), v_proj(x): q writes d_xn, everything else adds.
  const float* x = x_.data();
  sz(d_tmp_, M * C);
  matmul_backward(d_xn, G("q_proj.weight"), bq_ ? G("q_proj.bias") : nullptr, d_r_.data(), x, wq_, M, C, A);
  for (int j = 0; j < 2; j++) {
    const bool is_k = j == 0;
    matmul_backward(d_tmp_.data(), G(is_k ? "k_proj.weight" : "v_proj.weight"),
                    (is_k ? bk_ : bv_) ? G(is_k ? "k_proj.bias" : "v_proj.bias") : nullptr,
                    is_k ? d_k_.data() : d_v_.data(), x, is_k ? wk_ : wv_, M, C, KD);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M * C; i++) d_xn[i] += d_tmp_[size_t(i)];
  }
  lora_matmul_backward(d_xn, G("w1"), d_wh_.data(), x, w1_, M, C, Rw_, true);
  lora_matmul_backward(d_xn, G("a1"), d_ah_.data(), x, a1_, M, C, Ra_, true);
  lora_matmul_backward(d_xn, G("g1"), d_gh_.data(), x, g1_, M, C, Rg_, true);
  if (layer_ > 0) lora_matmul_backward(d_xn, G("v1"), d_vh_.data(), x, v1_, M, C, Rv_, true);
}

}  // namespace radlads
