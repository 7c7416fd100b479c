#include "train/adamw.h"

#include <cmath>

#include "core/error.h"

namespace radlads {

AdamW::AdamW(const ParamSet& p, AdamWConfig c) : m(p.grads), v(p.grads), cfg(c) {
  m.zero();
  v.zero();
}

void AdamW::step(ParamSet& p, double lr) {
  CHECK(m.same_layout(p.grads), "optimiser built for another parameter set");
  t++;
  // torch: w ← w·(1 − lr·wd); m̂/(√v̂ + eps) written as m/bc1 / (√v/√bc2 + eps).
  const double bc1 = 1.0 - std::pow(cfg.beta1, double(t)), bc2 = 1.0 - std::pow(cfg.beta2, double(t));
  const AdamWStep s{float(cfg.beta1),      float(cfg.beta2),         float(cfg.eps),
                    float(lr / bc1),         float(std::sqrt(bc2)),    float(1.0 - lr * cfg.weight_decay)};
  for (size_t i = 0; i < p.weights.size(); i++)
    p.be->adamw_update(p.weights[i]->ptr(), m.f32(i), v.f32(i), p.grad(i), p.weights[i]->numel(), s);
}

}  // namespace radlads
