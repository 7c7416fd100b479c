// A runtime for GpuOps (src/backend/cuda/gpu_ops.h) made of host parts, so
// that the CUDA backend's code — every kernel, launch shape, barrier and
// scratch buffer — runs and is checked against the CPU backend on machines
// without a GPU:
//  - launch<Fn>(grid, block, smem): for a kernel that declares kSync (it
//    calls sync()), `block` std::threads, each running the functor for every
//    block in turn with its own HostThread, sync() a std::barrier of the
//    block; for any other, the threads of each block one after another (a
//    sync() there fails); shared memory is one buffer per launch, poisoned
//    with NaN before each launch, so a read before a write shows up;
//  - memory is host memory, counted (live must come back to where it was),
//    and every pointer a kernel or a GEMM is given must lie in a live
//    allocation of this runtime: a host pointer handed to the GPU backend
//    (memory the model forgot to place on the device) fails here as it would
//    fault there; and the other way round, device memory is mapped
//    PROT_NONE except while a kernel, a GEMM or a copy of this runtime runs,
//    so host code that reads or writes it directly faults here too;
//  - GEMMs are the CPU backend's sgemm; bf16 GEMMs widen the bf16 operands.
// What it cannot check is the CUDA API itself (cuBLAS's argument order,
// cudaMallocAsync, launch limits): tests/cuda/ does, on a GPU.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <functional>
#include <memory>
#include <semaphore>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <type_traits>
#include <thread>
#include <vector>

#include "backend/cpu/blas.h"
#include "backend/cuda/simt.h"
#include "core/error.h"

namespace radlads::gpu {

struct HostThread {
  int t, b, bd, gd;
  unsigned char* smem;
  std::barrier<>* bar;  // null: the block runs one thread after another (no kSync)
  int tid() const { return t; }
  int bid() const { return b; }
  int bdim() const { return bd; }
  int gdim() const { return gd; }
  void sync() const {
    CHECK(bar, "cuda-sim: a kernel calls sync() without declaring kSync (backend/cuda/simt.h)");
    bar->arrive_and_wait();
  }
  template <class T>
  T* shared() const {
    return reinterpret_cast<T*>(smem);
  }
  void atomic_add(float* p, float v) const { std::atomic_ref<float>(*p).fetch_add(v); }
};

// Worker threads kept across launches: a kSync launch of `block` threads runs
// on block − 1 of them and the caller, each woken by its own semaphore.
class HostThreadPool {
 public:
  static HostThreadPool& get() {
    static HostThreadPool pool;
    return pool;
  }
  // body(t) for t = 0 … n−1, t = 0 on the caller; returns when all are done.
  void run(int n, const std::function<void(int)>& body) {
    std::lock_guard<std::mutex> one(run_mu_);  // one launch at a time
    while (int(workers_.size()) < n - 1) {
      auto w = std::make_unique<Worker>();
      Worker* wp = w.get();
      w->thread = std::thread([this, wp, id = int(workers_.size()) + 1] { loop(*wp, id); });
      workers_.push_back(std::move(w));
    }
    body_ = &body;
    remaining_ = n - 1;
    for (int t = 1; t < n; t++) workers_[size_t(t - 1)]->go.release();
    body(0);
    std::unique_lock<std::mutex> lk(mu_);
    done_.wait(lk, [&] { return remaining_ == 0; });
  }
  ~HostThreadPool() {
    stop_ = true;
    for (auto& w : workers_) w->go.release();
    for (auto& w : workers_) w->thread.join();
  }

