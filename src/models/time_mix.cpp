// Shared time-mix helpers.
#include "models/time_mix.h"

#include <vector>

namespace radlads {

Arena make_grad_arena(const Model& m, const std::function<bool(const std::string&)>& trainable,
                      const Backend& be) {
  std::vector<TensorSpec> table;
  for (auto& [name, t] : m.weights)
    if (trainable(name)) table.push_back({name, t.shape, DType::F32});
  if (be.device() != Device::Cpu) return Arena(std::move(table), be);
  return Arena(std::move(table));
}

}  // namespace radlads
