// Pre-tokenizer: splits text into the pieces that BPE sees, with the regex
// lists of llama.cpp's pre-tokenizer types, applied in sequence the way its
// unicode_regex_split does (each regex splits every piece the previous ones
// produced; text between matches is kept as a piece of its own).
//
// How we stay identical to llama.cpp: it classifies codepoints with its own
// Unicode 15.1 tables (gpt2/llama3/qwen2 in hand-written splitters, every
// other regex through std::regex on a "collapsed" string with one byte per
// codepoint: ASCII kept, other whitespace -> 0x0B, letters -> 0xD2, numbers ->
// 0xD1, ...). We do the latter for every regex whose only non-ASCII notion is
// one of \p{L} \p{N} \p{P} \p{M} \p{S} (\p{Lu}.. count as \p{L}, as in
// llama.cpp), running PCRE2 in byte mode on that collapsed string with the
// same Unicode 15.1 classes (unicode_data.cpp). The hand-written splitters
// implement exactly these regexes over the same classes, so results agree.
// Any other regex (from an HF tokenizer.json we do not recognise) runs
// through PCRE2 in UTF + UCP mode on the text itself, which is what HF
// tokenizers does; PCRE2 10.42 carries Unicode 14 there.
//
// Invalid UTF-8: each malformed byte becomes U+FFFD (llama.cpp's rule, see
// utf8_decode_lenient); pieces are always valid UTF-8 of the cleaned text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace radlads {

// The regex list of a llama.cpp pre-tokenizer name: qwen2, smollm, llama-bpe,
// gpt-2, default, and the aliases llama.cpp maps to those types. Empty when
// the name is unknown.
std::vector<std::string> pretokenizer_regexes(std::string_view pre);
// llama3-type pre-tokenizers set llama.cpp's ignore_merges: a piece that is a
// vocabulary token as a whole is emitted as that token without running BPE.
bool pretokenizer_ignores_merges(std::string_view pre);
// The canonical name (qwen2, smollm, llama-bpe, gpt-2, default) for a name or
// alias; empty when unknown.
std::string canonical_pretokenizer(std::string_view pre);

// Regexes of the known pre-tokenizers, also used to recognise HF patterns.
inline constexpr const char* kRegexGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
inline constexpr const char* kRegexLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
inline constexpr const char* kRegexQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Text after pre-tokenization: the cleaned UTF-8 text and the byte offset
// where each piece ends (pieces are contiguous and cover the text).
struct PreTokenized {
  std::string text;
  std::vector<uint32_t> ends;
  size_t size() const { return ends.size(); }
  std::string_view piece(size_t i) const {
    const uint32_t b = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(b, ends[i] - b);
  }
};

class PreTokenizer {
 public:
  // Compiles the regexes; throws Error naming a regex PCRE2 rejects.
  // Copies share the compiled patterns (PCRE2 code is read-only after JIT).
  explicit PreTokenizer(std::vector<std::string> regexes);

  // Thread-safe (each call uses its own match data).
  PreTokenized split(std::string_view text) const;
  std::vector<std::string> split_strings(std::string_view text) const;  // for tests and tools

  const std::vector<std::string>& regexes() const { return regexes_; }

 private:
  struct Compiled;
  std::vector<std::string> regexes_;
  std::vector<std::shared_ptr<const Compiled>> compiled_;
  bool need_collapsed_ = false;
  bool need_utf8_ = false;
};

}  // namespace radlads
