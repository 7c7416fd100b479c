// `radlads convert` survives being killed: SIGKILL at a random step (while it
// may be writing a checkpoint), resume, and the final weights equal an
// uninterrupted run's bit for bit. A corrupt checkpoint stops the resume with
// exit 2 and a message naming the file, never a crash or a silent restart.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/file_io.h"
#include "train_fixture.h"

extern char** environ;

namespace radlads {
using namespace test;

namespace {

std::string convert_args(const std::string& data, const std::string& out) {
  return tiny_convert(data, out) +
         " --step1-tokens 192 --step2-tokens 192 --step3-tokens 128 --step3-seq-len 32 --step3-kl 0.5"
         " --seq-len 16 --batch 2 --micro-batch 1 --checkpoint-every 1 --heldout-windows 1 --heldout-len 16"
         " --step1-lr 1e-2";
}

pid_t spawn_cli(const std::string& args, const std::string& log) {
  const std::string cmd = std::string(RADLADS_BIN) + " " + args + " >" + log + " 2>&1";
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  pid_t pid = 0;
  // exec so that the pid is radlads itself (SIGKILL must hit it, not a shell).
  const std::string exec_cmd = "exec " + cmd;
  argv[2] = exec_cmd.c_str();
  EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  return pid;
}

std::string latest_name(const std::string& out) {
  std::ifstream f(out + "/checkpoints/latest");
  std::string s;
  std::getline(f, s);
  return s;
}

std::string file_bytes(const std::string& p) { return read_text_file(p); }
bool file_exists(const std::string& p) { return std::filesystem::exists(p); }

}  // namespace

TEST(ConvertResume, SigkillAtRandomStepsThenResumeIsBitExact) {
  setenv("OMP_NUM_THREADS", "2", 1);  // both runs: the same thread count
  TempDir tmp;
  const std::string data = tiny_data(tmp), ref = tmp.file("ref"), run = tmp.file("run");
  auto r = run_cli(convert_args(data, ref));
  ASSERT_EQ(r.status, 0) << r.out;

  // Kill at two random points (seeded from the clock, printed): a little
  // after checkpoint i, then after a later checkpoint j, so the kill lands
  // mid-step or mid-checkpoint; resume after each.
  std::vector<std::string> seq;  // the checkpoints of this config, in order
  for (int s = 1; s <= 6; s++) seq.push_back(fmt::format("align-{:06d}", s));
  for (int s = 1; s <= 6; s++) seq.push_back(fmt::format("distill-{:06d}", s));
  for (int s = 1; s <= 4; s++) seq.push_back(fmt::format("extend-{:06d}", s));
  const unsigned seed = unsigned(::time(nullptr));
  std::mt19937 g(seed);
  const size_t i0 = g() % (seq.size() - 2), i1 = i0 + 1 + g() % (seq.size() - i0 - 2);
  std::printf("seed %u: kills after %s and %s\n", seed, seq[i0].c_str(), seq[i1].c_str());
  int kills = 0;
  for (int round = 0; round < 2; round++) {
    const std::string target = seq[round == 0 ? i0 : i1];
    const std::string args = round == 0 ? convert_args(data, run) : "convert --out " + run + " --resume";
    pid_t pid = spawn_cli(args, tmp.file("log" + std::to_string(round)));
    bool killed = false, exited = false;
    for (int i = 0; i < 200000 && !killed && !exited; i++) {  // poll for up to ~100 s
      if (latest_name(run) == target) {
        std::this_thread::sleep_for(std::chrono::microseconds(g() % 5000));
        killed = ::kill(pid, SIGKILL) == 0;
      }
      int st;
      if (!killed && ::waitpid(pid, &st, WNOHANG) == pid) exited = true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!exited) {
      int st = 0;
      ::waitpid(pid, &st, 0);
      EXPECT_TRUE(WIFSIGNALED(st)) << "round " << round << " target " << target;
      kills += WIFSIGNALED(st) ? 1 : 0;
    }
    std::printf("round %d: target %s, killed %d\n", round, target.c_str(), int(killed));
  }
  EXPECT_EQ(kills, 2) << "a run finished before its kill: the test did not test resuming";
  r = run_cli("convert --out " + run + " --resume");
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string a = file_bytes(ref + "/student/model.safetensors"), b = file_bytes(run + "/student/model.safetensors");
  EXPECT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b) << "resumed weights differ from the uninterrupted run's";
}

