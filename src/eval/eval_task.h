// A benchmark as the scorer sees it: items of (context, continuation)
// requests, one per choice, and a gold index, plus how to report it. Loaders (oe_eval_requests,
// mmlu) produce these; task_registry names the paper's seven benchmarks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace radlads {

// One log-likelihood request: the prompt and a candidate continuation, which
// starts with its delimiter (usually " ") exactly as lm-eval-harness appends it.
struct EvalRequest {
  std::string context, continuation;
};

struct EvalItem {
  std::string id;  // the source's document id, for dumps
  // One request per choice. Most tasks share the context; Winogrande's differ
  // (the option fills the blank) and share the continuation.
  std::vector<EvalRequest> choices;
  int gold = 0;  // index of the right choice
};

enum class TaskKind {
  MultipleChoice,  // acc and acc_norm over the continuations' log-likelihoods
  Lambada,         // one continuation: acc = every token greedy; perplexity
};

struct EvalTask {
  std::string name;          // "hellaswag"
  std::string setup;         // split, shots and prompt, for the report
  TaskKind kind = TaskKind::MultipleChoice;
  std::string paper_metric;  // the metric the RADLADS paper reports: "acc" or "acc_norm"
  std::vector<std::string> sources;  // files read
  int64_t n_available = 0;   // items before --limit
  std::vector<EvalItem> items;
};

}  // namespace radlads
