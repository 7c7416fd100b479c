// RAD-RWKV7 time mix forward (backward in rad_rwkv7_backward.cpp).
#include "models/mixers/rad_rwkv7/time_mix.h"


namespace radlads {

Rwkv7TimeMix::Rwkv7TimeMix(const Backend& be, Workspace& ws, const Model& m, int l)
    : be_(be), ws_(ws), kern_(rwkv7_kernels(be)), p_("model.layers." + std::to_string(l) + ".self_attn."), layer_(l), opt_(m.student), gate_(m, p_) {
  auto P = [&](const char* n) { return m.w(p_ + n).ptr(); };
  auto B = [&](const char* n) -> const float* {
    const Tensor* t = m.find(p_ + n);
    return t ? t->ptr() : nullptr;
  };
  w0_ = P("w0"), w1_ = P("w1"), w2_ = P("w2");
  a0_ = P("a0"), a1_ = P("a1"), a2_ = P("a2");
  if (l > 0) v0_ = P("v0"), v1_ = P("v1"), v2_ = P("v2");
  k_k_ = P("k_k"), k_a_ = P("k_a");
  if (opt_.groupnorm_att) ln_w_ = P("ln_x.weight"), ln_b_ = P("ln_x.bias");
  wq_ = P("q_proj.weight"), bq_ = B("q_proj.bias");
  wk_ = P("k_proj.weight"), bk_ = B("k_proj.bias");
  wv_ = P("v_proj.weight"), bv_ = B("v_proj.bias");
  wo_ = P("o_proj.weight");
  Rw_ = int(m.w(p_ + "w1").dim(1));
  Ra_ = int(m.w(p_ + "a1").dim(1));
  if (l > 0) Rv_ = int(m.w(p_ + "v1").dim(1));
}

void Rwkv7TimeMix::forward(const MixDims& d, TimeMixIO& io, const RopeTable& rope) {
  const int64_t M = d.M, C = d.C, A = d.A, KD = d.KD;
  const float* x = io.xn;
  auto sz = [this](std::span<float>& v, int64_t n) { v = ws_.take(n); };
  // The caller may reuse its xn buffer before the backward, which needs x for
  // the weight gradients of every projection that reads it.
  sz(x_, M * C);
  be_.copy(x_.data(), x, sizeof(float) * size_t(M * C));
  zero_start_ = !io.state;
  sz(r_, M * A), sz(k_, M * KD), sz(v_, M * KD);
  be_.matmul_forward(r_.data(), x, wq_, bq_, M, C, A);
  be_.matmul_forward(k_.data(), x, wk_, bk_, M, C, KD);
  be_.matmul_forward(v_.data(), x, wv_, bv_, M, C, KD);
  // Decay, in-context learning rate, gate: the LoRAs.
  sz(wh_, M * Rw_), sz(sw_, M * A), sz(w_, M * A), sz(ah_, M * Ra_), sz(a_, M * A);
  be_.lora_matmul_forward(wh_.data(), x, w1_, M, C, Rw_);
  be_.tanh_forward(wh_.data(), wh_.data(), M * Rw_);
  be_.lora_matmul_forward(sw_.data(), wh_.data(), w2_, M, Rw_, A);
  be_.lora_matmul_forward(ah_.data(), x, a1_, M, C, Ra_);
  be_.lora_matmul_forward(a_.data(), ah_.data(), a2_, M, Ra_, A);
  g_ = gate_.forward(be_, ws_, x, M, C, A);
  kern_.decay_iclr(sw_.data(), w_.data(), a_.data(), w0_, a0_, M, A);
  if (opt_.use_rope) {  // before the GQA expansion, as the reference does
    be_.rope_forward(r_.data(), io.pos, M, d.H, rope);
    be_.rope_forward(k_.data(), io.pos, M, d.KVH, rope);
  }
  sz(ke_, M * A), sz(ve_, M * A), sz(kk_, M * A), sz(kappa_, M * A), sz(kt_, M * A);
  be_.gqa_expand(ke_.data(), k_.data(), M, d.H, d.KVH, d.N);
  be_.gqa_expand(ve_.data(), v_.data(), M, d.H, d.KVH, d.N);
  // κ: the unit-norm key the state forgets along; k̃: the key written.
  kern_.keys(kk_.data(), kt_.data(), ke_.data(), a_.data(), w_.data(), k_k_, k_a_, M, A, opt_.balance_state);
  be_.l2norm_forward(kappa_.data(), kk_.data(), M, d.H, d.N);
  // Value residual: layer 0 records its values, later layers mix towards them.
  sz(vmix_, M * A);
  if (layer_ == 0) {
    be_.copy(vmix_.data(), ve_.data(), sizeof(float) * size_t(M * A));
    if (io.v_first) be_.copy(io.v_first, ve_.data(), sizeof(float) * size_t(M * A));
  } else {
    sz(vh_, M * Rv_), sz(vs_, M * A);
    be_.lora_matmul_forward(vh_.data(), x, v1_, M, C, Rv_);
    be_.lora_matmul_forward(vs_.data(), vh_.data(), v2_, M, Rv_, A);
    kern_.value_residual(vs_.data(), vmix_.data(), ve_.data(), io.v_first, v0_, M, A);
  }
  sz(ka_, M * A), sz(kb_, M * A), sz(p_raw_, M * A), sz(pn_, M * A);
  kern_.ka_kb(ka_.data(), kb_.data(), kappa_.data(), a_.data(), M * A);
  be_.wkv7_forward(p_raw_.data(), io.state, r_.data(), w_.data(), kt_.data(), vmix_.data(), ka_.data(), kb_.data(),
               d.B, d.T, d.H, d.N, opt_.rwkv7_output_scale(d.N));
  if (opt_.groupnorm_att) {
    sz(gn_mean_, M * d.H), sz(gn_rstd_, M * d.H);
    be_.group_norm_forward(pn_.data(), gn_mean_.data(), gn_rstd_.data(), p_raw_.data(), ln_w_, ln_b_, M, d.H, d.N,
                       float(d.N) * 1e-5f);
  } else {
    be_.copy(pn_.data(), p_raw_.data(), sizeof(float) * size_t(M * A));
  }
  const float* p = pn_.data();
  if (g_) {
    sz(gp_, M * A);
    be_.mul(gp_.data(), g_, p, M * A);
    p = gp_.data();
  }
  be_.matmul_forward(io.y, p, wo_, nullptr, M, A, C);
}

}  // namespace radlads
