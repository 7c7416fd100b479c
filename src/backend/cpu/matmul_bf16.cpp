// bf16 linear layers through oneDNN's matmul primitive (one primitive per
// shape, cached), with the weight in oneDNN's "ba" layout: HF's [out,in]
// row-major is exactly the (K,N) matrix stored column-major.
#include "backend/cpu/matmul_bf16.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <mutex>
#include <tuple>

#include "core/cpu.h"
#include "core/error.h"
#include "core/fp16.h"
#include "core/library_call.h"
#include "backend/cpu/blas.h"

namespace radlads {

namespace {


struct Engine {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{eng};
  std::mutex mu;
  std::map<std::tuple<int64_t, int64_t, int64_t>, dnnl::matmul> prims;  // (M, C, OC)
  bool unavailable = false;                                              // no bf16 matmul here
};

Engine& engine() {
  static Engine e;
  return e;
}

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

}  // namespace

bool bf16_gemm_available() {
  const CpuFeatures& f = cpu_features();
  return active_isa() == Isa::AVX512 && (f.avx512_bf16 || f.amx_bf16);
}

void matmul_forward_bf16(float* out, const float* inp, const uint16_t* w, const float* bias, int64_t M, int64_t C,
                         int64_t OC) {
  if (M == 0 || OC == 0) return;
  thread_local std::vector<uint16_t> in16;  // grows to the largest input, then no allocation
  if (in16.size() < size_t(M * C)) in16.resize(size_t(M * C));
  uint16_t* in = in16.data();  // (the worker threads must not name the thread_local)
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * C; i++) in[i] = f32_to_bf16(inp[i]);
  onednn_configure();
  Engine& e = engine();
  const LibraryCall lib;  // oneDNN allocates in descriptors, primitives and every execute
  const dnnl::memory::desc src({M, C}, dt::bf16, tag::ab), wei({C, OC}, dt::bf16, tag::ba),
      dst({M, OC}, dt::f32, tag::ab);
  dnnl::matmul* prim = nullptr;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    auto key = std::make_tuple(M, C, OC);
    auto it = e.prims.find(key);
    if (it == e.prims.end() && !e.unavailable) {
      try {
        it = e.prims.emplace(key, dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), e.eng)))
                 .first;
      } catch (const dnnl::error&) {
        e.unavailable = true;  // this oneDNN has no bf16 matmul for this CPU (e.g. AVX2 only)
      }
    }
    if (!e.unavailable) prim = &it->second;
  }
  if (!prim) {
    // The same numbers without bf16 hardware: the rounded operands widened
    // back to fp32 (exact) and multiplied by sgemm with fp32 accumulation.
    thread_local std::vector<float> in32, w32;
    if (in32.size() < size_t(M * C)) in32.resize(size_t(M * C));
    if (w32.size() < size_t(OC * C)) w32.resize(size_t(OC * C));
    float *a = in32.data(), *b = w32.data();
    const uint16_t* wb = w;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M * C; i++) a[i] = bf16_to_f32(in[i]);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < OC * C; i++) b[i] = bf16_to_f32(wb[i]);
    sgemm(false, true, int(M), int(OC), int(C), 1.0f, a, int(C), b, int(C), 0.0f, out, int(OC));
  } else {
    dnnl::memory s(src, e.eng, in), k(wei, e.eng, const_cast<uint16_t*>(w)), d(dst, e.eng, out);
    prim->execute(e.stream, {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, k}, {DNNL_ARG_DST, d}});
    e.stream.wait();
  }
  if (bias) {
#pragma omp parallel for schedule(static)
    for (int64_t m = 0; m < M; m++)
      for (int64_t o = 0; o < OC; o++) out[m * OC + o] += bias[o];
  }
}

}  // namespace radlads
