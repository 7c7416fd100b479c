// Kernels built once per instruction set and chosen at run time.
//
// A file listed in CMake's RADLADS_ISA_SOURCES is compiled twice: as usual
// (the AVX2 floor of the whole build) and again with AVX-512 flags and
// RADLADS_ISA_AVX512 defined. Its kernels live in namespace
// radlads::RADLADS_ISA_NS, so the two builds are radlads::isa_avx2::f and
// radlads::isa_avx512::f; the public radlads::f, compiled only in the first
// build (RADLADS_ISA_PRIMARY), calls RADLADS_ISA_CALL(f), which picks the
// build of core/cpu.h's active_isa(). The kernel bodies are ordinary loops
// (or Simd<F> wrappers that widen under __AVX512F__), so both builds come from
// one source; tests run every build the CPU supports through set_isa().
//
// Recipe for a kernel: declare it in the file's kernel list macro (expanded
// once per ISA namespace, see backend/cpu/vector_kernels.h), define it inside
// RADLADS_ISA_NS, add the file to RADLADS_ISA_SOURCES, write the dispatcher
// under #if RADLADS_ISA_PRIMARY, and test it on supported_isas().
#pragma once

#include "core/cpu.h"

#if defined(RADLADS_ISA_AVX512)
#define RADLADS_ISA_NS isa_avx512
#define RADLADS_ISA_PRIMARY 0
#else
#define RADLADS_ISA_NS isa_avx2
#define RADLADS_ISA_PRIMARY 1
#endif

// Declares a kernel list (a macro of prototypes) in both ISA namespaces.
#define RADLADS_ISA_DECLARE(LIST)  \
  namespace radlads::isa_avx2 {    \
  LIST                             \
  }                                \
  namespace radlads::isa_avx512 {  \
  LIST                             \
  }

// The active ISA's build of kernel f (a function pointer).
#define RADLADS_ISA_CALL(f) \
  (::radlads::active_isa() == ::radlads::Isa::AVX512 ? &::radlads::isa_avx512::f : &::radlads::isa_avx2::f)
