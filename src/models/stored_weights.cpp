#include "models/stored_weights.h"

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/fp16.h"
#include "core/sysinfo.h"
#include "models/weight_names.h"

namespace radlads {

namespace {

// The tensors a Teacher multiplies (or gathers, the embedding) by HF name.
bool held_name(const std::string& hf) {
  if (hf == "model.embed_tokens.weight" || hf == "lm_head.weight") return true;
  for (const char* leaf : {".self_attn.q_proj.weight", ".self_attn.k_proj.weight", ".self_attn.v_proj.weight",
                           ".self_attn.o_proj.weight", ".mlp.gate_proj.weight", ".mlp.up_proj.weight",
                           ".mlp.down_proj.weight"})
    if (hf.starts_with("model.layers.") && hf.ends_with(leaf)) return true;
  return false;
}

// An HF weight in bf16 or f16 when that holds every value exactly.
bool exact_half(const Tensor& t, GgmlType type, std::vector<uint8_t>& out) {
  out.resize(size_t(t.numel()) * 2);
  const float* x = t.ptr();
  for (int64_t i = 0; i < t.numel(); i++) {
    const uint16_t h = type == GgmlType::BF16 ? f32_to_bf16(x[i]) : f32_to_f16(x[i]);
    const float back = type == GgmlType::BF16 ? bf16_to_f32(h) : f16_to_f32(h);
    if (std::memcmp(&back, &x[i], 4) != 0) return false;
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return true;
}

}  // namespace

StoredReport hold_teacher_stored(Model& m) {
  CHECK(!m.student.is_student(), "{}: only a teacher is held in its stored precision", m.path);
  StoredReport r;
  if (m.format == "gguf") {
    GgufFile f(m.path);
    for (const GgufTensorInfo& ti : f.tensors()) {
      const std::string hf = teacher_gguf_to_hf(ti.name);
      if (!held_name(hf) || ti.type == GgmlType::F32 || ti.shape.size() != 2 || m.stored.count(hf)) continue;
      StoredWeight w;
      w.type = ti.type;
      w.rows = ti.shape[0], w.cols = ti.shape[1];
      const std::span<const uint8_t> b = f.tensor_bytes(ti);
      const size_t rb = ggml_row_bytes(ti.type, w.cols);
      if (b.size() != rb * size_t(w.rows)) fail("{}: tensor '{}' has {} bytes, expected {}", m.path, ti.name, b.size(), rb * size_t(w.rows));
      w.bytes.assign(b.begin(), b.end());
      if (m.cfg.arch == "llama") {
        if (hf.ends_with(".self_attn.q_proj.weight")) unpermute_qk_rows_gguf_to_hf(w.bytes.data(), w.rows, rb, m.cfg.n_head);
        if (hf.ends_with(".self_attn.k_proj.weight"))
          unpermute_qk_rows_gguf_to_hf(w.bytes.data(), w.rows, rb, m.cfg.n_head_kv);
      }
      m.stored.emplace(hf, std::move(w));
    }
  } else {
    for (const auto& [name, t] : m.weights) {
      if (!held_name(name) || t.shape.size() != 2 || m.stored.count(name)) continue;
      StoredWeight w;
      w.rows = t.shape[0], w.cols = t.shape[1];
      bool ok = false;
      for (GgmlType type : {GgmlType::BF16, GgmlType::F16})
        if (!ok && exact_half(t, type, w.bytes)) w.type = type, ok = true;
      if (ok) m.stored.emplace(name, std::move(w));
    }
  }
  for (const auto& [name, w] : m.stored) {
    const Tensor& t = m.w(name);
    if (t.shape != Shape{w.rows, w.cols})
      fail("{}: stored '{}' is {}x{}, the model's tensor {}", m.path, name, w.rows, w.cols, shape_str(t.shape));
    r.stored_bytes += w.bytes.size();
    r.freed_bytes += release_pages(t.ptr(), size_t(t.numel()) * sizeof(float));
    r.weights++;
  }
  return r;
}

size_t stored_teacher_bytes(const std::string& path, size_t* freed) {
  size_t bytes = 0, f32 = 0;
  if (std::filesystem::is_regular_file(path)) {
    GgufFile f(path);
    for (const GgufTensorInfo& ti : f.tensors())
      if (held_name(teacher_gguf_to_hf(ti.name)) && ti.type != GgmlType::F32 && ti.shape.size() == 2) {
        bytes += ti.nbytes;
        f32 += size_t(numel(ti.shape)) * sizeof(float);
      }
  }
  if (freed) *freed = f32;
  return bytes;  // an HF folder: counted as fp32 until loaded (bf16 sources halve it)
}

}  // namespace radlads
