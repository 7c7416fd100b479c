// Student -> GGUF (and back): what both architectures share. The metadata
// keys are the ones llama.cpp's convert_hf_to_gguf.py writes for RWKV6Qwen2 /
// RwkvHybrid (ARWKV7) models; "radlads.student_config" adds our config.json so
// that an import restores the exact student (llama.cpp ignores unknown keys).
#include "models/student_gguf.h"

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/student_gguf_arch.h"
#include "text/gguf_tokenizer_meta.h"
#include "models/student_weights.h"
#include "models/weight_names.h"
#include "text/gguf_tokenizer.h"

namespace radlads {

using namespace student_gguf;

namespace student_gguf {

GgmlType tensor_type(const std::string& g, const Shape& shape, GgmlType dtype) {
  int64_t dims = 0;  // the converter squeezes size-1 dims before deciding
  for (int64_t d : shape) dims += d > 1;
  auto ends = [&](const char* s) {
    const std::string suf(s);
    return g.size() >= suf.size() && g.compare(g.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (dims <= 1 || !ends(".weight") || ends("_norm.weight") || ends("time_mix_w1.weight") ||
      ends("time_mix_w2.weight") || ends("time_mix_decay_w1.weight") || ends("time_mix_decay_w2.weight") ||
      ends("time_mix_lerp_fused.weight"))
    return GgmlType::F32;
  if (shape.back() % ggml_block_elems(dtype) != 0) return GgmlType::F16;  // as the converter falls back
  return dtype;
}

void add(GgufWriter& w, const std::string& g, const Tensor& t, GgmlType dtype) {
  w.add_tensor_f32(g, tensor_type(g, t.shape, dtype), t);
}

Tensor transpose2d(const Tensor& t) {
  Shape s;
  for (int64_t d : t.shape)
    if (d != 1 || s.size() + 1 < t.shape.size()) s.push_back(d);
  CHECK(s.size() == 2, "transpose2d of {}", shape_str(t.shape));
  const int64_t a = s[0], b = s[1];
  Tensor out({b, a});
  for (int64_t i = 0; i < a; i++)
    for (int64_t j = 0; j < b; j++) out.data[size_t(j * a + i)] = t.data[size_t(i * b + j)];
  return out;
}

Tensor reshaped(const Tensor& t, Shape s) {
  CHECK(numel(s) == t.numel(), "reshape {} to {}", shape_str(t.shape), shape_str(s));
  Tensor out;
  out.shape = std::move(s);
  out.data = t.data;
  return out;
}

Tensor load(const GgufFile& f, const std::string& name, const Shape& shape) {
  const GgufTensorInfo* ti = f.find_tensor(name);
  if (!ti) fail("{}: missing tensor '{}'", f.path(), name);
  if (ti->shape != shape)
    fail("{}: tensor '{}' has shape {}, expected {}", f.path(), name, shape_str(ti->shape), shape_str(shape));
  return f.load_f32(*ti);
}

std::string blk(int l, const char* leaf) { return "blk." + std::to_string(l) + "." + leaf; }
std::string attn(int l, const char* leaf) { return "model.layers." + std::to_string(l) + ".self_attn." + leaf; }

}  // namespace student_gguf

static const char* gguf_arch(const Model& m) { return mixer_arch(m.student.arch).gguf_arch; }

// What the options and sizes decide alone (the arch's own weight checks apart).
static std::string shared_blocker(const TeacherConfig& c, const StudentOptions& o) {
  if (!o.is_student()) return "not a student (teachers export with the llama/qwen2 architectures)";
  const char* a = mixer_arch(o.arch).gguf_arch;
  if (o.num_attention_layers > 0)
    return fmt::format("num_attention_layers={}: llama.cpp's {} has no softmax-attention layers for a hybrid student",
                       o.num_attention_layers, a);
  if (int64_t(c.n_head) * c.head_dim != c.n_embd)
    return fmt::format("attention width H*N = {}*{} differs from the hidden size {}: llama.cpp's {} takes its "
                       "head count as hidden size / head size",
                       c.n_head, c.head_dim, c.n_embd, a);
  return "";
}

std::string student_gguf_blocker(const Model& m) {
  if (std::string why = shared_blocker(m.cfg, m.student); !why.empty()) return why;
  return mixer_arch(m.student.arch).gguf_blocker(m);
}

std::string student_gguf_options_blocker(const TeacherConfig& c, const StudentOptions& o) {
  if (std::string why = shared_blocker(c, o); !why.empty()) return why;
  return mixer_arch(o.arch).gguf_options_blocker(c, o);
}

// The teacher tensors a student keeps (embedding, norms, MLP, head) under
// llama.cpp's names; the head is always explicit (`output`), as both graphs need it.
static const char* const kKeptPerLayer[] = {
    "model.layers.{l}.input_layernorm.weight", "model.layers.{l}.post_attention_layernorm.weight",
    "model.layers.{l}.mlp.gate_proj.weight", "model.layers.{l}.mlp.up_proj.weight",
    "model.layers.{l}.mlp.down_proj.weight"};

void export_student_gguf(const Model& m, const std::string& path, GgmlType dtype) {
  const std::string why = student_gguf_blocker(m);
  if (!why.empty()) fail("{}: cannot export as llama.cpp GGUF: {}", m.path, why);
  const TeacherConfig& c = m.cfg;
  const std::string a = gguf_arch(m);
  GgufWriter w;
  w.set("general.architecture", GgufValue::of_str(a));
  w.set("general.name", GgufValue::of_str(fmt::format("{} student of a {} teacher", m.student.arch_name(), c.arch)));
  w.set("general.file_type", GgufValue::of_u32(llama_file_type(dtype)));
  w.set("general.quantization_version", GgufValue::of_u32(2));
  w.set(a + ".context_length", GgufValue::of_u32(1048576));  // a recurrent model has no trained limit
  w.set(a + ".embedding_length", GgufValue::of_u32(uint32_t(c.n_embd)));
  w.set(a + ".block_count", GgufValue::of_u32(uint32_t(c.n_layer)));
  w.set(a + ".feed_forward_length", GgufValue::of_u32(uint32_t(c.n_ff)));
  w.set(a + ".wkv.head_size", GgufValue::of_u32(uint32_t(c.head_dim)));
  w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::of_f32(float(c.rms_eps)));
  // One shift vector per layer (time mix only: the MLP has none); llama.cpp
  // asserts n_embd == token_shift_count * n_embd for these graphs.
  w.set(a + ".token_shift_count", GgufValue::of_u32(1));
  // "required by llama.cpp, unused": heads come from embedding / head_size.
  w.set(a + ".attention.head_count", GgufValue::of_u32(0));
  mixer_arch(m.student.arch).gguf_write(w, m, dtype);  // adds its own keys before its tensors
  add_tokenizer_metadata(w, m.tokenizer);
  w.set("radlads.student_config", GgufValue::of_str(student_config_json(c, m.student).dump()));
  add(w, "token_embd.weight", m.w("model.embed_tokens.weight"), dtype);
  add(w, "output_norm.weight", m.w("model.norm.weight"), dtype);
  const Tensor* head = m.find("lm_head.weight");
  add(w, "output.weight", head ? *head : m.w("model.embed_tokens.weight"), dtype);
  for (int l = 0; l < c.n_layer; l++)
    for (const char* p : kKeptPerLayer) {
      const std::string hf = layer_name(p, l);
      add(w, teacher_hf_to_gguf(hf), m.w(hf), dtype);
    }
  w.write(path);
}

bool is_student_gguf(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  try {
    GgufFile f(path);
    auto a = f.opt_str("general.architecture");
    return a && mixer_arch_by_gguf(*a);
  } catch (const Error&) {
    return false;
  }
}

// config.json of the student a GGUF in llama.cpp's converter layout holds: the
// base sizes from its metadata and tensor shapes, the options from its
// architecture (what llama.cpp's graph computes; gguf_config).
static nlohmann::json converter_student_config(const GgufFile& f, const MixerArch& arch) {
  const std::string a = arch.gguf_arch;
  const int64_t C = f.get_int(a + ".embedding_length"), N = f.get_int(a + ".wkv.head_size");
  if (N <= 0 || C <= 0 || C % N != 0)
    fail("{}: {}.embedding_length {} is not a multiple of {}.wkv.head_size {}", f.path(), a, C, a, N);
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (!emb || emb->shape.size() != 2 || emb->shape[1] != C)
    fail("{}: tensor 'token_embd.weight': missing or not [vocab, {}]", f.path(), C);
  const bool bias = f.find_tensor("blk.0.time_mix_receptance.bias") != nullptr;
  nlohmann::json j = {
      {"architectures", {arch.hf_class}},
      {"model_type", arch.hf_model_type},
      {"teacher_model_type", bias ? "qwen2" : "llama"},  // the base: Qwen2's MLP and norms, biases or not
      {"hidden_size", C},
      {"intermediate_size", f.get_int(a + ".feed_forward_length")},
      {"num_hidden_layers", f.get_int(a + ".block_count")},
      {"num_attention_heads", C / N},
      {"num_key_value_heads", C / N},
      {"head_dim", N},
      {"vocab_size", emb->shape[0]},
      {"max_position_embeddings", f.opt_int(a + ".context_length").value_or(32768)},
      {"rope_theta", 10000.0},  // unused: llama.cpp's students have no RoPE
      {"rms_norm_eps", f.get_float(a + ".attention.layer_norm_rms_epsilon")},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", false},
      {"attention_bias", bias},
      {"attention_output_bias", false},
      {"use_rope", false},
      {"num_attention_layers", 0},
  };
  arch.gguf_config(f, j);
  return j;
}

Model import_student_gguf(const std::string& path) {
  GgufFile f(path);
  Model m;
  m.path = path;
  m.format = "gguf";
  m.gguf_meta = f.metadata();
  const std::string a = f.get_str("general.architecture");
  const MixerArch* arch = mixer_arch_by_gguf(a);
  if (!arch) {
    std::string names;
    for (const MixerArch* x : mixer_archs()) names += (names.empty() ? "" : ", ") + std::string(x->gguf_arch);
    fail("{}: architecture '{}' is not a student ({})", path, a, names);
  }
  if (auto cfg_text = f.opt_str("radlads.student_config")) {
    try {
      m.hf_config = nlohmann::json::parse(*cfg_text);
    } catch (const nlohmann::json::exception& e) {
      fail("{}: metadata radlads.student_config: not valid JSON: {}", path, e.what());
    }
  } else {  // written by llama.cpp's converter (or anything in its layout)
    m.hf_config = converter_student_config(f, *arch);
  }
  if (!is_student_config(m.hf_config) || !m.hf_config.contains("teacher_model_type"))
    fail("{}: metadata radlads.student_config: not a student config", path);
  m.student = student_options_from_json(m.hf_config, path);
  if (m.student.arch != arch->id)
    fail("{}: radlads.student_config is {} but the file's architecture is {}", path,
         m.hf_config["model_type"].get<std::string>(), a);
  nlohmann::json base = m.hf_config;
  base["model_type"] = base["teacher_model_type"];
  m.cfg = teacher_config_from_hf(base, path);
  m.tokenizer = tokenizer_spec_from_gguf(f);
  const TeacherConfig& c = m.cfg;
  if (f.get_int(a + ".block_count") != c.n_layer || f.get_int(a + ".embedding_length") != c.n_embd ||
      f.get_int(a + ".wkv.head_size") != c.head_dim)
    fail("{}: block_count / embedding_length / wkv.head_size disagree with the student config", path);
  for (auto& ti : f.tensors()) m.source_dtypes[ggml_type_name(ti.type)]++;
  m.weights["model.embed_tokens.weight"] = load(f, "token_embd.weight", {c.n_vocab, c.n_embd});
  m.weights["model.norm.weight"] = load(f, "output_norm.weight", {c.n_embd});
  m.weights["lm_head.weight"] = load(f, "output.weight", {c.n_vocab, c.n_embd});
  for (int l = 0; l < c.n_layer; l++)
    for (const char* p : kKeptPerLayer) {
      const std::string hf = layer_name(p, l);
      const bool vec = hf.find("layernorm") != std::string::npos;
      const bool down = hf.find("down_proj") != std::string::npos;
      Shape s = vec ? Shape{c.n_embd} : down ? Shape{c.n_embd, c.n_ff} : Shape{c.n_ff, c.n_embd};
      m.weights[hf] = load(f, teacher_hf_to_gguf(hf), s);
    }
  arch->gguf_read(f, m);
  read_student_ranks(m, m.student);
  validate_student_weights(m);
  return m;
}

}  // namespace radlads
