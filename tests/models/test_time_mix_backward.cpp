// The hand-written backwards of the RAD-RWKV6 and RAD-RWKV7 time mixes against
// central finite differences of their fp32 forwards, on tiny students built in
// memory (C = 32, H = 4, KVH = 2 and 4, N = 8) with every tensor randomised so
// that every path carries gradient (step 0 zeroes many of them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <span>
#include <vector>

#include "models/model.h"
#include "backend/backend.h"
#include "models/mixers/rad_rwkv6/time_mix.h"
#include "models/mixers/rad_rwkv7/time_mix.h"
#include "models/student_weights.h"
#include "../backend/fd_check.h"  // all_finite, minus
#include "test_util.h"

namespace radlads {
using namespace test;

namespace {

// Tolerance of the finite-difference checks: the normalised error
// ‖fd − an‖/‖fd‖ over three random directions (entries of u ~ N(0,1)) per
// tensor, or over 16 single entries of d_xn. The forward is fp32, so the step
// is s = 2e-3·max(1, rms θ) with Richardson extrapolation (fd_along): the
// remaining truncation is O(s⁴), and fp32 rounding of the outputs leaves an
// absolute noise of ~6e-8·√(M·C)·|y||G|/s in each derivative, which dominates
// for the tensors with the smallest gradients. Measured on the correct
// backwards: most tensors ~1e-4; the worst tensor of a case 4e-4 to 7e-3,
// median 1.6e-3, over the 96 cases (the 7e-3: time_maa_x at T = 33, a
// derivative of ~1 beside a noise of ~5e-3). Injected bugs (token shift
// missing its next-row term, the clamp's gradient let through, layer 0
// ignoring d_v_first, σ' missing from the RWKV7 decay, balance_state's −k̃
// term of ∂w dropped) each failed every case they touch; and a 10 % error in
// any tensor's gradient must be caught, which every case checks.
constexpr double kTol = 2e-2;
constexpr int kDirs = 3;

struct Case {
  StudentArch arch;
  int kvh, T, layer;
  bool tokenshift, rope, balance, groupnorm;
};

std::string case_name(const testing::TestParamInfo<Case>& info) {
  const Case& c = info.param;
  std::string s = c.arch == StudentArch::RWKV6 ? "v6" : "v7";
  s += "_L" + std::to_string(c.layer) + "_kvh" + std::to_string(c.kvh) + "_T" + std::to_string(c.T);
  if (c.arch == StudentArch::RWKV6) s += c.tokenshift ? "_ts" : "_nots";
  s += c.rope ? "_rope" : "_norope";
  s += c.balance ? "_bal" : "_nobal";
  if (c.arch == StudentArch::RWKV7) s += c.groupnorm ? "_gn" : "_nogn";
  return s;
}

// A tiny Qwen2-style teacher (attn_bias) with random weights under every name
// validate_teacher_weights expects.
Model tiny_teacher(int kvh, uint64_t seed) {
  Model m;
  TeacherConfig& c = m.cfg;
  c.arch = "qwen2", c.n_layer = 3, c.n_embd = 32, c.n_head = 4, c.n_head_kv = kvh, c.head_dim = 8;
  c.n_ff = 48, c.n_vocab = 50, c.n_ctx_train = 128, c.attn_bias = true;
  m.path = "<tiny teacher>";
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  auto add = [&](const std::string& name, Shape s, float scale) {
    Tensor t(std::move(s));
    for (auto& x : t.data) x = scale * nd(rng);
    m.weights[name] = std::move(t);
  };
  const int64_t C = c.n_embd, QD = int64_t(c.n_head) * c.head_dim, KD = int64_t(kvh) * c.head_dim;
  add("model.embed_tokens.weight", {c.n_vocab, C}, 1.0f);
  add("model.norm.weight", {C}, 1.0f);
  add("lm_head.weight", {c.n_vocab, C}, 0.2f);
  for (int l = 0; l < c.n_layer; l++) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {C}, 1.0f);
    add(p + "post_attention_layernorm.weight", {C}, 1.0f);
    add(p + "self_attn.q_proj.weight", {QD, C}, 0.2f);
    add(p + "self_attn.k_proj.weight", {KD, C}, 0.2f);
    add(p + "self_attn.v_proj.weight", {KD, C}, 0.2f);
    add(p + "self_attn.o_proj.weight", {C, QD}, 0.2f);
    add(p + "self_attn.q_proj.bias", {QD}, 0.1f);
    add(p + "self_attn.k_proj.bias", {KD}, 0.1f);
    add(p + "self_attn.v_proj.bias", {KD}, 0.1f);
    add(p + "mlp.gate_proj.weight", {c.n_ff, C}, 0.2f);
    add(p + "mlp.up_proj.weight", {c.n_ff, C}, 0.2f);
    add(p + "mlp.down_proj.weight", {C, c.n_ff}, 0.2f);
  }
  validate_teacher_weights(m);
  return m;
}