 private:
  struct Worker {
    std::binary_semaphore go{0};
    std::thread thread;
  };
  void loop(Worker& w, int id) {
    for (;;) {
      w.go.acquire();
      if (stop_) return;
      (*body_)(id);
      std::lock_guard<std::mutex> lk(mu_);
      if (--remaining_ == 0) done_.notify_one();
    }
  }
  std::mutex run_mu_, mu_;
  std::condition_variable done_;
  std::vector<std::unique_ptr<Worker>> workers_;
  const std::function<void(int)>* body_ = nullptr;
  int remaining_ = 0;
  std::atomic<bool> stop_{false};
};

struct HostRuntimeStats {
  std::atomic<int64_t> live{0};      // allocations not yet freed
  std::atomic<int64_t> launches{0};
  std::atomic<size_t> max_smem{0};   // the most shared memory one launch asked for
  std::atomic<int> max_block{0};
  std::mutex mu;
  std::map<uintptr_t, size_t> blocks;  // live allocations: address → bytes
  bool open = false;                   // device memory accessible (Open)
  char* base = nullptr;                // the reserved device region (HostRuntime::alloc)
  size_t top = 0;                      // bytes of it handed out
};

struct HostRuntime {
  static constexpr const char* kName = "cuda-sim";
  // Row reductions with 32 threads a block rather than the GPU's 256: every
  // stride and tree level of the kernels still runs, on an eighth of the
  // host threads and barriers.
  static constexpr int kRowBlock = 32;
  HostRuntimeStats* stats;  // shared by copies (the frozen-weights view copies its runtime)

  explicit HostRuntime(HostRuntimeStats* s = nullptr) : stats(s ? s : &global_stats()) {}
  static HostRuntimeStats& global_stats() {
    static HostRuntimeStats s;
    return s;
  }

