// RAD-RWKV7 time mix backward: the forward's call list (time_mix.cpp) in
// reverse, from the buffers the forward kept. Training windows only (zero
// initial state), so no state gradient is formed. The value residual couples
// layers: later layers add ∂L/∂v_first into d_v_first, and layer 0 (last in
// the backward pass) adds it to the gradient of its own v.
#include "core/error.h"
#include "models/mixers/rad_rwkv7/time_mix.h"

namespace radlads {

void Rwkv7TimeMix::backward(float* d_xn, float* d_v_first, const float* d_y, const MixDims& d, const int32_t* pos,
                            const float* v_first, const RopeTable& rope, Arena* g) {
  CHECK(zero_start_, "Rwkv7TimeMix::backward: the forward must start from a zero state (training windows)");
  CHECK(int64_t(pn_.size()) == d.M * d.A, "Rwkv7TimeMix::backward: dims differ from the preceding forward");
  CHECK(layer_ == 0 || v_first, "Rwkv7TimeMix::backward: layer {} needs v_first", layer_);
  const int64_t M = d.M, C = d.C, A = d.A, KD = d.KD;
  auto G = [&](const char* n) { return grad_ptr(g, p_, n); };
  auto sz = [this](std::span<float>& v, int64_t n) { v = ws_.take(n); };

  // out = o_proj(g⊙p)   (d_gp_ in place becomes ∂/∂p after d_g_ is taken), or o_proj(p)
  sz(d_gp_, M * A);
  if (g_) {
    sz(d_g_, M * A);
    be_.matmul_backward(d_gp_.data(), G("o_proj.weight"), nullptr, d_y, gp_.data(), wo_, M, A, C);
    be_.mul_backward(d_g_.data(), d_gp_.data(), d_gp_.data(), g_, pn_.data(), M * A);
  } else {
    be_.matmul_backward(d_gp_.data(), G("o_proj.weight"), nullptr, d_y, pn_.data(), wo_, M, A, C);
  }

  // groupnorm_att: per-head GroupNorm·ln_x (in place: d_gp_ becomes ∂/∂p_raw)
  if (opt_.groupnorm_att)
    be_.group_norm_backward(d_gp_.data(), G("ln_x.weight"), G("ln_x.bias"), d_gp_.data(), p_raw_.data(), ln_w_,
                        gn_mean_.data(), gn_rstd_.data(), M, d.H, d.N);

  // S_t = S_{t−1}·(diag(w_t) + ka_tᵀ kb_t) + v_tᵀ k̃_t ; p_t = scale·S_t r_t   (zero initial state)
  sz(d_r_, M * A), sz(d_w_, M * A), sz(d_kt_, M * A), sz(d_vm_, M * A), sz(d_ka_, M * A), sz(d_kb_, M * A);
  be_.wkv7_backward(d_r_.data(), d_w_.data(), d_kt_.data(), d_vm_.data(), d_ka_.data(), d_kb_.data(), nullptr,
                d_gp_.data(), nullptr, r_.data(), w_.data(), kt_.data(), vmix_.data(), ka_.data(), kb_.data(), nullptr,
                d.B, d.T, d.H, d.N, opt_.rwkv7_output_scale(d.N));

  // ka = −κ, kb = κ⊙a   (in place: d_ka_ becomes ∂/∂κ, d_kb_ becomes ∂/∂a)
  kern_.ka_kb_backward(d_ka_.data(), d_kb_.data(), a_.data(), kappa_.data(), M * A);
  float *d_kappa = d_ka_.data(), *d_a = d_kb_.data();

  // Value residual. Layer 0: v_first = v, so the later layers' ∂L/∂v_first joins
  // ∂L/∂v. Later layers: v ← v + (v_first − v)⊙s, s = σ(v0 + (x·v1)·v2).
  // d_vm_ in place becomes ∂/∂v (expanded).
  if (layer_ == 0) {
    if (d_v_first) be_.add_inplace(d_vm_.data(), d_v_first, M * A);
  } else {
    sz(d_vs_, M * A), sz(d_vh_, M * Rv_);
    kern_.value_residual_backward(d_v_first, d_vs_.data(), d_vm_.data(), vs_.data(), v_first, ve_.data(), M * A);
    be_.add_colsum(G("v0"), d_vs_.data(), M, A);
    // d_vh_ is held until the x gradient is formed below (v1 adds to it).
    be_.lora_matmul_backward(d_vh_.data(), G("v2"), d_vs_.data(), vh_.data(), v2_, M, Rv_, A);
  }

  // κ = normalize(kk)   (in place: d_kappa becomes ∂/∂kk)
  be_.l2norm_backward(d_kappa, d_kappa, kk_.data(), M, d.H, d.N);

  // balance_state=1: kk = k, k̃ = k⊙(1 − w + a) ; else kk = k⊙k_k, k̃ = k⊙(1 + (a−1)⊙k_a).
  // d_kt_ in place becomes ∂/∂k (expanded); d_w_, d_a gain k̃'s terms.
  const bool bal = opt_.balance_state;
  float *d_k_k = G("k_k"), *d_k_a = G("k_a");
  if (!bal && (d_k_k || d_k_a)) sz(d_tmp_, M * A), sz(d_tmp2_, M * A);
  kern_.keys_backward(d_w_.data(), d_a, d_kt_.data(), !bal && d_k_k ? d_tmp_.data() : nullptr,
                      !bal && d_k_a ? d_tmp2_.data() : nullptr, d_kappa, ke_.data(), a_.data(), w_.data(), k_k_,
                      k_a_, M, A, bal);
  if (!bal) {
    if (d_k_k) be_.add_colsum(d_k_k, d_tmp_.data(), M, A);
    if (d_k_a) be_.add_colsum(d_k_a, d_tmp2_.data(), M, A);
  }

  // expand k,v to H heads: a group's head gradients sum onto its KV head
  sz(d_k_, M * KD), sz(d_v_, M * KD);
  be_.gqa_reduce(d_k_.data(), d_kt_.data(), M, d.H, d.KVH, d.N);
  be_.gqa_reduce(d_v_.data(), d_vm_.data(), M, d.H, d.KVH, d.N);

  // optional RoPE on r,k: the gradient rotates back
  if (opt_.use_rope) {
    be_.rope_backward(d_r_.data(), pos, M, d.H, rope);
    be_.rope_backward(d_k_.data(), pos, M, d.KVH, rope);
  }

  // s = σ(w0 + lora_w) stored, w = exp(−e^−0.5·s): ∂w/∂z = −e^−0.5·w·s(1−s).
  // a = σ(a0 + lora_a): ∂a/∂z = a(1−a). In place into d_w_ and d_a.
  kern_.decay_iclr_backward(d_w_.data(), d_a, sw_.data(), w_.data(), a_.data(), M * A);
  be_.add_colsum(G("w0"), d_w_.data(), M, A);
  be_.add_colsum(G("a0"), d_a, M, A);

  // The LoRAs, each down to its rank; the x gradients follow below (the gate's last).
  // a = σ(a0 + (x·a1)·a2)
  sz(d_ah_, M * Ra_);
  be_.lora_matmul_backward(d_ah_.data(), G("a2"), d_a, ah_.data(), a2_, M, Ra_, A);
  // w_lora = w0 + tanh(x·w1)·w2
  sz(d_wh_, M * Rw_);
  be_.lora_matmul_backward(d_wh_.data(), G("w2"), d_w_.data(), wh_.data(), w2_, M, Rw_, A);
  be_.tanh_backward(d_wh_.data(), d_wh_.data(), wh_.data(), M * Rw_);

  // r,k,v = q_proj(x), k_proj(x), v_proj(x): q writes d_xn, everything else adds.
  const float* x = x_.data();
  sz(d_tmp_, M * C);
  be_.matmul_backward(d_xn, G("q_proj.weight"), bq_ ? G("q_proj.bias") : nullptr, d_r_.data(), x, wq_, M, C, A);
  for (int j = 0; j < 2; j++) {
    const bool is_k = j == 0;
    be_.matmul_backward(d_tmp_.data(), G(is_k ? "k_proj.weight" : "v_proj.weight"),
                    (is_k ? bk_ : bv_) ? G(is_k ? "k_proj.bias" : "v_proj.bias") : nullptr,
                    is_k ? d_k_.data() : d_v_.data(), x, is_k ? wk_ : wv_, M, C, KD);
    be_.add_inplace(d_xn, d_tmp_.data(), M * C);
  }
  be_.lora_matmul_backward(d_xn, G("w1"), d_wh_.data(), x, w1_, M, C, Rw_, true);
  be_.lora_matmul_backward(d_xn, G("a1"), d_ah_.data(), x, a1_, M, C, Ra_, true);
  gate_.backward(be_, ws_, d_xn, true, g_ ? d_g_.data() : nullptr, x, M, C, A, g);
  if (layer_ > 0) be_.lora_matmul_backward(d_xn, G("v1"), d_vh_.data(), x, v1_, M, C, Rv_, true);
}

}  // namespace radlads
