// What the CPU we run on can do, and which of our kernel sets runs.
//
// Our own kernels are compiled once per ISA (CMake builds the files listed in
// RADLADS_ISA_SOURCES a second time with AVX-512 flags, inside namespace
// radlads::isa_avx512) and chosen at run time: the best the CPU and the OS
// support, or what RADLADS_ISA (avx2 | avx512) or set_isa() asks for, so tests
// can run every path the machine has.
#pragma once

#include <string>
#include <vector>

namespace radlads {

struct CpuFeatures {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ...
  std::string brand;   // the processor's name string
  int family = 0, model = 0;
  bool avx2 = false, fma = false, f16c = false;
  // AVX-512 counts only when the OS saves the ZMM state (XCR0), as for AVX.
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_bf16 = false, avx512_fp16 = false, amx_bf16 = false;
  // The flags as /proc/cpuinfo spells them, for reports.
  std::string flags() const;
};

const CpuFeatures& cpu_features();

enum class Isa { AVX2, AVX512 };

const char* isa_name(Isa isa);                 // "avx2" / "avx512"
std::vector<Isa> supported_isas();             // ascending; AVX2 is the build's floor
Isa best_isa();                                // the last of supported_isas()
// The kernel set in use: RADLADS_ISA when set (an unsupported or unknown value
// is an Error naming it), else best_isa(); set_isa() overrides both.
Isa active_isa();
void set_isa(Isa isa);  // throws Error when the CPU cannot run it

}  // namespace radlads
