// Reads an HF tokenizer.json / tokenizer_config.json pair into a
// TokenizerSpec. Every problem names the file and the JSON field.
#include "text/hf_tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "io/json_file.h"
#include "core/file_io.h"
#include "text/pretokenizer.h"

namespace radlads {

namespace {

using json = nlohmann::json;

// Field access with errors that name the file and the dotted field path.
struct Fields {
  const std::string& path;

  const json& get(const json& obj, const char* key, const std::string& where) const {
    if (!obj.is_object()) fail("{}: {}: expected an object", path, where);
    auto it = obj.find(key);
    if (it == obj.end()) fail("{}: {}.{}: missing", path, where, key);
    return *it;
  }
  std::string str(const json& v, const std::string& where) const {
    if (!v.is_string()) fail("{}: {}: expected a string, found {}", path, where, v.type_name());
    return v.get<std::string>();
  }
  int64_t integer(const json& v, const std::string& where) const {
    if (!v.is_number_integer()) fail("{}: {}: expected an integer, found {}", path, where, v.type_name());
    return v.get<int64_t>();
  }
  bool boolean(const json& obj, const char* key, bool dflt, const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return dflt;
    if (!it->is_boolean()) fail("{}: {}.{}: expected a boolean", path, where, key);
    return it->get<bool>();
  }
};

// HF's own spellings of the regexes llama.cpp knows under a name.
const char* kHfGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char* kHfLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* kHfQwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::string escape_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Flattens the pre_tokenizer tree into a regex list; sets byte_level when a
// ByteLevel step is present (required: we only do byte-level BPE).
void collect_pre(const Fields& f, const json& pt, const std::string& where, std::vector<std::string>& regexes,
                 bool& byte_level) {
  const std::string type = f.str(f.get(pt, "type", where), where + ".type");
  if (type == "Sequence") {
    const json& list = f.get(pt, "pretokenizers", where);
    if (!list.is_array()) fail("{}: {}.pretokenizers: expected an array", f.path, where);
    for (size_t i = 0; i < list.size(); ++i)
      collect_pre(f, list[i], fmt::format("{}.pretokenizers[{}]", where, i), regexes, byte_level);
  } else if (type == "Split") {
    const json& pat = f.get(pt, "pattern", where);
    if (pat.contains("Regex"))
      regexes.push_back(f.str(pat["Regex"], where + ".pattern.Regex"));
    else if (pat.contains("String"))
      regexes.push_back(escape_literal(f.str(pat["String"], where + ".pattern.String")));
    else
      fail("{}: {}.pattern: expected Regex or String", f.path, where);
    const std::string behavior =
        pt.contains("behavior") ? f.str(pt["behavior"], where + ".behavior") : "Isolated";
    if (behavior != "Isolated" || f.boolean(pt, "invert", false, where))
      fail("{}: {}: Split behavior '{}'{} is not supported (only Isolated)", f.path, where, behavior,
           f.boolean(pt, "invert", false, where) ? " with invert" : "");
  } else if (type == "Digits") {
    regexes.push_back(f.boolean(pt, "individual_digits", false, where) ? "\\p{N}" : "\\p{N}+");
  } else if (type == "ByteLevel") {
    if (f.boolean(pt, "add_prefix_space", false, where))
      fail("{}: {}.add_prefix_space: true is not supported", f.path, where);
    if (f.boolean(pt, "use_regex", true, where)) regexes.push_back(kHfGpt2);
    byte_level = true;
  } else {
    fail("{}: {}.type: pre-tokenizer '{}' is not supported", f.path, where, type);
  }
}

// llama.cpp's name for a regex list we recognise; empty otherwise.
std::string known_pre_name(const std::vector<std::string>& r) {
  auto is = [](const std::string& a, const char* hf, const char* ours) { return a == hf || a == ours; };
  if (r.size() == 1 && is(r[0], kHfGpt2, kRegexGpt2)) return "gpt-2";
  if (r.size() == 2 && (r[0] == "\\p{N}") && is(r[1], kHfGpt2, kRegexGpt2)) return "smollm";
  if (r.size() == 1 && is(r[0], kHfLlama3, kRegexLlama3)) return "llama-bpe";
  if (r.size() == 1 && is(r[0], kHfQwen2, kRegexQwen2)) return "qwen2";
  return "";
}

// A special token in tokenizer_config.json: "text" or {"content": "text"}.
std::optional<std::string> config_token(const Fields& f, const json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) return f.str(f.get(*it, "content", key), std::string(key) + ".content");
  fail("{}: {}: expected a string or an object with content", f.path, key);
}

// Whether the post-processor prepends a special token to a single sequence
// (Llama-3 adds BOS this way rather than with add_bos_token).
bool post_processor_adds_bos(const json& pp) {
  if (!pp.is_object()) return false;
  const std::string type = pp.value("type", "");
  if (type == "Sequence" && pp.contains("processors") && pp["processors"].is_array()) {
    for (const json& p : pp["processors"])
      if (post_processor_adds_bos(p)) return true;
    return false;
  }
  if (type != "TemplateProcessing" || !pp.contains("single") || !pp["single"].is_array()) return false;
  const json& single = pp["single"];
  return !single.empty() && single[0].is_object() && single[0].contains("SpecialToken");
}

}  // namespace

