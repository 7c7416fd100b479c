// HF folder writer.
#include "models/hf_folder.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <vector>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/json_file.h"
#include "models/mixers/mixer_arch.h"

namespace radlads {

namespace fs = std::filesystem;
using json = nlohmann::json;

void write_hf_tokenizer(const TokenizerSpec& s, const std::string& dir) {
  json vocab = json::object(), added = json::array();
  for (size_t i = 0; i < s.tokens.size(); i++) {
    const auto type = i < s.token_types.size() ? TokenType(s.token_types[i]) : TokenType::NORMAL;
    if (type == TokenType::CONTROL || type == TokenType::USER_DEFINED)
      added.push_back({{"id", i}, {"content", s.tokens[i]}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", type == TokenType::CONTROL}});
    vocab[s.tokens[i]] = i;
  }
  json pre = json::array();
  for (auto& r : s.pre_regexes)
    pre.push_back({{"type", "Split"}, {"pattern", {{"Regex", r}}}, {"behavior", "Isolated"}, {"invert", false}});
  pre.push_back({{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}});
  json tok = {{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens", added},
              {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", pre}}},
              {"post_processor", nullptr},
              {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
              {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                         {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                         {"vocab", vocab}, {"merges", s.merges}}}};
  write_json_atomic((fs::path(dir) / "tokenizer.json").string(), tok);
  json cfg = {{"add_bos_token", s.add_bos}, {"clean_up_tokenization_spaces", false},
              {"tokenizer_class", "PreTrainedTokenizerFast"}};
  auto tok_text = [&](int32_t id) { return id >= 0 && size_t(id) < s.tokens.size() ? json(s.tokens[size_t(id)]) : json(nullptr); };
  cfg["bos_token"] = tok_text(s.bos_id);
  cfg["eos_token"] = tok_text(s.eos_id);
  cfg["unk_token"] = tok_text(s.unk_id);
  cfg["pad_token"] = tok_text(s.pad_id);
  if (!s.chat_template.empty()) cfg["chat_template"] = s.chat_template;
  write_json_atomic((fs::path(dir) / "tokenizer_config.json").string(), cfg);
}

void save_model_hf(const Model& m, const std::string& dir, StDtype dtype) {
  std::error_code ec;
  if (fs::exists(dir, ec)) fail("{}: already exists; choose a new output folder", dir);
  const std::string tmp = dir + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec)) fail("{}: cannot create: {}", tmp, ec.message());
  try {
    json cfg = m.student.is_student() ? student_config_json(m.cfg, m.student) : m.hf_config;
    if (!m.student.is_student() && cfg.is_null()) fail("{}: no HF config to write (a GGUF teacher)", m.path);
    write_json_atomic((fs::path(tmp) / "config.json").string(), cfg);
    // A student in the reference's key set, so that its modeling code loads
    // the folder with no missing or unexpected keys (what it declares and
    // never reads is written as zeros; our loader drops it again).
    std::vector<std::pair<std::string, Tensor>> add;
    std::vector<std::string> omit;
    if (m.student.is_student()) mixer_arch(m.student.arch).to_reference(m, add, omit);
    std::map<std::string, const Tensor*> named;
    for (auto& [name, t] : m.weights) named[name] = &t;
    for (const std::string& n : omit) named.erase(n);
    for (auto& [name, t] : add) named[name] = &t;
    std::vector<std::pair<std::string, const Tensor*>> ts(named.begin(), named.end());
    write_safetensors((fs::path(tmp) / "model.safetensors").string(), ts, dtype, {{"format", "pt"}});
    write_hf_tokenizer(m.tokenizer, tmp);
    fs::rename(tmp, dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace radlads
