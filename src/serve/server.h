// radlads serve: an OpenAI-compatible HTTP server (cpp-httplib) in front of
// the Scheduler. Endpoints: POST /v1/completions, POST /v1/chat/completions
// (the model's chat template; both stream as server-sent events with
// "stream": true), GET /v1/models, /health, /metrics (Prometheus text).
// Errors are OpenAI error objects: 400 for a malformed body or parameter,
// 413 for a body over the limit, 503 while busy or draining.
#pragma once

#include <string>

#include "infer/language_model.h"
#include "serve/openai_request.h"
#include "text/tokenizer.h"

namespace radlads::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (the one chosen is printed)
  std::string model_name;
  ServeLimits limits;
  std::string session_dir;  // kept sessions saved here at shutdown and restored at start ("" none)
};

// Serves until SIGTERM or SIGINT, then drains: new requests get 503, the
// running ones finish (within limits.max_tokens steps), and it returns 0.
// Returns 2 when the address cannot be bound. Prints "listening on
// http://HOST:PORT" on stderr once ready.
int serve(LanguageModel& lm, const Tokenizer& tok, const ServeOptions& o);

}  // namespace radlads::serve
