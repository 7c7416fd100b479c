// CPUID and XCR0 reads, and the choice of kernel set.
#include "core/cpu.h"

#include <cpuid.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace radlads {

namespace {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned sub = 0) {
  Regs r;
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
  return r;
}

bool bit(unsigned v, int i) { return (v >> i) & 1u; }

CpuFeatures detect() {
  CpuFeatures f;
  const Regs r0 = cpuid(0);
  char vendor[13] = {};
  std::memcpy(vendor, &r0.b, 4), std::memcpy(vendor + 4, &r0.d, 4), std::memcpy(vendor + 8, &r0.c, 4);
  f.vendor = vendor;
  const Regs r1 = cpuid(1);
  const unsigned base_family = (r1.a >> 8) & 0xf, base_model = (r1.a >> 4) & 0xf;
  f.family = int(base_family == 0xf ? base_family + ((r1.a >> 20) & 0xff) : base_family);
  f.model = int(base_family == 0x6 || base_family == 0xf ? base_model | (((r1.a >> 16) & 0xf) << 4) : base_model);
  const unsigned max_ext = cpuid(0x80000000).a;
  if (max_ext >= 0x80000004) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; i++) {
      const Regs r = cpuid(0x80000002 + i);
      std::memcpy(brand + 16 * i, &r, 16);
    }
    f.brand = brand;
    while (!f.brand.empty() && f.brand.front() == ' ') f.brand.erase(f.brand.begin());
  }
  // The OS must save the YMM (and for AVX-512 the opmask/ZMM) state: XCR0 bits 1-2 and 5-7.
  const bool osxsave = bit(r1.c, 27);
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  const bool os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = (xcr0 & 0xe6) == 0xe6;
  const bool os_amx = (xcr0 & 0x60000) == 0x60000;
  if (r0.a < 7) return f;
  const Regs r7 = cpuid(7), r71 = cpuid(7, 1);
  f.fma = os_avx && bit(r1.c, 12);
  f.f16c = os_avx && bit(r1.c, 29);
  f.avx2 = os_avx && bit(r7.b, 5);
  f.avx512f = os_avx512 && bit(r7.b, 16);
  f.avx512dq = f.avx512f && bit(r7.b, 17);
  f.avx512bw = f.avx512f && bit(r7.b, 30);
  f.avx512vl = f.avx512f && bit(r7.b, 31);
  f.avx512_fp16 = f.avx512f && bit(r7.d, 23);
  f.avx512_bf16 = f.avx512f && bit(r71.a, 5);
  f.amx_bf16 = os_amx && bit(r7.d, 22);
  return f;
}

std::atomic<int> g_isa{-1};  // -1: not chosen yet

bool supported(Isa isa) {
  for (Isa s : supported_isas())
    if (s == isa) return true;
  return false;
}

Isa isa_from_env() {
  const char* e = std::getenv("RADLADS_ISA");
  if (!e || !*e) return best_isa();
  for (Isa i : {Isa::AVX2, Isa::AVX512})
    if (std::strcmp(e, isa_name(i)) == 0) {
      if (supported(i)) return i;
      fail("RADLADS_ISA={}: this CPU ({}) cannot run it (supported: {})", e, cpu_features().brand,
           best_isa() == Isa::AVX512 ? "avx2, avx512" : "avx2");
    }
  fail("RADLADS_ISA={}: unknown kernel set (avx2, avx512)", e);
}

}  // namespace

std::string CpuFeatures::flags() const {
  std::string s;
  auto add = [&](bool on, const char* n) {
    if (on) s += s.empty() ? n : std::string(" ") + n;
  };
  add(avx2, "avx2"), add(fma, "fma"), add(f16c, "f16c"), add(avx512f, "avx512f"), add(avx512dq, "avx512dq");
  add(avx512bw, "avx512bw"), add(avx512vl, "avx512vl"), add(avx512_bf16, "avx512_bf16");
  add(avx512_fp16, "avx512_fp16"), add(amx_bf16, "amx_bf16");
  return s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

const char* isa_name(Isa isa) { return isa == Isa::AVX512 ? "avx512" : "avx2"; }

std::vector<Isa> supported_isas() {
  const CpuFeatures& f = cpu_features();
  std::vector<Isa> v{Isa::AVX2};
  if (f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) v.push_back(Isa::AVX512);
  return v;
}

Isa best_isa() { return supported_isas().back(); }

Isa active_isa() {
  int i = g_isa.load(std::memory_order_relaxed);
  if (i < 0) {
    i = int(isa_from_env());
    g_isa.store(i, std::memory_order_relaxed);
  }
  return Isa(i);
}

void set_isa(Isa isa) {
  if (!supported(isa)) fail("kernel set {} is not supported by this CPU ({})", isa_name(isa), cpu_features().brand);
  g_isa.store(int(isa), std::memory_order_relaxed);
}

}  // namespace radlads
