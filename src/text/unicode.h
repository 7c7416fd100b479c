// Unicode helpers for the byte-level BPE tokenizer: lenient UTF-8 decoding
// that treats malformed input exactly as llama.cpp does, the general-category
// class of each codepoint (Unicode 15.1, the same data llama.cpp uses), the
// White_Space property, and GPT-2's byte <-> printable-codepoint mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace radlads {

// One class per Unicode major category; a codepoint has exactly one.
enum CpClass : uint8_t {
  kCpUndefined = 1,     // Cn (unassigned, noncharacters)
  kCpNumber = 2,        // \p{N}
  kCpLetter = 4,        // \p{L}
  kCpSeparator = 8,     // \p{Z}
  kCpMark = 16,         // \p{M}
  kCpPunctuation = 32,  // \p{P}
  kCpSymbol = 64,       // \p{S}
  kCpControl = 128,     // \p{C} other than Cn
};

CpClass cp_class(uint32_t cp);       // codepoints past U+10FFFF are kCpUndefined
bool cp_is_whitespace(uint32_t cp);  // the White_Space property

// Decodes UTF-8 the way llama.cpp's unicode_cpts_from_utf8 does, so that our
// pieces match its pieces on any input: a lead byte whose continuation bytes
// are missing or wrong, a stray continuation byte, or a byte >= 0xF8 becomes
// U+FFFD and consumes one byte. Like llama.cpp it does not reject overlong
// forms or surrogates (C0 80 decodes to U+0000, ED A0 80 to U+D800), and F5..F7
// leads decode to values past U+10FFFF; utf8_append() maps those to U+FFFD
// (llama.cpp would throw there).
std::vector<uint32_t> utf8_decode_lenient(std::string_view s);
void utf8_append(std::string& out, uint32_t cp);
size_t utf8_len_from_lead(uint8_t lead);  // 1..4 from the top bits, as llama.cpp

// GPT-2's reversible byte <-> codepoint map: printable Latin-1 bytes map to
// themselves, the other 68 bytes to U+0100.. in byte order.
uint32_t byte_to_cp(uint8_t b);
int cp_to_byte(uint32_t cp);                              // -1 when cp is not in the map
std::string bytes_to_byte_level(std::string_view bytes);  // UTF-8 of the mapped codepoints

namespace unicode_detail {
struct CategoryRange {
  uint32_t start;
  uint8_t cls;
};
extern const CategoryRange kCategoryRanges[];
extern const size_t kNumCategoryRanges;
}  // namespace unicode_detail

}  // namespace radlads
