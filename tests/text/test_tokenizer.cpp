// Tokenizer: BPE merges on a tiny vocabulary (rank order, leftmost ties,
// missing merge results, ignore_merges), special-token partition with and
// without parse_special, validation errors, byte-exact decoding.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "text/tokenizer.h"
#include "text/unicode.h"
#include "tiny_vocab.h"

namespace radlads {
namespace {

using test::make_tiny_vocab;
using Ids = std::vector<int32_t>;

TEST(TokenizerBpe, MergesBuildWords) {
  auto v = make_tiny_vocab({{"h", "e"},
                            {"l", "l"},
                            {"he", "ll"},
                            {"hell", "o"},
                            {" ", "w"},
                            {"o", "r"},
                            {" w", "or"},
                            {"l", "d"},
                            {" wor", "ld"}});
  Tokenizer tok(v.spec);
  EXPECT_EQ(tok.encode("hello world"), (Ids{v.raw("hello"), v.raw(" world")}));
  EXPECT_EQ(tok.encode("hell"), (Ids{v.raw("hell")}));
  EXPECT_EQ(tok.encode("help"), (Ids{v.raw("he"), 'l', 'p'}));
  // The pre-tokenizer splits before BPE: no merge crosses "hello|,".
  EXPECT_EQ(tok.encode("hello,world"), (Ids{v.raw("hello"), ',', 'w', v.raw("or"), v.raw("ld")}));
}

TEST(TokenizerBpe, LowestRankFirst) {
  auto ab_first = make_tiny_vocab({{"a", "b"}, {"b", "c"}});
  EXPECT_EQ(Tokenizer(ab_first.spec).encode("abc"), (Ids{ab_first.raw("ab"), 'c'}));
  auto bc_first = make_tiny_vocab({{"b", "c"}, {"a", "b"}});
  EXPECT_EQ(Tokenizer(bc_first.spec).encode("abc"), (Ids{'a', bc_first.raw("bc")}));
}

TEST(TokenizerBpe, EqualRanksMergeLeftmostFirst) {
  auto v = make_tiny_vocab({{"a", "a"}, {"aa", "aa"}});
  Tokenizer tok(v.spec);
  EXPECT_EQ(tok.encode("aaa"), (Ids{v.raw("aa"), 'a'}));
  EXPECT_EQ(tok.encode("aaaa"), (Ids{v.raw("aaaa")}));
  EXPECT_EQ(tok.encode("aaaaa"), (Ids{v.raw("aaaa"), 'a'}));
  EXPECT_EQ(tok.encode("aaaaaa"), (Ids{v.raw("aaaa"), v.raw("aa")}));
}

TEST(TokenizerBpe, MergeWithoutResultTokenFallsBackToBytes) {
  auto v = make_tiny_vocab({{"x", "y"}});
  v.spec.tokens.pop_back();  // drop "xy": the merge happens, its result is no token
  v.spec.token_types.pop_back();
  EXPECT_EQ(Tokenizer(v.spec).encode("xy"), (Ids{'x', 'y'}));  // llama.cpp's per-byte fallback
}

TEST(TokenizerBpe, IgnoreMergesForLlama3) {
  auto v = make_tiny_vocab({{"a", "b"}, {"b", "c"}}, "llama-bpe");
  v.spec.tokens.push_back(test::bl("abc"));  // reachable by no merge
  v.spec.token_types.push_back(int32_t(TokenType::NORMAL));
  EXPECT_EQ(Tokenizer(v.spec).encode("abc"), (Ids{v.raw("abc")}));
  v.spec.pre = "qwen2";
  EXPECT_EQ(Tokenizer(v.spec).encode("abc"), (Ids{v.raw("ab"), 'c'}));
}

TEST(TokenizerBpe, NonAsciiBytesAndInvalidUtf8) {
  auto v = make_tiny_vocab({{"\xC3", "\xA9"}});  // "é" as one token
  Tokenizer tok(v.spec);
  EXPECT_EQ(tok.encode("\xC3\xA9"), (Ids{v.raw("\xC3\xA9")}));
  // A malformed byte is encoded as U+FFFD (EF BF BD), like llama.cpp.
  EXPECT_EQ(tok.encode("a\xFF"
                       "b"),
            (Ids{'a', 0xEF, 0xBF, 0xBD, 'b'}));
  EXPECT_EQ(tok.encode("a\xFF"
                       "b"),
            tok.encode("a\xEF\xBF\xBD"
                       "b"));
}

TEST(TokenizerSpecial, PartitionLongestFirst) {
  auto v = make_tiny_vocab({{"h", "i"}}, "gpt-2",
                           {{"<|im_start|>", TokenType::CONTROL},
                            {"<|im_end|>", TokenType::CONTROL},
                            {"<tool>", TokenType::USER_DEFINED},
                            {"<s>", TokenType::CONTROL},
                            {"<s>x", TokenType::CONTROL}});
  Tokenizer tok(v.spec);
  const int32_t start = v.id("<|im_start|>"), end = v.id("<|im_end|>"), tool = v.id("<tool>");
  const int32_t s = v.id("<s>"), sx = v.id("<s>x");
  EXPECT_EQ(tok.encode("<|im_start|>hi<|im_end|>"), (Ids{start, v.raw("hi"), end}));
  EXPECT_EQ(tok.encode("<s>x<s><s>"), (Ids{sx, s, s}));
  EXPECT_EQ(tok.encode("hi <tool>hi"), (Ids{v.raw("hi"), ' ', tool, v.raw("hi")}));
  EXPECT_TRUE(tok.is_special(start));
  EXPECT_FALSE(tok.is_special(v.raw("hi")));
}

TEST(TokenizerSpecial, NoSpecialKeepsControlTokensAsText) {
  auto v = make_tiny_vocab({}, "gpt-2",
                           {{"<|im_start|>", TokenType::CONTROL}, {"<tool>", TokenType::USER_DEFINED}});
  Tokenizer tok(v.spec);
  const std::string text = "<|im_start|>a<tool>b";
  const Ids ids = tok.encode(text, /*parse_special=*/false);
  for (int32_t id : ids) EXPECT_NE(id, v.id("<|im_start|>"));
  // USER_DEFINED tokens are split out either way (llama.cpp and HF agree).
  EXPECT_NE(std::find(ids.begin(), ids.end(), v.id("<tool>")), ids.end());
  EXPECT_EQ(tok.decode(ids), text);
}

TEST(TokenizerDecode, ByteExactAndPieces) {
  auto v = make_tiny_vocab({{" ", "w"}}, "gpt-2", {{"<|end|>", TokenType::CONTROL}});
  Tokenizer tok(v.spec);
  EXPECT_EQ(tok.piece(v.raw(" w")), " w");
  EXPECT_EQ(tok.piece(v.id("<|end|>")), "<|end|>");
  EXPECT_EQ(tok.piece('\n'), "\n");
  const Ids half_char = {0xE4, 0xBD};  // two bytes of a three-byte character
  EXPECT_EQ(tok.decode(half_char), "\xE4\xBD");
  EXPECT_THROW(tok.piece(tok.n_vocab()), Error);
  EXPECT_THROW(tok.piece(-1), Error);
}

// Reference for what encode does to malformed input: each bad byte -> U+FFFD.
std::string cleaned(const std::string& s) {
  std::string out;
  for (uint32_t cp : utf8_decode_lenient(s)) utf8_append(out, cp);
  return out;
}

TEST(TokenizerDecode, RoundTripRandomBytes) {
  auto v = make_tiny_vocab({{" ", "t"}, {"h", "e"}, {" t", "he"}, {"\n", "\n"}, {"\xE4", "\xBD"}}, "qwen2",
                           {{"<|x|>", TokenType::CONTROL}});
  Tokenizer tok(v.spec);
  std::mt19937 rng(7);
  const std::string alphabet = " \n\tthe<|x|>1234'sS\xE4\xBD\xA0\xF0\x9F\x98\x80";
  for (int iter = 0; iter < 300; ++iter) {
    std::string s;
    const int len = int(rng() % 64);
    for (int i = 0; i < len; ++i) s += iter % 2 ? char(rng() % 256) : alphabet[rng() % alphabet.size()];
    EXPECT_EQ(tok.decode(tok.encode(s)), cleaned(s)) << "iteration " << iter;
    EXPECT_EQ(tok.decode(tok.encode(s, false)), cleaned(s)) << "iteration " << iter;
  }
  std::string valid;  // random valid UTF-8 round-trips exactly
  for (int i = 0; i < 2000; ++i) {
    uint32_t cp = rng() % 0x110000;
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
    utf8_append(valid, cp);
  }
  EXPECT_EQ(tok.decode(tok.encode(valid)), valid);
}

TEST(TokenizerValidation, RejectsBadSpecs) {
  auto good = make_tiny_vocab({{"a", "b"}});
  EXPECT_NO_THROW(Tokenizer{good.spec});
  auto bad = good;
  bad.spec.model = "llama";
  EXPECT_THROW(Tokenizer{bad.spec}, Error);
  bad = good;
  bad.spec.merges.push_back("a zz");
  EXPECT_THROW(Tokenizer{bad.spec}, Error);
  bad = good;
  bad.spec.merges.push_back("nospace");
  EXPECT_THROW(Tokenizer{bad.spec}, Error);
  bad = good;
  bad.spec.bos_id = int32_t(bad.spec.tokens.size());
  EXPECT_THROW(Tokenizer{bad.spec}, Error);
  bad = good;
  bad.spec.pre = "nonesuch";
  EXPECT_THROW(Tokenizer{bad.spec}, Error);
  bad = good;
  bad.spec.token_types.pop_back();
  EXPECT_THROW(Tokenizer{bad.spec}, Error);
  bad = good;
  bad.spec.tokens.push_back("a");  // duplicate
  bad.spec.token_types.push_back(1);
  EXPECT_THROW(Tokenizer{bad.spec}, Error);
  try {
    Tokenizer{[&] {
      auto s = good.spec;
      s.merges.push_back("a zz");
      return s;
    }()};
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("zz"), std::string::npos) << e.what();
  }
}

TEST(TokenizerBasics, Accessors) {
  auto v = make_tiny_vocab({}, "smollm", {{"<s>", TokenType::CONTROL}});
  v.spec.bos_id = v.id("<s>");
  Tokenizer tok(v.spec);
  EXPECT_EQ(tok.n_vocab(), 257);
  EXPECT_EQ(tok.bos(), 256);
  EXPECT_EQ(tok.eos(), -1);
  EXPECT_EQ(tok.token_id("<s>"), 256);
  EXPECT_EQ(tok.token_id("nope"), -1);
  EXPECT_EQ(tok.spec().pre_regexes.size(), 2u);  // resolved from the name
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_EQ(tok.encode("<s>hi"), (Ids{256, 'h', 'i'}));  // never adds BOS itself
}

}  // namespace
}  // namespace radlads
