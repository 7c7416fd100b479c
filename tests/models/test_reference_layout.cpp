// The reference's HF layout (its modeling_rwkv6qwen2.py / modeling_rwkv7qwen2.py,
// read with `fetch`, none of it copied): the key set its modules declare,
// written down here from those files, not from our writer. Our student
// folders must hold exactly that set (so its code loads them with no missing
// or unexpected keys), and a folder in its layout — a config without our
// teacher_model_type, bf16 tensors in two shards with an index, the keys it
// declares but never reads — must load and score as the same weights do.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/fp16.h"
#include "core/file_io.h"
#include "infer/language_model.h"
#include "io/safetensors.h"
#include "models/hf_folder.h"
#include "models/random_student.h"
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {

// The state_dict keys the reference's model declares for these options.
std::set<std::string> reference_keys(const TeacherConfig& c, const StudentOptions& o) {
  std::set<std::string> k = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"};
  const bool v7 = o.arch == StudentArch::RWKV7;
  for (int l = 0; l < c.n_layer; l++) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* n : {"input_layernorm.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight",
                          "mlp.up_proj.weight", "mlp.down_proj.weight", "self_attn.q_proj.weight",
                          "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight"})
      k.insert(p + n);
    if (c.attn_bias)
      for (const char* n : {"self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"}) k.insert(p + n);
    if (o.softmax_layer(l, c.n_layer)) continue;  // Qwen2Attention: q/k/v/o only
    const std::string a = p + "self_attn.";
    // gate_rank_type 1: gate.weight; 2: g1, g2; 0: nothing
    if (o.gate == GateRank::Full) k.insert(a + "gate.weight");
    if (o.gate == GateRank::LowRank) k.insert(a + "g1"), k.insert(a + "g2");
    if (v7) {  // every layer declares v0..v2 and r_k
      for (const char* n : {"w0", "w1", "w2", "a0", "a1", "a2", "v0", "v1", "v2", "k_k", "k_a", "r_k"})
        k.insert(a + n);
    } else {  // the token shift's only with use_tokenshift
      for (const char* n : {"time_decay", "time_decay_w1", "time_decay_w2"}) k.insert(a + n);
      if (o.use_tokenshift)
        for (const char* n : {"time_maa_x", "time_maa_r", "time_maa_k", "time_maa_v", "time_maa_w", "time_maa_g",
                              "time_maa_w1", "time_maa_w2"})
          k.insert(a + n);
    }
    if (o.groupnorm_att) {
      k.insert(a + "ln_x.weight");
      k.insert(a + "ln_x.bias");
    }
  }
  return k;
}

std::set<std::string> folder_keys(const std::string& dir) {
  std::set<std::string> k;
  const SafetensorsFile f(dir + "/model.safetensors");
  for (const StTensorInfo& t : f.tensors()) k.insert(t.name);
  return k;
}

const StudentSpec kSpecs[] = {
    {StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0}, {StudentArch::RWKV6, "llama", 1, 0, 1, 1, 0},
    {StudentArch::RWKV7, "qwen2", 1, 0, 1, 0, 0}, {StudentArch::RWKV7, "llama", 0, 0, 0, 1, 0},
    {StudentArch::RWKV7, "qwen2", 1, 0, 0, 1, 1},
    {StudentArch::RWKV6, "qwen2", 0, 1, 1, 0, 0, 2}, {StudentArch::RWKV7, "llama", 0, 0, 0, 0, 0, 1},
    {StudentArch::RWKV7, "qwen2", 0, 0, 1, 0, 0, 0},
};

std::vector<float> logits(const Model& m, const std::vector<int32_t>& ids) {
  auto lm = make_language_model(cpu_backend(), m);
  std::vector<float> out(ids.size() * size_t(m.cfg.n_vocab));
  lm->score(ids.data(), 1, int(ids.size()), out.data());
  return out;
}

}  // namespace

TEST(ReferenceLayout, OurFoldersHoldExactlyTheReferenceKeys) {
  for (const StudentSpec& spec : kSpecs) {
    Model m = random_student(spec, 8);
    TempDir tmp;
    save_model_hf(m, tmp.file("s"));
    EXPECT_EQ(folder_keys(tmp.file("s")), reference_keys(m.cfg, m.student))
        << m.student.arch_name() << " " << spec.teacher;
    const nlohmann::json cfg = nlohmann::json::parse(read_text_file(tmp.file("s") + "/config.json"));
    EXPECT_EQ(cfg.at("gate_rank_type"), spec.gate >= 0 ? spec.gate : spec.arch == StudentArch::RWKV7 ? 2 : 1);
    EXPECT_EQ(cfg.at("attention_bias"), m.cfg.attn_bias);
    EXPECT_EQ(cfg.at("attention_output_bias"), false);
  }
}