TokenizerSpec tokenizer_spec_from_hf(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string path = (fs::path(dir) / "tokenizer.json").string();
  if (!fs::exists(path)) fail("{}: missing (not an HF tokenizer folder)", path);
  const json j = read_json_file(path);
  const Fields f{path};
  TokenizerSpec spec;
  spec.model = "gpt2";

  const json& model = f.get(j, "model", "(root)");
  if (model.contains("type")) {
    const std::string t = f.str(model["type"], "model.type");
    if (t != "BPE") fail("{}: model.type: '{}' is not supported (only BPE)", path, t);
  }
  if (f.boolean(model, "byte_fallback", false, "model"))
    fail("{}: model.byte_fallback: SentencePiece-style BPE is not supported (only byte-level)", path);

  // Vocabulary: token -> id; ids must form a dense range once added tokens
  // are in (gaps are padded below).
  const json& vocab = f.get(model, "vocab", "model");
  if (!vocab.is_object()) fail("{}: model.vocab: expected an object", path);
  std::vector<std::pair<int64_t, std::string>> entries;
  entries.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it)
    entries.emplace_back(f.integer(it.value(), "model.vocab[\"" + it.key() + "\"]"), it.key());
  struct Added {
    int64_t id;
    std::string content;
    bool special;
  };
  std::vector<Added> added;
  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    const json& at = j["added_tokens"];
    if (!at.is_array()) fail("{}: added_tokens: expected an array", path);
    for (size_t i = 0; i < at.size(); ++i) {
      const std::string w = fmt::format("added_tokens[{}]", i);
      added.push_back({f.integer(f.get(at[i], "id", w), w + ".id"),
                       f.str(f.get(at[i], "content", w), w + ".content"),
                       f.boolean(at[i], "special", false, w)});
    }
  }
  int64_t max_id = -1;
  for (auto& [id, s] : entries) max_id = std::max(max_id, id);
  for (auto& a : added) max_id = std::max(max_id, a.id);
  if (max_id < 0) fail("{}: model.vocab: empty", path);
  if (max_id >= (int64_t(1) << 31)) fail("{}: model.vocab: id {} too large", path, max_id);
  // Gaps are padded with placeholder tokens, so the table is as long as the
  // largest id: an id far beyond the tokens present would allocate
  // gigabytes for a few bytes of file. Real vocabularies are dense.
  const int64_t present = int64_t(entries.size() + added.size());
  if (max_id >= 2 * present + 1024)
    fail("{}: id {} is far beyond the {} tokens the file defines (ids must be nearly dense)", path, max_id,
         present);
  for (auto& [id, s] : entries)
    if (id < 0) fail("{}: model.vocab[\"{}\"]: negative id {}", path, s, id);
  spec.tokens.assign(size_t(max_id + 1), std::string());
  spec.token_types.assign(size_t(max_id + 1), int32_t(TokenType::NORMAL));
  std::vector<bool> have(size_t(max_id + 1), false);
  for (auto& [id, s] : entries) {
    if (have[size_t(id)]) fail("{}: model.vocab: id {} used twice", path, id);
    spec.tokens[size_t(id)] = s;
    have[size_t(id)] = true;
  }
  for (auto& a : added) {
    if (a.id < 0) fail("{}: added_tokens: negative id {}", path, a.id);
    spec.tokens[size_t(a.id)] = a.content;
    spec.token_types[size_t(a.id)] = int32_t(a.special ? TokenType::CONTROL : TokenType::USER_DEFINED);
    have[size_t(a.id)] = true;
  }
  for (size_t i = 0; i < have.size(); ++i)
    if (!have[i]) {
      spec.tokens[i] = fmt::format("[PAD{}]", i);
      spec.token_types[i] = int32_t(TokenType::UNUSED);
    }

  const json& merges = f.get(model, "merges", "model");
  if (!merges.is_array()) fail("{}: model.merges: expected an array", path);
  spec.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    const std::string w = fmt::format("model.merges[{}]", i);
    if (m.is_string()) {
      spec.merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2) {
      spec.merges.push_back(f.str(m[0], w + "[0]") + " " + f.str(m[1], w + "[1]"));
    } else {
      fail("{}: {}: expected \"left right\" or [left, right]", path, w);
    }
  }

  if (j.contains("normalizer") && !j["normalizer"].is_null()) {
    const std::string t = f.str(f.get(j["normalizer"], "type", "normalizer"), "normalizer.type");
    // Qwen2 ships NFC; llama.cpp does not apply it and neither do we.
    if (t != "NFC") fail("{}: normalizer.type: '{}' is not supported", path, t);
  }
  std::vector<std::string> regexes;
  bool byte_level = false;
  if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null())
    collect_pre(f, j["pre_tokenizer"], "pre_tokenizer", regexes, byte_level);
  if (!byte_level) fail("{}: pre_tokenizer: no ByteLevel step (only byte-level BPE is supported)", path);
  spec.pre = known_pre_name(regexes);
  spec.pre_regexes = spec.pre.empty() ? regexes : pretokenizer_regexes(spec.pre);
  if (spec.pre_regexes.empty()) fail("{}: pre_tokenizer: no split regex", path);
  spec.add_bos = post_processor_adds_bos(j.value("post_processor", json()));

  // tokenizer_config.json: special tokens by text, add_bos_token, template.
  const std::string cfg_path = (fs::path(dir) / "tokenizer_config.json").string();
  if (fs::exists(cfg_path)) {
    const json cfg = read_json_file(cfg_path);
    const Fields fc{cfg_path};
    if (!cfg.is_object()) fail("{}: expected a JSON object", cfg_path);
    auto find_id = [&](const std::string& text) -> int32_t {
      for (size_t i = 0; i < spec.tokens.size(); ++i)
        if (spec.tokens[i] == text) return int32_t(i);
      return -1;
    };
    auto set_token = [&](const char* key, int32_t& id) {
      if (auto t = config_token(fc, cfg, key)) {
        id = find_id(*t);
        if (id < 0) fail("{}: {}: '{}' is not in the vocabulary", cfg_path, key, *t);
      }
    };
    set_token("bos_token", spec.bos_id);
    set_token("eos_token", spec.eos_id);
    set_token("unk_token", spec.unk_id);
    set_token("pad_token", spec.pad_id);
    if (cfg.contains("add_bos_token")) spec.add_bos = fc.boolean(cfg, "add_bos_token", false, "(root)");
    if (cfg.contains("chat_template") && !cfg["chat_template"].is_null()) {
      const json& ct = cfg["chat_template"];
      if (ct.is_string()) {
        spec.chat_template = ct.get<std::string>();
      } else if (ct.is_array()) {  // [{"name": "default", "template": ...}, ...]
        for (size_t i = 0; i < ct.size(); ++i) {
          const std::string w = fmt::format("chat_template[{}]", i);
          if (fc.str(fc.get(ct[i], "name", w), w + ".name") == "default")
            spec.chat_template = fc.str(fc.get(ct[i], "template", w), w + ".template");
        }
      } else {
        fail("{}: chat_template: expected a string or a list of named templates", cfg_path);
      }
    }
  }
  const std::string jinja_path = (fs::path(dir) / "chat_template.jinja").string();
  if (spec.chat_template.empty() && fs::exists(jinja_path)) spec.chat_template = read_text_file(jinja_path);
  return spec;
}

}  // namespace radlads
