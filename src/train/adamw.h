// AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias
// corrections folded into the step size), fp32 master weights and moments.
// DESIGN.md: β = (0.9, 0.95), eps 1e-8, weight decay 0.
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
  // One update of every parameter of p with its current gradient.
  void step(ParamSet& p, double lr);

  int64_t t = 0;  // updates done
  Arena m, v;     // first and second moments: the gradient arena's layout
  AdamWConfig cfg;
};

}  // namespace radlads
