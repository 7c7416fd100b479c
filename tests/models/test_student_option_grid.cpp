// Every combination of the student options against the float64 golden written
// from the reference's formulas (scripts/golden_tiny_student.py --grid):
// RAD-RWKV6 use_tokenshift × use_rope × balance_state × groupnorm_att ×
// gate_rank_type, RAD-RWKV7 use_rope × balance_state × groupnorm_att ×
// gate_rank_type over a layer pair (v_first links them). Forward outputs only;
// the gradients of one case per option are in test_student_golden.cpp.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/workspace.h"
#include "core/file_io.h"
#include "models/mixers/rad_rwkv6/time_mix.h"
#include "models/mixers/rad_rwkv7/time_mix.h"
#include "models/model.h"
#include "test_util.h"

namespace radlads {
namespace {

using nlohmann::json;

// Normalised error max|ours − golden| / max|golden|: the golden side is
// float64, ours float32 (measured ≤ 1e-6 on test_student_golden.cpp's cases).
constexpr double kOutTol = 1e-4;

const json& grid_file() {
  static const json j =
      json::parse(read_text_file(std::string(RADLADS_SOURCE_DIR) + "/tests/data/golden_option_grid.json"));
  return j;
}

std::vector<float> floats(const json& e) {
  const auto d = e.at("data").get<std::vector<double>>();
  return std::vector<float>(d.begin(), d.end());  // written as float32 values
}

double norm_err(const std::vector<float>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < b.size(); i++) {
    num = std::max(num, std::fabs(double(a[i]) - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return num == 0 ? 0 : num / std::max(den, 1e-300);
}

void run_grid(const json& g, size_t expected_combinations) {
  const json& d = g.at("dims");
  const int B = d.at("B"), T = d.at("T");
  const auto layers = g.at("layers").get<std::vector<int>>();
  const auto pos = g.at("pos").get<std::vector<int32_t>>();
  Model m;
  TeacherConfig& c = m.cfg;
  c.arch = "qwen2", c.n_layer = int(layers.size()), c.n_embd = d.at("C"), c.n_head = d.at("H");
  c.n_head_kv = d.at("KVH"), c.head_dim = d.at("N"), c.rope_theta = g.at("rope_theta").get<double>();
  c.attn_bias = true, c.n_ff = 4 * c.n_embd, c.n_vocab = 16, c.n_ctx_train = 64;
  m.path = "<golden grid>";
  for (auto& [name, e] : g.at("weights").items()) {
    Tensor t(e.at("shape").get<Shape>());
    t.data = floats(e);
    m.weights[name] = std::move(t);
  }
  const MixDims dims(c, B, T);
  RopeTable rope(c.head_dim, c.rope_theta);
  rope.ensure(*std::max_element(pos.begin(), pos.end()) + 1);
  std::set<std::string> seen;
  for (const json& combo : g.at("combinations")) {
    const json& op = combo.at("options");
    StudentOptions& o = m.student;
    o.arch = student_arch_from_name(g.at("arch").get<std::string>());
    o.use_tokenshift = op.at("use_tokenshift"), o.use_rope = op.at("use_rope");
    o.balance_state = op.at("balance_state"), o.groupnorm_att = op.at("groupnorm_att");
    o.gate = GateRank(op.at("gate_rank_type").get<int>());
    seen.insert(op.dump());
    Workspace ws(cpu_backend());
    std::vector<float> v_first(size_t(dims.M * dims.A));
    for (int l : layers) {
      const std::vector<float> xn = floats(g.at("inputs").at("xn." + std::to_string(l)));
      std::vector<float> y(size_t(dims.M * dims.C));
      TimeMixIO io;
      io.xn = xn.data(), io.y = y.data(), io.pos = pos.data(), io.v_first = v_first.data();
      std::unique_ptr<TokenMixer> mix;
      if (o.arch == StudentArch::RWKV6) mix = std::make_unique<Rwkv6TimeMix>(cpu_backend(), ws, m, l);
      else mix = std::make_unique<Rwkv7TimeMix>(cpu_backend(), ws, m, l);
      mix->forward(dims, io, rope);
      const auto want = combo.at("y." + std::to_string(l)).get<std::vector<double>>();
      ASSERT_EQ(want.size(), y.size());
      EXPECT_LT(norm_err(y, want), kOutTol) << g.at("arch") << " " << op.dump() << " y." << l;
    }
  }
  EXPECT_EQ(seen.size(), expected_combinations) << g.at("arch");
}

TEST(StudentOptionGrid, EveryRwkv6CombinationMatchesTheReferenceFormulas) {
  run_grid(grid_file().at("architectures").at(0), 2 * 2 * 2 * 2 * 3);
}

TEST(StudentOptionGrid, EveryRwkv7CombinationMatchesTheReferenceFormulas) {
  run_grid(grid_file().at("architectures").at(1), 2 * 2 * 2 * 3);
}

}  // namespace
}  // namespace radlads
