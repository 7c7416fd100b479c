// Frozen weights in another format on the CPU (frozen_weights.h).
#include "backend/cpu/frozen_weights.h"

#include <algorithm>
#include <cstdlib>
#include <vector>
#include <mutex>
#include <unordered_map>

#include "backend/cpu/blas.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/matmul_bf16.h"
#include "backend/cpu/packed_matmul.h"
#include "backend/cpu/stored_matmul.h"
#include "core/error.h"
#include "core/sysinfo.h"

namespace radlads {

namespace {

struct Packed {
  int64_t OC = 0, C = 0;
  size_t bytes = 0;
  uint8_t* data = nullptr;  // 64-byte aligned, freed by the set (unless stored or borrowed)
  bool stored = false;      // the caller's rows in type (add_stored), not ours
  bool borrowed = false;    // F32: the fp32 weight itself, read in place (never copied or released)
  GgmlType type = GgmlType::F32;
  bool quantize_inputs = false;  // stored: stored_matmul_forward's integer kernels
};

class CpuFrozenBackend final : public CpuBackend {
 public:
  CpuFrozenBackend(WeightFormat f, bool pack_on_first_use) : f_(f), lazy_(pack_on_first_use) {}
  ~CpuFrozenBackend() override {
    for (auto& [w, p] : w_)
      if (!p.stored && !p.borrowed) std::free(p.data);
  }

  void matmul_forward(float* out, const float* inp, const float* weight, const float* bias, int64_t M, int64_t C,
                      int64_t OC) const override {
    const Packed* p = find(weight);
    // Packing on first use keeps a weight whose rows the format cannot hold
    // in fp32 (as llama.cpp's converter keeps such tensors unquantized).
    if (!p && lazy_ && C % weight_format_block(f_) == 0) p = &add(weight, OC, C);
    if (!p) return radlads::matmul_forward(out, inp, weight, bias, M, C, OC);
    CHECK(p->C == C && p->OC == OC, "frozen weight is ({},{}), the call wants ({},{})", p->OC, p->C, OC, C);
    if (p->stored) return stored_matmul_forward(out, inp, p->data, p->type, bias, M, C, OC, p->quantize_inputs);
    // fp32 rows: streamed for a few rows (decoding), sgemm for a prompt.
    if (p->borrowed && M > kPackedStreamRowsMax) return radlads::matmul_forward(out, inp, weight, bias, M, C, OC);
    if (f_ == WeightFormat::BF16 && M > kPackedStreamRowsMax)  // bf16 inputs too (matmul_bf16.h)
      return matmul_forward_bf16(out, inp, reinterpret_cast<const uint16_t*>(p->data), bias, M, C, OC);
    packed_matmul_forward(out, inp, p->data, f_, bias, M, C, OC);
  }

  const Packed& add(const float* w, int64_t OC, int64_t C) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = w_.find(w);
    if (it != w_.end()) return it->second;
    Packed p;
    p.OC = OC, p.C = C;
    p.bytes = weight_format_row_bytes(f_, C) * size_t(OC);  // throws on a C the format cannot hold
    if (f_ == WeightFormat::F32) {  // the rows are already the format's: read them where they are
      p.data = reinterpret_cast<uint8_t*>(const_cast<float*>(w));
      p.borrowed = true;
      bytes_ += p.bytes;
      elements_ += size_t(OC * C);
      return w_.emplace(w, p).first->second;
    }
    p.data = static_cast<uint8_t*>(std::aligned_alloc(64, (std::max<size_t>(p.bytes, 1) + 63) / 64 * 64));
    if (!p.data) throw std::bad_alloc();
    pack_weight(p.data, w, f_, OC, C);
    bytes_ += p.bytes;
    elements_ += size_t(OC * C);
    return w_.emplace(w, p).first->second;
  }

  void embedding_forward(float* out, const float* table, const int32_t* tokens, int64_t M, int64_t C,
                         int64_t V) const override {
    const Packed* p = find(table);
    if (!p || !p->stored) return CpuBackend::embedding_forward(out, table, tokens, M, C, V);
    CHECK(p->C == C && p->OC == V, "stored embedding is ({},{}), the call wants ({},{})", p->OC, p->C, V, C);
    const size_t rb = ggml_row_bytes(p->type, C);
    for (int64_t i = 0; i < M; i++)
      CHECK(tokens[i] >= 0 && tokens[i] < V, "token id {} is outside the vocabulary (0..{})", tokens[i], V - 1);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < M; i++) stored_decode_row(out + i * C, p->data + size_t(tokens[i]) * rb, p->type, C);
  }

  void add_stored(const float* w, int64_t OC, int64_t C, GgmlType t, const uint8_t* rows, bool quantize_inputs) const {
    CHECK(ggml_can_dequantize(t), "cannot hold a {} weight", ggml_type_name(t));
    std::lock_guard<std::mutex> lock(mu_);
    if (w_.count(w)) return;
    Packed p;
    p.OC = OC, p.C = C;
    p.bytes = ggml_row_bytes(t, C) * size_t(OC);
    p.data = const_cast<uint8_t*>(rows);  // the caller's: never freed or written here
    p.stored = true;
    p.type = t;
    p.quantize_inputs = quantize_inputs;
    bytes_ += p.bytes;
    elements_ += size_t(OC * C);
    w_.emplace(w, p);
  }

  const Packed* find(const float* w) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = w_.find(w);
    return it == w_.end() ? nullptr : &it->second;
  }

  size_t release_sources(const float* const* keep, size_t n_keep) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t freed = 0;
    for (const auto& [w, p] : w_) {
      bool kept = false;
      for (size_t i = 0; i < n_keep; i++) kept |= keep[i] == w;
      if (!kept && !p.borrowed) freed += release_pages(w, size_t(p.OC * p.C) * sizeof(float));
    }
    return freed;
  }

  WeightFormat format() const { return f_; }
  size_t bytes() const { return bytes_; }
  size_t elements() const { return elements_; }
  size_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return w_.size();
  }

 private:
  const WeightFormat f_;
  const bool lazy_;
  mutable std::mutex mu_;
  mutable std::unordered_map<const float*, Packed> w_;
  mutable size_t bytes_ = 0, elements_ = 0;
};

class CpuFrozenWeights final : public Backend::FrozenWeights {
 public:
  CpuFrozenWeights(WeightFormat f, bool lazy) : be_(f, lazy) {}
  void add(const float* weight, int64_t OC, int64_t C) override {
    if (weight) be_.add(weight, OC, C);
  }
  const Backend& backend() const override { return be_; }
  WeightFormat format() const override { return be_.format(); }
  size_t bytes() const override { return be_.bytes(); }
  size_t weights() const override { return be_.count(); }
  size_t elements() const override { return be_.elements(); }
  size_t release_sources(const float* const* keep, size_t n_keep) override {
    return be_.release_sources(keep, n_keep);
  }
  void add_stored(const float* handle, int64_t OC, int64_t C, GgmlType type, const uint8_t* rows,
                  bool quantize_inputs) override {
    be_.add_stored(handle, OC, C, type, rows, quantize_inputs);
  }

 private:
  CpuFrozenBackend be_;
};

}  // namespace

std::unique_ptr<Backend::FrozenWeights> make_cpu_frozen_weights(WeightFormat f, bool pack_on_first_use) {
  return std::make_unique<CpuFrozenWeights>(f, pack_on_first_use);
}

}  // namespace radlads