// Killed before its first checkpoint, a run folder holds its config.json and
// part of metrics.jsonl (perhaps a half-written checkpoint folder): --resume
// starts that run again from step 0 and ends with the uninterrupted run's
// weights; a folder without even a config.json is an error naming it.
TEST(ConvertResume, KilledBeforeTheFirstCheckpointStartsAgain) {
  setenv("OMP_NUM_THREADS", "1", 1);
  TempDir tmp;
  const std::string data = tiny_data(tmp), ref = tmp.file("ref"), run = tmp.file("run");
  auto r = run_cli(convert_args(data, ref));
  ASSERT_EQ(r.status, 0) << r.out;
  // The folder as a kill right after the initial held-out score leaves it.
  std::filesystem::create_directories(run + "/checkpoints/align-000001.tmp.12345/model");
  std::filesystem::copy_file(ref + "/config.json", run + "/config.json");
  {
    std::ifstream in(ref + "/metrics.jsonl");
    std::string first;
    std::getline(in, first);
    std::ofstream(run + "/metrics.jsonl") << first << "\n{\"phase\": \"ali";
  }
  r = run_cli("convert --out " + run + " --resume");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("starting its run again from step 0"), std::string::npos) << r.out;
  EXPECT_TRUE(file_bytes(ref + "/student/model.safetensors") == file_bytes(run + "/student/model.safetensors"))
      << "the restarted run's weights differ from the uninterrupted run's";
  // A fresh log: as many records as the uninterrupted run's, no torn line kept.
  auto lines = [&](const std::string& p) {
    const std::string t = file_bytes(p);
    return std::count(t.begin(), t.end(), '\n');
  };
  EXPECT_EQ(lines(run + "/metrics.jsonl"), lines(ref + "/metrics.jsonl"));
  EXPECT_EQ(file_bytes(run + "/metrics.jsonl").find("\"ali\n"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(run + "/checkpoints/align-000001.tmp.12345"));
  // Nothing to resume at all.
  std::filesystem::create_directories(tmp.file("empty"));
  r = run_cli("convert --out " + tmp.file("empty") + " --resume");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(tmp.file("empty") + ": nothing to resume"), std::string::npos) << r.out;
}

// SIGTERM (or SIGINT) mid-phase: the step finishes, a checkpoint is written
// although --checkpoint-every would not have, the run exits 128+15 saying how
// to continue, and --resume then ends with the uninterrupted run's weights.
TEST(ConvertResume, SigtermFinishesTheStepCheckpointsAndExits) {
  setenv("OMP_NUM_THREADS", "1", 1);
  TempDir tmp;
  const std::string data = tiny_data(tmp), ref = tmp.file("ref"), run = tmp.file("run");
  // Long enough (3000 align steps, a second or two) that the signal lands
  // mid-phase even on a busy machine; no periodic checkpoints.
  auto args = [&](const std::string& out) {
    return tiny_convert(data, out) +
           " --step1-tokens 96000 --step2-tokens 64 --step3-tokens 0 --seq-len 16 --batch 2 --heldout-windows 1"
           " --heldout-len 16 --step1-lr 1e-2";
  };
  auto r = run_cli(args(ref));
  ASSERT_EQ(r.status, 0) << r.out;
  pid_t pid = spawn_cli(args(run), tmp.file("log"));
  bool sent = false;
  for (int i = 0; i < 100000 && !sent; i++) {  // up to ~20 s: wait for the first align step in the log
    if (file_exists(run + "/metrics.jsonl") && file_bytes(run + "/metrics.jsonl").find("\"align\"") != std::string::npos)
      sent = ::kill(pid, SIGTERM) == 0;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_TRUE(sent);
  int st = 0;
  ::waitpid(pid, &st, 0);
  const std::string log = file_bytes(tmp.file("log"));
  ASSERT_TRUE(WIFEXITED(st)) << "killed by the signal instead of stopping: " << log;
  EXPECT_EQ(WEXITSTATUS(st), 128 + SIGTERM) << log;
  EXPECT_NE(log.find("stopped by signal 15 after align step"), std::string::npos) << log;
  EXPECT_NE(log.find("convert --out " + run + " --resume"), std::string::npos) << log;
  const std::string ck = latest_name(run);
  EXPECT_EQ(ck.rfind("align-", 0), 0u) << ck;
  EXPECT_NE(ck, "align-003000") << "the signal landed after the phase: nothing was tested";
  r = run_cli("convert --out " + run + " --resume");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(file_bytes(ref + "/student/model.safetensors") == file_bytes(run + "/student/model.safetensors"))
      << "resumed weights differ from the uninterrupted run's";
}

TEST(ConvertResume, CorruptCheckpointExits2NamingTheFile) {
  setenv("OMP_NUM_THREADS", "1", 1);
  TempDir tmp;
  const std::string data = tiny_data(tmp), out = tmp.file("out");
  auto r = run_cli(convert_args(data, out));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string ck = out + "/checkpoints/" + latest_name(out);
  // A flipped byte inside the weights' data section.
  const std::string w = ck + "/model/model.safetensors";
  {
    std::fstream f(w, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-100, std::ios::end);
    char c = 0;
    f.read(&c, 1);
    f.seekp(-100, std::ios::end);
    c ^= 0x10;
    f.write(&c, 1);
  }
  r = run_cli("convert --out " + out + " --resume");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(w), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("corrupt"), std::string::npos) << r.out;
  // A truncated state.json.
  { std::ofstream(ck + "/state.json") << "{\"phase\": \"ext"; }
  r = run_cli("convert --out " + out + " --resume");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(ck + "/state.json"), std::string::npos) << r.out;
  // `latest` naming a checkpoint that is gone.
  { std::ofstream(out + "/checkpoints/latest") << "distill-999999\n"; }
  r = run_cli("convert --out " + out + " --resume");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("latest"), std::string::npos) << r.out;
  // Not resuming into an existing run folder.
  r = run_cli(convert_args(data, out));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--resume"), std::string::npos) << r.out;
}

