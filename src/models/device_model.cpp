// model_on_device: one device arena with the host parameters' layout.
#include "models/device_model.h"

#include "core/error.h"

namespace radlads {

Model model_on_device(const Model& m, const Backend& be) {
  if (!m.params) fail("{}: the model's weights are not packed into one arena (pack_parameters)", m.path);
  if (!m.stored.empty()) fail("{}: weights held in their stored GGUF types stay on the CPU backend", m.path);
  const Arena& host = *m.params;
  std::vector<TensorSpec> table;
  for (size_t i = 0; i < host.size(); i++) table.push_back(host.spec(i));
  Model d;
  d.cfg = m.cfg;
  d.student = m.student;
  d.tokenizer = m.tokenizer;
  d.path = m.path;
  d.format = m.format;
  d.params = std::make_shared<Arena>(std::move(table), be);
  be.to_device(d.params->data(), host.data(), host.bytes());
  // Each weight sits at the same offset in both arenas (a tied head shares
  // its embedding's slice in both).
  const char* h0 = static_cast<const char*>(host.data());
  char* d0 = static_cast<char*>(d.params->data());
  for (const auto& [name, t] : m.weights) {
    const char* p = reinterpret_cast<const char*>(t.ptr());
    if (p < h0 || p + t.numel() * sizeof(float) > h0 + host.bytes())
      fail("{}: weight {} is not in the model's parameter arena", m.path, name);
    Tensor v;
    v.shape = t.shape;
    v.data = FloatBuffer::view_of(reinterpret_cast<float*>(d0 + (p - h0)), size_t(t.numel()));
    d.weights.emplace(name, std::move(v));
  }
  return d;
}

}  // namespace radlads
