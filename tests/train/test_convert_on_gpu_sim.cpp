// `radlads convert` on the CUDA backend's code: the CLI's run on the CPU
// writes its config, the same config runs in-process on the host emulation
// ("cuda-sim": both models uploaded, every phase's steps in device memory,
// the student brought back for the held-out scores, the checkpoints and the
// export), and the two runs' losses and final students agree.
#include <gtest/gtest.h>

#include "backend/gpu_sim/sim_backend.h"
#include "core/file_io.h"
#include "io/json_file.h"
#include "train/convert.h"
#include "train/metrics_log.h"
#include "train/run_config.h"
#include "train_fixture.h"

namespace radlads {
namespace {

using test::TempDir;

TEST(ConvertOnGpuSim, PhasesOnTheDeviceMatchTheCpuRun) {
  setenv("OMP_NUM_THREADS", "2", 1);
  TempDir tmp;
  const std::string data = test::tiny_data(tmp), ref = tmp.file("cpu"), dev = tmp.file("sim");
  const auto r = test::run_cli(test::tiny_convert(data, ref) +
                               " --step1-tokens 64 --step2-tokens 64 --step3-tokens 0 --seq-len 16 --batch 2"
                               " --micro-batch 1 --heldout-windows 1 --heldout-len 16 --step1-lr 1e-2");
  ASSERT_EQ(r.status, 0) << r.out;
  RunConfig cfg = run_config_from_json(read_json_file(ref + "/config.json"));
  cfg.out = dev;
  ExecContext ctx = ExecContext::local(2);
  ctx.backend = &test::sim_backend();
  run_convert(ctx, cfg, /*resume=*/false);

  // Every step's loss, and the held-out scores (on the CPU from the student brought back).
  const auto a = read_metrics(ref + "/metrics.jsonl"), b = read_metrics(dev + "/metrics.jsonl");
  ASSERT_EQ(a.size(), b.size());
  int steps = 0;
  for (size_t i = 0; i < a.size(); i++) {
    ASSERT_EQ(a[i].value("phase", ""), b[i].value("phase", "")) << i;
    for (const char* k : {"loss", "grad_norm", "heldout_kl"})
      if (a[i].contains(k)) {
        const double x = a[i].at(k).get<double>(), y = b[i].at(k).get<double>();
        EXPECT_NEAR(y, x, 1e-4 * std::abs(x) + 1e-9) << a[i].dump();
        steps += std::string(k) == "loss";
      }
  }
  EXPECT_EQ(steps, 4);  // two phases of 64 tokens, 32 a step
  const Model ma = open_model(ref + "/student"), mb = open_model(dev + "/student");
  for (const auto& [name, w] : ma.weights)
    EXPECT_LT(test::rel_err(mb.w(name).data, w.data), 1e-4) << name;
  EXPECT_TRUE(std::filesystem::exists(dev + "/checkpoints"));
}

}  // namespace
}  // namespace radlads
