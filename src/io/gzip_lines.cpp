// GzipLineReader over zlib's gz* stream functions.
#include "io/gzip_lines.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace radlads {

namespace {
constexpr size_t kChunk = 1 << 20;
gzFile as_gz(void* p) { return static_cast<gzFile>(p); }
}  // namespace

GzipLineReader::GzipLineReader(const std::string& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    if (!std::filesystem::exists(path, ec)) fail("{}: no such file", path);
    fail("{}: not a regular file", path);
  }
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) fail("{}: cannot open: {}", path, std::strerror(errno ? errno : ENOMEM));
  gz_ = f;
  buf_.resize(kChunk);
}

GzipLineReader::~GzipLineReader() {
  if (gz_) gzclose(as_gz(gz_));
}

// Moves the unread tail to the front and reads more; false when nothing more came.
bool GzipLineReader::fill() {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
  int n = gzread(as_gz(gz_), buf_.data() + end_, unsigned(buf_.size() - end_));
  if (n < 0) {
    int code = 0;
    const char* msg = gzerror(as_gz(gz_), &code);
    fail("{}: read error after line {}: {}", path_, line_no_, msg ? msg : "unknown zlib error");
  }
  if (n == 0) {
    // gzread reports a stream cut short only through gzerror once it returns 0.
    int code = 0;
    const char* msg = gzerror(as_gz(gz_), &code);
    if (code != Z_OK && code != Z_STREAM_END)
      fail("{}: read error after line {}: {}", path_, line_no_, msg ? msg : "unknown zlib error");
    eof_ = true;
    return false;
  }
  end_ += size_t(n);
  return true;
}

bool GzipLineReader::next(std::string& line) {
  while (true) {
    const char* s = buf_.data() + begin_;
    const void* nl = std::memchr(s, '\n', end_ - begin_);
    if (nl) {
      size_t len = size_t(static_cast<const char*>(nl) - s);
      line.assign(s, len > 0 && s[len - 1] == '\r' ? len - 1 : len);
      begin_ += len + 1;
      line_no_++;
      return true;
    }
    if (!fill()) break;
  }
  if (begin_ == end_) return false;
  // The last line without a trailing newline.
  line.assign(buf_.data() + begin_, end_ - begin_);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  begin_ = end_;
  line_no_++;
  return true;
}

}  // namespace radlads
