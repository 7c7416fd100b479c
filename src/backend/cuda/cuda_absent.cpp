// The CUDA backend's entry points in a build without nvcc (CMakeLists.txt
// compiles cuda_backend.cu instead when it finds one).
#include "backend/cuda/cuda_backend.h"

#include "core/error.h"

namespace radlads {

bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
const Backend& cuda_backend(int) {
  fail("this build has no CUDA backend: CMake found no nvcc when it was configured (scripts/build.sh)");
}
std::string cuda_device_summary() { return "no CUDA in this build"; }
void cuda_set_tf32(bool) {}
size_t cuda_memory_high_water() { return 0; }
void cuda_reset_memory_high_water() {}

}  // namespace radlads
