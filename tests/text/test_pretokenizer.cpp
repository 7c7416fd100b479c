// Pre-tokenizer splits, checked by hand against the regex semantics llama.cpp
// implements (gpt-2, smollm, llama-bpe, qwen2, default), plus the Unicode
// class table and lenient UTF-8 decoding they rest on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "text/pretokenizer.h"
#include "text/unicode.h"

namespace radlads {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(const char* pre, const std::string& text) {
  return PreTokenizer(pretokenizer_regexes(pre)).split_strings(text);
}

TEST(Unicode, ClassesMatchUnicode151) {
  EXPECT_EQ(cp_class('A'), kCpLetter);
  EXPECT_EQ(cp_class('7'), kCpNumber);
  EXPECT_EQ(cp_class(' '), kCpSeparator);
  EXPECT_EQ(cp_class('~'), kCpSymbol);
  EXPECT_EQ(cp_class('_'), kCpPunctuation);
  EXPECT_EQ(cp_class(0x0661), kCpNumber);     // ARABIC-INDIC DIGIT ONE
  EXPECT_EQ(cp_class(0x00B2), kCpNumber);     // SUPERSCRIPT TWO (No)
  EXPECT_EQ(cp_class(0x0301), kCpMark);       // COMBINING ACUTE ACCENT
  EXPECT_EQ(cp_class(0x200D), kCpControl);    // ZERO WIDTH JOINER (Cf)
  EXPECT_EQ(cp_class(0xE000), kCpControl);    // private use (Co)
  EXPECT_EQ(cp_class(0x0378), kCpUndefined);  // unassigned
  EXPECT_EQ(cp_class(0x1F600), kCpSymbol);    // GRINNING FACE
  EXPECT_EQ(cp_class(0x1F3FD), kCpSymbol);    // skin tone modifier (Sk)
  EXPECT_EQ(cp_class(0x4E00), kCpLetter);     // CJK
  EXPECT_EQ(cp_class(0x2EBF0), kCpLetter);    // CJK Ext. I, new in Unicode 15.1
  EXPECT_EQ(cp_class(0x31EF), kCpSymbol);     // new in Unicode 15.1
  EXPECT_EQ(cp_class(0x1E4D0), kCpLetter);    // Nag Mundari, new in Unicode 15.0
  EXPECT_EQ(cp_class(0x110000), kCpUndefined);
  EXPECT_TRUE(cp_is_whitespace(0x85));
  EXPECT_TRUE(cp_is_whitespace(0xA0));
  EXPECT_TRUE(cp_is_whitespace(0x3000));
  EXPECT_FALSE(cp_is_whitespace(0x200B));  // ZERO WIDTH SPACE is Cf, not White_Space
  EXPECT_FALSE(cp_is_whitespace(0x1C));    // Python's isspace says yes; Unicode says no
}

TEST(Unicode, LenientDecodingLikeLlamaCpp) {
  using V = std::vector<uint32_t>;
  EXPECT_EQ(utf8_decode_lenient("a\xC3\xA9"), (V{'a', 0xE9}));
  EXPECT_EQ(utf8_decode_lenient("\xFF"), (V{0xFFFD}));
  EXPECT_EQ(utf8_decode_lenient("\x80z"), (V{0xFFFD, 'z'}));
  EXPECT_EQ(utf8_decode_lenient("\xE2\x82"), (V{0xFFFD, 0xFFFD}));  // truncated: one U+FFFD per byte
  EXPECT_EQ(utf8_decode_lenient("\xC3("), (V{0xFFFD, '('}));
  EXPECT_EQ(utf8_decode_lenient("\xC0\x80"), (V{0}));  // overlong accepted, as llama.cpp
  EXPECT_EQ(utf8_decode_lenient("\xF0\x9F\x98\x80"), (V{0x1F600}));
  std::string s;
  utf8_append(s, 0x1FFFFF);  // beyond Unicode: becomes U+FFFD
  EXPECT_EQ(s, "\xEF\xBF\xBD");
}

TEST(Unicode, ByteLevelMapIsGpt2s) {
  EXPECT_EQ(byte_to_cp('a'), uint32_t('a'));
  EXPECT_EQ(byte_to_cp(' '), 0x120u);   // 'Ġ'
  EXPECT_EQ(byte_to_cp('\n'), 0x10Au);  // 'Ċ'
  EXPECT_EQ(byte_to_cp(0xAD), 0x143u);  // soft hyphen, the last remapped byte
  for (int b = 0; b < 256; ++b) EXPECT_EQ(cp_to_byte(byte_to_cp(uint8_t(b))), b);
  EXPECT_EQ(bytes_to_byte_level(" hi\n"), "\xC4\xA0hi\xC4\x8A");
}

TEST(PreTokenizerGpt2, WordsPunctuationContractions) {
  EXPECT_EQ(split("gpt-2", "Hello, world!!"), (Pieces{"Hello", ",", " world", "!!"}));
  EXPECT_EQ(split("gpt-2", "I'm don't they'll we've you're he'd it's"),
            (Pieces{"I", "'m", " don", "'t", " they", "'ll", " we", "'ve", " you", "'re", " he", "'d", " it",
                    "'s"}));
  // GPT-2's contractions are case-sensitive.
  EXPECT_EQ(split("gpt-2", "DON'T"), (Pieces{"DON", "'", "T"}));
  EXPECT_EQ(split("gpt-2", "abc 12345 x"), (Pieces{"abc", " 12345", " x"}));
}

TEST(PreTokenizerGpt2, Whitespace) {
  // \s+(?!\S) leaves the last space of a run to the next word.
  EXPECT_EQ(split("gpt-2", "a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(split("gpt-2", "a\n\nb"), (Pieces{"a", "\n", "\n", "b"}));
  EXPECT_EQ(split("gpt-2", "a\t\tb"), (Pieces{"a", "\t", "\t", "b"}));
  EXPECT_EQ(split("gpt-2", "a  "), (Pieces{"a", "  "}));
  EXPECT_EQ(split("gpt-2", "  \n x"), (Pieces{"  \n", " x"}));
  EXPECT_EQ(split("gpt-2",
                  "a\xC2\xA0"
                  "b"),
            (Pieces{"a", "\xC2\xA0", "b"}));  // NBSP is whitespace
}

TEST(PreTokenizerGpt2, ScriptsEmojiMarks) {
  EXPECT_EQ(split("gpt-2", "\xE4\xBD\xA0\xE5\xA5\xBD \xE4\xB8\x96\xE7\x95\x8C"),
            (Pieces{"\xE4\xBD\xA0\xE5\xA5\xBD", " \xE4\xB8\x96\xE7\x95\x8C"}));  // 你好 世界
  // Emoji, skin tone and ZWJ are all [^\s\p{L}\p{N}]: one piece with the '!'.
  EXPECT_EQ(split("gpt-2", "hi \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!"),
            (Pieces{"hi", " \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!"}));
  EXPECT_EQ(split("gpt-2", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9 ok"),
            (Pieces{"\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", " ok"}));
  // A combining mark is not a letter: "café" in NFD splits before the accent.
  EXPECT_EQ(split("gpt-2", "cafe\xCC\x81s"), (Pieces{"cafe", "\xCC\x81", "s"}));
  EXPECT_EQ(split("gpt-2", "x \xD9\xA1\xD9\xA2"), (Pieces{"x", " \xD9\xA1\xD9\xA2"}));  // Arabic-Indic digits
}

TEST(PreTokenizerGpt2, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(split("gpt-2",
                  "a\xFF"
                  "b"),
            (Pieces{"a", "\xEF\xBF\xBD", "b"}));
  EXPECT_EQ(split("gpt-2", "\xE2\x82"), (Pieces{"\xEF\xBF\xBD\xEF\xBF\xBD"}));
  EXPECT_EQ(split("gpt-2", ""), (Pieces{}));
}

TEST(PreTokenizerSmollm, SingleDigits) {
  EXPECT_EQ(split("smollm", "abc 12345 x"), (Pieces{"abc", " ", "1", "2", "3", "4", "5", " x"}));
  EXPECT_EQ(split("smollm", "2024-01-01"), (Pieces{"2", "0", "2", "4", "-", "0", "1", "-", "0", "1"}));
  EXPECT_EQ(split("smollm", "x\xC2\xB2"), (Pieces{"x", "\xC2\xB2"}));  // superscript two is \p{N}
  EXPECT_EQ(split("smollm", "I've 3 cats."), (Pieces{"I", "'ve", " ", "3", " cats", "."}));
}

TEST(PreTokenizerLlama3, DigitGroupsOfThree) {
  EXPECT_EQ(split("llama-bpe", "abc 12345 x"), (Pieces{"abc", " ", "123", "45", " x"}));
  EXPECT_EQ(split("llama-bpe", "1234567"), (Pieces{"123", "456", "7"}));
}

TEST(PreTokenizerLlama3, ContractionsAnyCaseAndPunctuation) {
  EXPECT_EQ(split("llama-bpe", "HELLO'S it'Ll"), (Pieces{"HELLO", "'S", " it", "'Ll"}));
  EXPECT_EQ(split("llama-bpe", "!!!abc !x"), (Pieces{"!!!", "abc", " !", "x"}));
  EXPECT_EQ(split("llama-bpe", "(hello)"), (Pieces{"(hello", ")"}));
}

TEST(PreTokenizerLlama3, Newlines) {
  EXPECT_EQ(split("llama-bpe", "\n\n\nfoo"), (Pieces{"\n\n\n", "foo"}));
  EXPECT_EQ(split("llama-bpe", "foo  \n  bar"), (Pieces{"foo", "  \n", " ", " bar"}));
  EXPECT_EQ(split("llama-bpe", "end.\n\nNext"), (Pieces{"end", ".\n\n", "Next"}));
  EXPECT_EQ(split("llama-bpe", "a\r\n\tb"), (Pieces{"a", "\r\n", "\tb"}));
}

TEST(PreTokenizerQwen2, SingleDigitsAndLetterPrefix) {
  EXPECT_EQ(split("qwen2", "abc 12345 x"), (Pieces{"abc", " ", "1", "2", "3", "4", "5", " x"}));
  EXPECT_EQ(split("qwen2", "$x = 10;\n"), (Pieces{"$x", " =", " ", "1", "0", ";\n"}));
  EXPECT_EQ(split("qwen2", "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C"),
            (Pieces{"\xE4\xBD\xA0\xE5\xA5\xBD", "\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C"}));  // 你好，世界
}

TEST(PreTokenizerDefault, PunctuationAndNumbers) {
  EXPECT_EQ(split("default", "Hello, world!"), (Pieces{"Hello", ",", " world", "!"}));
  EXPECT_EQ(split("default", "1234567"), (Pieces{"123", "456", "7"}));
}

TEST(PreTokenizer, NamesAndAliases) {
  EXPECT_EQ(canonical_pretokenizer("llama3"), "llama-bpe");
  EXPECT_EQ(canonical_pretokenizer("qwen2"), "qwen2");
  EXPECT_EQ(canonical_pretokenizer("starcoder"), "smollm");
  EXPECT_EQ(canonical_pretokenizer("nonesuch"), "");
  EXPECT_TRUE(pretokenizer_ignores_merges("llama-bpe"));
  EXPECT_FALSE(pretokenizer_ignores_merges("qwen2"));
  EXPECT_TRUE(pretokenizer_regexes("nonesuch").empty());
}

TEST(PreTokenizer, UnicodeRegexFallsBackToUcpMode) {
  // \p{Han} is not a class llama.cpp collapses, so PCRE2 matches it in UCP mode.
  PreTokenizer p({"\\p{Han}+"});
  EXPECT_EQ(p.split_strings("ab\xE4\xBD\xA0\xE5\xA5\xBD"
                            "cd"),
            (Pieces{"ab", "\xE4\xBD\xA0\xE5\xA5\xBD", "cd"}));
  EXPECT_THROW(PreTokenizer({"(unclosed"}), Error);
}

TEST(PreTokenizer, PiecesCoverTheTextAndLongRunsWork) {
  std::string big(200000, ' ');
  big += "x";
  const Pieces p = split("llama-bpe", big);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].size(), 199999u);
  EXPECT_EQ(p[1], " x");
  std::string digits(100001, '7');
  EXPECT_EQ(split("smollm", digits).size(), 100001u);
}

}  // namespace
}  // namespace radlads
