// Heap allocations per optimiser step and per decoded token. This executable
// replaces malloc and friends to count every allocation of the process; one
// made while a oneDNN/OpenBLAS call is in flight (core/library_call.h) is the
// library's: oneDNN allocates packing buffers and argument maps on every
// call, which we report but cannot plan. Built as its own executable (not
// under the sanitizers, which own malloc).
//
// The tests prove zero allocations of ours per decoded token (teacher,
// RAD-RWKV6/7, with and without a softmax layer) and per optimiser step after
// the first (steps 1 and 2, both students; and the engine alone, with an
// objective that allocates nothing itself). `radlads_alloc_tests --report`
// prints the counts, the library's included; RADLADS_ALLOC_TRACE=1 adds the
// call stack of each allocation of ours in the measured window.
#include <gtest/gtest.h>

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/library_call.h"
#include "backend/backend.h"
#include "data/binidx.h"
#include "data/windows.h"
#include "engine/context.h"
#include "infer/language_model.h"
#include "models/golden_models.h"
#include "models/student_weights.h"
#include "test_util.h"
#include "train/objective.h"
#include "train/trainer.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
}

namespace {
std::atomic<long> g_ours{0}, g_library{0};
std::atomic<bool> g_counting{false};
// RADLADS_ALLOC_TRACE=1: print the call stack of each allocation of ours
// (the executable links with -rdynamic, so the frames have names).
const bool g_trace = std::getenv("RADLADS_ALLOC_TRACE") != nullptr;
std::atomic<bool> g_trace_window{false};  // only what the report counts as "per token" / "later steps"
thread_local bool t_in_trace = false;
inline void count_one() {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  if (radlads::g_library_calls_in_flight.load(std::memory_order_relaxed) > 0) {
    g_library.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_ours.fetch_add(1, std::memory_order_relaxed);
  if (g_trace && g_trace_window.load(std::memory_order_relaxed) && !t_in_trace) {
    t_in_trace = true;
    void* frames[16];
    const int n = backtrace(frames, 16);
    backtrace_symbols_fd(frames, n, 2);
    (void)!write(2, "--\n", 3);
    t_in_trace = false;
  }
}
}  // namespace

extern "C" {
void* malloc(size_t n) {
  count_one();
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  count_one();
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  count_one();
  return __libc_realloc(p, n);
}
int posix_memalign(void** p, size_t a, size_t n) {
  count_one();
  *p = __libc_memalign(a, n);
  return *p ? 0 : ENOMEM;
}
void* aligned_alloc(size_t a, size_t n) {
  count_one();
  return __libc_memalign(a, n);
}
void* memalign(size_t a, size_t n) {
  count_one();
  return __libc_memalign(a, n);
}
// Anonymous mappings are allocations too (the CPU backend maps large
// workspace blocks); file mappings (model loading) are not.
void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (flags & MAP_ANONYMOUS) count_one();
  return reinterpret_cast<void*>(syscall(SYS_mmap, addr, len, prot, flags, fd, off));
}
void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}
}

