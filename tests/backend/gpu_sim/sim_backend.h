// The CUDA backend's code on the host emulation ("cuda-sim"), with the
// mixers' GPU kernel tables registered for it: one instance for the tests.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "backend/cuda/gpu_ops.h"
#include "backend/gpu_sim/host_runtime.h"
#include "models/mixers/rad_rwkv6/kernels_gpu.h"
#include "models/mixers/rad_rwkv7/kernels_gpu.h"
#include "test_util.h"

namespace radlads::test {

inline const gpu::GpuOps<gpu::HostRuntime>& sim_backend() {
  static const gpu::GpuOps<gpu::HostRuntime> be = [] {
    register_rwkv6_kernels(gpu::HostRuntime::kName, rwkv6_gpu::Rwkv6GpuKernels<gpu::HostRuntime>::table());
    register_rwkv7_kernels(gpu::HostRuntime::kName, rwkv7_gpu::Rwkv7GpuKernels<gpu::HostRuntime>::table());
    return gpu::GpuOps<gpu::HostRuntime>();
  }();
  return be;
}

// Every tensor of want (host) against the same tensor of got (in be's memory,
// the same layout): EXPECTs rel_err < tol, skipping tensors that are zero in
// want (not reached by the loss). Returns how many were compared.
inline int expect_arenas_close(const Arena& want, const Arena& got, const Backend& be, double tol) {
  int compared = 0;
  for (size_t i = 0; i < want.size(); i++) {
    std::vector<float> d(size_t(want.numel(i)));
    be.to_host(d.data(), got.f32(i), d.size() * sizeof(float));
    const std::vector<float> w(want.f32(i), want.f32(i) + want.numel(i));
    double norm = 0;
    for (float x : w) norm += double(x) * x;
    if (norm == 0) continue;
    EXPECT_LT(rel_err(d, w), tol) << want.name(i);
    compared++;
  }
  return compared;
}

// An arena of a's layout in be's memory (zeroed).
inline Arena arena_like(const Arena& a, const Backend& be) {
  std::vector<TensorSpec> table;
  for (size_t i = 0; i < a.size(); i++) table.push_back(a.spec(i));
  return Arena(std::move(table), be);
}

}  // namespace radlads::test
