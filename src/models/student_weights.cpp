// Student tensor table, validation and step 0 (weight transfer + init).
#include "models/student_weights.h"

#include <cmath>
#include <random>

#include "core/error.h"
#include "models/weight_names.h"

namespace radlads {

std::vector<StudentTensorSpec> student_new_tensors(const TeacherConfig& c, const StudentOptions& o) {
  const int64_t C = c.n_embd, A = int64_t(c.n_head) * c.head_dim;  // A: attention width H*N
  std::vector<StudentTensorSpec> out;
  for (int l = 0; l < c.n_layer; l++) {
    if (o.softmax_layer(l, c.n_layer)) continue;
    const std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
    auto add = [&](const char* n, Shape s) { out.push_back({p + n, std::move(s)}); };
    if (o.arch == StudentArch::RWKV6) {
      for (const char* n : {"time_maa_x", "time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g"})
        add(n, {1, 1, C});
      add("time_maa_w1", {C, 5 * int64_t(o.lora_tokenshift)});
      add("time_maa_w2", {5, o.lora_tokenshift, C});
      add("time_decay", {1, 1, A});
      add("time_decay_w1", {C, o.lora_decay});
      add("time_decay_w2", {o.lora_decay, A});
      add("gate.weight", {A, C});
    } else {
      add("w0", {1, 1, A});
      add("w1", {C, o.lora_decay});
      add("w2", {o.lora_decay, A});
      add("a0", {1, 1, A});
      add("a1", {C, o.lora_iclr});
      add("a2", {o.lora_iclr, A});
      if (l > 0) {  // layer 0 sets v_first and has no value-residual mix
        add("v0", {1, 1, A});
        add("v1", {C, o.lora_value});
        add("v2", {o.lora_value, A});
      }
      add("g1", {C, o.lora_gate});
      add("g2", {o.lora_gate, A});
      add("k_k", {1, 1, A});
      add("k_a", {1, 1, A});
      if (o.groupnorm_att) {
        add("ln_x.weight", {A});
        add("ln_x.bias", {A});
      }
    }
  }
  return out;
}

void read_student_ranks(const Model& m, StudentOptions& o) {
  const TeacherConfig& c = m.cfg;
  int l = 0;
  while (l < c.n_layer && o.softmax_layer(l, c.n_layer)) l++;
  if (l == c.n_layer) return;  // all layers softmax: nothing to read
  const std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
  auto dim = [&](const char* n, int i) { return int(m.w(p + n).dim(i)); };
  if (o.arch == StudentArch::RWKV6) {
    if (m.w(p + "time_maa_w1").dim(1) % 5 != 0)
      fail("{}: {}time_maa_w1 width is not a multiple of 5", m.path, p);
    o.lora_tokenshift = dim("time_maa_w1", 1) / 5;
    o.lora_decay = dim("time_decay_w1", 1);
  } else {
    o.lora_decay = dim("w1", 1);
    o.lora_iclr = dim("a1", 1);
    o.lora_gate = dim("g1", 1);
    for (int k = l + 1; k < c.n_layer; k++)
      if (!o.softmax_layer(k, c.n_layer)) {
        o.lora_value = int(m.w("model.layers." + std::to_string(k) + ".self_attn.v1").dim(1));
        break;
      }
  }
}

void validate_student_weights(const Model& m) {
  std::map<std::string, Shape> want;
  for (auto& s : student_new_tensors(m.cfg, m.student)) want[s.name] = s.shape;
  Model teacher_view;  // shapes only: the teacher rules check everything else
  teacher_view.path = m.path;
  teacher_view.cfg = m.cfg;
  for (auto& [name, t] : m.weights) {
    auto it = want.find(name);
    if (it == want.end()) {
      teacher_view.weights[name].shape = t.shape;
    } else if (t.shape != it->second) {
      fail("{}: tensor '{}' has shape {}, expected {}", m.path, name, shape_str(t.shape), shape_str(it->second));
    }
  }
  for (auto& [name, shape] : want)
    if (!m.find(name)) fail("{}: missing tensor '{}'", m.path, name);
  validate_teacher_weights(teacher_view);
}

// Rows of an orthonormal (rows <= cols) or column-orthonormal matrix times
// scale, like torch.nn.init.orthogonal_ with the reference's gain rule.
static void orthogonal_init(Tensor& t, double scale, std::mt19937_64& rng) {
  const int64_t rows = t.dim(0), cols = t.numel() / rows;
  const bool tall = rows > cols;
  const int64_t n = tall ? cols : rows, len = tall ? rows : cols;  // n vectors of length len
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> q(size_t(n * len));
  for (auto& x : q) x = g(rng);
  for (int64_t i = 0; i < n; i++) {  // modified Gram-Schmidt, twice for stability
    double* vi = q.data() + i * len;
    for (int pass = 0; pass < 2; pass++)
      for (int64_t j = 0; j < i; j++) {
        const double* vj = q.data() + j * len;
        double d = 0;
        for (int64_t k = 0; k < len; k++) d += vi[k] * vj[k];
        for (int64_t k = 0; k < len; k++) vi[k] -= d * vj[k];
      }
    double nrm = 0;
    for (int64_t k = 0; k < len; k++) nrm += vi[k] * vi[k];
    nrm = std::sqrt(nrm);
    for (int64_t k = 0; k < len; k++) vi[k] /= nrm;
  }
  const double gain = tall ? std::sqrt(double(rows) / double(cols)) : 1.0;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++)
      t.data[size_t(r * cols + c)] = float(scale * gain * (tall ? q[size_t(c * len + r)] : q[size_t(r * len + c)]));
}

