// radlads tokenize MODEL (--text S | --file F) [--ids] [--no-special]:
// prints the token ids of a text (never with BOS), as a space-separated line
// or one "id<TAB>piece" line per token.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "text/gguf_tokenizer.h"

namespace radlads::cli {

namespace {

struct TokenizeOptions {
  std::string model, text, file;
  bool ids = false;
  bool no_special = false;
};

// Readable form of a token's bytes: valid UTF-8 characters as they are,
// backslash, tab, newline and carriage return as C escapes, every other
// control (C0, DEL, C1) or invalid byte as \xHH, so each token stays on one
// line.
std::string escape_piece(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = uint8_t(s[i]);
    const char* esc = b == '\\'   ? "\\\\"
                      : b == '\n' ? "\\n"
                      : b == '\t' ? "\\t"
                      : b == '\r' ? "\\r"
                                  : nullptr;
    if (esc || (b >= 0x20 && b < 0x7F)) {
      out += esc ? esc : std::string(1, char(b));
      ++i;
      continue;
    }
    size_t len = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (uint8_t(s[i + k]) & 0xC0) == 0x80;
    if (ok && b == 0xC2 && uint8_t(s[i + 1]) < 0xA0) ok = false;  // C1 controls (U+0085 ...)
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += fmt::format("\\x{:02X}", b);
      ++i;
    }
  }
  return out;
}

}  // namespace

static CommandRegistration reg("tokenize", "Print the token ids of a text (no BOS)", [](CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  app.add_option("model", o->model, "GGUF file or HF folder")->required();
  auto* text = app.add_option("--text", o->text, "Text to tokenize");
  auto* file = app.add_option("--file", o->file, "File whose bytes to tokenize");
  text->excludes(file);
  app.add_flag("--ids", o->ids, "Print only the ids, separated by spaces");
  app.add_flag("--no-special", o->no_special, "Treat control tokens' text as plain text");
  return [o, text, file](const ExecContext& ctx) {
    if (text->count() == 0 && file->count() == 0) fail("tokenize: give --text or --file");
    const Tokenizer tok = load_tokenizer(o->model);
    const std::string input = file->count() ? read_text_file(o->file) : o->text;
    const std::vector<int32_t> ids = tok.encode(input, !o->no_special);
    std::string out;
    if (o->ids) {
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ' ';
        out += std::to_string(ids[i]);
      }
      out += '\n';
    } else {
      for (int32_t id : ids) out += fmt::format("{}\t{}\n", id, escape_piece(tok.piece(id)));
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return 0;
  };
});

}  // namespace radlads::cli
