// ZeRO-1's parts on the in-process rank group against one process doing the
// whole step: the shard cuts (on sum-of-squares blocks, inside tensors), the
// gradient norm, clipping, AdamW on a shard and the weight all-gather must
// give the one-process bits; a checkpoint saved from shards must be the
// file one process writes, and loads back into shards.
#include <filesystem>

#include "core/file_io.h"
#include "engine/comm.h"
#include "engine/on_ranks.h"
#include "models/student_weights.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/param_set.h"
#include "train_fixture.h"

namespace radlads {
using namespace test;

namespace {

// Tensors of several blocks (2^16 floats), so that cuts fall inside them.
Model big_model() {
  Model m;
  m.path = "mem";
  const std::vector<std::pair<std::string, int64_t>> sizes = {{"a", 300000}, {"b", 70000}, {"c", 5}, {"d", 131072}};
  uint64_t seed = 11;
  for (const auto& [name, n] : sizes) {
    Tensor t({n});
    auto r = randn(size_t(n), seed++, 0.1f);
    std::copy(r.begin(), r.end(), t.data.begin());
    m.weights.emplace(name, std::move(t));
  }
  return m;
}

// Rank r's gradient of step s at flat offset i (a padding slot stays 0).
void fill_grads(ParamSet& p, int rank, int step) {
  for (size_t i = 0; i < p.names.size(); i++) {
    auto g = randn(size_t(p.grads.numel(i)), uint64_t(1000 * step + 17 * rank + i), rank == 1 ? 3.0f : 1.0f);
    std::copy(g.begin(), g.end(), p.grad(i));
  }
}

std::vector<float> weights_of(const Model& m) {
  std::vector<float> w;
  for (const auto& [name, t] : m.weights) w.insert(w.end(), t.data.begin(), t.data.end());
  return w;
}

}  // namespace

TEST(Zero, ShardedStepsReproduceTheWholeStep) {
  for (int n : {2, 3}) {
    // One process: the rank-order sum of the ranks' gradients, then the step.
    Model whole = big_model();
    ParamSet ref(cpu_backend(), whole, [](const std::string&) { return true; });
    AdamW ref_opt(ref, AdamWConfig{});
    std::vector<double> ref_norms;
    for (int step = 0; step < 3; step++) {
      std::vector<float> sum(size_t(ref.grads.flat_numel()), 0.0f);
      for (int r = 0; r < n; r++) {
        fill_grads(ref, r, step);
        for (size_t i = 0; i < sum.size(); i++) sum[i] += ref.grads.flat()[i];
      }
      std::copy(sum.begin(), sum.end(), ref.grads.flat());
      ref_norms.push_back(ref.grad_norm());
      ref.scale_grads(0.25f);
      ref_opt.step(ref, 1e-2);
    }

    const std::vector<int64_t> bounds = ref.balanced_bounds(n);
    ASSERT_EQ(bounds.size(), size_t(n) + 1);
    bool inside = false;  // a cut strictly inside a tensor, on a block start
    for (size_t k = 1; k + 1 < bounds.size(); k++)
      for (size_t i = 0; i < ref.names.size(); i++) {
        const int64_t rel = bounds[k] - ref.flat_offset(i);
        if (rel > 0 && rel < ref.grads.numel(i)) {
          inside = true;
          EXPECT_EQ(rel % Backend::kSumSquaresBlock, 0) << bounds[k];
        }
      }
    EXPECT_TRUE(inside) << "the test model should make a cut inside a tensor";

    std::vector<std::vector<float>> got(static_cast<size_t>(n));
    std::vector<std::vector<double>> norms(static_cast<size_t>(n));
    std::vector<int64_t> moment_bytes(static_cast<size_t>(n));
    on_ranks(n, [&](int r, Comm& c) {
      Model m = big_model();
      ParamSet p(cpu_backend(), m, [](const std::string&) { return true; });
      p.shard(c, bounds);
      AdamW opt(p, AdamWConfig{});
      moment_bytes[size_t(r)] = opt.bytes();
      for (int step = 0; step < 3; step++) {
        fill_grads(p, r, step);
        c.reduce_scatter_sum(p.grads.flat(), p.bounds());
        norms[size_t(r)].push_back(p.grad_norm());
        p.scale_grads(0.25f);
        opt.step(p, 1e-2);
        p.gather_weights();
      }
      got[size_t(r)] = weights_of(m);
    });
    const std::vector<float> want = weights_of(whole);
    int64_t total_moments = 0;
    for (int r = 0; r < n; r++) {
      EXPECT_EQ(norms[size_t(r)], ref_norms) << "rank " << r << " of " << n;
      EXPECT_TRUE(got[size_t(r)] == want) << "rank " << r << " of " << n << ": the weights differ from one process";
      total_moments += moment_bytes[size_t(r)];
    }
    // The moments are split, not copied: together they are one whole set.
    EXPECT_EQ(total_moments, ref_opt.bytes()) << n;
  }
}

TEST(Zero, CheckpointFromShardsIsTheOneProcessFileAndLoadsBack) {
  const Model t = open_model(golden_model("qwen2"));
  const StudentOptions o = StudentOptions::defaults(StudentArch::RWKV7, t.cfg);
  TempDir tmp;
  auto moment = [](int which, int64_t flat) { return float(which ? flat % 97 : -(flat % 89)) * 0.125f; };
  const TrainState st{"distill", 4, 9, 4096, nlohmann::json::object()};

  Model s = init_student(t, o, 3);
  ParamSet whole(cpu_backend(), s, [](const std::string&) { return true; });
  AdamW wopt(whole, AdamWConfig{});
  wopt.t = 4;
  for (const ParamSet::Piece& q : whole.own_pieces())
    for (int64_t k = 0; k < q.count; k++) *wopt.m_at(q.flat + k) = moment(0, q.flat + k), *wopt.v_at(q.flat + k) = moment(1, q.flat + k);
  auto local = make_local_comm();
  const std::string ref = save_checkpoint(*local, tmp.file("one"), s, whole, wopt, st);

  const int n = 3;
  std::string sharded;
  std::vector<int> load_ok(n, 0);
  on_ranks(n, [&](int r, Comm& c) {
    Model m = init_student(t, o, 3);
    ParamSet p(cpu_backend(), m, [](const std::string&) { return true; });
    p.shard(c, p.balanced_bounds(n));
    AdamW opt(p, AdamWConfig{});
    opt.t = 4;
    for (const ParamSet::Piece& q : p.own_pieces())
      for (int64_t k = 0; k < q.count; k++) *opt.m_at(q.flat + k) = moment(0, q.flat + k), *opt.v_at(q.flat + k) = moment(1, q.flat + k);
    const std::string dir = save_checkpoint(c, tmp.file("three"), m, p, opt, st);
    if (r == 0) sharded = dir;
    c.barrier();
    // Every rank reads its own range back.
    AdamW back(p, AdamWConfig{});
    load_optimizer_state(tmp.file("one") + "/" + std::filesystem::path(ref).filename().string(), p, back);
    bool ok = back.t == 4;
    for (const ParamSet::Piece& q : p.own_pieces())
      for (int64_t k = 0; k < q.count; k++)
        ok = ok && *back.m_at(q.flat + k) == moment(0, q.flat + k) && *back.v_at(q.flat + k) == moment(1, q.flat + k);
    load_ok[size_t(r)] = ok;
  });
  ASSERT_FALSE(sharded.empty());
  EXPECT_TRUE(read_text_file(ref + "/optimizer.safetensors") == read_text_file(sharded + "/optimizer.safetensors"))
      << "the optimiser file gathered from 3 shards differs from one process's";
  for (int r = 0; r < n; r++) EXPECT_TRUE(load_ok[size_t(r)]) << "rank " << r << " did not load its shard back";
}

}  // namespace radlads
