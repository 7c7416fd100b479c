// `mpirun -np 2 radlads convert` against the one-process run with the same
// global batch: both read the same windows in the same order, each rank half
// of every batch; the gradients are summed across ranks in rank order. With
// one window per rank per step the sums add the same terms in the same order
// as one process does (each backward sums its own terms before adding them to
// the gradient, the embedding's scatter included), so the final students and
// optimiser states are compared bit for bit, with AdamW sharded (ZeRO-1, the
// default) and replicated (--zero 0); rank
// 0 alone writes the run folder (one metrics line per step, one progress).
// A rank that fails stops the whole job with exit 2 and one message.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <fstream>

#include "core/file_io.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "train_fixture.h"

namespace radlads {
using namespace test;

namespace {

std::string mpirun() {
  // Debian's OpenMPI: root needs --allow-run-as-root; 2 ranks may exceed the cores.
  // No ssh needed for local ranks; no ptrace-based single copy (containers forbid it).
  return "OMPI_MCA_plm_rsh_agent=false OMPI_MCA_btl_vader_single_copy_mechanism=none mpirun --allow-run-as-root "
         "--oversubscribe -np 2 ";
}

std::string convert_args(const std::string& data, const std::string& out) {
  return tiny_convert(data, out) +
         " --step1-tokens 192 --step2-tokens 192 --step3-tokens 128 --step3-seq-len 32 --step3-kl 0.5"
         " --seq-len 16 --batch 2 --step3-batch 2 --micro-batch 1 --checkpoint-every 3 --heldout-windows 1"
         " --heldout-len 16 --step1-lr 1e-2";
}

int count_lines(const std::string& path) {
  std::ifstream f(path);
  int n = 0;
  for (std::string l; std::getline(f, l);) n++;
  return n;
}

// The pid of the radlads process that is rank `rank` of a job (from its
// environment), or 0.
pid_t rank_pid(int rank) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(e.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != "radlads") continue;
    std::ifstream env(e.path() / "environ");
    const std::string vars((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (vars.find("OMPI_COMM_WORLD_RANK=" + std::to_string(rank) + '\0') != std::string::npos) return pid_t(std::stoi(name));
  }
  return 0;
}

// Largest |a − b| over every tensor, relative to that tensor's largest |a|.
double max_rel_diff(const std::string& dir_a, const std::string& dir_b) {
  const auto a = load_safetensors_dir(dir_a), b = load_safetensors_dir(dir_b);
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (const auto& [name, ta] : a) {
    const Tensor& tb = b.at(name);
    double scale = 1e-12, diff = 0;
    for (size_t i = 0; i < ta.data.size(); i++) {
      scale = std::max(scale, double(std::abs(ta.data[i])));
      diff = std::max(diff, double(std::abs(ta.data[i] - tb.data[i])));
    }
    worst = std::max(worst, diff / scale);
  }
  return worst;
}

}  // namespace

// Every test needs a build with MPI and one thread per rank.
class ConvertMpi : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef RADLADS_HAVE_MPI
    FAIL() << "this build has no MPI (scripts/setup.sh installs libopenmpi-dev; reconfigure)";
#endif
    setenv("OMP_NUM_THREADS", "1", 1);
  }
};

