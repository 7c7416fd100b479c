// model_on_device: one device arena with the host parameters' layout.
#include "models/device_model.h"

#include "core/error.h"

namespace radlads {

Model model_on_device(const Model& m, const Backend& be) {
  if (!m.stored.empty()) fail("{}: weights held in their stored GGUF types stay on the CPU backend", m.path);
  std::vector<TensorSpec> table;
  for (const auto& [name, t] : m.weights) table.push_back({name, t.shape, DType::F32});
  Model d;
  d.cfg = m.cfg;
  d.student = m.student;
  d.tokenizer = m.tokenizer;
  d.path = m.path;
  d.format = m.format;
  d.params = std::make_shared<Arena>(std::move(table), be);
  // Tensor by tensor: m may be packed (its weights one arena) or a copy
  // owning each weight; a tied head is absent from both and reads the embedding.
  size_t i = 0;
  for (const auto& [name, t] : m.weights) {
    float* p = d.params->f32(i++);
    be.to_device(p, t.ptr(), size_t(t.numel()) * sizeof(float));
    Tensor v;
    v.shape = t.shape;
    v.data = FloatBuffer::view_of(p, size_t(t.numel()));
    d.weights.emplace(name, std::move(v));
  }
  return d;
}

}  // namespace radlads
