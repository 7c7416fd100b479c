// RAD-RWKV6 time mix forward (backward in rad_rwkv6_backward.cpp).
#include "models/mixers/rad_rwkv6/time_mix.h"

#include <cmath>

namespace radlads {

Rwkv6TimeMix::Rwkv6TimeMix(const Backend& be, Workspace& ws, const Model& m, int l)
    : be_(be), ws_(ws), kern_(rwkv6_kernels(be)), p_("model.layers." + std::to_string(l) + ".self_attn."), opt_(m.student), gate_(m, p_) {
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
  if (opt_.groupnorm_att) ln_w_ = P("ln_x.weight"), ln_b_ = P("ln_x.bias");
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
  auto sz = [this](std::span<float>& v, int64_t n) { v = ws_.take(n); };
  sz(x5_, 5 * M * C);
  if (opt_.use_tokenshift) {
    sz(xprev_, M * C), sz(delta_, M * C), sz(xxx_, M * C), sz(h_, M * 5 * R_), sz(m_, 5 * M * C);
    // x₋₁: the previous row of the same sequence; the carried shift state (or 0) at t = 0.
    kern_.token_shift(xprev_.data(), delta_.data(), xxx_.data(), xn, io.shift, maa_x_, M, d.T, C);
    be_.lora_matmul_forward(h_.data(), xxx_.data(), w1_, M, C, 5 * int64_t(R_));
    be_.tanh_forward(h_.data(), h_.data(), M * 5 * R_);
    // m_s = h[:, sR:(s+1)R] · W2[s] for the five mixes, then x_s = x + δ⊙(maa_s + m_s).
    be_.gemm_strided_batched(false, false, int(M), int(C), R_, 1.0f, h_.data(), 5 * R_, R_, w2_, int(C),
                             int64_t(R_) * C, 0.0f, m_.data(), int(C), M * C, 5);
    kern_.mix5(x5_.data(), xn, delta_.data(), maa_, m_.data(), M, C);
    if (io.shift)
      for (int b = 0; b < d.B; b++)
        be_.copy(io.shift + int64_t(b) * C, xn + (int64_t(b) * d.T + d.T - 1) * C, sizeof(float) * size_t(C));
  } else {
    for (int s = 0; s < 5; s++) be_.copy(x5_.data() + s * M * C, xn, sizeof(float) * size_t(M * C));
  }
  const float *xr = x5_.data(), *xk = xr + M * C, *xv = xk + M * C, *xw = xv + M * C, *xg = xw + M * C;
  sz(r_, M * A), sz(k_, M * KD), sz(v_, M * KD), sz(dh_, M * Rd_), sz(dd_, M * A);
  be_.matmul_forward(r_.data(), xr, wq_, bq_, M, C, A);
  be_.matmul_forward(k_.data(), xk, wk_, bk_, M, C, KD);
  be_.matmul_forward(v_.data(), xv, wv_, bv_, M, C, KD);
  be_.lora_matmul_forward(dh_.data(), xw, tdw1_, M, C, Rd_);
  be_.tanh_forward(dh_.data(), dh_.data(), M * Rd_);
  be_.lora_matmul_forward(dd_.data(), dh_.data(), tdw2_, M, Rd_, A);
  g_ = gate_.forward(be_, ws_, xg, M, C, A);
  if (opt_.use_rope) {
    be_.rope_forward(r_.data(), io.pos, M, d.H, rope);
    be_.rope_forward(k_.data(), io.pos, M, d.KVH, rope);
  }
  sz(ke_, M * A), sz(ve_, M * A), sz(logw_, M * A), sz(kbal_, M * A), sz(out_, M * A);
  be_.gqa_expand(ke_.data(), k_.data(), M, d.H, d.KVH, d.N);
  be_.gqa_expand(ve_.data(), v_.data(), M, d.H, d.KVH, d.N);
  kern_.decay(dd_.data(), logw_.data(), kbal_.data(), td_, ke_.data(), M, A, opt_.balance_state);
  be_.wkv6_forward(out_.data(), io.state, r_.data(), kbal_.data(), ve_.data(), logw_.data(), d.B, d.T, d.H, d.N,
               1.0f / std::sqrt(float(d.N)));
  const float* p = out_.data();
  if (opt_.groupnorm_att) {
    sz(on_, M * A), sz(gn_mean_, M * d.H), sz(gn_rstd_, M * d.H);
    be_.group_norm_forward(on_.data(), gn_mean_.data(), gn_rstd_.data(), out_.data(), ln_w_, ln_b_, M, d.H, d.N,
                           float(d.N) * 1e-5f);
    p = on_.data();
  }
  if (g_) {
    sz(go_, M * A);
    be_.mul(go_.data(), g_, p, M * A);
    p = go_.data();
  }
  be_.matmul_forward(io.y, p, wo_, nullptr, M, A, C);
}

}  // namespace radlads