namespace radlads {

namespace {

struct Counts {
  long ours = 0, library = 0;
};

void start_counting() {
  g_ours = 0;
  g_library = 0;
  g_counting = true;
}
Counts stop_counting() {
  g_counting = false;
  return {g_ours.load(), g_library.load()};
}

// The counter must see what it claims to count, or every other test here
// passes for nothing.
TEST(Allocations, TheCounterSeesOursAndTheLibrarys) {
  start_counting();
  auto* p = new std::vector<float>(1000);
  Counts c = stop_counting();
  delete p;
  EXPECT_GE(c.ours, 2);  // the vector object and its buffer
  start_counting();
  {
    const LibraryCall lib;
    void* q = std::malloc(64);
    std::free(q);
  }
  c = stop_counting();
  EXPECT_EQ(c.ours, 0);
  EXPECT_EQ(c.library, 1);
  // A backend block, mapped rather than malloc'd, counts as well.
  start_counting();
  void* block = cpu_backend().alloc(size_t(8) << 20);
  c = stop_counting();
  cpu_backend().free(block);
  EXPECT_EQ(c.ours, 1);
}

// The students: plain, hybrid (one softmax layer), both architectures; and the teacher.
std::vector<std::pair<std::string, Model>> decode_models() {
  std::vector<std::pair<std::string, Model>> out;
  Model t = open_model(test::golden_model("qwen2"));
  for (StudentArch a : {StudentArch::RWKV6, StudentArch::RWKV7})
    for (int attn : {0, 1}) {
      StudentOptions o = StudentOptions::defaults(a, t.cfg);
      o.num_attention_layers = attn;
      out.push_back({std::string(a == StudentArch::RWKV6 ? "rad-rwkv6" : "rad-rwkv7") + (attn ? "+attn" : ""),
                     init_student(t, o, 3)});
    }
  out.push_back({"teacher", std::move(t)});
  return out;
}

// Allocations per decoded token, after three warm-up tokens, per model.
std::vector<std::pair<std::string, Counts>> measure_decode() {
  std::vector<std::pair<std::string, Counts>> out;
  const ExecContext ctx = ExecContext::local(2);
  for (auto& [name, m] : decode_models()) {
    auto lm = make_language_model(cpu_backend(), std::move(m));
    auto st = lm->new_state(64);
    std::vector<float> logits(size_t(lm->n_vocab()));
    int32_t tok = 1;
    for (int i = 0; i < 3; i++) st->feed(&tok, 1, logits.data());  // the first calls size the buffers
    const int n = 20;
    g_trace_window = true;
    start_counting();
    for (int i = 0; i < n; i++) {
      st->feed(&tok, 1, logits.data());
      tok = int32_t((tok * 31 + 7) % lm->n_vocab());
    }
    const Counts c = stop_counting();
    g_trace_window = false;
    std::printf("%-14s decode: %.1f allocations per token of ours, %.1f inside oneDNN/OpenBLAS\n", name.c_str(),
                double(c.ours) / n, double(c.library) / n);
    out.push_back({name, c});
  }
  return out;
}

// A one-document token file of n_vocab-bounded ids under d.
TokenDataset tiny_dataset(const test::TempDir& d, int n_vocab) {
  BinidxWriter w(d.file("train"), TokenDtype::u16);
  std::vector<int32_t> doc(3000);
  for (size_t i = 0; i < doc.size(); i++) doc[i] = int32_t((i * 7919 + 5) % size_t(n_vocab));
  w.add_document(doc);
  w.finish();
  return TokenDataset::open(d.file("train"));
}

// A short phase: `steps` steps of 4 windows of 16 tokens, 2 per micro-batch.
PhaseConfig short_phase(const char* name, int steps) {
  PhaseConfig pc;
  pc.name = name;
  pc.seq_len = 16;
  pc.batch = 4;
  pc.micro_batch = 2;
  pc.tokens = int64_t(steps) * pc.tokens_per_step();
  pc.lr.total_steps = steps;
  pc.lr.warmup_steps = 1;
  return pc;
}

// Runs the phase and returns each step's allocation counts (and losses).
std::vector<Counts> count_steps(const ExecContext& ctx, const PhaseConfig& pc, Objective& obj, ParamSet& p,
                                AdamW& opt, const TokenDataset& data, std::vector<double>* losses = nullptr) {
  WindowSampler sampler(data, pc.seq_len + 1, 11);
  std::vector<Counts> per_step;
  per_step.reserve(size_t(pc.steps()));
  if (losses) losses->reserve(size_t(pc.steps()));
  start_counting();
  train_phase(ctx, pc, obj, p, opt, sampler, 0, [&](const StepReport& r) {
    per_step.push_back(stop_counting());
    if (losses) losses->push_back(r.loss);
    g_trace_window = true;  // traces from the second step on
    start_counting();
  });
  stop_counting();
  g_trace_window = false;
  return per_step;
}

// Allocations per optimiser step (steps 2..5) of steps 1 and 2, per student.
std::vector<std::pair<std::string, Counts>> measure_training_steps() {
  std::vector<std::pair<std::string, Counts>> out;
  const ExecContext ctx = ExecContext::local(2);
  test::TempDir d;
  Model t = open_model(test::golden_model("qwen2"));
  const TokenDataset data = tiny_dataset(d, t.cfg.n_vocab);
  for (StudentArch a : {StudentArch::RWKV6, StudentArch::RWKV7})
    for (bool align : {true, false}) {
      const std::string name = std::string(a == StudentArch::RWKV6 ? "rad-rwkv6" : "rad-rwkv7") +
                               (align ? " align" : " distill");
      Model s = init_student(t, StudentOptions::defaults(a, t.cfg), 3);
      ParamSet p(cpu_backend(), s, [&](const std::string& n) { return !align || is_time_mix_param(s, n); });
      AdamW opt(p, AdamWConfig{});
      auto obj = align ? make_align_objective(cpu_backend(), t, s) : make_distill_objective(cpu_backend(), &t, s, 1.0, 0.0);
      const int steps = 5;
      PhaseConfig pc = short_phase(align ? "align" : "distill", steps);
      pc.kl_weight = align ? 0 : 1;
      const std::vector<Counts> per_step = count_steps(ctx, pc, *obj, p, opt, data);
      if (per_step.size() != size_t(steps)) std::abort();
      Counts later;
      for (int i = 1; i < steps; i++) later.ours += per_step[size_t(i)].ours, later.library += per_step[size_t(i)].library;
      std::printf("%-18s step 1: %ld allocations of ours; later steps: %.1f of ours, %.1f inside oneDNN/OpenBLAS\n",
                  name.c_str(), per_step[0].ours, double(later.ours) / (steps - 1),
                  double(later.library) / (steps - 1));
      out.push_back({name, later});
    }
  return out;
}

TEST(Allocations, NoneOfOursPerDecodedToken) {
  for (const auto& [name, c] : measure_decode()) EXPECT_EQ(c.ours, 0) << name;
}

TEST(Allocations, NoneOfOursPerOptimiserStep) {
  for (const auto& [name, c] : measure_training_steps()) EXPECT_EQ(c.ours, 0) << name << " (steps 2-5)";
}

// ½‖w − target‖² over every parameter, target from the window's tokens: an
// objective that allocates nothing itself, so the count is the engine's.
class QuadraticObjective final : public Objective {
 public:
  explicit QuadraticObjective(const ParamSet& p) : p_(p) { out_.layer_sum.assign(2, 0.0); }
  int64_t rows_per_window(int T) const override { return T; }
  const ObjectiveLoss& accumulate(const int32_t* windows, int B, int T, float grad_scale, Arena* g) override {
    out_.sum = 0;
    out_.rows = int64_t(B) * T;
    for (size_t i = 0; i < p_.names.size(); i++) {
      const float* w = p_.weights[i]->ptr();
      float* gw = g->f32(i);
      for (int64_t j = 0; j < g->numel(i); j++) {
        const float d = w[j] - 1e-3f * float(windows[j % (int64_t(B) * (T + 1))]);
        out_.sum += 0.5 * double(d) * d;
        gw[j] += grad_scale * d;
      }
    }
    out_.layer_sum[0] = out_.sum;
    out_.layer_sum[1] = 0.5 * out_.sum;
    return out_;
  }

