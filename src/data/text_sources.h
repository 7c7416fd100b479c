// Documents from training-text files, in a deterministic order.
//   *.jsonl, *.jsonl.gz : one JSON object per line, its string field "text" is
//                         a document (blank lines are skipped);
//   *.gz                : the decompressed file is one document;
//   anything else       : the whole file is one document (bytes as they are),
//                         or, with split_paragraphs, each run of text
//                         between blank lines is one (data prepare on a
//                         single plain-text file).
// Inputs may be files, directories (every regular file below, recursively,
// sorted by path, names starting with '.' skipped) or "@LIST" (a file naming
// one input per line), so a corpus always yields the same document order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace radlads {

// Inputs expanded into the list of files to read, in order. Throws Error
// naming a missing input, or when nothing at all is found.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs);

struct SourceDocument {
  std::string text;
  std::string origin;  // "file" or "file:line" (JSONL), for messages
};

class GzipLineReader;

// Pulls documents from the files one at a time, holding at most one whole
// plain-text file in memory.
class DocumentReader {
 public:
  explicit DocumentReader(std::vector<std::string> files, bool split_paragraphs = false);
  ~DocumentReader();
  // The next document; false after the last. Throws Error naming file:line
  // for a JSONL line that is not an object with a string "text", and naming
  // the file for read or decompression errors.
  bool next(SourceDocument& doc);
  int64_t bytes_read() const { return bytes_read_; }  // text bytes returned so far

 private:
  std::vector<std::string> files_;
  size_t next_file_ = 0;
  std::unique_ptr<GzipLineReader> jsonl_;  // the JSONL file being read, if any
  int64_t bytes_read_ = 0;
  bool split_paragraphs_ = false;
  std::string text_;        // the plain file being split into paragraphs
  std::string text_path_;
  size_t text_pos_ = 0;
  int64_t paragraph_ = 0;   // paragraphs of text_ returned so far
};

// A whole file's bytes, gunzipped when the name ends in ".gz". Throws Error
// naming the file.
std::string read_document_file(const std::string& path);

// True for the inputs a reader takes line by line (*.jsonl, *.jsonl.gz).
bool is_jsonl_file(const std::string& path);

}  // namespace radlads
