// What every harness shares: the parsers under test take paths (they map
// files, and some choose a format by the name's suffix), so a harness writes
// the fuzzer's bytes to a file in a per-process folder on tmpfs and parses
// that. An Error is the parser refusing the input, the expected outcome for
// most inputs; anything else escaping (another exception, a sanitizer
// report, an allocation over libFuzzer's -malloc_limit_mb) is a finding.
#pragma once

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace radlads::fuzz {

// A folder private to this process, removed at exit (the path is never
// destroyed, so the exit handler may still read it).
inline const std::string& work_dir() {
  static const std::string* dir = [] {
    const std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    // RADLADS_FUZZ_DIR names it instead (scripts/fuzz.sh's deterministic
    // runs: paths appear in the messages, so their length must not vary).
    const char* fixed = std::getenv("RADLADS_FUZZ_DIR");
    auto* d = new std::string(fixed && *fixed ? std::string(fixed)
                                              : base + "/radlads-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(work_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

// Writes bytes to work_dir()/name (creating sub-folders) and returns its path.
inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::filesystem::path p = std::filesystem::path(work_dir()) / name;
  std::filesystem::create_directories(p.parent_path());
  std::FILE* f = std::fopen(p.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return p.string();
}

// data gzipped (level 1), for the parsers that read .gz files: the fuzzer
// then explores what is inside rather than the decompressor's checks.
inline std::vector<uint8_t> gzip_bytes(const uint8_t* data, size_t size) {
  std::vector<uint8_t> gz(compressBound(uLong(size)) + 32);
  z_stream z{};
  deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // 15 + 16: the gzip wrapper
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = uInt(size);
  z.next_out = gz.data();
  z.avail_out = uInt(gz.size());
  deflate(&z, Z_FINISH);
  gz.resize(z.total_out);
  deflateEnd(&z);
  return gz;
}

// Runs f; an Error (the parser's refusal) is swallowed, anything else propagates.
template <class F>
void expect_refusal_or_success(F&& f) {
  try {
    f();
  } catch (const Error&) {
  }
}

}  // namespace radlads::fuzz
