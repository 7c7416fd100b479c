// The CUDA backend's code on the host emulation ("cuda-sim"), with the
// mixers' GPU kernel tables registered for it: one instance for the tests.
#pragma once

#include "backend/cuda/gpu_ops.h"
#include "backend/gpu_sim/host_runtime.h"
#include "models/mixers/rad_rwkv6/kernels_gpu.h"
#include "models/mixers/rad_rwkv7/kernels_gpu.h"

namespace radlads::test {

inline const gpu::GpuOps<gpu::HostRuntime>& sim_backend() {
  static const gpu::GpuOps<gpu::HostRuntime> be = [] {
    register_rwkv6_kernels(gpu::HostRuntime::kName, rwkv6_gpu::Rwkv6GpuKernels<gpu::HostRuntime>::table());
    register_rwkv7_kernels(gpu::HostRuntime::kName, rwkv7_gpu::Rwkv7GpuKernels<gpu::HostRuntime>::table());
    return gpu::GpuOps<gpu::HostRuntime>();
  }();
  return be;
}

}  // namespace radlads::test
