// Marks the span of a call into a third-party compute library (oneDNN,
// OpenBLAS). oneDNN allocates on every call (sgemm packing buffers on each
// worker thread, the argument map of a primitive execution), which no
// memory plan of ours can remove; the allocation-count test
// (tests/alloc/) attributes an allocation made while any library call is in
// flight to the library and requires zero of the rest. One relaxed atomic
// increment and decrement per GEMM: nothing next to the GEMM itself.
#pragma once

#include <atomic>

namespace radlads {

inline std::atomic<int> g_library_calls_in_flight{0};

struct LibraryCall {
  LibraryCall() { g_library_calls_in_flight.fetch_add(1, std::memory_order_relaxed); }
  ~LibraryCall() { g_library_calls_in_flight.fetch_sub(1, std::memory_order_relaxed); }
  LibraryCall(const LibraryCall&) = delete;
  LibraryCall& operator=(const LibraryCall&) = delete;
};

}  // namespace radlads
