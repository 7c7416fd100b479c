// The training metrics log: one JSON object per line (JSONL), appended as the
// trainer runs, read back by `radlads plot`. It must survive a kill at any
// moment and a resume from an older checkpoint, so a torn last line is
// dropped on read and the lines written after the checkpoint can be cut.
//
// Records the trainer writes (one per logged step):
//   {"phase": "align"|"distill"|"extend"|"eval", "step": int, "tokens": int,
//    "loss": float, "lr": float, "grad_norm": float, "tok_s": float,
//    "time_s": float, optional "layer_loss": [float per layer],
//    optional "heldout_kl", "heldout_ppl"}
// An "eval" record belongs to the training phase named by its optional "of"
// field, else to the phase of the latest training record before it.
// Non-finite floats are written as null (JSON has no NaN); readers skip them.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace radlads {

class MetricsLog {
 public:
  // resume = false starts a new, empty log (an existing file is replaced);
  // resume = true appends, first repairing a torn last line left by a kill.
  // fsync runs every sync_every lines and at close: a crash loses at most
  // that many lines, while each line is still flushed to the kernel at once.
  MetricsLog(const std::string& path, bool resume, int sync_every = 20);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Writes record as one line; throws Error naming the path on a write failure.
  void append(const nlohmann::json& record);
  void sync();  // fflush + fsync now
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  int sync_every_;
  int unsynced_ = 0;
};

// All records of the log in file order. Blank lines are skipped; a last line
// that is not newline-terminated and does not parse (a torn write) is dropped;
// any other line that is not a JSON object throws Error "path:line: ...".
std::vector<nlohmann::json> read_metrics(const std::string& path);

// Before resuming `phase` from a checkpoint taken at `step`: atomically
// rewrites the log without the lines written after that checkpoint. The cut
// starts at the first line that is (a) of `phase` with a step > step (an eval
// record counts as its owner phase's), or (b)
// of another training phase after `phase` has been seen (phases run in
// order, so a later phase started after the checkpoint); every line from the
// cut on is dropped, since the log is chronological. A torn last line is
// dropped too. A missing file is left missing. Returns the lines kept.
size_t truncate_after_step(const std::string& path, const std::string& phase, int64_t step);

}  // namespace radlads
