// JSON files in and out: parsed with a one-line error naming the file, and
// written indented through the atomic writer (never half-written).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace radlads {

// The largest JSON file read_json_file parses (a tokenizer.json of a 256K
// vocabulary is about 20 MB).
inline constexpr uintmax_t kMaxJsonFileBytes = uintmax_t(256) << 20;

// Throws Error "<path>: not valid JSON: ..." (or the read error naming path,
// or one saying the file is over kMaxJsonFileBytes, without reading it).
nlohmann::json read_json_file(const std::string& path);

// j.dump(2) and a newline, through write_file_atomic.
void write_json_atomic(const std::string& path, const nlohmann::json& j);

}  // namespace radlads