// Overwrites every tensor of one layer's time mix so that each path is active
// and in its working range: LoRA first factors give O(1) pre-activations,
// second factors O(0.3–1) outputs. RWKV6 decays keep clear of the clamp's kink
// at d = ln 5 ≈ 1.61 (a finite difference across it is meaningless): every
// fourth channel sits deep in the clamp so that its zero gradient is checked,
// the others below it with |log w| = e^d up to ~1.6 so that the decay path carries a
// gradient well above fp32 noise; the margins are asserted below (the LoRA
// term is bounded by Σ|decay_W2| over its column, as |tanh| < 1).
void randomize_layer(Model& m, int l, uint64_t seed) {
  const std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  for (auto& [name, t] : m.weights) {
    if (name.compare(0, p.size(), p) != 0) continue;
    const std::string leaf = name.substr(p.size());
    const float fan_in = float(t.shape.size() >= 2 ? t.dim(-2) : 1);  // [in, out] factors
    auto normal = [&](float mean, float sd) {
      for (auto& x : t.data) x = mean + sd * nd(rng);
    };
    if (leaf == "q_proj.weight" || leaf == "k_proj.weight" || leaf == "v_proj.weight" || leaf == "o_proj.weight" ||
        leaf == "gate.weight") {
      normal(0.0f, 1.0f / std::sqrt(float(t.dim(1))));  // [out, in]
    } else if (leaf.ends_with(".bias")) {
      normal(0.0f, 0.2f);
    } else if (leaf.starts_with("time_maa_") && t.shape.size() == 3 && t.dim(0) == 1) {
      normal(0.4f, 0.3f);  // time_maa_x, _r, _k, _v, _w, _g
    } else if (leaf == "time_maa_w2") {
      normal(0.0f, 0.5f / std::sqrt(float(t.dim(1))));
    } else if (leaf == "time_decay") {
      for (int64_t i = 0; i < t.numel(); i++)
        t.data[size_t(i)] = i % 4 == 3 ? 4.5f + 0.2f * nd(rng) : -2.2f + 1.8f * ud(rng);
    } else if (leaf == "time_decay_w2") {
      normal(0.0f, 0.4f / std::sqrt(fan_in));
    } else if (leaf == "w0") {
      normal(-0.5f, 1.0f);
    } else if (leaf == "a0" || leaf == "v0") {
      normal(0.0f, 0.5f);
    } else if (leaf == "k_k") {
      normal(0.85f, 0.2f);
    } else if (leaf == "k_a" || leaf == "ln_x.weight") {
      normal(1.0f, 0.3f);
    } else if (t.shape.size() == 2) {  // LoRA factors [in, out]: time_maa_w1, time_decay_w1, w1/2, a1/2, v1/2, g1/2
      normal(0.0f, 1.0f / std::sqrt(fan_in));
    } else {
      FAIL() << "randomize_layer: no rule for " << name;
    }
  }
  if (const Tensor* td = m.find(p + "time_decay")) {
    const Tensor& w2 = m.w(p + "time_decay_w2");  // [R_d, A]
    const int64_t A = td->numel();
    for (int64_t c = 0; c < A; c++) {
      double bound = 0;
      for (int64_t r = 0; r < w2.dim(0); r++) bound += std::fabs(w2.data[size_t(r * A + c)]);
      const double d0 = td->data[size_t(c)], kink = std::log(5.0);
      if (c % 4 == 3)
        ASSERT_GT(d0 - bound, kink + 0.5) << "channel " << c << " must stay clamped";
      else
        ASSERT_LT(d0 + bound, kink - 0.5) << "channel " << c << " must stay unclamped";
    }
  }
}

