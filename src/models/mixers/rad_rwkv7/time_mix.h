// RAD-RWKV7 ("RADGoose") time mix, DESIGN.md to the letter (no token shift, no bonus):
//   r,k,v = q_proj(x), k_proj(x), v_proj(x) ; w = exp(−e^−0.5·σ(w0 + tanh(x·w1)·w2))
//   a = σ(a0 + (x·a1)·a2) ; g = the output gate on x (output_gate.h) ; optional RoPE on r,k before GQA expansion
//   balance_state=1: κ = k/‖k‖ ; k̃ = k⊙(1 − w + a)     else: κ = normalize(k⊙k_k) ; k̃ = k⊙(1 + (a−1)⊙k_a)
//   value residual (layers > 0): v ← v + (v_first − v)⊙σ(v0 + (x·v1)·v2) ; layer 0 sets v_first = v
//   S_t = S_{t−1}·(diag(w_t) − κ_tᵀ(a_t⊙κ_t)) + v_tᵀ k̃_t ; p_t = S_t r_t
//   balance_state=1: p ← p·N^-1/2 ; groupnorm_att=1: per-head GroupNorm(eps N·1e-5)·ln_x
//   out = o_proj(g⊙p)   (o_proj(p) without a gate)
#pragma once

#include <span>

#include "models/mixers/output_gate.h"
#include "models/mixers/rad_rwkv7/kernels.h"
#include "models/mixers/token_mixer.h"
#include "models/time_mix.h"

namespace radlads {

class Rwkv7TimeMix final : public TokenMixer {
 public:
  Rwkv7TimeMix(const Backend& be, Workspace& ws, const Model& m, int layer);
  void forward(const MixDims& d, TimeMixIO& io, const RopeTable& rope) override;
  // d_y (M,C) -> d_xn (M,C) written; d_v_first (M,A): layers > 0 add their
  // gradient w.r.t. v_first, layer 0 adds it to its own v. Parameter gradients
  // accumulated into g by name.
  void backward(float* d_xn, float* d_v_first, const float* d_y, const MixDims& d, const int32_t* pos,
                const float* v_first, const RopeTable& rope, Arena* g) override;

 private:
  const Backend& be_;
  Workspace& ws_;
  const Rwkv7Kernels& kern_;
  std::string p_;
  int layer_;
  const StudentOptions& opt_;
  const float *w0_, *w1_, *w2_, *a0_, *a1_, *a2_, *v0_ = nullptr, *v1_ = nullptr, *v2_ = nullptr,
      *k_k_, *k_a_, *ln_w_ = nullptr, *ln_b_ = nullptr;
  const float *wq_, *bq_, *wk_, *bk_, *wv_, *bv_, *wo_;
  OutputGate gate_;
  const float* g_ = nullptr;  // the gate's output (M,A), nullptr without one
  int Rw_ = 0, Ra_ = 0, Rv_ = 0;
  // Forward buffers (kept for backward).
  std::span<float> x_, r_, k_, v_, wh_, sw_, w_, ah_, a_, ke_, ve_, kk_, kappa_, kt_, vh_, vs_, vmix_,
      ka_, kb_, p_raw_, pn_, gn_mean_, gn_rstd_, gp_;
  bool zero_start_ = true;  // the forward began from a zero state: the only case backward handles
  // Backward scratch (from the workspace, after the forward's buffers).
  std::span<float> d_gp_, d_g_, d_r_, d_w_, d_kt_, d_vm_, d_ka_, d_kb_, d_vs_, d_vh_, d_k_, d_v_, d_wh_, d_ah_,
      d_tmp_, d_tmp2_;
};

}  // namespace radlads
