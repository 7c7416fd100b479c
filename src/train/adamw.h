// AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias
// corrections folded into the step size), fp32 master weights and moments.
// DESIGN.md: β = (0.9, 0.95), eps 1e-8, weight decay 0.
//
// The moments cover the parameter set's own range of the flat gradient
// layout (all of it in one process; 1/N of it per rank under ZeRO-1), so
// moment i of that range pairs with gradient own_begin() + i.
#pragma once

#include <cstdint>

#include "train/param_set.h"

namespace radlads {

struct AdamWConfig {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.0;
};

class AdamW {
 public:
  AdamW(const ParamSet& p, AdamWConfig cfg);
  // One update of every parameter of p's own range with its current gradient.
  void step(ParamSet& p, double lr);
  // First and second moments of flat gradient offset `flat` (in p's own range).
  float* m_at(int64_t flat) const { return m.flat() + (flat - begin_); }
  float* v_at(int64_t flat) const { return v.flat() + (flat - begin_); }
  int64_t bytes() const { return int64_t(m.bytes() + v.bytes()); }

  int64_t t = 0;  // updates done
  Arena m, v;     // one float per element of the own range
  AdamWConfig cfg;

 private:
  int64_t begin_ = 0, end_ = 0;
};

}  // namespace radlads
