// RAD-RWKV6's fused stages on the CUDA runtime (kernels_gpu.h).
#include "backend/cuda/cuda_runtime.cuh"
#include "models/mixers/rad_rwkv6/kernels_gpu.h"

namespace radlads {

const Rwkv6Kernels& rwkv6_cuda_kernels() { return rwkv6_gpu::Rwkv6GpuKernels<gpu::CudaRuntime>::table(); }

}  // namespace radlads
