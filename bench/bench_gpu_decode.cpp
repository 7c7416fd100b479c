// Decoding on a GPU at a real model's shape, random weights (nothing to
// carry): a RAD-RWKV student and its teacher as LanguageModels on the CUDA
// backend, B sequences stepped together (continuous batching's step), after
// a prompt each. Prints decode tokens/s (all sequences together) at each B,
// and the decode state's bytes per sequence: the student's constant, the
// teacher's KV cache growing with the context.
// usage: bench_gpu_decode [--shape smollm2-135m|qwen2.5-1.5b] [--arch rad-rwkv6|rad-rwkv7]
//                         [--prompt 128] [--tokens 64] [--batches 1,32]
// Exits 2 with one line when the build has no CUDA or no GPU is visible.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "core/error.h"
#include "infer/language_model.h"
#include "models/student_weights.h"
#include "shape_configs.h"

using namespace radlads;

static double decode_rate(LanguageModel& lm, int B, int prompt, int tokens, size_t* state_bytes) {
  const int V = lm.n_vocab();
  std::vector<std::unique_ptr<DecodeState>> states;
  std::vector<DecodeState*> ptrs;
  std::vector<int32_t> p(static_cast<size_t>(prompt));
  for (int i = 0; i < prompt; i++) p[size_t(i)] = int32_t((i * 7919 + 13) % V);
  for (int b = 0; b < B; b++) {
    states.push_back(lm.new_state(prompt + tokens + 1));
    states.back()->feed(p.data(), prompt, nullptr);
    ptrs.push_back(states.back().get());
  }
  std::vector<int32_t> next(static_cast<size_t>(B), 1);
  std::vector<float> logits(size_t(B) * V);
  lm.step(ptrs.data(), next.data(), B, logits.data());  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < tokens; s++) lm.step(ptrs.data(), next.data(), B, logits.data());  // logits come back: synced
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *state_bytes = states[0]->state_bytes();
  return double(B) * tokens / sec;
}

int main(int argc, char** argv) {
  std::string shape = "smollm2-135m", arch = "rad-rwkv7", batches = "1,32";
  int prompt = 128, tokens = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--shape") shape = v;
    else if (k == "--arch") arch = v;
    else if (k == "--prompt") prompt = std::atoi(v.c_str());
    else if (k == "--tokens") tokens = std::atoi(v.c_str());
    else if (k == "--batches") batches = v;
    else {
      fmt::print(stderr, "bench_gpu_decode: unknown argument {}\n", k);
      return 2;
    }
  }
  try {
    if (cuda_device_count() == 0)
      fail("bench_gpu_decode: no CUDA GPU is visible{}", cuda_built() ? "" : " (and this build has no CUDA)");
    const Backend& be = cuda_backend(0);
    const TeacherConfig c = bench::shape_config(shape);
    Model teacher = random_teacher(c, 1);
    Model student = init_student(teacher, StudentOptions::defaults(student_arch_from_name(arch), c), 1);
    fmt::print("{}\n{} shape, random weights; prompt {} then {} decode steps\n", cuda_device_summary(), shape, prompt,
               tokens);
    auto slm = make_language_model(be, std::move(student));
    auto tlm = make_language_model(be, std::move(teacher));
    std::stringstream ss(batches);
    for (std::string item; std::getline(ss, item, ',');) {
      const int B = std::atoi(item.c_str());
      size_t sb = 0, tb = 0;
      const double s = decode_rate(*slm, B, prompt, tokens, &sb), t = decode_rate(*tlm, B, prompt, tokens, &tb);
      fmt::print("B {:3d}  student ({}) {:9.1f} tok/s, state {:.2f} MB/sequence   teacher {:9.1f} tok/s, KV cache "
                 "{:.2f} MB/sequence at {} positions\n",
                 B, arch, s, double(sb) / 1e6, t, double(tb) / 1e6, prompt + tokens + 1);
    }
  } catch (const Error& e) {
    fmt::print(stderr, "{}\n", e.what());
    return 2;
  }
  return 0;
}
