// HF tokenizer.json / tokenizer_config.json reader: a tiny Qwen2-style
// tokenizer written by the test, then encode/decode/chat checks and the
// one-line errors for broken files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "core/error.h"
#include "test_util.h"
#include "text/chat_template.h"
#include "text/gguf_tokenizer.h"
#include "text/hf_tokenizer.h"
#include "text/tokenizer.h"
#include "text/unicode.h"

namespace radlads {
using test::error_of;
namespace {

using json = nlohmann::json;
using Ids = std::vector<int32_t>;

const char* kQwenRegex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Qwen2.5's template, shortened to its no-tools path; "\n" inside its string
// literals is the two-character escape, as in the real tokenizer_config.json.
const char* kQwenTemplate =
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "{%- else %}\n"
    "    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\\n' }}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + "
    "'<|im_end|>' + '\\n' }}{%- endfor %}\n"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}\n";

struct TinyHf {
  json tokenizer, config;
  // ids 0..255: byte-level characters; 256..264: merge results; 265..267 and
  // 269: added tokens; 268 is left out on purpose (padded as UNUSED).
  TinyHf() {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[bytes_to_byte_level(std::string(1, char(b)))] = b;
    const std::vector<std::pair<std::string, std::string>> merges = {
        {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"\xC4\xA0", "w"}, {"o", "r"},
        {"\xC4\xA0w", "or"}, {"l", "d"}, {"\xC4\xA0wor", "ld"}};
    json mj = json::array();
    int next = 256;
    for (size_t i = 0; i < merges.size(); ++i) {
      const auto& [a, b] = merges[i];
      if (i % 2) mj.push_back(json::array({a, b}));  // both spellings HF uses
      else mj.push_back(a + " " + b);
      vocab[a + b] = next++;
    }
    auto added = [](int id, const char* content, bool special) {
      return json{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                  {"rstrip", false}, {"normalized", false}, {"special", special}};
    };
    tokenizer = {
        {"version", "1.0"},
        {"added_tokens", json::array({added(265, "<|endoftext|>", true), added(266, "<|im_start|>", true),
                                      added(267, "<|im_end|>", true), added(269, "<tool_call>", false)})},
        {"normalizer", {{"type", "NFC"}}},
        {"pre_tokenizer",
         {{"type", "Sequence"},
          {"pretokenizers",
           json::array({json{{"type", "Split"}, {"pattern", {{"Regex", kQwenRegex}}}, {"behavior", "Isolated"},
                             {"invert", false}},
                        json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false},
                             {"use_regex", false}}})}}},
        {"post_processor", nullptr},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", mj}}},
    };
    config = {{"bos_token", nullptr}, {"eos_token", "<|im_end|>"},
              {"pad_token", {{"content", "<|endoftext|>"}, {"special", true}}},
              {"add_bos_token", false}, {"chat_template", kQwenTemplate}};
  }
  void write(const test::TempDir& d) const {
    std::ofstream(d.file("tokenizer.json")) << tokenizer.dump();
    std::ofstream(d.file("tokenizer_config.json")) << config.dump();
  }
};

