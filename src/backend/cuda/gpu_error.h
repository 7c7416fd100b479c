// Errors from the CUDA backend's headers. nvcc compiles them, and its front
// end cannot run fmt's compile-time format checks (core/error.h), so these
// messages are streamed: gpu_fail("cuda:", d, " is not visible") throws
// radlads::Error (gpu_error.cpp, compiled by the host compiler) like fail().
#pragma once

#include <sstream>
#include <string>

namespace radlads::gpu {

[[noreturn]] void gpu_fail_message(const std::string& message);

template <class... A>
[[noreturn]] void gpu_fail(const A&... a) {
  std::ostringstream s;
  (s << ... << a);
  gpu_fail_message(s.str());
}

}  // namespace radlads::gpu

#define GPU_REQUIRE(cond, ...)                                      \
  do {                                                              \
    if (!(cond)) [[unlikely]] ::radlads::gpu::gpu_fail(__VA_ARGS__); \
  } while (0)
