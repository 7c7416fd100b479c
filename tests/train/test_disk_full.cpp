// A full disk, for real: a small tmpfs (mounted by the test, so it runs as
// root, as CI does) as the output of `data prepare`, `export` and a
// conversion's checkpoints. Each must stop with exit 2 and a one-line error
// naming the file it could not write, leave no partial file behind, and (the
// conversion) keep the previous checkpoint intact so that --resume, with
// room again, finishes with the uninterrupted run's weights.
#include <sys/mount.h>

#include <filesystem>
#include <fstream>

#include "core/file_io.h"
#include "train/checkpoint.h"
#include "train_fixture.h"

namespace radlads {
using namespace test;

namespace {

namespace fs = std::filesystem;

int64_t tree_bytes(const fs::path& p) {
  int64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) n += int64_t(e.file_size());
  return n;
}

// Every entry under dir, for "nothing was left behind" messages.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(mnt); }
  void TearDown() override {
    if (mounted) ::umount(mnt.c_str());
  }
  // A tmpfs of `kib` KiB at mnt (again with another size: a remount).
  void mount_tmpfs(int64_t kib) {
    const std::string opts = "size=" + std::to_string(kib) + "k";
    const int rc = ::mount("tmpfs", mnt.c_str(), "tmpfs", mounted ? MS_REMOUNT : 0, opts.c_str());
    ASSERT_EQ(rc, 0) << "mounting a tmpfs at " << mnt << " failed (" << std::strerror(errno)
                     << "): the disk-full tests need root";
    mounted = true;
  }
  TempDir tmp;
  std::string mnt = tmp.file("small");
  bool mounted = false;
};

}  // namespace

TEST_F(DiskFull, DataPrepareStopsAndLeavesNothing) {
  const std::string text = tmp.file("big.txt");
  {
    std::ofstream f(text);
    for (int i = 0; i < 20000; i++) f << "Paragraph " << i << " of a text that does not fit the disk.\n\n";
  }
  mount_tmpfs(64);
  const auto r = run_cli("data prepare --tokenizer " + golden_model("llama") + " --out " + mnt + "/data " + text);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("radlads: error: " + mnt + "/data"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_TRUE(entries(mnt).empty()) << "left behind: " << entries(mnt).front();
}

TEST_F(DiskFull, ExportStopsAndLeavesNothing) {
  const std::string student = tmp.file("student");
  auto r = run_cli("init --teacher " + golden_model("qwen2") + " --arch rad-rwkv6 --out " + student);
  ASSERT_EQ(r.status, 0) << r.out;
  mount_tmpfs(64);  // the student's weights alone are about 190 KB
  for (const char* fmt : {"hf", "gguf"}) {
    r = run_cli("export " + student + " --format " + fmt + " --out " + mnt + "/out." + fmt);
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find("radlads: error: " + mnt + "/out." + fmt), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
    EXPECT_TRUE(entries(mnt).empty()) << fmt << " left behind: " << entries(mnt).front();
  }
}

TEST_F(DiskFull, CheckpointStopsKeepsThePreviousAndResumes) {
  const std::string data = tiny_data(tmp), ref = tmp.file("ref"), run = mnt + "/run";
  auto args = [&](const std::string& out) {
    return "align --teacher " + golden_model("qwen2") + " --arch rad-rwkv6 --data " + data + " --out " + out +
           " --tokens 192 --seq-len 16 --batch 2 --checkpoint-every 3 --heldout-windows 1 --heldout-len 16 --lr 1e-2";
  };
  auto r = run_cli(args(ref));
  ASSERT_EQ(r.status, 0) << r.out;
  // Room for the run folder and one checkpoint, not two.
  const int64_t ck = tree_bytes(ref + "/checkpoints/align-000003");
  mount_tmpfs((ck + ck / 2) / 1024 + 16);
  r = run_cli(args(run));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("radlads: error: " + run + "/checkpoints/align-000006.tmp."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  // The first checkpoint is the latest, whole (its checksums hold), and the
  // half-written second is gone.
  EXPECT_EQ(latest_checkpoint(run + "/checkpoints").value_or(""), run + "/checkpoints/align-000003");
  EXPECT_NO_THROW(read_checkpoint_state(run + "/checkpoints/align-000003"));
  for (const auto& e : entries(run)) EXPECT_EQ(e.find(".tmp."), std::string::npos) << "left behind: " << e;
  // Room again: --resume finishes with the uninterrupted run's student.
  mount_tmpfs(16 * 1024);
  r = run_cli("align --out " + run + " --resume");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(read_text_file(ref + "/student/model.safetensors") == read_text_file(run + "/student/model.safetensors"));
}

}  // namespace radlads
