#include "train/param_set.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace radlads {

ParamSet::ParamSet(const Backend& be, Model& m, const std::function<bool(const std::string&)>& trainable)
    : be(&be), grads(make_grad_arena(m, trainable)) {
  for (size_t i = 0; i < grads.size(); i++) {
    Tensor& t = m.weights.at(grads.name(i));
    names.push_back(grads.name(i));
    weights.push_back(&t);
    n_params += t.numel();
  }
  if (names.empty()) fail("{}: no trainable tensors in this step", m.path);
}

void ParamSet::zero_grad() { grads.zero(); }

double ParamSet::grad_norm() const {
  // Per tensor, then over tensors in name order: sum_squares has a fixed
  // order, so the norm is the same for any thread count.
  double total = 0;
  for (size_t i = 0; i < names.size(); i++) total += be->sum_squares(grad(i), grads.numel(i));
  return std::sqrt(total);
}

void ParamSet::scale_grads(float s) {
  be->scale_inplace(grads.flat(), s, grads.flat_numel());  // padding is zero and stays zero
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
