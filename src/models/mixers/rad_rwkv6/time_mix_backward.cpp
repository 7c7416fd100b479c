// RAD-RWKV6 time mix backward: the forward's call list (time_mix.cpp) in
// reverse, from the buffers the forward kept. Training windows only (zero
// initial shift and state), so no state gradient is formed.
#include <cmath>

#include "core/error.h"
#include "models/mixers/rad_rwkv6/time_mix.h"

namespace radlads {

void Rwkv6TimeMix::backward(float* d_xn, const float* d_y, const MixDims& d, const int32_t* pos,
                            const RopeTable& rope, Arena* g) {
  CHECK(zero_start_, "Rwkv6TimeMix::backward: the forward must start from zero shift and state (training windows)");
  CHECK(int64_t(out_.size()) == d.M * d.A, "Rwkv6TimeMix::backward: dims differ from the preceding forward");
  const int64_t M = d.M, C = d.C, A = d.A, KD = d.KD;
  auto G = [&](const char* n) { return grad_ptr(g, p_, n); };
  auto sz = [this](std::span<float>& v, int64_t n) { v = ws_.take(n); };

  // out = o_proj(g⊙p), or o_proj(p) without a gate
  const float* p = opt_.groupnorm_att ? on_.data() : out_.data();
  sz(d_out_, M * A);
  if (g_) {
    sz(d_go_, M * A), sz(d_g_, M * A);
    be_.matmul_backward(d_go_.data(), G("o_proj.weight"), nullptr, d_y, go_.data(), wo_, M, A, C);
    be_.mul_backward(d_g_.data(), d_out_.data(), d_go_.data(), g_, p, M * A);
  } else {
    be_.matmul_backward(d_out_.data(), G("o_proj.weight"), nullptr, d_y, p, wo_, M, A, C);
  }
  // groupnorm_att: per-head GroupNorm·ln_x (in place: d_out_ becomes ∂/∂p before the norm)
  if (opt_.groupnorm_att)
    be_.group_norm_backward(d_out_.data(), G("ln_x.weight"), G("ln_x.bias"), d_out_.data(), out_.data(), ln_w_,
                            gn_mean_.data(), gn_rstd_.data(), M, d.H, d.N);

  // S_t = diag(w_t)·S_{t−1} + k_tᵀ v_t ; p_t = (r_t·N^-1/2)·S_t   (zero initial state)
  sz(d_r_, M * A), sz(d_kb_, M * A), sz(d_ve_, M * A), sz(d_lw_, M * A);
  be_.wkv6_backward(d_r_.data(), d_kb_.data(), d_ve_.data(), d_lw_.data(), nullptr, d_out_.data(), nullptr, r_.data(),
                kbal_.data(), ve_.data(), logw_.data(), nullptr, d.B, d.T, d.H, d.N, 1.0f / std::sqrt(float(d.N)));

  // k ← k⊙(1−w) (balance_state) ; log w = max(−exp(d), −5) ; d = time_decay + lora.
  // In place: d_kb_ becomes the gradient of the expanded k, d_lw_ that of d.
  kern_.decay_backward(d_kb_.data(), d_lw_.data(), logw_.data(), ke_.data(), dd_.data(), M, A, opt_.balance_state);
  const float* d_dd = d_lw_.data();

  // repeat k,v to H heads (GQA): a group's head gradients sum onto its KV head
  sz(d_k_, M * KD), sz(d_v_, M * KD);
  be_.gqa_reduce(d_k_.data(), d_kb_.data(), M, d.H, d.KVH, d.N);
  be_.gqa_reduce(d_v_.data(), d_ve_.data(), M, d.H, d.KVH, d.N);

  // optional RoPE on r,k: the gradient rotates back
  if (opt_.use_rope) {
    be_.rope_backward(d_r_.data(), pos, M, d.H, rope);
    be_.rope_backward(d_k_.data(), pos, M, d.KVH, rope);
  }

  // Gradients of the five mixed inputs x_r, x_k, x_v, x_w, x_g (slices of d_x5_).
  sz(d_x5_, 5 * M * C);
  float *dxr = d_x5_.data(), *dxk = dxr + M * C, *dxv = dxk + M * C, *dxw = dxv + M * C, *dxg = dxw + M * C;
  const float *xr = x5_.data(), *xk = xr + M * C, *xv = xk + M * C, *xw = xv + M * C, *xg = xw + M * C;

  // the output gate on x_g (x_g's gradient is zero without one)
  gate_.backward(be_, ws_, dxg, false, g_ ? d_g_.data() : nullptr, xg, M, C, A, g);

  // d = time_decay + tanh(x_w·decay_W1)·decay_W2
  be_.add_colsum(G("time_decay"), d_dd, M, A);
  sz(d_dh_, M * Rd_);
  be_.lora_matmul_backward(d_dh_.data(), G("time_decay_w2"), d_dd, dh_.data(), tdw2_, M, Rd_, A);
  be_.tanh_backward(d_dh_.data(), d_dh_.data(), dh_.data(), M * Rd_);
  be_.lora_matmul_backward(dxw, G("time_decay_w1"), d_dh_.data(), xw, tdw1_, M, C, Rd_);

  // r = q_proj(x_r) ; k = k_proj(x_k) ; v = v_proj(x_v)
  be_.matmul_backward(dxv, G("v_proj.weight"), bv_ ? G("v_proj.bias") : nullptr, d_v_.data(), xv, wv_, M, C, KD);
  be_.matmul_backward(dxk, G("k_proj.weight"), bk_ ? G("k_proj.bias") : nullptr, d_k_.data(), xk, wk_, M, C, KD);
  be_.matmul_backward(dxr, G("q_proj.weight"), bq_ ? G("q_proj.bias") : nullptr, d_r_.data(), xr, wq_, M, C, A);

  if (!opt_.use_tokenshift) {  // x_* = x
    kern_.sum5(d_xn, d_x5_.data(), M, C);
    return;
  }

  // x_s = x + δ⊙(maa_s + m_s), m_s = h[:, sR:(s+1)R]·W2[s], h = tanh(xxx·W1).
  // d_delta_ collects ∂/∂δ; d_m_ = d_x_s⊙δ serves both ∂/∂m_s and ∂/∂maa_s (its column sums).
  const char* maa_names[5] = {"time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"};
  float* d_w2 = G("time_maa_w2");
  sz(d_delta_, M * C), sz(d_m_, M * C), sz(d_h_, M * 5 * R_), sz(d_xxx_, M * C);
  be_.fill(d_delta_.data(), 0.0f, M * C);
  for (int s = 0; s < 5; s++) {
    const float* dxs = d_x5_.data() + s * M * C;
    const float* ms = m_.data() + s * M * C;
    const float* maa = maa_[s];
    kern_.mix_backward(d_delta_.data(), d_m_.data(), dxs, maa, ms, delta_.data(), M, C);
    be_.add_colsum(G(maa_names[s]), d_m_.data(), M, C);
    // d_h[:, sR:(s+1)R] = d_m_s·W2[s]ᵀ ; d_W2[s] += h_sᵀ·d_m_s
    be_.gemm(false, true, int(M), R_, int(C), 1.0f, d_m_.data(), int(C), w2_ + int64_t(s) * R_ * C, int(C), 0.0f,
                d_h_.data() + s * R_, 5 * R_);
    if (d_w2)
      be_.gemm(true, false, R_, int(C), int(M), 1.0f, h_.data() + s * R_, 5 * R_, d_m_.data(), int(C), 1.0f,
                  d_w2 + int64_t(s) * R_ * C, int(C));
  }
  be_.tanh_backward(d_h_.data(), d_h_.data(), h_.data(), M * 5 * R_);
  be_.lora_matmul_backward(d_xxx_.data(), G("time_maa_w1"), d_h_.data(), xxx_.data(), w1_, M, C, 5 * int64_t(R_));

  // xxx = x + δ⊙maa_x  (d_m_ reused for d_xxx⊙δ, the per-row terms of ∂/∂maa_x)
  kern_.xxx_backward(d_delta_.data(), d_m_.data(), d_xxx_.data(), maa_x_, delta_.data(), M, C);
  be_.add_colsum(G("time_maa_x"), d_m_.data(), M, C);

  // δ = x₋₁ − x, x₋₁ the previous row of the same sequence (zero at t = 0 in a
  // training window, so row 0's δ sends nothing further back).
  kern_.token_shift_backward(d_xn, d_x5_.data(), d_xxx_.data(), d_delta_.data(), M, d.T, C);
}

}  // namespace radlads
