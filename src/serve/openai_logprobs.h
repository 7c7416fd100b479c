// The `logprobs` objects of OpenAI responses, from token log-probabilities:
//   /v1/completions       {"tokens", "token_logprobs", "top_logprobs", "text_offset"}
//                         (echo: the prompt's tokens first, the very first with null)
//   /v1/chat/completions  {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}
// A token's text is its decoded bytes (Tokenizer::piece); invalid UTF-8 in it
// goes out as U+FFFD when the response is written, its raw bytes in "bytes".
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <vector>

#include "serve/logprobs.h"
#include "text/tokenizer.h"

namespace radlads::serve {

// Appends to a completions logprobs object (created when null). offset: the
// text offset of the first token appended.
void append_completion_logprobs(nlohmann::json& out, const Tokenizer& tok, std::span<const TokenLogprob> lps,
                                size_t& offset);
// The prompt's part (echo): its first token has no log-probability.
void append_prompt_logprobs(nlohmann::json& out, const Tokenizer& tok, std::span<const int32_t> prompt,
                            std::span<const TokenLogprob> prompt_lp, size_t& offset);
// {"content": [...]} of a chat choice.
nlohmann::json chat_logprobs(const Tokenizer& tok, std::span<const TokenLogprob> lps);

}  // namespace radlads::serve