// One layer's time mix on random inputs, with the loss L = Σ y⊙G (plus, for
// RWKV7 layer 0, Σ v_first⊙Gv: the later layers' use of v_first).
class Harness {
 public:
  explicit Harness(const Case& c)
      : c_(c), d(make_model(c).cfg, 2, c.T), rope(m.cfg.head_dim, m.cfg.rope_theta) {
    const int64_t M = d.M;
    pos.resize(size_t(M));
    for (int64_t i = 0; i < M; i++) pos[size_t(i)] = int32_t(i % c.T + 3 * (i / c.T));  // sequence 1 starts at 3
    rope.ensure(c.T + 3);
    xn = randn(size_t(M * d.C), 101);
    G = randn(size_t(M * d.C), 102);
    // groupnorm_att: a sequence's first output comes from a rank-1 state,
    // p = v·(k̃·r)·scale, which GroupNorm maps to ≈ sign(k̃·r)·normalize(v):
    // wherever some k̃·r is near 0 (one case here had one), L jumps within a
    // finite-difference step (measured: even fd_along at s = 2e-3 was off by
    // 15 %, reaching the analytic value only below s = 5e-4, where fp32 noise
    // swamps the small gradients). Those rows get no loss weight; their
    // k, v, w, a still reach the loss through the later rows' state.
    if (c.groupnorm)
      for (int64_t i = 0; i < M; i += c.T) std::fill_n(G.begin() + i * d.C, d.C, 0.0f);
    if (c.arch == StudentArch::RWKV6) {
      v6 = std::make_unique<Rwkv6TimeMix>(cpu_backend(), ws, m, c.layer);
    } else {
      v7 = std::make_unique<Rwkv7TimeMix>(cpu_backend(), ws, m, c.layer);
      v_first = c.layer == 0 ? std::vector<float>(size_t(M * d.A)) : randn(size_t(M * d.A), 103);
      if (c.layer == 0) Gv = randn(size_t(M * d.A), 104);
    }
  }

  // The forward at the current weights and inputs: y, then v_first when it is an output.
  std::vector<float> outputs() {
    std::vector<float> y(size_t(d.M * d.C));
    ws.reset();
    TimeMixIO io;
    io.xn = xn.data(), io.y = y.data(), io.pos = pos.data();
    if (v6) {
      v6->forward(d, io, rope);
      return y;
    }
    io.v_first = v_first.data();
    v7->forward(d, io, rope);
    if (c_.layer == 0) y.insert(y.end(), v_first.begin(), v_first.end());
    return y;
  }

  // (L(+) − L(−)) from two output sets, term by term in double so that
  // outputs the perturbation did not touch cancel exactly.
  double loss_diff(const std::vector<float>& op, const std::vector<float>& om) const {
    double s = 0;
    for (size_t i = 0; i < G.size(); i++) s += (double(op[i]) - double(om[i])) * G[i];
    for (size_t i = 0; i < Gv.size(); i++) s += (double(op[G.size() + i]) - double(om[G.size() + i])) * Gv[i];
    return s;
  }

