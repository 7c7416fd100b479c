// Reading the fields of a parsed JSON document without letting the JSON
// library's exceptions escape: a field of the wrong kind (j.value() of a
// string where a bool belongs) or a missing key read with at() becomes the
// project's one-line Error naming the file.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/error.h"

namespace radlads {

// Runs f; a json exception it lets escape is rethrown as Error
// "<path>: <what>: <the library's message>". An Error passes through.
template <class F>
auto json_checked(const std::string& path, const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}: {}", path, what, e.what());
  }
}

}  // namespace radlads
