// File expansion and the document reader over plain, gzip and JSONL files.
#include "data/text_sources.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_io.h"
#include "io/gzip_lines.h"

namespace radlads {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}


void add_directory(const fs::path& dir, std::vector<std::string>& out) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) fail("{}: cannot list directory: {}", dir.string(), ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) fail("{}: cannot list directory: {}", dir.string(), ec.message());
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) found.push_back(it->path().string());
  }
  // Byte order of full paths: the same on every machine and file system.
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

void add_input(const std::string& input, std::vector<std::string>& out, int depth) {
  if (!input.empty() && input[0] == '@') {
    // Nested lists are allowed but bounded, so a list naming itself fails cleanly.
    if (depth > 8) fail("{}: @-lists nested too deeply", input);
    const std::string list = input.substr(1);
    const std::string text = read_text_file(list);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      std::string line = text.substr(pos, nl - pos);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) add_input(line, out, depth + 1);
      pos = nl + 1;
    }
    return;
  }
  std::error_code ec;
  if (fs::is_directory(input, ec)) return add_directory(input, out);
  if (fs::is_regular_file(input, ec)) return out.push_back(input);
  if (!fs::exists(input, ec)) fail("{}: no such file or directory", input);
  fail("{}: not a regular file or directory", input);
}

}  // namespace

bool is_jsonl_file(const std::string& path) { return ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz"); }

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  if (inputs.empty()) fail("no input files given");
  std::vector<std::string> files;
  for (const auto& in : inputs) add_input(in, files, 0);
  if (files.empty()) fail("{}: no input files found", inputs.front());
  return files;
}

std::string read_document_file(const std::string& path) {
  if (!ends_with(path, ".gz")) return read_text_file(path);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail("{}: cannot open: {}", path, std::strerror(errno ? errno : ENOMEM));
  std::string out;
  std::vector<char> buf(1 << 20);
  while (true) {
    int n = gzread(f, buf.data(), unsigned(buf.size()));
    int code = Z_OK;
    const char* msg = gzerror(f, &code);
    // A truncated stream shows only through gzerror once gzread returns 0.
    if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
      std::string m = msg ? msg : "unknown zlib error";
      gzclose(f);
      fail("{}: decompression error: {}", path, m);
    }
    if (n == 0) break;
    out.append(buf.data(), size_t(n));
  }
  gzclose(f);
  return out;
}

DocumentReader::DocumentReader(std::vector<std::string> files, bool split_paragraphs)
    : files_(std::move(files)), split_paragraphs_(split_paragraphs) {}
DocumentReader::~DocumentReader() = default;

bool DocumentReader::next(SourceDocument& doc) {
  while (true) {
    if (jsonl_) {
      std::string line;
      while (jsonl_->next(line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string where = fmt::format("{}:{}", jsonl_->path(), jsonl_->line_number());
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number that overflows
          // nlohmann's message names the byte; keep only that part.
          const char* what = std::strstr(e.what(), "] ");
          fail("{}: not valid JSON: {}", where, what ? what + 2 : e.what());
        }
        if (!j.is_object()) fail("{}: expected a JSON object with a \"text\" field", where);
        auto it = j.find("text");
        if (it == j.end()) fail("{}: no \"text\" field", where);
        if (!it->is_string()) fail("{}: \"text\" is not a string", where);
        doc.text = it->get<std::string>();
        doc.origin = where;
        bytes_read_ += int64_t(doc.text.size());
        return true;
      }
      jsonl_.reset();
    }
    while (text_pos_ < text_.size()) {  // the next paragraph: text up to a blank line
      size_t end = text_pos_;
      while (true) {
        const size_t nl = text_.find('\n', end);
        if (nl == std::string::npos) {
          end = text_.size();
          break;
        }
        // A blank line (only spaces, tabs or \r) after nl ends the paragraph.
        size_t q = nl + 1;
        while (q < text_.size() && (text_[q] == ' ' || text_[q] == '\t' || text_[q] == '\r')) q++;
        if (q >= text_.size() || text_[q] == '\n') {
          end = nl;
          break;
        }
        end = nl + 1;
      }
      std::string para = text_.substr(text_pos_, end - text_pos_);
      text_pos_ = end;
      while (text_pos_ < text_.size() && std::strchr(" \t\r\n", text_[text_pos_])) text_pos_++;
      if (para.find_first_not_of(" \t\r\n") == std::string::npos) continue;
      doc.origin = fmt::format("{} (paragraph {})", text_path_, ++paragraph_);
      bytes_read_ += int64_t(para.size());
      doc.text = std::move(para);
      return true;
    }
    if (!text_.empty()) std::string().swap(text_);
    if (next_file_ >= files_.size()) return false;
    const std::string& path = files_[next_file_++];
    if (is_jsonl_file(path)) {
      jsonl_ = std::make_unique<GzipLineReader>(path);
      continue;
    }
    if (split_paragraphs_) {
      text_ = read_document_file(path);
      text_path_ = path;
      text_pos_ = 0;
      paragraph_ = 0;
      continue;
    }
    doc.text = read_document_file(path);
    doc.origin = path;
    bytes_read_ += int64_t(doc.text.size());
    return true;
  }
}

}  // namespace radlads
