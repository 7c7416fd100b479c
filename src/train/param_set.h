// The trainable tensors of one training step: views into a Model's weights
// (by HF name), their gradients in one arena with the same names, order and
// shapes, and the flat loops the optimiser needs (zero-grad, global norm,
// scale). Which tensors train is a predicate on the name: the parameter
// groups of DESIGN.md's steps.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "models/model.h"
#include "models/time_mix.h"

namespace radlads {

struct ParamSet {
  const Backend* be;               // where the weights and gradients live and the loops run
  std::vector<std::string> names;  // sorted (the Model's map order)
  std::vector<Tensor*> weights;    // views into the Model, same order
  Arena grads;                     // tensor i is names[i]'s gradient (zeros after zero_grad)
  int64_t n_params = 0;

  ParamSet(const Backend& be, Model& m, const std::function<bool(const std::string&)>& trainable);
  float* grad(size_t i) const { return grads.f32(i); }
  void zero_grad();
  // Global L2 norm of every gradient, in double, summed in a fixed order so
  // that it does not depend on the thread count's reduction order.
  double grad_norm() const;
  void scale_grads(float s);
};

// DESIGN.md's parameter groups. Step 1: every student attention tensor of a
// recurrent (non-softmax) layer. Steps 2 and 3: every tensor.
bool is_time_mix_param(const Model& student, const std::string& name);

}  // namespace radlads
