// The OpenAI-compatible request bodies radlads serve accepts
// (/v1/completions, /v1/chat/completions), parsed and checked: anything
// malformed becomes a RequestError (HTTP status + message), never a crash.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "infer/sampling.h"
#include "text/chat_template.h"

namespace radlads::serve {

struct ServeLimits {
  int max_tokens = 512;     // per request (its max_tokens may not exceed this)
  int max_sessions = 64;    // sequences decoded at once, and session states kept
  int ctx = 4096;           // prompt + generated tokens of one sequence
  size_t max_body = 1 << 20;  // request bytes
};

struct RequestError : std::runtime_error {
  int status;
  std::string param;
  RequestError(int s, const std::string& msg, std::string p = "") : std::runtime_error(msg), status(s), param(std::move(p)) {}
};

struct CompletionRequest {
  bool chat = false;
  std::string prompt;                // /v1/completions
  std::vector<ChatMessage> messages; // /v1/chat/completions
  int max_tokens = 16;
  SamplingParams sampling;
  bool stream = false;
  std::vector<std::string> stop;
  std::string session_id;  // radlads extension: keep this sequence's state under the id
  int n = 1;               // completions of the prompt
  int logprobs = -1;       // alternatives per token (completions: logprobs 0-5; chat: top_logprobs 0-20); -1: none
  bool echo = false;       // completions: the prompt before the completion (and its logprobs)
};

// Throws RequestError (400) naming the field at fault.
CompletionRequest parse_completion_request(const std::string& body, bool chat, const ServeLimits& limits);

// {"error": {"message", "type", "param", "code"}} as OpenAI writes it.
std::string error_json(const std::string& message, const std::string& param = "",
                       const char* type = "invalid_request_error");

}  // namespace radlads::serve
