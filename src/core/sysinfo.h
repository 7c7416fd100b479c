// Process facts for benchmarks and logs: resident memory and a monotonic
// clock (the sgemm ceiling and the system line live in backend/cpu/sgemm_ceiling.h).
#pragma once

#include <cstddef>

namespace radlads {

size_t rss_bytes();       // current resident set size
size_t peak_rss_bytes();  // peak resident set size of the process's life
// Linux's resettable peak (VmHWM): reset_peak_rss() starts a new measure
// (false where /proc does not allow it), peak_rss_since_reset_bytes() reads it.
bool reset_peak_rss();
// Gives the pages wholly inside [p, p + bytes) back to the system (madvise
// DONTNEED: they read as zeros afterwards; a neighbour's bytes on the edge
// pages stay). Returns the bytes given back.
size_t release_pages(const void* p, size_t bytes);
size_t peak_rss_since_reset_bytes();
double now_seconds();     // monotonic

}  // namespace radlads
