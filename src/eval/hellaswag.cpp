// HellaSwag rows -> EvalItems with the harness's prompt.
#include "eval/hellaswag.h"

#include <cctype>

#include "core/error.h"
#include "eval/arrow_ipc.h"
#include "eval/python_strip.h"

namespace radlads {

namespace {

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t at = s.find(from, pos);
    if (at == std::string::npos) break;
    out.append(s, pos, at - pos);
    out += to;
    pos = at + from.size();  // scanning on after the replacement: no overlaps, no cascades
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string capitalize_ascii(const std::string& s) {
  std::string out = s;
  for (size_t i = 0; i < out.size(); i++) {
    unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x80) out[i] = char(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

}  // namespace

std::string hellaswag_preprocess(std::string_view text) {
  std::string s(python_strip(text));
  s = replace_all(s, " [title]", ". ");
  // re.sub(r"\[.*?\]", "", s): from a '[' to the first ']' after it, unless a
  // newline comes first ('.' does not match it); then the scan moves on.
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '[') {
      size_t close = s.find(']', i + 1);
      if (close != std::string::npos && s.find('\n', i + 1) > close) {
        i = close;
        continue;
      }
    }
    out += s[i];
  }
  return replace_all(out, "  ", " ");
}

HellaswagData load_hellaswag(const std::string& path, int64_t limit) {
  ArrowTable t = read_arrow_ipc(path);
  using K = ArrowColumn::Kind;
  const auto& activity = t.column("activity_label", K::Utf8).strings;
  const auto& ctx_a = t.column("ctx_a", K::Utf8).strings;
  const auto& ctx_b = t.column("ctx_b", K::Utf8).strings;
  const auto& endings = t.column("endings", K::Utf8List).lists;
  const auto& label = t.column("label", K::Utf8).strings;
  HellaswagData out;
  out.n_docs = t.n_rows;
  size_t n = size_t(t.n_rows);
  if (limit >= 0) n = std::min(n, size_t(limit));
  for (size_t i = 0; i < n; i++) {
    EvalItem item;
    item.id = std::to_string(i);
    const std::string ctx =
        hellaswag_preprocess(activity[i] + ": " + ctx_a[i] + " " + capitalize_ascii(ctx_b[i]));
    for (const std::string& e : endings[i]) item.choices.push_back({ctx, " " + hellaswag_preprocess(e)});
    const std::string& l = label[i];
    if (l.size() != 1 || l[0] < '0' || l[0] > '9' || size_t(l[0] - '0') >= item.choices.size())
      fail("{}: row {} has label '{}' for {} endings", path, i, l, item.choices.size());
    if (item.choices.size() < 2) fail("{}: row {} has {} endings", path, i, item.choices.size());
    item.gold = l[0] - '0';
    out.items.push_back(std::move(item));
  }
  return out;
}

}  // namespace radlads
