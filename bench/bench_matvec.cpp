// Decoding's linear layers: one input row (M = 1) times a frozen weight in
// each format, over enough copies of the weight (≥ 512 MB of fp32) that every
// call reads it from memory, as a decode step does. Prints µs per call and the
// weight bytes read per second against the triad bandwidth measured in the
// same run; the fp32 row "sgemm" is the plain backend's matmul_forward (the
// BLAS path), the others the frozen-weights backend (packed_matmul.h).
// usage: bench_matvec [--threads N]
#include "backend/cpu/stored_matmul.h"
#include "io/ggml_types.h"
#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/sgemm_ceiling.h"
#include "core/sysinfo.h"
#include "engine/context.h"
#include <random>

using namespace radlads;

namespace {

struct MatShape {
  const char* name;
  int64_t OC, C;
};

// Seconds per call of f over `copies` weights, best of 3 sweeps.
template <class F>
double per_call(int copies, F&& f) {
  double best = 1e30;
  for (int r = 0; r < 4; r++) {
    const double t0 = now_seconds();
    for (int i = 0; i < copies; i++) f(i);
    if (r > 0) best = std::min(best, (now_seconds() - t0) / copies);
  }
  return best;
}

std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  for (int i = 1; i + 1 < argc; i++)
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  const ExecContext ctx = ExecContext::local(threads);
  fmt::print("{}\n", system_line());
  const double triad = measure_triad_gbps();
  fmt::print("threads {}  triad {:.1f} GB/s\n", ctx.threads, triad);
  fmt::print("{:10s} {:>6s} {:>6s} {:>8s} {:>10s} {:>8s} {:>7s}\n", "shape", "OC", "C", "format", "us/call", "GB/s",
             "triad%");
  for (const MatShape s : {MatShape{"mlp_up", 1536, 576}, MatShape{"mlp_down", 576, 1536}, MatShape{"lm_head", 49152, 576},
                           MatShape{"q_up", 4864, 896}, MatShape{"q_down", 896, 4864}}) {
    const int64_t n = s.OC * s.C;
    const int copies = int(std::max<int64_t>(1, (int64_t(512) << 20) / (n * 4)));
    std::vector<std::vector<float>> w(static_cast<size_t>(copies));
    for (int i = 0; i < copies; i++) w[size_t(i)] = randn(size_t(n), uint64_t(i) + 1, 0.05f);
    const std::vector<float> x = randn(size_t(s.C), 99);
    std::vector<float> y(size_t(s.OC));
    auto report = [&](const char* fmt_name, double secs, double bytes) {
      fmt::print("{:10s} {:6d} {:6d} {:>8s} {:10.1f} {:8.1f} {:6.0f}%\n", s.name, s.OC, s.C, fmt_name, secs * 1e6,
                 bytes / secs / 1e9, 100.0 * bytes / secs / 1e9 / triad);
    };
    const Backend& be = cpu_backend();
    report("sgemm", per_call(copies, [&](int i) {
             be.matmul_forward(y.data(), x.data(), w[size_t(i)].data(), nullptr, 1, s.C, s.OC);
           }), double(n) * 4);
    for (WeightFormat f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::BF16, WeightFormat::Q8_0,
                           WeightFormat::Q4_0}) {
      auto frozen = be.frozen_weights(f);
      for (int i = 0; i < copies; i++) frozen->add(w[size_t(i)].data(), s.OC, s.C);
      const Backend& fb = frozen->backend();
      report(weight_format_name(f), per_call(copies, [&](int i) {
               fb.matmul_forward(y.data(), x.data(), w[size_t(i)].data(), nullptr, 1, s.C, s.OC);
             }), double(weight_format_row_bytes(f, s.C)) * double(s.OC));
    }
    // A file's own blocks (--dtype stored): random codes with valid fp16
    // scales, fp32 inputs ("/f") or inputs quantized to Q8_0 ("/i").
    for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
      if (s.C % ggml_block_elems(t) != 0) continue;
      const size_t rb = ggml_row_bytes(t, s.C);
      std::mt19937_64 g(7);
      std::vector<std::vector<uint8_t>> q(static_cast<size_t>(copies));
      for (auto& c : q) {
        c.resize(rb * size_t(s.OC));
        for (uint8_t& b : c) b = uint8_t(g() & 0x3b);  // exponent bits of any fp16 stay small
      }
      for (bool integer : {false, true}) {
        if (integer && !stored_type_integer(t)) continue;
        const std::string name = fmt::format("{}/{}", ggml_type_name(t), integer ? "i" : "f");
        report(name.c_str(), per_call(copies, [&](int i) {
                 stored_matmul_forward(y.data(), x.data(), q[size_t(i)].data(), t, nullptr, 1, s.C, s.OC, integer);
               }), double(rb) * double(s.OC));
      }
    }
  }
  return 0;
}
