// Every op of the CUDA backend against the CPU backend, on a GPU
// (tests/backend/gpu_ops_cases.h; the same cases run on the host emulation in
// radlads_tests' GpuSim.*). GEMMs run without TF32 here so that the
// tolerances are fp32's; one case runs them with TF32, the default.
// Exit 77 (CTest: skipped) when no GPU is visible.
#include <gtest/gtest.h>

#include <cstdio>

#include "backend/cuda/cuda_backend.h"
#include "backend/gpu_ops_cases.h"

namespace radlads {
namespace {

const Backend& gpu() { return cuda_backend(0); }

RADLADS_GPU_OP_TESTS(Cuda, gpu(), 1e-5, 1e-5)

TEST(Cuda, GemmsWithTf32StayWithinTf32Rounding) {
  cuda_set_tf32(true);
  test::case_gemm(gpu(), 2e-3);
  test::case_attention(gpu(), 2e-3);
  cuda_set_tf32(false);
}

}  // namespace
}  // namespace radlads

int main(int argc, char** argv) {
  if (radlads::cuda_device_count() == 0) {
    std::printf("cuda_ops: no CUDA GPU is visible; skipped (the same cases ran on the host as GpuSim.*)\n");
    return 77;
  }
  std::printf("cuda_ops on %s\n", radlads::cuda_device_summary().c_str());
  radlads::cuda_set_tf32(false);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
