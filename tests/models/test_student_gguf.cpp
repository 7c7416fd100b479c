// Student -> GGUF for llama.cpp: metadata, every tensor's name/shape/type, the
// token-shift slice reorder checked numerically, the arwkv7 folds, import back
// (exact at f32, byte-identical re-export) and refusals of what llama.cpp cannot
// compute. The llama.cpp run itself is scripts/compare_student_llamacpp.py.
#include <cmath>
#include <functional>
#include <set>

#include "core/error.h"
#include "backend/backend.h"
#include "core/file_io.h"
#include "models/random_student.h"
#include "models/student_gguf.h"
#include "models/hf_folder.h"
#include "infer/language_model.h"

namespace radlads {
using namespace test;

namespace {

std::vector<float> logits_of(Model m) {
  auto lm = make_language_model(cpu_backend(), std::move(m));
  auto ids = golden_tokens("qwen2");
  std::vector<float> out(ids.size() * size_t(lm->n_vocab()));
  lm->score(ids.data(), 1, int(ids.size()), out.data());
  return out;
}

const Tensor& W(const Model& m, int l, const char* n) {
  return m.w("model.layers." + std::to_string(l) + ".self_attn." + n);
}
Tensor G(const GgufFile& f, int l, const char* n) {
  return f.load_f32(*f.find_tensor("blk." + std::to_string(l) + "." + n));
}

}  // namespace

TEST(StudentGguf, Rwkv6MetadataAndTensorSet) {
  Model m = random_student({StudentArch::RWKV6, "qwen2"}, 3);
  TempDir tmp;
  export_student_gguf(m, tmp.file("s.gguf"), GgmlType::F32);
  GgufFile f(tmp.file("s.gguf"));
  const TeacherConfig& c = m.cfg;
  EXPECT_EQ(f.get_str("general.architecture"), "rwkv6qwen2");
  EXPECT_EQ(f.get_int("general.file_type"), 0);
  EXPECT_EQ(f.get_int("rwkv6qwen2.token_shift_count"), 1);
  EXPECT_EQ(f.get_int("rwkv6qwen2.attention.head_count"), 0);
  EXPECT_EQ(f.get_int("rwkv6qwen2.attention.head_count_kv"), c.n_head_kv);
  EXPECT_EQ(f.get_int("rwkv6qwen2.wkv.head_size"), c.head_dim);
  EXPECT_EQ(f.get_int("rwkv6qwen2.time_mix_extra_dim"), 4);
  EXPECT_EQ(f.get_int("rwkv6qwen2.time_decay_extra_dim"), 6);
  EXPECT_EQ(f.get_int("rwkv6qwen2.embedding_length"), c.n_embd);
  EXPECT_EQ(f.get_int("rwkv6qwen2.block_count"), c.n_layer);
  EXPECT_EQ(f.get_int("rwkv6qwen2.feed_forward_length"), c.n_ff);
  EXPECT_EQ(f.get_int("rwkv6qwen2.context_length"), 1048576);
  EXPECT_FLOAT_EQ(float(f.get_float("rwkv6qwen2.attention.layer_norm_rms_epsilon")), float(c.rms_eps));
  EXPECT_EQ(f.get_str_array("tokenizer.ggml.tokens"), m.tokenizer.tokens);
  // The expected set, written out from llama.cpp's loader (rwkv6qwen2.cpp).
  const int64_t C = c.n_embd, KD = int64_t(c.n_head_kv) * c.head_dim, V = c.n_vocab, F = c.n_ff;
  std::map<std::string, Shape> want = {{"token_embd.weight", {V, C}}, {"output_norm.weight", {C}}, {"output.weight", {V, C}}};
  for (int l = 0; l < c.n_layer; l++) {
    auto b = [&](const char* n) { return "blk." + std::to_string(l) + "." + n; };
    want[b("attn_norm.weight")] = {C};
    want[b("ffn_norm.weight")] = {C};
    want[b("ffn_gate.weight")] = {F, C};
    want[b("ffn_up.weight")] = {F, C};
    want[b("ffn_down.weight")] = {C, F};
    want[b("time_mix_lerp_x.weight")] = {C};
    want[b("time_mix_lerp_fused.weight")] = {5, 1, 1, C};
    want[b("time_mix_w1.weight")] = {5 * 4, C};
    want[b("time_mix_w2.weight")] = {5, C, 4};
    want[b("time_mix_decay.weight")] = {C};
    want[b("time_mix_decay_w1.weight")] = {6, C};
    want[b("time_mix_decay_w2.weight")] = {C, 6};
    want[b("time_mix_receptance.weight")] = {C, C};
    want[b("time_mix_receptance.bias")] = {C};
    want[b("time_mix_key.weight")] = {KD, C};
    want[b("time_mix_key.bias")] = {KD};
    want[b("time_mix_value.weight")] = {KD, C};
    want[b("time_mix_value.bias")] = {KD};
    want[b("time_mix_gate.weight")] = {C, C};
    want[b("time_mix_output.weight")] = {C, C};
  }
  std::map<std::string, Shape> got;
  for (auto& t : f.tensors()) {
    got[t.name] = t.shape;
    EXPECT_EQ(t.type, GgmlType::F32) << t.name;
    EXPECT_EQ(t.name.find("time_mix_first"), std::string::npos);  // its absence selects the qrwkv path
  }
  EXPECT_EQ(got, want);
  // Plain copies.
  EXPECT_EQ(G(f, 1, "time_mix_receptance.weight").data, W(m, 1, "q_proj.weight").data);
  EXPECT_EQ(G(f, 1, "time_mix_key.bias").data, W(m, 1, "k_proj.bias").data);
  EXPECT_EQ(f.load_f32(*f.find_tensor("output.weight")).data, m.w("lm_head.weight").data);
}

// llama.cpp's slots are w,k,v,r,g; ours r,k,v,w,g. Checked as a function: the
// token-shift LoRA computed the way llama.cpp's graph reads the GGUF tensors
// must give, for each named slice, what our layout gives for that slice.
TEST(StudentGguf, Rwkv6TokenShiftSlicesReordered) {
  Model m = random_student({StudentArch::RWKV6, "qwen2"}, 5);
  TempDir tmp;
  export_student_gguf(m, tmp.file("s.gguf"), GgmlType::F32);
  GgufFile f(tmp.file("s.gguf"));
  const int64_t C = m.cfg.n_embd, R = 4;
  const std::string ours = "rkvwg", theirs = "wkvrg";
  auto x = randn(size_t(C), 9);
  for (int l = 0; l < m.cfg.n_layer; l++) {
    const Tensor &W1 = W(m, l, "time_maa_w1"), &W2 = W(m, l, "time_maa_w2");  // [C,5R], [5,R,C]
    Tensor g1 = G(f, l, "time_mix_w1.weight"), g2 = G(f, l, "time_mix_w2.weight");  // [5R,C], [5,C,R]
    Tensor fused = G(f, l, "time_mix_lerp_fused.weight");
    std::vector<float> h_ours(size_t(5 * R)), h_gguf(size_t(5 * R));
    for (int64_t i = 0; i < 5 * R; i++) {
      double a = 0, b = 0;
      for (int64_t c = 0; c < C; c++) a += x[size_t(c)] * W1.data[size_t(c * 5 * R + i)], b += g1.data[size_t(i * C + c)] * x[size_t(c)];
      h_ours[size_t(i)] = float(std::tanh(a)), h_gguf[size_t(i)] = float(std::tanh(b));
    }
    for (int s = 0; s < 5; s++) {
      const int so = int(ours.find(theirs[size_t(s)]));
      const std::string maa = std::string("time_maa_") + theirs[size_t(s)];
      for (int64_t c = 0; c < C; c++) {
        double mo = 0, mg = 0;
        for (int64_t j = 0; j < R; j++) {
          mo += h_ours[size_t(so * R + j)] * W2.data[size_t((so * R + j) * C + c)];
          mg += h_gguf[size_t(s * R + j)] * g2.data[size_t((s * C + c) * R + j)];
        }
        ASSERT_NEAR(mg, mo, 1e-5) << "layer " << l << " slot " << theirs[size_t(s)] << " channel " << c;
        ASSERT_EQ(fused.data[size_t(s * C + c)], W(m, l, maa.c_str()).data[size_t(c)]) << maa;
      }
    }
    EXPECT_EQ(G(f, l, "time_mix_lerp_x.weight").data, W(m, l, "time_maa_x").data);
  }
}

TEST(StudentGguf, Rwkv6TokenShiftOffIsZeroMix) {
  Model m = random_student({StudentArch::RWKV6, "llama", 0, 0}, 6);
  TempDir tmp;
  export_student_gguf(m, tmp.file("s.gguf"), GgmlType::F32);
  GgufFile f(tmp.file("s.gguf"));
  for (const char* n : {"time_mix_lerp_x.weight", "time_mix_lerp_fused.weight", "time_mix_w1.weight"})
    for (float v : G(f, 0, n).data) ASSERT_EQ(v, 0.0f) << n;
  EXPECT_EQ(f.find_tensor("blk.0.time_mix_key.bias"), nullptr);  // llama teacher: no biases
}

TEST(StudentGguf, DtypesFollowTheConverter) {
  Model m = random_student({StudentArch::RWKV6, "qwen2"}, 4);
  TempDir tmp;
  for (GgmlType dt : {GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0}) {
    export_student_gguf(m, tmp.file("s.gguf"), dt);
    GgufFile f(tmp.file("s.gguf"));
    std::set<std::string> f32 = {"time_mix_lerp_x.weight", "time_mix_lerp_fused.weight", "time_mix_w1.weight",
                                 "time_mix_w2.weight", "time_mix_decay.weight", "time_mix_decay_w1.weight",
                                 "time_mix_decay_w2.weight", "time_mix_key.bias", "time_mix_value.bias",
                                 "time_mix_receptance.bias", "attn_norm.weight", "ffn_norm.weight", "output_norm.weight"};
    for (auto& t : f.tensors()) {
      const std::string leaf = t.name.starts_with("blk.") ? t.name.substr(t.name.find('.', 4) + 1) : t.name;
      const GgmlType want = f32.count(leaf) ? GgmlType::F32 : (t.shape.back() % ggml_block_elems(dt) ? GgmlType::F16 : dt);
      EXPECT_EQ(t.type, want) << t.name << " at " << ggml_type_name(dt);
    }
    EXPECT_EQ(f.get_int("general.file_type"), dt == GgmlType::Q8_0 ? 7 : dt == GgmlType::F16 ? 1 : 32);
  }
}

// export -> import -> the same weights, logits and (re-exported) bytes.
TEST(StudentGguf, Rwkv6ImportIsExact) {
  Model m = random_student({StudentArch::RWKV6, "qwen2"}, 8);
  TempDir tmp;
  export_student_gguf(m, tmp.file("a.gguf"), GgmlType::F32);
  Model back = import_student_gguf(tmp.file("a.gguf"));
  EXPECT_EQ(student_config_json(back.cfg, back.student), student_config_json(m.cfg, m.student));
  ASSERT_EQ(back.weights.size(), m.weights.size());
  for (auto& [name, t] : m.weights) {
    EXPECT_EQ(back.w(name).shape, t.shape) << name;
    EXPECT_EQ(back.w(name).data, t.data) << name;
  }
  EXPECT_EQ(logits_of(back), logits_of(m));
  export_student_gguf(back, tmp.file("b.gguf"), GgmlType::F32);
  EXPECT_EQ(read_text_file(tmp.file("a.gguf")), read_text_file(tmp.file("b.gguf")));
  EXPECT_TRUE(is_student_gguf(tmp.file("a.gguf")));
  EXPECT_FALSE(is_student_gguf(golden_model("llama")));
}

// arwkv7: k/v expanded to every head, zero token shift and bonus, layer-0
// value-mix placeholders, and r scaled so llama.cpp's GroupNorm eps is ours.
TEST(StudentGguf, Rwkv7ArwkvLayout) {
  Model m = random_student({StudentArch::RWKV7, "llama", 0, 0, 0, 1}, 12);
  ASSERT_EQ(student_gguf_blocker(m), "");
  TempDir tmp;
  export_student_gguf(m, tmp.file("s.gguf"), GgmlType::F32);
  GgufFile f(tmp.file("s.gguf"));
  const TeacherConfig& c = m.cfg;
  const int64_t C = c.n_embd, N = c.head_dim, group = c.n_head / c.n_head_kv;
  EXPECT_EQ(f.get_str("general.architecture"), "arwkv7");
  EXPECT_EQ(f.get_int("arwkv7.token_shift_count"), 1);
  EXPECT_EQ(f.get_int("arwkv7.attention.head_count"), 0);
  EXPECT_EQ(f.get_int("arwkv7.attention.decay_lora_rank"), 6);
  EXPECT_EQ(f.get_int("arwkv7.attention.iclr_lora_rank"), 5);
  EXPECT_EQ(f.get_int("arwkv7.attention.value_residual_mix_lora_rank"), 3);
  EXPECT_EQ(f.get_int("arwkv7.attention.gate_lora_rank"), 7);
  EXPECT_EQ(f.find_tensor("blk.0.time_mix_v1.weight")->shape, (Shape{5, C}));
  EXPECT_EQ(f.find_tensor("blk.1.time_mix_v1.weight")->shape, (Shape{3, C}));
  EXPECT_EQ(f.find_tensor("blk.1.time_mix_lerp_fused.weight")->shape, (Shape{6, 1, 1, C}));
  const float scale = float(std::sqrt(64.0 / double(N)));
  for (int l = 0; l < c.n_layer; l++) {
    Tensor k = G(f, l, "time_mix_key.weight"), r = G(f, l, "time_mix_receptance.weight");
    const Tensor &k0 = W(m, l, "k_proj.weight"), &q0 = W(m, l, "q_proj.weight");
    ASSERT_EQ(k.shape, (Shape{C, C}));
    for (int64_t row = 0; row < C; row++)
      for (int64_t col = 0; col < C; col++) {
        const int64_t h = row / N, src = (h / group) * N + row % N;
        ASSERT_EQ(k.data[size_t(row * C + col)], k0.data[size_t(src * C + col)]);
        ASSERT_EQ(r.data[size_t(row * C + col)], q0.data[size_t(row * C + col)] * scale);
      }
    for (const char* z : {"time_mix_lerp_fused.weight", "time_mix_r_k.weight"})
      for (float v : G(f, l, z).data) ASSERT_EQ(v, 0.0f) << z;
    EXPECT_EQ(G(f, l, "time_mix_k_k.weight").data, W(m, l, "k_k").data);
    EXPECT_EQ(G(f, l, "time_mix_ln.bias").data, W(m, l, "ln_x.bias").data);
    Tensor w2 = G(f, l, "time_mix_w2.weight");  // [C, Rw] = our w2 [Rw, A] transposed
    EXPECT_EQ(w2.data[size_t(3 * 6 + 2)], W(m, l, "w2").data[size_t(2 * C + 3)]);
  }
  // Import undoes every fold; the r scale 2*sqrt(2) (N = 8) rounds, so compare closely.
  Model back = import_student_gguf(tmp.file("s.gguf"));
  for (auto& [name, t] : m.weights) EXPECT_LT(rel_err(back.w(name).data, t.data), 1e-6) << name;
  EXPECT_LT(rel_err(logits_of(back), logits_of(m)), 1e-5);
}

// Without GroupNorm our p carries N^-1/2 (DESIGN.md), which arwkv7 can only
// hold in its receptance weights: r = q·N^-1/2 (2^-1.5 for N = 8, so it rounds).
TEST(StudentGguf, Rwkv7WithoutGroupNormFoldsTheOutputScaleIntoR) {
  Model m = random_student({StudentArch::RWKV7, "llama", 0, 0, 0, 0}, 13);
  TempDir tmp;
  export_student_gguf(m, tmp.file("a.gguf"), GgmlType::F32);
  GgufFile f(tmp.file("a.gguf"));
  const float scale = 1.0f / std::sqrt(float(m.cfg.head_dim));
  const Tensor r = G(f, 0, "time_mix_receptance.weight");
  const Tensor& q0 = W(m, 0, "q_proj.weight");
  for (size_t i = 0; i < r.data.size(); i++) ASSERT_EQ(r.data[i], q0.data[i] * scale);
  Model back = import_student_gguf(tmp.file("a.gguf"));
  for (auto& [name, t] : m.weights) EXPECT_LT(rel_err(back.w(name).data, t.data), 1e-6) << name;
  EXPECT_LT(rel_err(logits_of(back), logits_of(m)), 1e-5);
}

// A student made before the output-scale correction (balance_state = 0: no
// factor) exports with r = q, so the round trip is byte-exact.
TEST(StudentGguf, Rwkv7LegacyScaleImportIsByteExact) {
  Model m = random_student({StudentArch::RWKV7, "llama", 0, 0, 0, 0}, 13);
  m.student.legacy_output_scale = true;
  TempDir tmp;
  export_student_gguf(m, tmp.file("a.gguf"), GgmlType::F32);
  Model back = import_student_gguf(tmp.file("a.gguf"));
  EXPECT_TRUE(back.student.legacy_output_scale);
  for (auto& [name, t] : m.weights) EXPECT_EQ(back.w(name).data, t.data) << name;
  export_student_gguf(back, tmp.file("b.gguf"), GgmlType::F32);
  EXPECT_EQ(read_text_file(tmp.file("a.gguf")), read_text_file(tmp.file("b.gguf")));
}

TEST(StudentGguf, RefusesWhatLlamaCppCannotCompute) {
  auto why = [](StudentSpec s) { return student_gguf_blocker(random_student(s, 2)); };
  EXPECT_NE(why({StudentArch::RWKV7, "llama", 1, 0, 0}).find("use_rope=1"), std::string::npos);
  EXPECT_NE(why({StudentArch::RWKV7, "llama", 0, 0, 1}).find("balance_state=1"), std::string::npos);
  EXPECT_NE(why({StudentArch::RWKV7, "qwen2", 0, 0, 0}).find("bias"), std::string::npos);
  EXPECT_NE(why({StudentArch::RWKV6, "qwen2", 1, 1, 1}).find("use_rope=1"), std::string::npos);
  EXPECT_NE(why({StudentArch::RWKV6, "qwen2", 0, 1, 0}).find("balance_state=0"), std::string::npos);
  EXPECT_NE(why({StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 1}).find("num_attention_layers=1"), std::string::npos);
  // the gates llama.cpp lacks: rwkv6qwen2 has only the full one, arwkv7 the low-rank one or none
  EXPECT_NE(why({StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0, 2}).find("gate_rank_type=2"), std::string::npos);
  EXPECT_NE(why({StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0, 0}).find("gate_rank_type=0"), std::string::npos);
  EXPECT_NE(why({StudentArch::RWKV7, "llama", 0, 0, 0, 0, 0, 1}).find("gate_rank_type=1"), std::string::npos);
  EXPECT_EQ(why({StudentArch::RWKV7, "llama", 0, 0, 0, 0, 0, 0}), "");
  Model m = random_student({StudentArch::RWKV7, "llama", 1, 0, 1}, 2);
  TempDir tmp;
  EXPECT_THROW(export_student_gguf(m, tmp.file("x.gguf"), GgmlType::F32), Error);
  EXPECT_FALSE(std::filesystem::exists(tmp.file("x.gguf")));
}

TEST(StudentGguf, ClampBound) {
  Model m = random_student({StudentArch::RWKV6, "qwen2"}, 3);
  DecayClampBound b = rwkv6_decay_clamp_bound(m);
  EXPECT_EQ(b.channels, int64_t(m.cfg.n_layer) * m.cfg.n_embd);
  Tensor& td = m.weights["model.layers.0.self_attn.time_decay"];
  for (auto& x : td.data) x = -20.0f;
  td.data[3] = 5.0f;  // this channel can exceed ln 5 whatever the LoRA does
  DecayClampBound b2 = rwkv6_decay_clamp_bound(m);
  EXPECT_GE(b2.may_bind, 1);
  EXPECT_GE(b2.max_bound, 5.0);
}

}  // namespace radlads

