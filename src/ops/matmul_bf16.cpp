// bf16 linear layers through oneDNN's matmul primitive (one primitive per
// shape, cached), with the weight in oneDNN's "ba" layout: HF's [out,in]
// row-major is exactly the (K,N) matrix stored column-major.
#include "ops/matmul_bf16.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <mutex>
#include <tuple>

#include "core/cpu.h"
#include "core/error.h"
#include "core/fp16.h"

namespace radlads {

namespace {

thread_local const Bf16WeightSet* t_scope = nullptr;

struct Engine {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{eng};
  std::mutex mu;
  std::map<std::tuple<int64_t, int64_t, int64_t>, dnnl::matmul> prims;  // (M, C, OC)
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

void Bf16WeightSet::add(const float* w, int64_t OC, int64_t C) {
  if (!w || w_.count(w)) return;
  Bf16Weight& b = w_[w];
  b.OC = OC, b.C = C;
  b.data.resize(size_t(OC * C));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < OC * C; i++) b.data[size_t(i)] = f32_to_bf16(w[i]);
}

const Bf16Weight* Bf16WeightSet::find(const float* w) const {
  auto it = w_.find(w);
  return it == w_.end() ? nullptr : &it->second;
}

size_t Bf16WeightSet::bytes() const {
  size_t n = 0;
  for (auto& [p, b] : w_) n += b.data.size() * sizeof(uint16_t);
  return n;
}

Bf16Scope::Bf16Scope(const Bf16WeightSet* set) : prev_(t_scope) { t_scope = set; }
Bf16Scope::~Bf16Scope() { t_scope = prev_; }

const Bf16Weight* bf16_weight_in_scope(const float* w) { return t_scope ? t_scope->find(w) : nullptr; }

void matmul_forward_bf16(float* out, const float* inp, const Bf16Weight& w, const float* bias, int64_t M) {
  const int64_t C = w.C, OC = w.OC;
  if (M == 0 || OC == 0) return;
  thread_local std::vector<uint16_t> in16;  // grows to the largest input, then no allocation
  if (in16.size() < size_t(M * C)) in16.resize(size_t(M * C));
  uint16_t* in = in16.data();  // (the worker threads must not name the thread_local)
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < M * C; i++) in[i] = f32_to_bf16(inp[i]);
  Engine& e = engine();
  const dnnl::memory::desc src({M, C}, dt::bf16, tag::ab), wei({C, OC}, dt::bf16, tag::ba),
      dst({M, OC}, dt::f32, tag::ab);
  dnnl::matmul* prim;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    auto key = std::make_tuple(M, C, OC);
    auto it = e.prims.find(key);
    if (it == e.prims.end())
      it = e.prims.emplace(key, dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), e.eng)))
               .first;
    prim = &it->second;
  }
  dnnl::memory s(src, e.eng, in), k(wei, e.eng, const_cast<uint16_t*>(w.data.data())), d(dst, e.eng, out);
  prim->execute(e.stream, {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, k}, {DNNL_ARG_DST, d}});
  e.stream.wait();
  if (bias) {
#pragma omp parallel for schedule(static)
    for (int64_t m = 0; m < M; m++)
      for (int64_t o = 0; o < OC; o++) out[m * OC + o] += bias[o];
  }
}

}  // namespace radlads