  // Forward then backward at the current point. d_xn is prefilled with garbage
  // (it must be written); g and d_v_first with random values (they must be added to).
  void backward(Arena* g, std::vector<float>& d_xn, std::vector<float>& d_v_first) {
    outputs();
    d_xn.assign(size_t(d.M * d.C), 1e3f);
    if (v6) {
      v6->backward(d_xn.data(), G.data(), d, pos.data(), rope, g);
      return;
    }
    d_v_first = c_.layer == 0 ? Gv : randn(size_t(d.M * d.A), 105);
    v7->backward(d_xn.data(), d_v_first.data(), G.data(), d, pos.data(), c_.layer == 0 ? nullptr : v_first.data(),
                 rope, g);
  }

  std::string prefix() const { return "model.layers." + std::to_string(c_.layer) + ".self_attn."; }

 private:
  const Model& make_model(const Case& c) {
    StudentOptions o = StudentOptions::defaults(c.arch, tiny_teacher(c.kvh, 1).cfg);
    // Small distinct ranks, so that a transposed or mis-strided LoRA index cannot pass.
    o.lora_tokenshift = 3, o.lora_decay = 5, o.lora_iclr = 6, o.lora_value = 4, o.lora_gate = 7;
    o.use_tokenshift = c.arch == StudentArch::RWKV6 && c.tokenshift;
    o.use_rope = c.rope, o.balance_state = c.balance, o.groupnorm_att = c.groupnorm;
    m = init_student(tiny_teacher(c.kvh, 1), o, 7);
    randomize_layer(m, c.layer, 1000 + uint64_t(c.layer));
    return m;
  }

  Case c_;

 public:
  Model m;  // declared before d so that make_model fills it first
  MixDims d;
  RopeTable rope;
  std::vector<int32_t> pos;
  std::vector<float> xn, G, Gv, v_first;
  Workspace ws{cpu_backend()};  // the mixer's buffers: one pass per outputs()
  std::unique_ptr<Rwkv6TimeMix> v6;
  std::unique_ptr<Rwkv7TimeMix> v7;
};

// The derivative of L along u at θ (perturbed in place: the time mix holds
// pointers into it, so its storage must stay put), by central differences at
// steps s and s/2 combined by Richardson extrapolation, (4·D(s/2) − D(s))/3,
// which cancels the O(s²) term: plain central differences at s = 1e-2 were
// off by 2 % on RWKV7's decay LoRA (w1, balance_state=1), and a smaller plain
// step runs into fp32 rounding of L instead.
double fd_along(Harness& h, std::span<float> theta, const std::vector<float>& u, double s) {
  const std::vector<float> t0(theta.begin(), theta.end());
  auto central = [&](double st) {
    for (size_t i = 0; i < theta.size(); i++) theta[i] = float(double(t0[i]) + st * u[i]);
    const auto op = h.outputs();
    for (size_t i = 0; i < theta.size(); i++) theta[i] = float(double(t0[i]) - st * u[i]);
    const auto om = h.outputs();
    return h.loss_diff(op, om) / (2 * st);
  };
  const double d1 = central(s), d2 = central(s / 2);
  std::copy(t0.begin(), t0.end(), theta.begin());
  return (4 * d2 - d1) / 3;
}

// The analytic gradient grad of θ against fd_along for each direction in us
// (step s = 2e-3·max(1, rms θ), see kTol). err is ‖fd − an‖/‖fd‖ over the directions;
// err_scaled the same for 0.9·grad, which a useful check must reject.
struct DirResult {
  double err = 0, err_scaled = 0, fd_norm = 0;
};

