// Parsing and checking of completion requests (openai_request.h).
#include "serve/openai_request.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace radlads::serve {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& msg) { throw RequestError(400, msg, param); }

const json* field(const json& j, const char* name) {
  auto it = j.find(name);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

double number(const json& j, const char* name, double lo, double hi, double dflt) {
  const json* v = field(j, name);
  if (!v) return dflt;
  if (!v->is_number()) bad(name, fmt::format("'{}' must be a number", name));
  const double x = v->get<double>();
  if (!(x >= lo && x <= hi)) bad(name, fmt::format("'{}' must be in [{}, {}], got {}", name, lo, hi, x));
  return x;
}

std::string text_of(const json& v, const char* name) {
  if (v.is_string()) return v.get<std::string>();
  // An array of one string (the client libraries send prompts that way too).
  if (v.is_array() && v.size() == 1 && v[0].is_string()) return v[0].get<std::string>();
  bad(name, fmt::format("'{}' must be a string", name));
}

}  // namespace

std::string error_json(const std::string& message, const std::string& param, const char* type) {
  return json{{"error", {{"message", message}, {"type", type}, {"param", param.empty() ? json() : json(param)},
                         {"code", nullptr}}}}
      .dump(-1, ' ', false, json::error_handler_t::replace);  // the message may quote invalid UTF-8
}

CompletionRequest parse_completion_request(const std::string& body, bool chat, const ServeLimits& limits) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    bad("", fmt::format("the body is not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) bad("", "the body must be a JSON object");
  CompletionRequest r;
  r.chat = chat;
  if (chat) {
    const json* m = field(j, "messages");
    if (!m || !m->is_array() || m->empty()) bad("messages", "'messages' must be a non-empty array");
    for (const json& msg : *m) {
      if (!msg.is_object()) bad("messages", "each message must be an object");
      const json* role = field(msg, "role");
      const json* content = field(msg, "content");
      if (!role || !role->is_string()) bad("messages", "each message needs a string 'role'");
      const std::string ro = role->get<std::string>();
      if (ro != "system" && ro != "user" && ro != "assistant")
        bad("messages", fmt::format("unsupported role '{}' (system, user, assistant)", ro));
      std::string text;
      if (content && content->is_string()) {
        text = content->get<std::string>();
      } else if (content && content->is_array()) {  // [{"type": "text", "text": ...}, ...]
        for (const json& part : *content) {
          const json* t = part.is_object() ? field(part, "text") : nullptr;
          if (!t || !t->is_string()) bad("messages", "a content part must be {\"type\": \"text\", \"text\": ...}");
          text += t->get<std::string>();
        }
      } else {
        bad("messages", "each message needs a string 'content'");
      }
      r.messages.push_back({ro, text});
    }
  } else {
    const json* p = field(j, "prompt");
    if (!p) bad("prompt", "'prompt' is required");
    r.prompt = text_of(*p, "prompt");
  }
  if (!chat)
    if (const json* e = field(j, "echo")) {
      if (!e->is_boolean()) bad("echo", "'echo' must be a boolean");
      r.echo = e->get<bool>();
    }
  const int dflt_max = chat ? limits.max_tokens : 16;
  const json* mt = field(j, chat && field(j, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens");
  if (mt && !mt->is_number_integer()) bad("max_tokens", "'max_tokens' must be an integer");
  r.max_tokens = mt ? mt->get<int>() : dflt_max;
  const int min_tokens = r.echo ? 0 : 1;  // 0 with echo: the prompt's logprobs only (how harnesses score text)
  if (r.max_tokens < min_tokens || r.max_tokens > limits.max_tokens)
    bad("max_tokens", fmt::format("'max_tokens' must be in [{}, {}] (the server's --max-tokens), got {}", min_tokens,
                                  limits.max_tokens, r.max_tokens));
  r.sampling.temp = float(number(j, "temperature", 0, 2, 1.0));
  r.sampling.top_p = float(number(j, "top_p", 0, 1, 1.0));
  r.sampling.top_k = int(number(j, "top_k", 0, 1e6, 0));
  r.sampling.seed = uint64_t(number(j, "seed", 0, 9007199254740992.0, 0));
  const int max_n = std::min(16, limits.max_sessions);
  if (const json* nv = field(j, "n"); nv && !nv->is_number_integer()) bad("n", "'n' must be an integer");
  r.n = int(number(j, "n", 1, max_n, 1));
  if (chat) {  // logprobs: true, top_logprobs: k alternatives
    if (const json* l = field(j, "logprobs")) {
      if (!l->is_boolean()) bad("logprobs", "'logprobs' must be a boolean");
      if (l->get<bool>()) r.logprobs = 0;
    }
    if (const json* t = field(j, "top_logprobs")) {
      if (!t->is_number_integer()) bad("top_logprobs", "'top_logprobs' must be an integer");
      if (r.logprobs < 0) bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
      r.logprobs = int(number(j, "top_logprobs", 0, 20, 0));
    }
  } else if (const json* l = field(j, "logprobs")) {  // the number of alternatives, 0-5
    if (!l->is_number_integer()) bad("logprobs", "'logprobs' must be an integer");
    r.logprobs = int(number(j, "logprobs", 0, 5, 0));
  }
  if (const json* s = field(j, "stream")) {
    if (!s->is_boolean()) bad("stream", "'stream' must be a boolean");
    r.stream = s->get<bool>();
  }
  if (const json* s = field(j, "stop")) {
    if (s->is_string()) {
      r.stop.push_back(s->get<std::string>());
    } else if (s->is_array() && s->size() <= 4) {
      for (const json& x : *s) {
        if (!x.is_string()) bad("stop", "'stop' must be a string or up to 4 strings");
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      bad("stop", "'stop' must be a string or up to 4 strings");
    }
    for (const std::string& s2 : r.stop)
      if (s2.empty()) bad("stop", "a stop string must not be empty");
  }
  if (const json* s = field(j, "session_id")) {
    if (!s->is_string() || s->get<std::string>().empty() || s->get<std::string>().size() > 256)
      bad("session_id", "'session_id' must be a non-empty string of at most 256 bytes");
    r.session_id = s->get<std::string>();
  }
  return r;
}

}  // namespace radlads::serve
