// One kernel source for the GPU and for the host. Each kernel of this folder
// is a functor whose operator() is a template on a thread context K:
//
//   struct AddInplace {
//     template <class K> RADLADS_HD void operator()(const K& k, float* x, const float* y, int64_t n) const;
//   };
//
// K says who the thread is (tid, bid, bdim, gdim: one-dimensional blocks and
// grids), gives the block's dynamic shared memory, a block barrier (sync)
// and a float atomic add. nvcc runs it as a __global__ function with
// CudaThread (cuda_runtime.cuh); the tests run the same source on the host
// with HostThread, one std::thread per CUDA thread and a std::barrier per
// block (tests/backend/gpu_sim/), so every index, barrier and reduction of a
// kernel is checked against the CPU backend on machines without a GPU.
//
// Rules a kernel follows so that both agree: every thread of a block reaches
// every sync() (no early return before one); a kernel that calls sync()
// (block_sum and block_max do) declares `static constexpr bool kSync = true;`
// (the host runs the others' threads one after another, and fails a sync()
// there); blocks are independent (no inter-block communication except
// atomic_add); block sizes are powers of two where block_sum is used.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define RADLADS_HD __host__ __device__
#else
#define RADLADS_HD
#endif

// for (i over 0..n−1) spread over the whole grid; the thread context is `k`.
#define RADLADS_GRID_STRIDE(i, n) \
  for (int64_t i = int64_t(k.bid()) * k.bdim() + k.tid(); i < (n); i += int64_t(k.gdim()) * k.bdim())

namespace radlads::gpu {

#if defined(__CUDACC__)
// The thread context of a kernel running on the GPU.
struct CudaThread {
  RADLADS_HD int tid() const {
#ifdef __CUDA_ARCH__
    return int(threadIdx.x);
#else
    return 0;
#endif
  }
  RADLADS_HD int bid() const {
#ifdef __CUDA_ARCH__
    return int(blockIdx.x);
#else
    return 0;
#endif
  }
  RADLADS_HD int bdim() const {
#ifdef __CUDA_ARCH__
    return int(blockDim.x);
#else
    return 1;
#endif
  }
  RADLADS_HD int gdim() const {
#ifdef __CUDA_ARCH__
    return int(gridDim.x);
#else
    return 1;
#endif
  }
  RADLADS_HD void sync() const {
#ifdef __CUDA_ARCH__
    __syncthreads();
#endif
  }
  template <class T>
  RADLADS_HD T* shared() const {
#ifdef __CUDA_ARCH__
    extern __shared__ __align__(16) unsigned char radlads_smem[];
    return reinterpret_cast<T*>(radlads_smem);
#else
    return nullptr;
#endif
  }
  RADLADS_HD void atomic_add(float* p, float v) const {
#ifdef __CUDA_ARCH__
    atomicAdd(p, v);
#endif
  }
};
#endif

// Σ over the block of each thread's v, returned to every thread. sh: bdim()
// elements of shared memory (the caller's; free again on return). bdim() a
// power of two.
template <class K, class T>
RADLADS_HD T block_sum(const K& k, T v, T* sh) {
  const int t = k.tid();
  sh[t] = v;
  k.sync();
  for (int s = k.bdim() / 2; s > 0; s >>= 1) {
    if (t < s) sh[t] += sh[t + s];
    k.sync();
  }
  const T r = sh[0];
  k.sync();
  return r;
}

template <class K, class T>
RADLADS_HD T block_max(const K& k, T v, T* sh) {
  const int t = k.tid();
  sh[t] = v;
  k.sync();
  for (int s = k.bdim() / 2; s > 0; s >>= 1) {
    if (t < s && sh[t + s] > sh[t]) sh[t] = sh[t + s];
    k.sync();
  }
  const T r = sh[0];
  k.sync();
  return r;
}

// Blocks of a launch over n elements with `block` threads each, at most cap
// blocks (the kernels loop over the rest: grid-stride).
inline int grid_for(int64_t n, int block, int cap = 65535) {
  const int64_t g = (n + block - 1) / block;
  return int(g < 1 ? 1 : (g > cap ? cap : g));
}

// An element-wise kernel (grid-stride over n) on runtime rt: the launch shape
// every such kernel of the backend and of the mixers' tables uses.
inline constexpr int kElementBlock = 256;
template <class Fn, class RT, class... A>
void launch_elements(const RT& rt, int64_t n, A... a) {
  if (n > 0) rt.template launch<Fn>(grid_for(n, kElementBlock), kElementBlock, 0, a...);
}

}  // namespace radlads::gpu
