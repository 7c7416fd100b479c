// Chat formatting without a Jinja engine: the model's template is recognised
// by content (ChatML, Llama-3) and rendered by hand, matching what HF's
// apply_chat_template produces for plain role/content messages (no tools).
#pragma once

#include <string>
#include <vector>

#include "text/tokenizer.h"
#include "text/tokenizer_spec.h"

namespace radlads {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class ChatFormat { CHATML, LLAMA3 };

// Which format a template is; throws Error when it is empty or unrecognised.
ChatFormat detect_chat_format(const std::string& chat_template);

// Renders msgs with spec.chat_template. The result is meant to be encoded
// with parse_special = true.
//  ChatML (SmolLM2, Qwen2.5, ...): "<|im_start|>role\ncontent<|im_end|>\n" per
//    message; if the template inserts a fixed system prompt when the first
//    message is not a system message (SmolLM2's, Qwen2.5's "You are Qwen,
//    created by Alibaba Cloud. ..."), that prompt is inserted too.
//  Llama-3: bos text first (the template starts with bos_token; encode never
//    adds BOS itself), then "<|start_header_id|>role<|end_header_id|>\n\n" +
//    trimmed content + "<|eot_id|>". Llama-3.1/3.2 templates also get their
//    system block with "Cutting Knowledge Date: ..." and the template's fixed
//    fallback date ("26 Jul 2024"), never today's date, so output is stable.
// add_generation_prompt appends the assistant header.
std::string apply_chat_template(const TokenizerSpec& spec, const std::vector<ChatMessage>& msgs,
                                bool add_generation_prompt);

// The tokens a generation starts from, special tokens parsed: a conversation
// in the model's template with the assistant turn opened, or plain text after
// the model's BOS (where it adds one).
std::vector<int32_t> encode_chat_prompt(const Tokenizer& tok, const std::vector<ChatMessage>& msgs);
std::vector<int32_t> encode_text_prompt(const Tokenizer& tok, std::string_view text);

}  // namespace radlads
