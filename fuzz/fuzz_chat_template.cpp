// Chat templates: the format detected from a tokenizer's template string, and
// a conversation (role and content split at NUL bytes) rendered in it.
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "text/chat_template.h"

using namespace radlads;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); i++)
    if (i == s.size() || s[i] == '\0') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  fuzz::expect_refusal_or_success([&] {
    TokenizerSpec spec;
    spec.chat_template = parts[0];
    std::vector<ChatMessage> msgs;
    for (size_t i = 1; i + 1 < parts.size(); i += 2) msgs.push_back({parts[i], parts[i + 1]});
    (void)detect_chat_format(spec.chat_template);
    (void)apply_chat_template(spec, msgs, true);
  });
  return 0;
}