TEST_F(ConvertMpi, TwoRanksGiveTheOneProcessStudent) {
  TempDir tmp;
  const std::string data = tiny_data(tmp), one = tmp.file("one"), two = tmp.file("two");
  auto r = run_cli(convert_args(data, one));
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_shell(mpirun() + RADLADS_BIN + " " + convert_args(data, two) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 processes x 1 threads"), std::string::npos) << r.out;

  EXPECT_NE(r.out.find("ZeRO-1 over 2 ranks: AdamW moments"), std::string::npos) << r.out;

  // The same job with a whole AdamW on each rank (one all-reduce instead of
  // reduce-scatter + all-gather): the same bits again.
  const std::string rep = tmp.file("replicated");
  auto r0 = run_shell(mpirun() + RADLADS_BIN + " " + convert_args(data, rep) + " --zero 0 2>&1");
  ASSERT_EQ(r0.status, 0) << r0.out;
  EXPECT_NE(r0.out.find("data parallel over 2 ranks"), std::string::npos) << r0.out;

  const std::string a = read_text_file(one + "/student/model.safetensors");
  EXPECT_TRUE(a == read_text_file(two + "/student/model.safetensors"))
      << "the two-rank ZeRO-1 student differs from the one-process student";
  EXPECT_TRUE(a == read_text_file(rep + "/student/model.safetensors"))
      << "the two-rank replicated-AdamW student differs from the one-process student";
  // The last checkpoint's optimiser file: rank 0 gathered the ZeRO shards
  // into the same bytes one process writes.
  std::string last = read_text_file(one + "/checkpoints/latest");
  last = "/checkpoints/" + last.substr(0, last.find('\n'));
  const std::string opt = read_text_file(one + last + "/optimizer.safetensors");
  EXPECT_TRUE(opt == read_text_file(two + last + "/optimizer.safetensors")) << last;
  EXPECT_TRUE(opt == read_text_file(rep + last + "/optimizer.safetensors")) << last;
  // Rank 0 alone writes: the same metrics lines (one per step and evaluation), the same files.
  EXPECT_EQ(count_lines(one + "/metrics.jsonl"), count_lines(two + "/metrics.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(two + "/results.json"));
  const auto cfg = nlohmann::json::parse(read_text_file(two + "/config.json"));
  EXPECT_EQ(cfg.at("ranks"), 2);

  // Resuming with another process count says so, and finishes.
  std::filesystem::remove_all(two + "/student");
  r = run_cli("convert --out " + two + " --resume");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("started with 2 processes and resumes with 1"), std::string::npos) << r.out;

  // A batch that does not split over the ranks: the job stops before it
  // writes anything, each rank naming itself and the fix.
  std::string odd = convert_args(data, tmp.file("odd"));
  odd.replace(odd.find("--batch 2"), 9, "--batch 3");
  r = run_shell(mpirun() + RADLADS_BIN + " " + odd + " 2>&1");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("radlads: error (rank 0 of 2): phase align: a batch of 3 windows does not split over 2 ranks"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("odd")));
}

// Two hosts for real: scripts/two_hosts.sh puts one rank in each of two
// network namespaces joined by a veth pair and lets MPI use TCP only; the
// job must give the one-process student and optimiser state, bit for bit.
TEST_F(ConvertMpi, TwoHostsOverTcpGiveTheOneProcessStudent) {
  TempDir tmp;
  const std::string data = tiny_data(tmp), one = tmp.file("one"), two = tmp.file("two");
  auto r = run_cli(convert_args(data, one));
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_shell(std::string(RADLADS_SOURCE_DIR) + "/scripts/two_hosts.sh " + RADLADS_BIN + " " + convert_args(data, two) +
                " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("2 processes x 1 threads"), std::string::npos) << r.out;
  EXPECT_TRUE(read_text_file(one + "/student/model.safetensors") == read_text_file(two + "/student/model.safetensors"))
      << "the two-host student differs from the one-process student";
  std::string last = read_text_file(one + "/checkpoints/latest");
  last = "/checkpoints/" + last.substr(0, last.find('\n'));
  EXPECT_TRUE(read_text_file(one + last + "/optimizer.safetensors") ==
              read_text_file(two + last + "/optimizer.safetensors"));
}

// Two windows per rank: rank r sums its own two micro-batches first, so the
// step's gradient is (g0 + g1) + (g2 + g3) instead of ((g0 + g1) + g2) + g3.
// Rounding then differs in the last bits and grows a little over the steps;
// the students agree to 3e-4 of each tensor's scale (measured 3.1e-5 on an
// AVX-512 Xeon; a tenfold margin for other kernels and machines).
TEST_F(ConvertMpi, TwoWindowsPerRankAgreeToRounding) {
  TempDir tmp;
  const std::string data = tiny_data(tmp), one = tmp.file("one"), two = tmp.file("two");
  auto args = [&](const std::string& out) {
    std::string a = convert_args(data, out);
    a.replace(a.find("--batch 2 --step3-batch 2"), 25, "--batch 4 --step3-batch 4");
    return a;
  };
  auto r = run_cli(args(one));
  ASSERT_EQ(r.status, 0) << r.out;
  r = run_shell(mpirun() + RADLADS_BIN + " " + args(two) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  const double d = max_rel_diff(one + "/student", two + "/student");
  std::printf("two windows per rank: largest difference %.3g of a tensor's scale\n", d);
  EXPECT_GT(d, 0.0) << "a different summation order should show in the last bits";
  EXPECT_LT(d, 3e-4);
}

// Step 1 with --align-parallel layers: each rank aligns whole layers over the
// whole batch (an odd batch, which data parallel would refuse). RAD-RWKV6's
// layers are independent, so each layer's gradient is the one-process sum
// and the students are bit-identical. RAD-RWKV7's later layers send their
// v_first gradient back to layer 0 from each rank, and layer 0's gradient is
// the sum of the ranks' backward passes instead of one pass over their summed
// input: the last bits differ, within 1e-4 of a tensor's scale (measured in
// the test's output).
TEST_F(ConvertMpi, LayerParallelAlignment) {
  TempDir tmp;
  const std::string data = tiny_data(tmp);
  auto args = [&](const std::string& arch, const std::string& out) {
    return "align --teacher " + golden_model("qwen2") + " --arch " + arch + " --data " + data + " --out " + out +
           " --tokens 240 --seq-len 16 --batch 3 --micro-batch 1 --heldout-windows 1 --heldout-len 16 --lr 1e-2";
  };
  for (const std::string arch : {"rad-rwkv6", "rad-rwkv7"}) {
    const std::string one = tmp.file(arch + "-one"), two = tmp.file(arch + "-layers");
    auto r = run_cli(args(arch, one));
    ASSERT_EQ(r.status, 0) << r.out;
    r = run_shell(mpirun() + RADLADS_BIN + " " + args(arch, two) + " --align-parallel layers 2>&1");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("layer-parallel: rank 0 aligns 1 of 2 layers over the whole batch"), std::string::npos) << r.out;
    EXPECT_EQ(count_lines(one + "/metrics.jsonl"), count_lines(two + "/metrics.jsonl"));
    if (arch == "rad-rwkv6") {
      EXPECT_TRUE(read_text_file(one + "/student/model.safetensors") == read_text_file(two + "/student/model.safetensors"))
          << "layer-parallel RAD-RWKV6 alignment differs from one process";
    } else {
      EXPECT_NE(r.out.find("(layer 0's gradient summed: v_first)"), std::string::npos) << r.out;
      const double d = max_rel_diff(one + "/student", two + "/student");
      std::printf("layer-parallel RAD-RWKV7: largest difference %.3g of a tensor's scale\n", d);
      EXPECT_LT(d, 1e-4);
    }
  }
}

// SIGKILL of one rank mid-run: mpirun stops the whole job and says which rank
// died; --resume under mpirun finishes with the uninterrupted run's weights.
TEST_F(ConvertMpi, KilledRankStopsTheJobAndResumeIsBitExact) {
  TempDir tmp;
  const std::string data = tiny_data(tmp), ref = tmp.file("ref"), run = tmp.file("run");
  auto args = [&](const std::string& out) {  // long enough to kill mid-run: 800 align steps
    std::string a = convert_args(data, out);
    a.replace(a.find("--step1-tokens 192"), 18, "--step1-tokens 25600");
    a.replace(a.find("--checkpoint-every 3"), 20, "--checkpoint-every 7");
    return a;
  };
  auto r = run_shell(mpirun() + RADLADS_BIN + " " + args(ref) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string log = tmp.file("killed.log");
  const std::string cmd = mpirun() + RADLADS_BIN + " " + args(run) + " >" + log + " 2>&1";
  FILE* job = ::popen(cmd.c_str(), "r");
  ASSERT_NE(job, nullptr);
  bool killed = false;
  for (int i = 0; i < 3000 && !killed; i++) {  // up to ~60 s: after a few checkpoints, kill rank 1
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!std::filesystem::exists(run + "/checkpoints/align-000021")) continue;
    if (const pid_t p = rank_pid(1)) killed = ::kill(p, SIGKILL) == 0;
  }
  const int st = ::pclose(job);
  ASSERT_TRUE(killed) << "the job finished before the kill: the test did not test anything";
  EXPECT_NE(st, 0);
  const std::string out = read_text_file(log);
  EXPECT_NE(out.find("rank 1"), std::string::npos) << out;
  EXPECT_NE(out.find("signal 9"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(run + "/student")) << "the killed job went on";
  r = run_shell(mpirun() + RADLADS_BIN + " convert --out " + run + " --resume 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(read_text_file(ref + "/student/model.safetensors") == read_text_file(run + "/student/model.safetensors"))
      << "the resumed two-rank run differs from the uninterrupted one";
}

}  // namespace radlads
