#include "train/adamw.h"

#include <cmath>

#include "core/error.h"

namespace radlads {

AdamW::AdamW(const ParamSet& p, AdamWConfig c) : cfg(c) {
  for (Tensor* w : p.weights) {
    m.emplace_back(w->shape);
    v.emplace_back(w->shape);
  }
}

void AdamW::step(ParamSet& p, double lr) {
  CHECK(p.weights.size() == m.size(), "optimiser built for another parameter set");
  t++;
  // torch: w ← w·(1 − lr·wd); m̂/(√v̂ + eps) written as m/bc1 / (√v/√bc2 + eps).
  const double bc1 = 1.0 - std::pow(cfg.beta1, double(t)), bc2 = 1.0 - std::pow(cfg.beta2, double(t));
  const float b1 = float(cfg.beta1), b2 = float(cfg.beta2), eps = float(cfg.eps);
  const float step_size = float(lr / bc1), sqrt_bc2 = float(std::sqrt(bc2));
  const float decay = float(1.0 - lr * cfg.weight_decay);
  for (size_t i = 0; i < p.weights.size(); i++) {
    float* w = p.weights[i]->ptr();
    const float* g = p.grad(i).ptr();
    float* mi = m[i].ptr();
    float* vi = v[i].ptr();
    const int64_t n = p.weights[i]->numel();
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < n; j++) {
      const float gj = g[j];
      mi[j] = b1 * mi[j] + (1.0f - b1) * gj;
      vi[j] = b2 * vi[j] + (1.0f - b2) * gj * gj;
      w[j] = w[j] * decay - step_size * mi[j] / (std::sqrt(vi[j]) / sqrt_bc2 + eps);
    }
  }
}

}  // namespace radlads
