// Bytes in and out of files: a read-only memory map for model files and an
// atomic writer (temporary file, fsync, rename) so that no output is ever
// left half-written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace radlads {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws Error naming the path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

std::string read_text_file(const std::string& path);  // throws Error naming the path

// Calls write(FILE*) on "<path>.tmp.<pid>", fsyncs, then renames over path.
// On any exception the temporary file is removed and path is untouched.
void write_file_atomic(const std::string& path, const std::function<void(std::FILE*)>& write);

// fwrite that throws Error on a short write (disk full).
void write_bytes(std::FILE* f, const void* data, size_t n, const std::string& path);

}  // namespace radlads
