// Loading teachers from GGUF files and HF folders into one representation.
#include "models/model.h"

#include <malloc.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/safetensors.h"
#include "models/student_weights.h"
#include "models/weight_names.h"
#include "models/mixers/mixer_arch.h"
#include "models/student_gguf.h"
#include "text/gguf_tokenizer.h"
#include "text/hf_tokenizer.h"
#include "io/json_file.h"

namespace radlads {

namespace fs = std::filesystem;

const Tensor* Model::find(const std::string& name) const {
  auto it = weights.find(name);
  return it == weights.end() ? nullptr : &it->second;
}

const Tensor& Model::w(const std::string& name) const {
  const Tensor* t = find(name);
  if (!t) fail("{}: missing tensor '{}'", path, name);
  return *t;
}

int64_t Model::n_params() const {
  int64_t n = 0;
  for (auto& [k, t] : weights) n += t.numel();
  return n;
}

// Row h*N + 2i + j (GGUF) <-> row h*N + j*N/2 + i (HF), rows of row_bytes each.
static void permute_rows(uint8_t* data, int64_t rows, size_t row_bytes, int n_heads, bool to_hf) {
  CHECK(rows % n_heads == 0 && (rows / n_heads) % 2 == 0, "rows {} heads {}", rows, n_heads);
  const int64_t N = rows / n_heads, half = N / 2;
  std::vector<uint8_t> out(size_t(rows) * row_bytes);
  for (int64_t h = 0; h < n_heads; h++)
    for (int64_t i = 0; i < half; i++)
      for (int64_t j = 0; j < 2; j++) {
        int64_t g = h * N + 2 * i + j, f = h * N + j * half + i;
        int64_t src = to_hf ? g : f, dst = to_hf ? f : g;
        std::memcpy(out.data() + size_t(dst) * row_bytes, data + size_t(src) * row_bytes, row_bytes);
      }
  std::memcpy(data, out.data(), out.size());
}

static void permute_rows(Tensor& t, int n_heads, bool to_hf) {
  const int64_t rows = t.dim(0);
  const int64_t cols = t.shape.size() > 1 ? t.numel() / rows : 1;
  permute_rows(reinterpret_cast<uint8_t*>(t.ptr()), rows, size_t(cols) * sizeof(float), n_heads, to_hf);
}

void unpermute_qk_rows_gguf_to_hf(uint8_t* rows, int64_t n_rows, size_t row_bytes, int n_heads) {
  permute_rows(rows, n_rows, row_bytes, n_heads, true);
}

void unpermute_qk_gguf_to_hf(Tensor& t, int n_heads) { permute_rows(t, n_heads, true); }
void permute_qk_hf_to_gguf(Tensor& t, int n_heads) { permute_rows(t, n_heads, false); }

std::map<std::string, Shape> teacher_weight_shapes(const TeacherConfig& c) {
  const int64_t C = c.n_embd, QD = int64_t(c.n_head) * c.head_dim, KD = int64_t(c.n_head_kv) * c.head_dim;
  std::map<std::string, Shape> want = {{"model.embed_tokens.weight", {c.n_vocab, C}},
                                       {"model.norm.weight", {C}}};
  if (!c.tie_embeddings) want["lm_head.weight"] = {c.n_vocab, C};
  for (int l = 0; l < c.n_layer; l++) {
    auto L = [&](const char* p) { return layer_name(p, l); };
    want[L("model.layers.{l}.input_layernorm.weight")] = {C};
    want[L("model.layers.{l}.self_attn.q_proj.weight")] = {QD, C};
    want[L("model.layers.{l}.self_attn.k_proj.weight")] = {KD, C};
    want[L("model.layers.{l}.self_attn.v_proj.weight")] = {KD, C};
    want[L("model.layers.{l}.self_attn.o_proj.weight")] = {C, QD};
    if (c.attn_bias) {
      want[L("model.layers.{l}.self_attn.q_proj.bias")] = {QD};
      want[L("model.layers.{l}.self_attn.k_proj.bias")] = {KD};
      want[L("model.layers.{l}.self_attn.v_proj.bias")] = {KD};
    }
    want[L("model.layers.{l}.post_attention_layernorm.weight")] = {C};
    want[L("model.layers.{l}.mlp.gate_proj.weight")] = {c.n_ff, C};
    want[L("model.layers.{l}.mlp.up_proj.weight")] = {c.n_ff, C};
    want[L("model.layers.{l}.mlp.down_proj.weight")] = {C, c.n_ff};
  }
  return want;
}

void validate_teacher_weights(const Model& m) {
  const std::map<std::string, Shape> want = teacher_weight_shapes(m.cfg);
  const TeacherConfig& c = m.cfg;
  for (auto& [name, shape] : want) {
    const Tensor* t = m.find(name);
    if (!t) fail("{}: missing tensor '{}'", m.path, name);
    if (t->shape != shape)
      fail("{}: tensor '{}' has shape {}, expected {}", m.path, name, shape_str(t->shape), shape_str(shape));
  }
  for (auto& [name, t] : m.weights)
    if (!want.count(name)) fail("{}: unexpected tensor '{}' for a {} teacher", m.path, name, c.arch);
}

static Model load_gguf(const std::string& path) {
  GgufFile f(path);
  Model m;
  m.path = path;
  m.format = "gguf";
  m.cfg = teacher_config_from_gguf(f);
  m.tokenizer = tokenizer_spec_from_gguf(f);
  m.gguf_meta = f.metadata();
  for (auto& ti : f.tensors()) {
    std::string hf = teacher_gguf_to_hf(ti.name);
    if (hf.empty()) fail("{}: unknown tensor '{}' for a {} teacher", path, ti.name, m.cfg.arch);
    m.weights.emplace(hf, f.load_f32(ti));
    m.source_dtypes[ggml_type_name(ti.type)]++;
  }
  // The shapes first: the q/k un-permutation below assumes them (a hostile
  // file with other row counts is an error naming it, not a failed CHECK).
  validate_teacher_weights(m);
  // Only llama's converter permutes q/k (DESIGN.md, GGUF note); qwen2 is stored as in HF.
  if (m.cfg.arch == "llama") {
    for (int l = 0; l < m.cfg.n_layer; l++) {
      for (auto [pat, heads] : {std::pair{"model.layers.{l}.self_attn.q_proj.", m.cfg.n_head},
                                std::pair{"model.layers.{l}.self_attn.k_proj.", m.cfg.n_head_kv}})
        for (const char* suffix : {"weight", "bias"}) {
          auto it = m.weights.find(layer_name(pat, l) + suffix);
          if (it != m.weights.end()) unpermute_qk_gguf_to_hf(it->second, heads);
        }
    }
  }
  return m;
}

// config.json of an HF folder into m.hf_config, m.cfg and (for a student) m.student.
static void read_hf_config(const std::string& dir, Model& m) {
  std::string cfg_path = (fs::path(dir) / "config.json").string();
  m.hf_config = read_json_file(cfg_path);
  const bool student = is_student_config(m.hf_config);
  nlohmann::json base = m.hf_config;
  // The reference's own configs (its configuration_rwkv*qwen2.py) name no
  // teacher: their base is Qwen2, with q/k/v biases as attention_bias says
  // (default true) and o_proj's as attention_output_bias (which we lack).
  const bool reference = student && !base.contains("teacher_model_type");
  if (student) {  // the teacher part of a student's config, under the teacher's model_type
    if (reference) base["teacher_model_type"] = "qwen2";
    if (!base["teacher_model_type"].is_string())
      fail("{}: student config needs a string field 'teacher_model_type' (llama, qwen2, mistral)", cfg_path);
    if (config_flag(base, "attention_output_bias", false, cfg_path))
      fail("{}: attention_output_bias (a bias on o_proj) is not supported", cfg_path);
    base["model_type"] = base["teacher_model_type"];
    m.student = student_options_from_json(m.hf_config, cfg_path);
  }
  m.cfg = teacher_config_from_hf(base, cfg_path);
  if (reference) m.cfg.attn_bias = config_flag(m.hf_config, "attention_bias", true, cfg_path);
  if (student && (m.student.num_attention_layers < 0 || m.student.num_attention_layers > m.cfg.n_layer))
    fail("{}: num_attention_layers {} is outside 0..{}", cfg_path, m.student.num_attention_layers, m.cfg.n_layer);
}

static Model load_hf(const std::string& dir) {
  Model m;
  m.path = dir;
  m.format = "hf";
  read_hf_config(dir, m);
  const bool student = m.student.is_student();
  m.tokenizer = tokenizer_spec_from_hf(dir);
  m.weights = load_safetensors_dir(dir, &m.source_dtypes);
  // A tied model may still ship lm_head.weight; keep one copy only.
  if (m.cfg.tie_embeddings) m.weights.erase("lm_head.weight");
  if (student) {
    mixer_arch(m.student.arch).from_reference(m);  // a folder the reference's code wrote
    read_student_ranks(m, m.student);
    validate_student_weights(m);
  } else {
    validate_teacher_weights(m);
  }
  return m;
}

TeacherConfig load_model_config(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    Model m;
    read_hf_config(path, m);
    return m.cfg;
  }
  if (!fs::exists(path, ec)) fail("{}: no such file or directory", path);
  return teacher_config_from_gguf(GgufFile(path));
}

