#include "train/adamw.h"

#include <cmath>

#include "core/error.h"

namespace radlads {

namespace {
// In the parameters' backend's memory (zeroed).
Arena moments(const ParamSet& p) {
  std::vector<TensorSpec> table = {TensorSpec{"moments", {std::max<int64_t>(1, p.own_end() - p.own_begin())}}};
  if (p.be->device() != Device::Cpu) return Arena(std::move(table), *p.be);
  return Arena(std::move(table));
}
}  // namespace

AdamW::AdamW(const ParamSet& p, AdamWConfig c)
    : m(moments(p)), v(moments(p)), cfg(c), begin_(p.own_begin()), end_(p.own_end()) {}

void AdamW::step(ParamSet& p, double lr) {
  CHECK(p.own_begin() == begin_ && p.own_end() == end_, "optimiser built for another parameter range");
  t++;
  // torch: w ← w·(1 − lr·wd); m̂/(√v̂ + eps) written as m/bc1 / (√v/√bc2 + eps).
  const double bc1 = 1.0 - std::pow(cfg.beta1, double(t)), bc2 = 1.0 - std::pow(cfg.beta2, double(t));
  const AdamWStep s{float(cfg.beta1),      float(cfg.beta2),         float(cfg.eps),
                    float(lr / bc1),         float(std::sqrt(bc2)),    float(1.0 - lr * cfg.weight_decay)};
  for (const ParamSet::Piece& q : p.own_pieces())
    p.be->adamw_update(p.weights[q.tensor]->ptr() + q.begin, m_at(q.flat), v_at(q.flat), p.grads.flat() + q.flat,
                       q.count, s);
}

}  // namespace radlads