TEST(HfTokenizer, ReadsQwen2StyleFolder) {
  test::TempDir d;
  TinyHf().write(d);
  const TokenizerSpec spec = tokenizer_spec_from_hf(d.path.string());
  EXPECT_EQ(spec.model, "gpt2");
  EXPECT_EQ(spec.pre, "qwen2");
  ASSERT_EQ(spec.tokens.size(), 270u);
  EXPECT_EQ(spec.tokens[268], "[PAD268]");
  EXPECT_EQ(spec.token_types[268], int32_t(TokenType::UNUSED));
  EXPECT_EQ(spec.token_types[266], int32_t(TokenType::CONTROL));
  EXPECT_EQ(spec.token_types[269], int32_t(TokenType::USER_DEFINED));
  EXPECT_EQ(spec.merges[1], "l l");  // pair form became "a b"
  EXPECT_EQ(spec.bos_id, -1);
  EXPECT_EQ(spec.eos_id, 267);
  EXPECT_EQ(spec.pad_id, 265);
  EXPECT_FALSE(spec.add_bos);

  const Tokenizer tok = load_tokenizer(d.path.string());
  const std::string text = "<|im_start|>user\nhello world 12<|im_end|><tool_call>";
  const Ids ids = tok.encode(text);
  EXPECT_EQ(ids, (Ids{266, 'u', 's', 'e', 'r', '\n', 259, 264, ' ', '1', '2', 267, 269}));
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.encode(text, false)[0], '<');
  EXPECT_EQ(apply_chat_template(spec, {{"user", "hi"}}, true),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(HfTokenizer, RecognisesSmollmAndGpt2PreTokenizers) {
  test::TempDir d;
  TinyHf t;
  t.tokenizer["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers", json::array({json{{"type", "Digits"}, {"individual_digits", true}},
                                     json{{"type", "ByteLevel"}, {"add_prefix_space", false},
                                          {"use_regex", true}}})}};
  t.tokenizer.erase("normalizer");
  t.write(d);
  EXPECT_EQ(tokenizer_spec_from_hf(d.path.string()).pre, "smollm");
  t.tokenizer["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}};
  t.write(d);
  EXPECT_EQ(tokenizer_spec_from_hf(d.path.string()).pre, "gpt-2");
  // An unknown Split regex is kept as it is.
  t.tokenizer["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers", json::array({json{{"type", "Split"}, {"pattern", {{"Regex", "\\p{Han}+| ?\\w+|\\s+"}}},
                                          {"behavior", "Isolated"}},
                                     json{{"type", "ByteLevel"}, {"use_regex", false}}})}};
  t.write(d);
  const TokenizerSpec s = tokenizer_spec_from_hf(d.path.string());
  EXPECT_EQ(s.pre, "");
  EXPECT_EQ(s.pre_regexes, (std::vector<std::string>{"\\p{Han}+| ?\\w+|\\s+"}));
  EXPECT_EQ(Tokenizer(s).encode("hello world"), (Ids{259, 264}));
}

TEST(HfTokenizer, ErrorsNameFileAndField) {
  test::TempDir d;
  TinyHf t;
  const std::string dir = d.path.string();
  auto err = [&] { return error_of([&] { tokenizer_spec_from_hf(dir); }); };

  EXPECT_NE(err().find("tokenizer.json: missing"), std::string::npos) << err();
  std::ofstream(d.file("tokenizer.json")) << "{ not json";
  EXPECT_NE(err().find("tokenizer.json: not valid JSON"), std::string::npos) << err();

  TinyHf m = t;
  m.tokenizer["model"].erase("merges");
  m.write(d);
  EXPECT_NE(err().find("tokenizer.json: model.merges: missing"), std::string::npos) << err();

  m = t;
  m.tokenizer["model"]["type"] = "WordPiece";
  m.write(d);
  EXPECT_NE(err().find("model.type: 'WordPiece' is not supported"), std::string::npos) << err();

  m = t;
  m.tokenizer["model"]["merges"][3] = 7;
  m.write(d);
  EXPECT_NE(err().find("model.merges[3]"), std::string::npos) << err();

  m = t;
  m.config["eos_token"] = "<|nope|>";
  m.write(d);
  EXPECT_NE(err().find("tokenizer_config.json: eos_token: '<|nope|>' is not in the vocabulary"),
            std::string::npos) << err();

  m = t;
  m.tokenizer["pre_tokenizer"] = {{"type", "Metaspace"}};
  m.write(d);
  EXPECT_NE(err().find("pre_tokenizer.type: pre-tokenizer 'Metaspace' is not supported"), std::string::npos)
      << err();

  // Errors from validation get the folder prefixed by load_tokenizer.
  m = t;
  m.tokenizer["model"]["merges"].push_back("h zzz");
  m.write(d);
  const std::string e = error_of([&] { load_tokenizer(dir); });
  EXPECT_EQ(e.rfind(dir, 0), 0u) << e;
  EXPECT_NE(e.find("zzz"), std::string::npos) << e;
}

}  // namespace
}  // namespace radlads
