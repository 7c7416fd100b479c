// The output gate both RWKV students share (the reference's gate_rank_type):
// out = o_proj(g⊙p) with
//   GateRank::Full     g = σ(x·gateᵀ)     gate.weight [A, C]
//   GateRank::LowRank  g = σ(x·g1)·g2     g1 [C, R], g2 [R, A]
//   GateRank::None     no g: out = o_proj(p)
// x is the gate's input (RAD-RWKV6: the token-shifted x_g; RAD-RWKV7: the
// normed layer input). The forward keeps what its backward needs.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "backend/backend.h"
#include "backend/workspace.h"
#include "core/arena.h"
#include "models/model.h"

namespace radlads {

// The tensors the gate adds to a layer (under self_attn.), in table order.
void output_gate_tensors(int64_t C, int64_t A, const StudentOptions& o,
                         std::vector<std::pair<std::string, Shape>>& out);
// Workspace floats per row of a training pass: the forward's kept buffers and
// the backward's scratch (accumulate: the backward adds into d_x, which a full
// gate forms in a scratch row first).
int64_t output_gate_forward_floats(int64_t A, const StudentOptions& o);
int64_t output_gate_backward_floats(int64_t C, int64_t A, const StudentOptions& o, bool accumulate);

class OutputGate {
 public:
  // prefix: "model.layers.<l>.self_attn."; reads the gate's weights of m.
  OutputGate(const Model& m, const std::string& prefix);
  bool on() const { return type_ != GateRank::None; }
  // g (M,A) from x (M,C), in a buffer taken from ws; nullptr without a gate.
  const float* forward(const Backend& be, Workspace& ws, const float* x, int64_t M, int64_t C, int64_t A);
  // d_g (M,A), the gradient w.r.t. g (overwritten), -> d_x (M,C): written, or
  // added to with accumulate. Parameter gradients are added into g by name.
  // Without a gate: d_x is zeroed unless accumulate.
  void backward(const Backend& be, Workspace& ws, float* d_x, bool accumulate, float* d_g, const float* x,
                int64_t M, int64_t C, int64_t A, Arena* grads) const;

 private:
  GateRank type_;
  std::string p_;
  const float *w_ = nullptr, *g1_ = nullptr, *g2_ = nullptr;
  int R_ = 0;
  std::span<float> h_, g_;  // the low-rank hidden σ(x·g1), and g
};

}  // namespace radlads
