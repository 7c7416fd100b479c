#include "io/json_file.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"

namespace radlads {

nlohmann::json read_json_file(const std::string& path) {
  // The parsed tree takes several times the text's bytes: a file this big is
  // not a config or a tokenizer, and reading it would only exhaust memory.
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxJsonFileBytes)
    fail("{}: {} bytes; a JSON file over {} MiB is refused", path, size, kMaxJsonFileBytes >> 20);
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number that overflows
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

void write_json_atomic(const std::string& path, const nlohmann::json& j) {
  const std::string text = j.dump(2) + "\n";
  write_file_atomic(path, [&](std::FILE* f) { write_bytes(f, text.data(), text.size(), path); });
}

}  // namespace radlads
