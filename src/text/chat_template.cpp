// ChatML and Llama-3 chat rendering, recognised from the template's content.
#include "text/chat_template.h"

#include <optional>
#include <string_view>

#include "core/error.h"

namespace radlads {

namespace {

// Jinja string literals in a template may spell a newline as a real newline
// or as the escape \n (Qwen2.5's JSON-decoded template does the latter).
std::string unescape_jinja(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char e = s[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The fixed system prompt a ChatML template inserts when the conversation has
// none: the literal text between "<|im_start|>system\n" and "<|im_end|>" when
// it contains no Jinja expression (no quote, brace or '+').
std::optional<std::string> chatml_default_system(const std::string& tpl) {
  for (const std::string_view head : {"<|im_start|>system\n", "<|im_start|>system\\n"}) {
    size_t pos = 0;
    while ((pos = tpl.find(head, pos)) != std::string::npos) {
      pos += head.size();
      const size_t end = tpl.find("<|im_end|>", pos);
      if (end == std::string::npos) break;
      const std::string_view body = std::string_view(tpl).substr(pos, end - pos);
      if (body.find_first_of("'\"{}+") == std::string_view::npos) return unescape_jinja(body);
    }
  }
  return std::nullopt;
}

// Jinja's trim: strips leading and trailing whitespace.
std::string trim(std::string_view s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

// Text of a string literal that follows `key` in the template, e.g. the
// "December 2023" of "Cutting Knowledge Date: December 2023\n".
std::optional<std::string> literal_after(const std::string& tpl, std::string_view key,
                                         std::string_view stop_chars) {
  const size_t p = tpl.find(key);
  if (p == std::string::npos) return std::nullopt;
  const size_t b = p + key.size();
  const size_t e = tpl.find_first_of(stop_chars, b);
  if (e == std::string::npos) return std::nullopt;
  return tpl.substr(b, e - b);
}

std::string render_chatml(const TokenizerSpec& spec, const std::vector<ChatMessage>& msgs, bool gen) {
  std::string out;
  if (msgs.empty() || msgs[0].role != "system")
    if (auto sys = chatml_default_system(spec.chat_template))
      out += "<|im_start|>system\n" + *sys + "<|im_end|>\n";
  for (const auto& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_llama3(const TokenizerSpec& spec, const std::vector<ChatMessage>& msgs, bool gen) {
  const std::string& tpl = spec.chat_template;
  std::string out;
  if (tpl.find("bos_token") != std::string::npos && spec.bos_id >= 0 &&
      size_t(spec.bos_id) < spec.tokens.size())
    out += spec.tokens[size_t(spec.bos_id)];
  auto header = [](const std::string& role) {
    return "<|start_header_id|>" + role + "<|end_header_id|>\n\n";
  };
  size_t first = 0;
  // Llama-3.1/3.2: the system block is always present and carries the
  // knowledge-cutoff lines before the (trimmed) system message.
  if (auto cutoff = literal_after(tpl, "Cutting Knowledge Date: ", "\\\"'")) {
    std::string system_message;
    if (!msgs.empty() && msgs[0].role == "system") {
      system_message = trim(msgs[0].content);
      first = 1;
    }
    const std::string date = literal_after(tpl, "set date_string = \"", "\"").value_or("26 Jul 2024");
    out += header("system") + "Cutting Knowledge Date: " + *cutoff + "\nToday Date: " + date + "\n\n" +
           system_message + "<|eot_id|>";
  }
  for (size_t i = first; i < msgs.size(); ++i)
    out += header(msgs[i].role) + trim(msgs[i].content) + "<|eot_id|>";
  if (gen) out += header("assistant");
  return out;
}

}  // namespace

ChatFormat detect_chat_format(const std::string& tpl) {
  if (tpl.empty()) fail("the model has no chat template");
  if (tpl.find("<|im_start|>") != std::string::npos) return ChatFormat::CHATML;
  if (tpl.find("<|start_header_id|>") != std::string::npos) return ChatFormat::LLAMA3;
  std::string start = tpl.substr(0, 60);
  for (char& c : start)
    if (c == '\n' || c == '\r') c = ' ';
  fail(
      "chat template not recognised (supported: ChatML with <|im_start|>, Llama-3 with "
      "<|start_header_id|>); it begins: {}",
      start);
}

std::string apply_chat_template(const TokenizerSpec& spec, const std::vector<ChatMessage>& msgs,
                                bool add_generation_prompt) {
  switch (detect_chat_format(spec.chat_template)) {
    case ChatFormat::CHATML: return render_chatml(spec, msgs, add_generation_prompt);
    case ChatFormat::LLAMA3: return render_llama3(spec, msgs, add_generation_prompt);
  }
  fail("unreachable chat format");
}

std::vector<int32_t> encode_chat_prompt(const Tokenizer& tok, const std::vector<ChatMessage>& msgs) {
  return tok.encode(apply_chat_template(tok.spec(), msgs, true), true);
}

std::vector<int32_t> encode_text_prompt(const Tokenizer& tok, std::string_view text) {
  std::vector<int32_t> ids;
  if (tok.spec().add_bos && tok.spec().bos_id >= 0) ids.push_back(tok.spec().bos_id);
  const std::vector<int32_t> p = tok.encode(text, true);
  ids.insert(ids.end(), p.begin(), p.end());
  return ids;
}

}  // namespace radlads
