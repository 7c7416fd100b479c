// The server's request bodies (serve/openai_request.h): any bytes parsed as a
// completion and as a chat request. A RequestError is the parser refusing
// the body (a 400 or 413 for the client); any other escape is a finding.
// error_json must quote any message bytes (invalid UTF-8 included).
#include <string>

#include "fuzz_input.h"
#include "serve/openai_request.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  serve::ServeLimits limits;
  for (bool chat : {false, true}) {
    try {
      const serve::CompletionRequest r = serve::parse_completion_request(body, chat, limits);
      // The limits hold: max_tokens 0 only with echo (completions), n within the
      // sessions, logprobs' alternatives within what the endpoint allows.
      if (r.max_tokens < (r.echo ? 0 : 1) || r.max_tokens > limits.max_tokens) std::abort();
      if (r.echo && chat) std::abort();
      if (r.n < 1 || r.n > 16 || r.n > limits.max_sessions) std::abort();
      if (r.logprobs < -1 || r.logprobs > (chat ? 20 : 5)) std::abort();
    } catch (const serve::RequestError& e) {
      (void)serve::error_json(e.what(), e.param);
    }
  }
  (void)serve::error_json(body.substr(0, 64), body.substr(0, 8));
  return 0;
}
