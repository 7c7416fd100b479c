// Chat rendering for the templates we recognise (SmolLM2 and Qwen2.5 ChatML,
// Llama-3 and Llama-3.1), compared with what HF's apply_chat_template gives.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "text/chat_template.h"

namespace radlads {
namespace {

// SmolLM2-135M-Instruct's template, verbatim (real newlines in literals).
const char* kSmolTemplate =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const char* kLlama3Template =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
    "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% "
    "endif %}";

// The parts of Llama-3.1's template that decide the output without tools.
const char* kLlama31Template =
    "{{- bos_token }}\n{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" %}\n"
    "{%- endif %}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
    "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n{{- \"Today Date: \" + date_string + \"\\n\\n\" "
    "}}\n"
    "{{- system_message }}\n{{- \"<|eot_id|>\" }}\n"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
    "'<|eot_id|>' }}";

TokenizerSpec spec_with(const char* tpl) {
  TokenizerSpec s;
  s.chat_template = tpl;
  s.tokens = {"<|begin_of_text|>"};
  s.bos_id = 0;
  return s;
}

TEST(ChatTemplate, SmolLm2AddsItsDefaultSystemPrompt) {
  const TokenizerSpec s = spec_with(kSmolTemplate);
  EXPECT_EQ(detect_chat_format(s.chat_template), ChatFormat::CHATML);
  EXPECT_EQ(
      apply_chat_template(s, {{"user", "Hi there"}}, true),
      "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
      "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(apply_chat_template(s, {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}}, false),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n");
}

TEST(ChatTemplate, PlainChatMlHasNoDefaultSystem) {
  const TokenizerSpec s = spec_with(
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
      "'<|im_end|>' + '\n'}}{% endfor %}");
  EXPECT_EQ(apply_chat_template(s, {{"user", " x "}}, false), "<|im_start|>user\n x <|im_end|>\n");
}

TEST(ChatTemplate, Llama3) {
  const TokenizerSpec s = spec_with(kLlama3Template);
  EXPECT_EQ(detect_chat_format(s.chat_template), ChatFormat::LLAMA3);
  EXPECT_EQ(apply_chat_template(s, {{"system", "Be brief. "}, {"user", "\nHi\n"}}, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, Llama31KnowledgeCutoffBlock) {
  const TokenizerSpec s = spec_with(kLlama31Template);
  EXPECT_EQ(apply_chat_template(s, {{"user", "Hi"}}, true),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(apply_chat_template(s, {{"system", " Be brief."}, {"user", "Hi"}}, false),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
}

TEST(ChatTemplate, UnknownTemplatesAreErrors) {
  EXPECT_THROW(apply_chat_template(spec_with(""), {{"user", "x"}}, true), Error);
  EXPECT_THROW(apply_chat_template(spec_with("{{ '[INST] ' + m + ' [/INST]' }}\n"), {{"user", "x"}}, true),
               Error);
}

}  // namespace
}  // namespace radlads