void pack_parameters(Model& m) {
  std::vector<TensorSpec> table;
  for (auto& [name, t] : m.weights) table.push_back({name, t.shape, DType::F32});
  // Pages of the arena are touched only as each tensor moves in, and each
  // tensor's old storage is handed back to the system right away, so the
  // peak stays near one copy of the model (glibc keeps freed heap blocks
  // unless trimmed).
  auto arena = std::make_shared<Arena>(std::move(table), Device::Cpu, /*zero_fill=*/false);
  size_t i = 0, freed = 0;
  for (auto& [name, t] : m.weights) {
    freed += t.data.size() * sizeof(float);
    t.data.move_into(arena->f32(i++));
    if (freed >= (size_t(64) << 20)) {
      malloc_trim(0);
      freed = 0;
    }
  }
  malloc_trim(0);
  m.params = std::move(arena);
}

static Model open_unpacked(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return load_hf(path);
  if (!fs::exists(path, ec)) fail("{}: no such file or directory", path);
  // A student GGUF we exported (rwkv6qwen2 / arwkv7) is read back through the
  // exporter's own tables, which undo its layout changes exactly.
  if (is_student_gguf(path)) return import_student_gguf(path);
  return load_gguf(path);
}

Model open_model(const std::string& path) {
  Model m = open_unpacked(path);
  pack_parameters(m);
  return m;
}

Model random_teacher(const TeacherConfig& c, uint64_t seed) {
  c.validate("random_teacher");
  Model m;
  m.cfg = c;
  m.path = "random " + c.arch + " teacher";
  // Uniform on ±0.0346 (σ 0.02) from a 64-bit LCG: a 1.5B-parameter teacher
  // in seconds, where a normal distribution would take a minute.
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (auto& [name, shape] : teacher_weight_shapes(c)) {
    Tensor t(shape);
    const bool norm = name.ends_with("norm.weight");
    for (auto& x : t.data) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      x = norm ? 1.0f : 0.0346f * (float(state >> 40) * (2.0f / 16777216.0f) - 1.0f);
    }
    m.weights.emplace(name, std::move(t));
  }
  pack_parameters(m);
  return m;
}

}  // namespace radlads
