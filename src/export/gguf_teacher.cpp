// Teacher -> GGUF.
#include "export/gguf_teacher.h"

#include "core/error.h"
#include "text/gguf_tokenizer_meta.h"
#include "io/gguf.h"
#include "models/weight_names.h"

namespace radlads {

// Metadata for an HF-sourced teacher, as llama.cpp's converter would write it.
static void teacher_metadata(GgufWriter& w, const Model& m) {
  const TeacherConfig& c = m.cfg;
  const std::string a = c.arch == "mistral" ? "llama" : c.arch;
  w.set("general.architecture", GgufValue::of_str(a));
  w.set("general.name", GgufValue::of_str(m.hf_config.value("_name_or_path", std::string("model"))));
  w.set(a + ".block_count", GgufValue::of_u32(uint32_t(c.n_layer)));
  w.set(a + ".context_length", GgufValue::of_u32(uint32_t(c.n_ctx_train)));
  w.set(a + ".embedding_length", GgufValue::of_u32(uint32_t(c.n_embd)));
  w.set(a + ".feed_forward_length", GgufValue::of_u32(uint32_t(c.n_ff)));
  w.set(a + ".attention.head_count", GgufValue::of_u32(uint32_t(c.n_head)));
  w.set(a + ".attention.head_count_kv", GgufValue::of_u32(uint32_t(c.n_head_kv)));
  w.set(a + ".attention.key_length", GgufValue::of_u32(uint32_t(c.head_dim)));
  w.set(a + ".attention.value_length", GgufValue::of_u32(uint32_t(c.head_dim)));
  w.set(a + ".rope.freq_base", GgufValue::of_f32(float(c.rope_theta)));
  w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::of_f32(float(c.rms_eps)));
  w.set(a + ".vocab_size", GgufValue::of_u32(uint32_t(c.n_vocab)));
  w.set(a + ".rope.dimension_count", GgufValue::of_u32(uint32_t(c.head_dim)));
  add_tokenizer_metadata(w, m.tokenizer);
}

void export_teacher_gguf(const Model& m, const std::string& path, GgmlType dtype) {
  GgufWriter w;
  if (m.format == "gguf") {
    for (auto& [k, v] : m.gguf_meta) w.set(k, v);
  } else {
    teacher_metadata(w, m);
  }
  w.set("general.file_type", GgufValue::of_u32(llama_file_type(dtype)));
  if (dtype != GgmlType::F32) w.set("general.quantization_version", GgufValue::of_u32(2));
  const bool permute = m.cfg.arch == "llama" || m.cfg.arch == "mistral";
  auto add = [&](const std::string& hf) {
    const Tensor* t = m.find(hf);
    if (!t) return;
    std::string g = teacher_hf_to_gguf(hf);
    CHECK(!g.empty(), "no GGUF name for {}", hf);
    Tensor copy;
    const Tensor* src = t;
    const bool is_q = hf.find("q_proj") != std::string::npos, is_k = hf.find("k_proj") != std::string::npos;
    if (permute && (is_q || is_k)) {
      copy = *t;
      permute_qk_hf_to_gguf(copy, is_q ? m.cfg.n_head : m.cfg.n_head_kv);
      src = &copy;
    }
    GgmlType ty = dtype;
    // Vectors stay F32 (as llama.cpp's converter does); rows that do not fit
    // the quantization block fall back to F16.
    if (src->shape.size() < 2) ty = GgmlType::F32;
    else if (src->shape.back() % ggml_block_elems(ty) != 0) ty = GgmlType::F16;
    w.add_tensor_f32(g, ty, *src);
  };
  add("model.embed_tokens.weight");
  add("model.norm.weight");
  add("lm_head.weight");
  for (int l = 0; l < m.cfg.n_layer; l++)
    for (const char* p : {"model.layers.{l}.input_layernorm.weight", "model.layers.{l}.self_attn.q_proj.weight",
                          "model.layers.{l}.self_attn.q_proj.bias", "model.layers.{l}.self_attn.k_proj.weight",
                          "model.layers.{l}.self_attn.k_proj.bias", "model.layers.{l}.self_attn.v_proj.weight",
                          "model.layers.{l}.self_attn.v_proj.bias", "model.layers.{l}.self_attn.o_proj.weight",
                          "model.layers.{l}.post_attention_layernorm.weight", "model.layers.{l}.mlp.gate_proj.weight",
                          "model.layers.{l}.mlp.up_proj.weight", "model.layers.{l}.mlp.down_proj.weight"})
      add(layer_name(p, l));
  w.write(path);
}

}  // namespace radlads
