#include "train/param_set.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "ops/vector_kernels.h"

namespace radlads {

ParamSet::ParamSet(Model& m, const std::function<bool(const std::string&)>& trainable) {
  for (auto& [name, t] : m.weights) {
    if (!trainable(name)) continue;
    names.push_back(name);
    weights.push_back(&t);
    grads.emplace(name, Tensor(t.shape));
    n_params += t.numel();
  }
  if (names.empty()) fail("{}: no trainable tensors in this step", m.path);
}

void ParamSet::zero_grad() {
  for (auto& [name, g] : grads) std::fill(g.data.begin(), g.data.end(), 0.0f);
}

double ParamSet::grad_norm() const {
  // sum_squares has a fixed order: the same sum for any thread count.
  double total = 0;
  for (size_t i = 0; i < names.size(); i++) total += sum_squares(grad(i).ptr(), grad(i).numel());
  return std::sqrt(total);
}

void ParamSet::scale_grads(float s) {
  for (auto& [name, g] : grads) {
    float* p = g.ptr();
    const int64_t n = g.numel();
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < n; j++) p[j] *= s;
  }
}

bool is_time_mix_param(const Model& student, const std::string& name) {
  const std::string pre = "model.layers.";
  if (name.compare(0, pre.size(), pre) != 0) return false;
  const size_t dot = name.find('.', pre.size());
  if (dot == std::string::npos || name.compare(dot, 11, ".self_attn.") != 0) return false;
  const int l = std::atoi(name.c_str() + pre.size());
  return !student.student.softmax_layer(l, student.cfg.n_layer);
}

}  // namespace radlads