TEST(Convert, LearnsOnTinyTeacherAndWritesEverything) {
  setenv("OMP_NUM_THREADS", "1", 1);
  TempDir tmp;
  const std::string data = tiny_data(tmp), out = tmp.file("out");
  auto r = test::run_cli_stdout(convert_args(data, out) + " --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json results = nlohmann::json::parse(r.out);  // --json: stdout is exactly one document
  EXPECT_EQ(results.at("heldout").size(), 4u);
  for (const char* f : {"/config.json", "/metrics.jsonl", "/results.json", "/student/config.json",
                        "/student/model.safetensors", "/checkpoints/latest"})
    EXPECT_TRUE(std::filesystem::exists(out + f)) << f;
  auto log = nlohmann::json::array();
  std::ifstream in(out + "/metrics.jsonl");
  std::string line;
  double first_align = -1, last_align = -1;
  int evals = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["phase"] == "align") {
      if (first_align < 0) first_align = j["loss"].get<double>();
      last_align = j["loss"].get<double>();
      EXPECT_EQ(j["layer_loss"].size(), 2u);
    }
    if (j["phase"] == "eval") evals++;
  }
  EXPECT_EQ(evals, 4);  // init, align, distill, extend
  EXPECT_GT(first_align, 0);
  EXPECT_LT(last_align, first_align) << "alignment did not lower its loss";
  // The student it wrote is a model every command can use.
  r = run_cli("inspect " + out + "/student --json");
  EXPECT_EQ(r.status, 0) << r.out;
}

}  // namespace radlads

namespace radlads {
using namespace test;

// A diverging run (a learning rate of 1e30 makes step 2's loss non-finite):
// --skip-nonfinite 2 skips two such steps in a row (metrics.jsonl marks them,
// the weights stay those of step 1), then the third stops the run with exit 2
// naming the step; the last checkpoint (after the skipped step 3: step 1's
// weights) is intact for a resume.
TEST(ConvertNonFinite, SkipsUpToTheAllowanceThenStops) {
  TempDir tmp;
  const std::string data = tiny_data(tmp), out = tmp.file("run");
  auto r = run_cli(tiny_convert(data, out) +
                   " --step1-tokens 192 --step2-tokens 0 --step3-tokens 0 --seq-len 16 --batch 2 --checkpoint-every 1"
                   " --heldout-windows 1 --heldout-len 16 --step1-lr 1e30 --step1-warmup 0 --skip-nonfinite 2");
  ASSERT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("phase align step 4:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(2 steps skipped in a row before it)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("step skipped, the weights unchanged (1 of 2 in a row)"), std::string::npos) << r.out;
  int skipped = 0;
  std::ifstream log(out + "/metrics.jsonl");
  for (std::string line; std::getline(log, line);)
    if (line.find("\"skipped\":true") != std::string::npos) skipped++;
  EXPECT_EQ(skipped, 2);
  EXPECT_EQ(latest_name(out), "align-000003");  // skipped steps checkpoint the unchanged weights
}

}  // namespace radlads
