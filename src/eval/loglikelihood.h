// Log-likelihood requests as lm-eval-harness computes them: tokenization of
// (context, continuation) and the summed log-probability of the continuation
// tokens, with a flag for "every continuation token is the argmax" (LAMBADA).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "eval/eval_task.h"
#include "infer/language_model.h"
#include "text/tokenizer.h"

namespace radlads {

struct TokenizedRequest {
  std::vector<int32_t> tokens;  // context then continuation, cut on the left to fit
  int n_cont = 0;               // the last n_cont tokens are scored
};

struct RequestEncoding {
  bool add_bos = false;  // the model's tokenizer adds BOS (SmolLM2, Qwen2: no)
  int32_t bos = -1, eos = -1;
  int max_length = 0;    // the model's context length; inputs longer are cut on the left
};

// The harness's HF path (`_encode_pair` + `_loglikelihood_tokens`): trailing
// whitespace of the context moves to the front of the continuation; the
// continuation's tokens are encode(context + continuation) minus its first
// |encode(context)| tokens, so a BPE merge across the boundary counts in the
// continuation; the model reads encode(context) then those tokens. Text is
// encoded without special-token parsing. An empty context becomes [EOS] (the
// harness's choice), BOS is prepended when add_bos. If the continuation
// encodes to nothing this way it is encoded on its own.
TokenizedRequest tokenize_request(const Tokenizer& tok, const EvalRequest& r, const RequestEncoding& enc);

struct ChoiceScore {
  double loglik = 0;   // sum over the continuation tokens of log p(token | everything before)
  bool greedy = true;  // every continuation token is the argmax of its logits
};

// Scores the requests (usually the choices of one item) in as few model rows
// as possible: a request whose input (all tokens but the last) is a prefix of
// another's reads that row's logits (MMLU's four one-token answers share one
// row), rows are right-padded to one length (causal attention keeps padding
// from changing any scored position), and one lm.score call takes as many
// rows as fit in max_logits_bytes of logits and are at least 3/4 as long as
// its longest. Requests of several items may be passed together: bigger
// calls keep the matrix products efficient. *tokens_fed, when non-null, is
// increased by the unpadded tokens run through the model.
std::vector<ChoiceScore> score_requests(LanguageModel& lm, std::span<const TokenizedRequest> reqs,
                                        int64_t* tokens_fed = nullptr,
                                        size_t max_logits_bytes = size_t(1) << 30);

}  // namespace radlads
