// Line-by-line reading of a gzip-compressed text file (JSON Lines evaluation
// requests) through zlib, without holding the decompressed file in memory.
// A plain uncompressed file reads the same (zlib passes it through).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace radlads {

class GzipLineReader {
 public:
  explicit GzipLineReader(const std::string& path);  // throws Error naming the path
  ~GzipLineReader();
  GzipLineReader(const GzipLineReader&) = delete;
  GzipLineReader& operator=(const GzipLineReader&) = delete;

  // The next line without its "\n" (and "\r"); false at the end of the file.
  // Throws Error naming the file on a read or decompression error, including
  // a truncated gzip stream.
  bool next(std::string& line);
  int64_t line_number() const { return line_no_; }  // of the line last returned, from 1
  const std::string& path() const { return path_; }

 private:
  bool fill();

  std::string path_;
  void* gz_ = nullptr;  // gzFile, kept opaque so that callers need not include zlib.h
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_no_ = 0;
};

}  // namespace radlads
