// Kernel scratch that keeps its memory between calls: a per-thread (or
// per-caller) vector grown on demand, so that once the first call has sized
// it, a training step or decoded token allocates nothing (OpenMP's workers
// live as long as the process). Grown elements are zero-filled like a fresh
// vector's, so code that relied on a fresh vector's zeros in never-written
// regions sees the same. Per-ISA code uses wkv7_detail::thread_scratch
// instead (no std:: containers there).
#pragma once

#include <cstddef>
#include <vector>

namespace radlads {

template <typename T>
std::vector<T>& grown(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v;
}

}  // namespace radlads
