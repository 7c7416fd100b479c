// The backends this build has. A new backend adds its line here (and its
// folder beside cpu/; docs/ARCHITECTURE.md).
#include "backend/backend.h"

#include "core/error.h"

namespace radlads {

const Backend& backend_by_name(const std::string& name) {
  if (name == "cpu") return cpu_backend();
  fail("unknown backend '{}' (this build has: cpu)", name);
}

}  // namespace radlads
