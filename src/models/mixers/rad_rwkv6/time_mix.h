// RAD-RWKV6 ("RADFinch") time mix, DESIGN.md to the letter:
//   δ = x₋₁ − x ; xxx = x + δ⊙maa_x ; [m_r,m_k,m_v,m_w,m_g] = tanh(xxx·W1)·W2[i]
//   x_* = x + δ⊙(maa_* + m_*)                  (use_tokenshift=0: x_* = x)
//   r = q_proj(x_r) ; k = k_proj(x_k) ; v = v_proj(x_v)
//   d = time_decay + tanh(x_w·decay_W1)·decay_W2 ; g = the output gate on x_g (output_gate.h)
//   optional RoPE on r,k ; k,v to H heads ; log w = max(−exp(d), −5)
//   k ← k⊙(1−w) (balance_state) ; S_t = diag(w_t)·S_{t−1} + k_tᵀ v_t ; p_t = (r_t·N^-1/2)·S_t
//   p ← GroupNorm_H(p, eps N·1e-5)·ln_x.weight + ln_x.bias (groupnorm_att, the reference's ln_x)
//   out = o_proj(g⊙p)   (o_proj(p) without a gate)
// The forward keeps what its backward needs, so one object serves one layer.
#pragma once

#include <span>

#include "models/mixers/output_gate.h"
#include "models/mixers/rad_rwkv6/kernels.h"
#include "models/mixers/token_mixer.h"
#include "models/time_mix.h"

namespace radlads {

class Rwkv6TimeMix final : public TokenMixer {
 public:
  Rwkv6TimeMix(const Backend& be, Workspace& ws, const Model& m, int layer);
  void forward(const MixDims& d, TimeMixIO& io, const RopeTable& rope) override;
  // d_y (M,C) -> d_xn (M,C) written; parameter gradients accumulated into g
  // (by name; missing names are frozen). Needs the preceding forward's buffers
  // (zero initial shift and state, as in training windows).
  void backward(float* d_xn, const float* d_y, const MixDims& d, const int32_t* pos, const RopeTable& rope,
                Arena* g);
  // The TokenMixer form: no value residual, so d_v_first and v_first are unused.
  void backward(float* d_xn, float*, const float* d_y, const MixDims& d, const int32_t* pos, const float*,
                const RopeTable& rope, Arena* g) override {
    backward(d_xn, d_y, d, pos, rope, g);
  }

 private:
  const Backend& be_;
  Workspace& ws_;
  const Rwkv6Kernels& kern_;
  std::string p_;  // "model.layers.<l>.self_attn."
  const StudentOptions& opt_;
  const float *maa_x_, *maa_[5], *w1_, *w2_, *td_, *tdw1_, *tdw2_;
  const float *wq_, *bq_, *wk_, *bk_, *wv_, *bv_, *wo_;
  const float *ln_w_ = nullptr, *ln_b_ = nullptr;  // groupnorm_att
  OutputGate gate_;
  const float* g_ = nullptr;  // the gate's output (M,A), nullptr without one
  int R_ = 0, Rd_ = 0;
  // Forward buffers (kept for backward).
  std::span<float> xprev_, delta_, xxx_, h_, m_, x5_, r_, k_, v_, dh_, dd_, ke_, ve_, logw_, kbal_, out_,
      go_, on_, gn_mean_, gn_rstd_;  // on_: out_ after ln_x (groupnorm_att)
  bool zero_start_ = true;  // the forward began from zero shift and state: the only case backward handles
  // Backward scratch (from the workspace, after the forward's buffers).
  std::span<float> d_go_, d_g_, d_out_, d_r_, d_kb_, d_ve_, d_lw_, d_k_, d_v_, d_dh_, d_x5_, d_delta_, d_m_,
      d_h_, d_xxx_;
};

}  // namespace radlads
