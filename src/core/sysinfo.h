// Process facts for benchmarks and logs: resident memory and a monotonic
// clock (the sgemm ceiling and the system line live in backend/cpu/sgemm_ceiling.h).
#pragma once

#include <cstddef>

namespace radlads {

size_t rss_bytes();       // current resident set size
size_t peak_rss_bytes();  // peak resident set size
double now_seconds();     // monotonic

}  // namespace radlads
