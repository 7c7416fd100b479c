// Student tensor table, validation and step 0 (weight transfer + init).
#include "models/student_weights.h"

#include <cmath>
#include <random>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/weight_names.h"

namespace radlads {

std::vector<StudentTensorSpec> student_new_tensors(const TeacherConfig& c, const StudentOptions& o) {
  const MixerArch& arch = mixer_arch(o.arch);
  std::vector<StudentTensorSpec> out;
  std::vector<std::pair<std::string, Shape>> layer;
  for (int l = 0; l < c.n_layer; l++) {
    if (o.softmax_layer(l, c.n_layer)) continue;
    layer.clear();
    arch.layer_tensors(c, o, l, layer);
    const std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
    for (auto& [leaf, shape] : layer) out.push_back({p + leaf, std::move(shape)});
  }
  return out;
}

void read_student_ranks(const Model& m, StudentOptions& o) { mixer_arch(o.arch).read_ranks(m, o); }

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
void orthogonal_init(Tensor& t, double scale, std::mt19937_64& rng) {
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
  std::mt19937_64 rng(seed);  // shared by the tensors in table order
  const MixerArch& arch = mixer_arch(opts.arch);
  for (auto& spec : student_new_tensors(c, opts)) {
    Tensor t(spec.shape);
    const std::string& n = spec.name;
    const int l = std::stoi(n.substr(13, n.find('.', 13) - 13));  // "model.layers.<l>."
    arch.init_tensor(n.substr(n.find("self_attn.") + 10), t, l, c.n_layer, rng);
    m.weights[n] = std::move(t);
  }
  validate_student_weights(m);
  pack_parameters(m);
  return m;
}

}  // namespace radlads