DirResult check_along(Harness& h, std::span<float> theta, const std::vector<double>& grad,
                      const std::vector<std::vector<float>>& us) {
  double rms = 0;
  for (float x : theta) rms += double(x) * x;
  rms = std::sqrt(rms / double(theta.size()));
  const double step = 2e-3 * std::max(1.0, rms);
  double num = 0, num_s = 0, den = 0;
  for (const auto& u : us) {
    double an = 0;
    for (size_t i = 0; i < theta.size(); i++) an += grad[i] * double(u[i]);
    const double fd = fd_along(h, theta, u, step);
    num += (fd - an) * (fd - an);
    num_s += (fd - 0.9 * an) * (fd - 0.9 * an);
    den += fd * fd;
  }
  DirResult r;
  r.fd_norm = std::sqrt(den);
  r.err = std::sqrt(num) / std::max(r.fd_norm, 1e-30);
  r.err_scaled = std::sqrt(num_s) / std::max(r.fd_norm, 1e-30);
  return r;
}

// kDirs random directions with N(0,1) entries.
DirResult dir_check(Harness& h, std::span<float> theta, const std::vector<double>& grad, uint64_t seed) {
  std::vector<std::vector<float>> us;
  for (int k = 0; k < kDirs; k++) us.push_back(randn(theta.size(), seed * 31 + uint64_t(k)));
  return check_along(h, theta, grad, us);
}

