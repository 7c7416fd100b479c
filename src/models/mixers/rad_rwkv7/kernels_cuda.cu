// RAD-RWKV7's fused stages on the CUDA runtime (kernels_gpu.h).
#include "backend/cuda/cuda_runtime.cuh"
#include "models/mixers/rad_rwkv7/kernels_gpu.h"

namespace radlads {

const Rwkv7Kernels& rwkv7_cuda_kernels() { return rwkv7_gpu::Rwkv7GpuKernels<gpu::CudaRuntime>::table(); }

}  // namespace radlads
