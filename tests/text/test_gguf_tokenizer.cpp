// GGUF tokenizer metadata: a tiny GGUF written here, and the real SmolLM2
// teacher against ids produced by llama.cpp (llama-cpp-python 0.3.36).
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "io/gguf.h"
#include "test_util.h"
#include "text/gguf_tokenizer.h"
#include "text/tokenizer.h"
#include "tiny_vocab.h"

namespace radlads {
namespace {

using Ids = std::vector<int32_t>;

void write_tiny_gguf(const std::string& path, const TokenizerSpec& s, const std::string& pre) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::of_str("llama"));
  w.set("tokenizer.ggml.model", GgufValue::of_str(s.model));
  w.set("tokenizer.ggml.pre", GgufValue::of_str(pre));
  w.set("tokenizer.ggml.tokens", GgufValue::of_str_array(s.tokens));
  w.set("tokenizer.ggml.token_type", GgufValue::of_i32_array(s.token_types));
  w.set("tokenizer.ggml.merges", GgufValue::of_str_array(s.merges));
  w.set("tokenizer.ggml.bos_token_id", GgufValue::of_u32(uint32_t(s.bos_id)));
  w.set("tokenizer.ggml.eos_token_id", GgufValue::of_u32(uint32_t(s.eos_id)));
  w.set("tokenizer.ggml.add_bos_token", GgufValue::of_bool(true));
  w.set("tokenizer.chat_template", GgufValue::of_str("{{ '<|im_start|>' }}"));
  w.write(path);
}

TEST(GgufTokenizer, ReadsMetadata) {
  auto v = test::make_tiny_vocab({{"h", "i"}}, "qwen2",
                                 {{"<|im_start|>", TokenType::CONTROL}, {"<|im_end|>", TokenType::NORMAL}});
  v.spec.bos_id = v.id("<|im_start|>");
  v.spec.eos_id = v.id("<|im_end|>");
  test::TempDir d;
  const std::string path = d.file("tiny.gguf");
  write_tiny_gguf(path, v.spec, "qwen2");
  const TokenizerSpec s = tokenizer_spec_from_gguf(GgufFile(path));
  EXPECT_EQ(s.pre, "qwen2");
  EXPECT_EQ(s.tokens, v.spec.tokens);
  EXPECT_EQ(s.merges, v.spec.merges);
  EXPECT_EQ(s.bos_id, v.spec.bos_id);
  EXPECT_EQ(s.eos_id, v.spec.eos_id);
  EXPECT_EQ(s.unk_id, -1);
  EXPECT_TRUE(s.add_bos);
  EXPECT_EQ(s.chat_template, "{{ '<|im_start|>' }}");
  // llama.cpp promotes <|im_end|> to CONTROL whatever the file says.
  EXPECT_EQ(s.token_types[size_t(v.spec.eos_id)], int32_t(TokenType::CONTROL));

  const Tokenizer tok = load_tokenizer(path);
  EXPECT_EQ(tok.encode("<|im_start|>hi<|im_end|>"), (Ids{v.spec.bos_id, v.raw("hi"), v.spec.eos_id}));
}

TEST(GgufTokenizer, UnsupportedPreOrModelIsAnError) {
  auto v = test::make_tiny_vocab({});
  test::TempDir d;
  const std::string path = d.file("tiny.gguf");
  write_tiny_gguf(path, v.spec, "deepseek-llm");
  try {
    load_tokenizer(path);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(path, 0), 0u) << m;
    EXPECT_NE(m.find("tokenizer.ggml.pre: 'deepseek-llm' is not supported"), std::string::npos) << m;
  }
  v.spec.model = "llama";
  write_tiny_gguf(path, v.spec, "default");
  EXPECT_THROW(load_tokenizer(path), Error);
  EXPECT_THROW(load_tokenizer(d.file("missing.gguf")), Error);
}

// Expected ids from llama.cpp: Llama(model, vocab_only=True).tokenize(text,
// add_bos=False, special=...).
TEST(GgufTokenizer, TeacherMatchesLlamaCpp) {
  const Tokenizer tok = load_tokenizer(test::teacher_path());
  EXPECT_EQ(tok.n_vocab(), 49152);
  EXPECT_EQ(tok.bos(), 1);
  EXPECT_EQ(tok.eos(), 2);
  EXPECT_EQ(tok.spec().pre, "smollm");
  EXPECT_EQ(tok.encode("Hello world"), (Ids{19556, 905}));
  const std::string chat = "Hello world! I'm 12345 <|im_start|>user\nhi<|im_end|>";
  EXPECT_EQ(tok.encode(chat),
            (Ids{19556, 905, 17, 339, 5248, 216, 33, 34, 35, 36, 37, 216, 1, 4093, 198, 6004, 2}));
  EXPECT_EQ(tok.encode(chat, false),
            (Ids{19556, 905,  17,  339, 5248, 216, 33,   34, 35,  36,  37, 2067, 108, 306,
                 79,    3738, 108, 46,  4093, 198, 6004, 44, 108, 306, 79, 486,  108, 46}));
  EXPECT_EQ(tok.encode("  \n\n\tDON'T \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87 na\xC3\xAFve"),
            (Ids{256, 1116, 197, 52, 2154, 23, 68, 40303, 218, 216, 28589, 29184, 15486, 46494}));
  EXPECT_EQ(tok.encode("a\xFF"
                       "b"),
            (Ids{81, 24211, 82}));
  EXPECT_EQ(tok.decode(tok.encode(chat)), chat);
}

}  // namespace
}  // namespace radlads