std::vector<double> to_d(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

class TimeMixBackward : public ::testing::TestWithParam<Case> {};

TEST_P(TimeMixBackward, MatchesFiniteDifferences) {
  const Case c = GetParam();
  Harness h(c);
  const std::string p = h.prefix();

  // Every tensor of the layer is trainable here; gradients start non-zero (+= rule).
  Arena g = make_grad_arena(h.m, [&](const std::string& name) { return name.compare(0, p.size(), p) == 0; });
  std::map<std::string, std::vector<float>> g0;
  uint64_t s = 500;
  for (size_t i = 0; i < g.size(); i++) {
    g0[g.name(i)] = randn(size_t(g.numel(i)), s++);
    std::copy(g0[g.name(i)].begin(), g0[g.name(i)].end(), g.f32(i));
  }
  ASSERT_GE(g.size(), size_t(c.arch == StudentArch::RWKV6 ? 18 : 17));
  std::vector<float> d_xn, d_v_first;
  h.backward(&g, d_xn, d_v_first);
  ASSERT_TRUE(all_finite(d_xn));

  double worst = 0;
  std::string worst_name;
  auto judge = [&](const std::string& what, const DirResult& r) {
    EXPECT_LT(r.err, kTol) << what << " (|fd| " << r.fd_norm << ")";
    // The check must be able to fail: a 10 % error in this gradient is caught.
    EXPECT_GT(r.err_scaled, kTol) << what << ": the check cannot see a 10% gradient error (|fd| " << r.fd_norm << ")";
    if (r.err > worst) worst = r.err, worst_name = what;
  };

  // (a) d_xn: along random directions, and entry by entry on a sample that
  // includes each sequence's first and last row (where the token shift's edges are).
  judge("d_xn", dir_check(h, h.xn, to_d(d_xn), 11));
  {
    const int64_t C = h.d.C, T = c.T;
    std::vector<int64_t> idx = {0, C - 1, (T - 1) * C + 5, T * C + 7, (T + 1) * C + 3, (2 * T - 1) * C + C - 1};
    std::mt19937_64 rng(12);
    while (idx.size() < 16) idx.push_back(int64_t(rng() % uint64_t(h.d.M * C)));
    std::vector<std::vector<float>> units;
    for (int64_t i : idx) {
      units.emplace_back(h.xn.size(), 0.0f);
      units.back()[size_t(i)] = 1.0f;
    }
    const DirResult r = check_along(h, h.xn, to_d(d_xn), units);
    EXPECT_LT(r.err, kTol) << "d_xn entries";
    if (r.err > worst) worst = r.err, worst_name = "d_xn entries";
  }

  // (b) every parameter tensor of the layer, by the increment its gradient received.
  for (size_t k = 0; k < g.size(); k++) {
    const std::string& name = g.name(k);
    const float* gt = g.f32(k);
    const std::string leaf = name.substr(p.size());
    std::vector<double> inc(size_t(g.numel(k)));
    for (size_t i = 0; i < inc.size(); i++) inc[i] = double(gt[i]) - double(g0[name][i]);
    const DirResult r = dir_check(h, h.m.weights[name].span(), inc, std::hash<std::string>{}(name) % 1000);
    if ((c.arch == StudentArch::RWKV6 && !c.tokenshift && leaf.starts_with("time_maa")) ||
        (c.arch == StudentArch::RWKV7 && c.balance && (leaf == "k_k" || leaf == "k_a"))) {
      // Unused in this variant (use_tokenshift=0: x_* = x; balance_state=1:
      // κ = k/‖k‖, k̃ = k⊙(1 − w + a)): no effect, no gradient.
      EXPECT_EQ(r.fd_norm, 0.0) << leaf;
      for (double x : inc) ASSERT_EQ(x, 0.0) << leaf;
      continue;
    }
    judge(leaf, r);
  }

  // (c) RWKV7 layers > 0: the gradient w.r.t. v_first, by its increment.
  if (c.arch == StudentArch::RWKV7 && c.layer > 0) {
    const std::vector<float> before = randn(size_t(h.d.M * h.d.A), 105);  // what backward() prefilled
    judge("d_v_first", dir_check(h, h.v_first, minus(d_v_first, before), 13));
  }
  std::printf("  worst normalised error %.2e (%s)\n", worst, worst_name.c_str());
}

std::vector<Case> all_cases() {
  std::vector<Case> v;
  for (int kvh : {2, 4})
    for (int T : {5, 33}) {
      for (bool ts : {false, true})
        for (bool rope : {false, true})
          for (bool bal : {false, true}) v.push_back({StudentArch::RWKV6, kvh, T, 1, ts, rope, bal, false});
      for (int layer : {0, 2})
        for (bool rope : {false, true})
          for (bool bal : {false, true})
            for (bool gn : {false, true}) v.push_back({StudentArch::RWKV7, kvh, T, layer, false, rope, bal, gn});
    }
  return v;
}

INSTANTIATE_TEST_SUITE_P(TimeMix, TimeMixBackward, ::testing::ValuesIn(all_cases()), case_name);

// Frozen parameters: with no gradient map (or one lacking names) the input
// gradient is unchanged and nothing is written for the missing names.
TEST(TimeMixBackwardFrozen, NoGradMapGivesTheSameInputGradient) {
  for (StudentArch arch : {StudentArch::RWKV6, StudentArch::RWKV7}) {
    Case c{arch, 2, 7, 1, true, true, true, true};
    Harness h(c);
    const std::string p = h.prefix();
    auto in_layer = [&](const std::string& name) { return name.compare(0, p.size(), p) == 0; };
    Arena full = make_grad_arena(h.m, in_layer);
    Arena part = make_grad_arena(h.m, [&](const std::string& name) {  // only q/k/v/o trainable
      return in_layer(name) && name.find("_proj.") != std::string::npos;
    });
    std::vector<float> dx_full, dx_none, dx_part, dvf_full, dvf_none, dvf_part;
    h.backward(&full, dx_full, dvf_full);
    h.backward(nullptr, dx_none, dvf_none);
    h.backward(&part, dx_part, dvf_part);
    EXPECT_EQ(dx_full, dx_none) << "arch " << int(arch);
    EXPECT_EQ(dx_full, dx_part) << "arch " << int(arch);
    EXPECT_EQ(dvf_full, dvf_none);
    for (size_t k = 0; k < part.size(); k++)
      EXPECT_EQ(std::vector<float>(part.f32(k), part.f32(k) + part.numel(k)),
                std::vector<float>(full.at(part.name(k)), full.at(part.name(k)) + part.numel(k)))
          << part.name(k);
  }
}

}  // namespace
}  // namespace radlads
