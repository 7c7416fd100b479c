// The students' output gate (output_gate.h).
#include "models/mixers/output_gate.h"

#include "models/time_mix.h"

namespace radlads {

void output_gate_tensors(int64_t C, int64_t A, const StudentOptions& o,
                         std::vector<std::pair<std::string, Shape>>& out) {
  if (o.gate == GateRank::Full) out.push_back({"gate.weight", {A, C}});
  if (o.gate == GateRank::LowRank) {
    out.push_back({"g1", {C, o.lora_gate}});
    out.push_back({"g2", {o.lora_gate, A}});
  }
}

int64_t output_gate_forward_floats(int64_t A, const StudentOptions& o) {
  switch (o.gate) {
    case GateRank::None: return 0;
    case GateRank::Full: return A;
    case GateRank::LowRank: return o.lora_gate + A;
  }
  return 0;
}

int64_t output_gate_backward_floats(int64_t C, int64_t, const StudentOptions& o, bool accumulate) {
  switch (o.gate) {
    case GateRank::None: return 0;
    case GateRank::Full: return accumulate ? C : 0;
    case GateRank::LowRank: return o.lora_gate;
  }
  return 0;
}

OutputGate::OutputGate(const Model& m, const std::string& prefix) : type_(m.student.gate), p_(prefix) {
  if (type_ == GateRank::Full) w_ = m.w(p_ + "gate.weight").ptr();
  if (type_ == GateRank::LowRank) {
    g1_ = m.w(p_ + "g1").ptr(), g2_ = m.w(p_ + "g2").ptr();
    R_ = int(m.w(p_ + "g1").dim(1));
  }
}

const float* OutputGate::forward(const Backend& be, Workspace& ws, const float* x, int64_t M, int64_t C, int64_t A) {
  if (type_ == GateRank::None) return nullptr;
  if (type_ == GateRank::Full) {
    g_ = ws.take(M * A);
    be.matmul_forward(g_.data(), x, w_, nullptr, M, C, A);
    be.sigmoid_forward(g_.data(), g_.data(), M * A);
  } else {
    h_ = ws.take(M * R_), g_ = ws.take(M * A);
    be.lora_matmul_forward(h_.data(), x, g1_, M, C, R_);
    be.sigmoid_forward(h_.data(), h_.data(), M * R_);
    be.lora_matmul_forward(g_.data(), h_.data(), g2_, M, R_, A);
  }
  return g_.data();
}

void OutputGate::backward(const Backend& be, Workspace& ws, float* d_x, bool accumulate, float* d_g, const float* x,
                          int64_t M, int64_t C, int64_t A, Arena* grads) const {
  auto G = [&](const char* n) { return grad_ptr(grads, p_, n); };
  if (type_ == GateRank::None) {
    if (!accumulate) be.fill(d_x, 0.0f, M * C);
  } else if (type_ == GateRank::Full) {  // g = σ(x·gateᵀ): d_g in place becomes the pre-sigmoid gradient
    be.sigmoid_backward(d_g, d_g, g_.data(), M * A);
    if (!accumulate) {
      be.matmul_backward(d_x, G("gate.weight"), nullptr, d_g, x, w_, M, C, A);
    } else {
      std::span<float> tmp = ws.take(M * C);
      be.matmul_backward(tmp.data(), G("gate.weight"), nullptr, d_g, x, w_, M, C, A);
      be.add_inplace(d_x, tmp.data(), M * C);
    }
  } else {  // g = σ(x·g1)·g2
    std::span<float> d_h = ws.take(M * R_);
    be.lora_matmul_backward(d_h.data(), G("g2"), d_g, h_.data(), g2_, M, R_, A);
    be.sigmoid_backward(d_h.data(), d_h.data(), h_.data(), M * R_);
    be.lora_matmul_backward(d_x, G("g1"), d_h.data(), x, g1_, M, C, R_, accumulate);
  }
}

}  // namespace radlads