namespace radlads {
using namespace test;
namespace {

// The file as llama.cpp's converter would leave it: our export less the
// radlads.student_config key (the layouts are the same; scripts/converter_gguf.py
// writes one independently, checked against llama.cpp by ctest_oracle.sh).
void strip_student_config(const std::string& from, const std::string& to,
                          const std::function<void(const std::string&, Tensor&)>& edit = {}) {
  GgufFile f(from);
  GgufWriter w;
  for (const auto& [k, v] : f.metadata())
    if (k != "radlads.student_config") w.set(k, v);
  for (const GgufTensorInfo& t : f.tensors()) {  // an f32 export: copied exactly
    Tensor x = f.load_f32(t);
    if (edit) edit(t.name, x);
    w.add_tensor_f32(t.name, t.type, x);
  }
  w.write(to);
}

}  // namespace

// Each llama.cpp-expressible option set comes back from the converter's
// metadata and tensors alone, and scores as the student did.
TEST(StudentGguf, ConverterLayoutImportsFromItsMetadataAlone) {
  const StudentSpec specs[] = {
      {StudentArch::RWKV6, "qwen2"},                          // GQA 4/2 (head_count_kv), biases
      {StudentArch::RWKV6, "llama", 0, 0},                     // token shift off: zeros, read back as on
      {StudentArch::RWKV7, "llama", 0, 0, 0, 1},               // GroupNorm, low-rank gate
      {StudentArch::RWKV7, "llama", 0, 0, 0, 0, 0, 0},         // no GroupNorm, no gate
  };
  for (const StudentSpec& spec : specs) {
    Model m = random_student(spec, 21);
    TempDir tmp;
    export_student_gguf(m, tmp.file("ours.gguf"), GgmlType::F32);
    strip_student_config(tmp.file("ours.gguf"), tmp.file("conv.gguf"));
    ASSERT_FALSE(GgufFile(tmp.file("conv.gguf")).opt_str("radlads.student_config").has_value());
    Model back = import_student_gguf(tmp.file("conv.gguf"));
    const StudentOptions &o = back.student, &want = m.student;
    const std::string what = std::string(want.arch_name()) + " " + spec.teacher;
    EXPECT_EQ(o.arch, want.arch) << what;
    EXPECT_EQ(o.gate, want.gate) << what;
    EXPECT_EQ(o.groupnorm_att, want.groupnorm_att) << what;
    EXPECT_EQ(o.balance_state, want.balance_state) << what;
    EXPECT_FALSE(o.use_rope) << what;
    EXPECT_FALSE(o.legacy_output_scale) << what;
    EXPECT_EQ(back.cfg.n_head_kv, want.arch == StudentArch::RWKV6 ? m.cfg.n_head_kv : m.cfg.n_head) << what;
    EXPECT_EQ(back.cfg.attn_bias, m.cfg.attn_bias) << what;
    EXPECT_LT(rel_err(logits_of(std::move(back)), logits_of(m)), 1e-5) << what;
  }
}

// A GGUF whose arwkv7 graph has what RAD-RWKV7 lacks (ARWKV's token shift or
// bonus r_k) is refused naming the tensor, not imported as another function.
TEST(StudentGguf, ConverterLayoutWithTokenShiftIsRefused) {
  Model m = random_student({StudentArch::RWKV7, "llama", 0, 0, 0, 1}, 22);
  TempDir tmp;
  export_student_gguf(m, tmp.file("ours.gguf"), GgmlType::F32);
  strip_student_config(tmp.file("ours.gguf"), tmp.file("shift.gguf"), [](const std::string& name, Tensor& x) {
    if (name == "blk.1.time_mix_lerp_fused.weight") x.data[3] = 0.5f;
  });
  try {
    import_student_gguf(tmp.file("shift.gguf"));
    ADD_FAILURE() << "a token shift was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.1.time_mix_lerp_fused.weight"), std::string::npos) << e.what();
  }
}

}  // namespace radlads