TEST(ReferenceLayout, ShardedBf16ReferenceFolderScoresAsTheSameWeights) {
  for (const StudentSpec& spec : kSpecs) {
    Model m = random_student(spec, 9);
    for (auto& [name, t] : m.weights)  // the values a bf16 file can hold
      for (float& x : t.data) x = bf16_to_f32(f32_to_bf16(x));
    TempDir tmp;
    save_model_hf(m, tmp.file("ours"));
    // The reference's folder: its config (no teacher_model_type, no
    // rwkv7_output_scale: its own rule), the same tensors as bf16, in two
    // shards named by an index; r_k and layer 0's v0..v2 hold noise (unread).
    const std::string ref = tmp.file("ref");
    std::filesystem::create_directories(ref);
    nlohmann::json cfg = nlohmann::json::parse(read_text_file(tmp.file("ours") + "/config.json"));
    cfg.erase("teacher_model_type");
    cfg.erase("rwkv7_output_scale");
    cfg["torch_dtype"] = "bfloat16";
    if (m.cfg.attn_bias) cfg.erase("attention_bias");  // its default is true
    std::ofstream(ref + "/config.json") << cfg.dump(2);
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      std::filesystem::copy_file(tmp.file("ours") + "/" + f, ref + "/" + f);
    SafetensorsFile ours(tmp.file("ours") + "/model.safetensors");
    std::vector<Tensor> held;
    held.reserve(ours.tensors().size());
    std::vector<std::pair<std::string, const Tensor*>> shard[2];
    nlohmann::json map = nlohmann::json::object();
    int i = 0;
    for (const StTensorInfo& t : ours.tensors()) {
      held.push_back(ours.load_f32(t));
      if (t.name.ends_with(".r_k") || (t.name.starts_with("model.layers.0.self_attn.v") && !t.name.ends_with("proj.weight") &&
                                       !t.name.ends_with("proj.bias")))
        for (size_t j = 0; j < held.back().data.size(); j++) held.back().data[j] = float(j % 7) - 3.0f;
      const int s = i++ % 2;
      shard[s].push_back({t.name, &held.back()});
      map[t.name] = "model-0000" + std::to_string(s + 1) + "-of-00002.safetensors";
    }
    for (int s = 0; s < 2; s++)
      write_safetensors(ref + "/model-0000" + std::to_string(s + 1) + "-of-00002.safetensors", shard[s], StDtype::BF16);
    std::ofstream(ref + "/model.safetensors.index.json") << nlohmann::json{{"metadata", nlohmann::json::object()},
                                                                           {"weight_map", map}}.dump(2);
    Model back = open_model(ref);
    EXPECT_EQ(back.student.arch, m.student.arch);
    EXPECT_EQ(back.cfg.attn_bias, m.cfg.attn_bias);
    EXPECT_FALSE(back.student.legacy_output_scale);
    std::vector<int32_t> ids;
    for (int t = 0; t < 12; t++) ids.push_back(int32_t((t * 37 + 5) % m.cfg.n_vocab));
    EXPECT_EQ(logits(back, ids), logits(m, ids)) << m.student.arch_name() << " " << spec.teacher;
  }
}

TEST(ReferenceLayout, OptionsWeLackAreRefusedByName) {
  Model m = random_student(kSpecs[2], 10);
  TempDir tmp;
  save_model_hf(m, tmp.file("s"));
  const std::string p = tmp.file("s") + "/config.json";
  const nlohmann::json cfg = nlohmann::json::parse(read_text_file(p));
  for (const auto& [key, value] : {std::pair<std::string, nlohmann::json>{"gate_rank_type", 3},
                                   {"attention_output_bias", true}, {"use_sliding_window", true},
                                   {"lora_rank_tokenshift_typo", 32}, {"quantization_config", {{"bits", 4}}}}) {
    nlohmann::json c = cfg;
    c[key] = value;
    std::ofstream(p) << c.dump(2);
    try {
      open_model(tmp.file("s"));
      ADD_FAILURE() << key << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

// Every field of the reference's configuration_rwkv7qwen2.py, with its own
// defaults for the ones that do not change the network, loads.
TEST(ReferenceLayout, EveryReferenceConfigFieldIsKnown) {
  Model m = random_student(kSpecs[2], 11);
  TempDir tmp;
  save_model_hf(m, tmp.file("s"));
  const std::string p = tmp.file("s") + "/config.json";
  nlohmann::json cfg = nlohmann::json::parse(read_text_file(p));
  const nlohmann::json inert = {{"initializer_range", 0.02},  {"use_cache", true},      {"rope_scaling", nullptr},
                                {"use_sliding_window", false}, {"sliding_window", 4096}, {"max_window_layers", 28},
                                {"attention_dropout", 0.0},    {"use_tokenshift", false}, {"lora_rank_gate", nullptr},
                                {"transformers_version", "4.48.0"}, {"bos_token_id", 151643}, {"eos_token_id", 151645}};
  for (const auto& [k, v] : inert.items()) cfg[k] = v;
  std::ofstream(p) << cfg.dump(2);
  const Model back = open_model(tmp.file("s"));
  EXPECT_EQ(back.student.gate, m.student.gate);
  EXPECT_EQ(back.student.lora_gate, m.student.lora_gate);  // from the tensor shapes
}

}  // namespace radlads
