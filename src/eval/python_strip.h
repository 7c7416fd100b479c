// Python's str.strip() / str.rstrip() on UTF-8: the harness builds prompts
// with them, and Python's whitespace includes more than ASCII (one MMLU
// question ends in U+0085). Prompts must match byte for byte.
#pragma once

#include <string_view>

namespace radlads {

// Length in bytes of the whitespace character (str.isspace) starting at s[i]; 0 if none.
inline size_t python_space_at(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
  auto byte = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  if (c == 0xC2 && (byte(1) == 0x85 || byte(1) == 0xA0)) return 2;  // U+0085, U+00A0
  if (c == 0xE1 && byte(1) == 0x9A && byte(2) == 0x80) return 3;     // U+1680
  if (c == 0xE2 && byte(1) == 0x80 && ((byte(2) >= 0x80 && byte(2) <= 0x8A) || byte(2) == 0xA8 || byte(2) == 0xA9 || byte(2) == 0xAF))
    return 3;                                                         // U+2000..200A, 2028, 2029, 202F
  if (c == 0xE2 && byte(1) == 0x81 && byte(2) == 0x9F) return 3;     // U+205F
  if (c == 0xE3 && byte(1) == 0x80 && byte(2) == 0x80) return 3;     // U+3000
  return 0;
}

// Byte offset where trailing Python whitespace starts (s.size() if none).
inline size_t python_rstrip_end(std::string_view s) {
  size_t end = 0;
  for (size_t i = 0; i < s.size();) {
    size_t w = python_space_at(s, i);
    if (w) {
      i += w;
    } else {
      // Advance over one UTF-8 character; the end of text is after it.
      i += 1;
      while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) i++;
      end = i;
    }
  }
  return end;
}

inline std::string_view python_rstrip(std::string_view s) { return s.substr(0, python_rstrip_end(s)); }

inline std::string_view python_strip(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    size_t w = python_space_at(s, b);
    if (!w) break;
    b += w;
  }
  return python_rstrip(s.substr(b));
}

}  // namespace radlads