Model init_student(const Model& teacher, const StudentOptions& opts, uint64_t seed) {
  if (teacher.student.is_student()) fail("{}: is already a student; step 0 needs a teacher", teacher.path);
  const TeacherConfig& c = teacher.cfg;
  if (opts.num_attention_layers < 0 || opts.num_attention_layers > c.n_layer)
    fail("--attention-layers {} is outside 0..{}", opts.num_attention_layers, c.n_layer);
  Model m;
  m.cfg = c;
  m.student = opts;
  m.tokenizer = teacher.tokenizer;
  m.path = teacher.path;
  m.format = "hf";
  m.weights = teacher.weights;
  if (c.tie_embeddings) {  // an untied head so that step 2 can train it apart from the embedding
    m.weights["lm_head.weight"] = m.w("model.embed_tokens.weight");
    m.cfg.tie_embeddings = false;
  }
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-0.01f, 0.01f);
  const int L = c.n_layer;
  for (auto& spec : student_new_tensors(c, opts)) {
    Tensor t(spec.shape);
    const std::string& n = spec.name;
    const int l = std::stoi(n.substr(13, n.find('.', 13) - 13));  // "model.layers.<l>."
    const double ratio = L > 1 ? double(l) / (L - 1) : 0.0;     // 0 .. 1 over depth
    const std::string leaf = n.substr(n.find("self_attn.") + 10);
    const int64_t A = t.numel();
    if (leaf == "time_maa_x" || leaf == "v0" || leaf == "k_a" || leaf == "ln_x.weight") {
      std::fill(t.data.begin(), t.data.end(), 1.0f);
    } else if (leaf == "k_k") {
      std::fill(t.data.begin(), t.data.end(), 0.85f);
    } else if (leaf == "time_maa_w2" || leaf == "time_decay_w2") {
      for (auto& x : t.data) x = u(rng);
    } else if (leaf == "time_decay") {
      for (int64_t i = 0; i < A; i++)
        t.data[size_t(i)] = float(-6.0 + 5.0 * std::pow(double(i) / double(A - 1), 0.7 + 1.3 * ratio));
    } else if (leaf == "w0") {
      for (int64_t i = 0; i < A; i++)
        t.data[size_t(i)] = float(-7.0 + 5.0 * std::pow(double(i) / double(A - 1), 0.85 + std::sqrt(ratio)) + 0.5);
    } else if (leaf == "w2" || leaf == "a2" || leaf == "v2" || leaf == "g2") {
      orthogonal_init(t, 0.1, rng);
    }
    // Everything else (other maa, time_maa_w1, decay_w1, gate, w1, a1, v1, g1, a0, ln_x.bias) starts at 0.
    m.weights[n] = std::move(t);
  }
  validate_student_weights(m);
  return m;
}

}  // namespace radlads
