// Helpers for the training-data tests: writing plain and gzip files, a tiny
// in-test tokenizer with an EOS token, and listing what a folder holds.
#pragma once

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "text/tokenizer.h"
#include "text/tiny_vocab.h"

namespace radlads::test {

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
  ASSERT_TRUE(f.good()) << path;
}

inline void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  gzclose(f);
}

// Byte-level BPE with a few English merges and <|endoftext|> as EOS (id 256 + merges).
inline Tokenizer tiny_tokenizer(bool with_eos = true) {
  auto v = make_tiny_vocab({{"t", "h"}, {"th", "e"}, {" ", "the"}, {"i", "s"}, {" ", "is"}}, "gpt-2",
                           {{"<|endoftext|>", TokenType::CONTROL}});
  if (with_eos) v.spec.eos_id = v.id("<|endoftext|>");
  return Tokenizer(v.spec);
}

// Every entry below dir, as paths relative to it, sorted.
inline std::vector<std::string> list_tree(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    out.push_back(std::filesystem::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace radlads::test