 private:
  const ParamSet& p_;
  ObjectiveLoss out_;
};

TEST(Allocations, NoneOfOursPerOptimiserStepInTheEngine) {
  const ExecContext ctx = ExecContext::local(2);
  test::TempDir d;
  const TokenDataset data = tiny_dataset(d, 1000);
  Model m;
  m.path = "mem";
  m.weights.emplace("a", Tensor({64, 33}));
  m.weights.emplace("b", Tensor({100}));
  ParamSet p(cpu_backend(), m, [](const std::string&) { return true; });
  AdamW opt(p, AdamWConfig{});
  QuadraticObjective obj(p);
  const int steps = 6;
  PhaseConfig pc = short_phase("align", steps);
  pc.clip = 1e-3;  // small enough that clipping runs every step
  std::vector<double> losses;
  const std::vector<Counts> per_step = count_steps(ctx, pc, obj, p, opt, data, &losses);
  ASSERT_EQ(per_step.size(), size_t(steps));
  EXPECT_GT(per_step[0].ours, 0) << "the first step sizes the buffers: the counter must see them";
  for (int i = 1; i < steps; i++) EXPECT_EQ(per_step[size_t(i)].ours, 0) << "step " << i + 1;
  EXPECT_LT(losses.back(), losses.front()) << "the steps must actually train";
}

}  // namespace
}  // namespace radlads

// `--report`: the counts only (the tests assert on the same measurements).
int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--report") {
    std::setvbuf(stdout, nullptr, _IONBF, 0);  // in order with the traces on stderr
    radlads::measure_decode();
    radlads::measure_training_steps();
    return 0;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