  // Device memory is one reserved stretch of address space (kRegion bytes,
  // no memory until touched) handed out front to back, so that opening and
  // closing it is one mprotect of the used part. A freed block's pages go
  // back to the system (MADV_DONTNEED); its addresses are not reused.
  static constexpr size_t kRegion = size_t(64) << 30;
  static size_t page() { return size_t(sysconf(_SC_PAGESIZE)); }
  static size_t mapped_bytes(size_t bytes) { return (bytes + page() - 1) / page() * page() + page(); }
  void* alloc(size_t bytes) const {
    std::lock_guard<std::mutex> lock(stats->mu);
    if (!stats->base) {
      void* r = mmap(nullptr, kRegion, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (r == MAP_FAILED) fail("cuda-sim: cannot reserve {} bytes of address space", kRegion);
      stats->base = static_cast<char*>(r);
    }
    const size_t n = mapped_bytes(bytes);
    if (stats->top + n > kRegion) fail("cuda-sim: the {} GiB device region is used up", kRegion >> 30);
    char* p = stats->base + stats->top;
    stats->top += n;
    if (stats->open) mprotect(p, n, PROT_READ | PROT_WRITE);
    stats->live++;
    stats->blocks[reinterpret_cast<uintptr_t>(p)] = bytes;
    return p;
  }
  void free(void* p) const {
    if (!p) return;
    std::lock_guard<std::mutex> lock(stats->mu);
    auto it = stats->blocks.find(reinterpret_cast<uintptr_t>(p));
    CHECK(it != stats->blocks.end(), "cuda-sim: free of {} (not allocated here)", p);
    madvise(p, mapped_bytes(it->second), MADV_DONTNEED);
    stats->blocks.erase(it);
    stats->live--;
  }
  // While one lives, device memory is readable and writable (a kernel, a
  // GEMM or a copy is running); otherwise it is PROT_NONE.
  struct Open {
    HostRuntimeStats* st;
    explicit Open(HostRuntimeStats* st) : st(st) { set(true); }
    ~Open() { set(false); }
    void set(bool on) {
      std::lock_guard<std::mutex> lock(st->mu);
      st->open = on;
      if (st->top) mprotect(st->base, st->top, on ? PROT_READ | PROT_WRITE : PROT_NONE);
    }
  };
  // p (nullable) lies in a live allocation; fails naming `what` if not.
  void check_device(const void* p, const char* what) const {
    if (!p) return;
    const auto a = reinterpret_cast<uintptr_t>(p);
    std::lock_guard<std::mutex> lock(stats->mu);
    auto it = stats->blocks.upper_bound(a);
    if (it == stats->blocks.begin() || a > std::prev(it)->first + std::prev(it)->second)
      fail("cuda-sim: {} got {}, which is not device memory (a host pointer would fault on the GPU)", what, p);
  }
  template <class T>
  void check_arg(const T& x, const char* what) const {
    if constexpr (std::is_pointer_v<T>) check_device(static_cast<const void*>(x), what);
  }

  void copy(void* dst, const void* src, size_t bytes) const {
    check_device(dst, "copy"), check_device(src, "copy");
    Open o(stats);
    std::memmove(dst, src, bytes);
  }
  void to_host(void* dst, const void* src, size_t bytes) const {
    check_device(src, "to_host");
    Open o(stats);
    std::memcpy(dst, src, bytes);
  }
  void to_device(void* dst, const void* src, size_t bytes) const {
    check_device(dst, "to_device");
    Open o(stats);
    std::memcpy(dst, src, bytes);
  }

  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
            float beta, float* c, int ldc) const {
    if (m <= 0 || n <= 0) return;
    check_device(a, "gemm"), check_device(b, "gemm"), check_device(c, "gemm");
    Open o(stats);
    sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  void gemm_strided_batched(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, int64_t sa,
                            const float* b, int ldb, int64_t sb, float beta, float* c, int ldc, int64_t sc,
                            int count) const {
    for (int i = 0; i < count; i++) gemm(ta, tb, m, n, k, alpha, a + i * sa, lda, b + i * sb, ldb, beta, c + i * sc, ldc);
  }
  void gemm_bf16(bool ta, bool tb, int m, int n, int k, float alpha, const uint16_t* a, int lda, const uint16_t* b,
                 int ldb, float beta, float* c, int ldc) const {
    check_device(a, "gemm_bf16"), check_device(b, "gemm_bf16"), check_device(c, "gemm_bf16");
    Open o(stats);
    const int64_t na = int64_t(ta ? k : m) * lda, nb = int64_t(tb ? n : k) * ldb;
    std::vector<float> af(static_cast<size_t>(na)), bf(static_cast<size_t>(nb));
    auto widen = [](uint16_t h) {
      const uint32_t u = uint32_t(h) << 16;
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    };
    for (int64_t i = 0; i < na; i++) af[size_t(i)] = widen(a[i]);
    for (int64_t i = 0; i < nb; i++) bf[size_t(i)] = widen(b[i]);
    sgemm(ta, tb, m, n, k, alpha, af.data(), lda, bf.data(), ldb, beta, c, ldc);
  }
  bool has_bf16() const { return true; }

  template <class Fn, class... A>
  void launch(int grid, int block, size_t smem, A... a) const {
    CHECK(grid >= 1 && block >= 1 && block <= 1024, "cuda-sim: launch of {} blocks of {} threads", grid, block);
    stats->launches++;
    (check_arg(a, "a kernel argument"), ...);
    for (size_t m = stats->max_smem; smem > m && !stats->max_smem.compare_exchange_weak(m, smem);) {
    }
    for (int m = stats->max_block; block > m && !stats->max_block.compare_exchange_weak(m, block);) {
    }
    Open o(stats);
    std::vector<float> shared((smem + 3) / 4 + 4, std::numeric_limits<float>::quiet_NaN());
    auto* sh = reinterpret_cast<unsigned char*>(shared.data());
    if constexpr (!requires { Fn::kSync; }) {  // no barrier: the threads of a block one after another
      for (int b = 0; b < grid; b++)
        for (int t = 0; t < block; t++) Fn{}(HostThread{t, b, block, grid, sh, nullptr}, a...);
      return;
    }
    std::barrier<> bar(block);
    const std::function<void(int)> body = [&](int t) {
      for (int b = 0; b < grid; b++) {
        const HostThread k{t, b, block, grid, sh, &bar};
        Fn{}(k, a...);
        bar.arrive_and_wait();  // the block ends for everyone before shared memory is reused
      }
    };
    HostThreadPool::get().run(block, body);
  }
};

}  // namespace radlads::gpu
