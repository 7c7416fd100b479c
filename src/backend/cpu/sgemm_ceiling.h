// The machine facts every benchmark prints: the sgemm ceiling it divides by
// and one line naming the CPU, the kernels and the libraries chosen.
#pragma once

#include <string>

namespace radlads {

// The ceiling every benchmark divides by: the best sgemm on this machine,
// max(our sgemm, OpenBLAS's sgemm) at n = 1024 and 2048, best of reps, with
// the current thread count; `which` names the winner.
struct SgemmCeiling {
  double gflops = 0, ours = 0, openblas = 0;
  std::string which;
};
SgemmCeiling measure_sgemm_ceiling(int reps = 3);

// The memory-bandwidth ceiling of memory-bound kernels (decoding): STREAM's
// triad a = b + s·c over three 64 MB arrays with the current thread count,
// best of reps, counting 12 bytes per element as STREAM does (GB/s = 1e9 B/s).
double measure_triad_gbps(int reps = 5);

// One line for logs and benchmarks: the CPU, its vector features, the kernel
// set of our own ops, the sgemm library and its kernels, OpenBLAS's core (the
// double-precision path) and the thread count.
std::string system_line();

}  // namespace radlads
