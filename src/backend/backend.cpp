// The backends this build has (a new backend adds its line here, and its
// folder beside cpu/; docs/ARCHITECTURE.md), and what every backend shares.
#include "backend/backend.h"

#include <cstdlib>

#include "backend/cuda/cuda_backend.h"
#include "core/error.h"

namespace radlads {

void Backend::zero(void* p, size_t bytes) const {
  CHECK(bytes % sizeof(float) == 0, "Backend::zero of {} bytes (not whole floats)", bytes);
  fill(static_cast<float*>(p), 0.0f, int64_t(bytes / sizeof(float)));
}

const Backend& backend_by_name(const std::string& name) {
  if (name == "cpu") return cpu_backend();
  if (name == "cuda") return cuda_backend(0);
  if (name.rfind("cuda:", 0) == 0) {
    const std::string n = name.substr(5);
    char* end = nullptr;
    const long d = std::strtol(n.c_str(), &end, 10);
    if (n.empty() || *end || d < 0 || d > 1024) fail("bad backend '{}': the GPU is cuda:N, N = 0, 1, …", name);
    return cuda_backend(int(d));
  }
  fail("unknown backend '{}' (this build has: cpu{})", name, cuda_built() ? ", cuda, cuda:N" : "");
}

}  // namespace radlads
