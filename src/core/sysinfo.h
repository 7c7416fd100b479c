// Process and machine facts for benchmarks and logs: resident memory, a
// monotonic clock, and the machine's own sgemm ceiling.
#pragma once

#include <cstddef>

namespace radlads {

size_t rss_bytes();       // current resident set size
size_t peak_rss_bytes();  // peak resident set size
double now_seconds();     // monotonic

// GFLOP/s of OpenBLAS sgemm on square n x n x n products (best of reps),
// with the current thread count: the ceiling our kernels are compared to.
double measure_sgemm_gflops(int n = 1024, int reps = 5);

}  // namespace radlads
