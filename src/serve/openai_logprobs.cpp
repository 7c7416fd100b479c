// OpenAI logprobs objects (openai_logprobs.h).
#include "serve/openai_logprobs.h"

namespace radlads::serve {

using nlohmann::json;

namespace {

void ensure(json& out) {
  if (out.is_null())
    out = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
           {"text_offset", json::array()}};
}

json top_map(const Tokenizer& tok, const TokenLogprob& lp) {
  json m = json::object();
  for (const auto& [id, v] : lp.top) m[tok.piece(id)] = v;  // (two ids of one text keep the likelier)
  return m;
}

}  // namespace

void append_completion_logprobs(json& out, const Tokenizer& tok, std::span<const TokenLogprob> lps, size_t& offset) {
  ensure(out);
  for (const TokenLogprob& lp : lps) {
    const std::string& text = tok.piece(lp.id);
    out["tokens"].push_back(text);
    out["token_logprobs"].push_back(lp.logprob);
    out["top_logprobs"].push_back(top_map(tok, lp));
    out["text_offset"].push_back(offset);
    offset += text.size();
  }
}

void append_prompt_logprobs(json& out, const Tokenizer& tok, std::span<const int32_t> prompt,
                            std::span<const TokenLogprob> prompt_lp, size_t& offset) {
  ensure(out);
  for (size_t i = 0; i < prompt.size(); i++) {
    const std::string& text = tok.piece(prompt[i]);
    out["tokens"].push_back(text);
    const bool scored = i > 0 && i - 1 < prompt_lp.size();
    out["token_logprobs"].push_back(scored ? json(prompt_lp[i - 1].logprob) : json());
    out["top_logprobs"].push_back(scored ? top_map(tok, prompt_lp[i - 1]) : json());
    out["text_offset"].push_back(offset);
    offset += text.size();
  }
}

json chat_logprobs(const Tokenizer& tok, std::span<const TokenLogprob> lps) {
  auto entry = [&](int32_t id, float v) {
    const std::string& text = tok.piece(id);
    return json{{"token", text}, {"logprob", v}, {"bytes", std::vector<unsigned char>(text.begin(), text.end())}};
  };
  json content = json::array();
  for (const TokenLogprob& lp : lps) {
    json e = entry(lp.id, lp.logprob);
    e["top_logprobs"] = json::array();
    for (const auto& [id, v] : lp.top) e["top_logprobs"].push_back(entry(id, v));
    content.push_back(std::move(e));
  }
  return {{"content", content}};
}

}  // namespace radlads::serve
