// oe-eval request lines -> EvalItems.
#include "eval/oe_eval_requests.h"

#include <nlohmann/json.hpp>

#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "io/gzip_lines.h"

namespace radlads {

namespace {

// oe-eval numbers the unconditional ("Answer:" context) copy of document d as d + 1e6.
constexpr int64_t kUncondDocOffset = 1000000;

using json = nlohmann::json;

const json& field(const json& j, const char* key, json::value_t type, const GzipLineReader& in,
                  const char* where) {
  auto it = j.find(key);
  if (it == j.end()) fail("{}:{}: missing field '{}{}'", in.path(), in.line_number(), where, key);
  bool ok = it->type() == type ||
            (type == json::value_t::number_integer && it->is_number_unsigned());
  if (!ok)
    fail("{}:{}: field '{}{}' is {}, expected {}", in.path(), in.line_number(), where, key,
         it->type_name(), json(type).type_name());
  return *it;
}

const std::string& str_field(const json& j, const char* key, const GzipLineReader& in, const char* where) {
  return field(j, key, json::value_t::string, in, where).get_ref<const std::string&>();
}

int64_t int_field(const json& j, const char* key, const GzipLineReader& in, const char* where) {
  return field(j, key, json::value_t::number_integer, in, where).get<int64_t>();
}

}  // namespace

OeRequestFile load_oe_eval_requests(const std::string& path, OePrompt prompt, bool with_gold,
                                    int64_t limit) {
  GzipLineReader in(path);
  OeRequestFile out;
  std::unordered_map<int64_t, size_t> kept;  // doc_id -> index in out.items
  std::unordered_set<int64_t> seen;          // every conditional doc_id
  std::string line;
  json j;
  while (in.next(line)) {
    if (line.empty()) continue;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number that overflows
      fail("{}:{}: not valid JSON ({})", path, in.line_number(), e.what());
    }
    if (!j.is_object()) fail("{}:{}: a request line must be a JSON object", path, in.line_number());
    int64_t doc_id = int_field(j, "doc_id", in, "");
    if (doc_id >= kUncondDocOffset) continue;
    if (doc_id < 0) fail("{}:{}: negative doc_id {}", path, in.line_number(), doc_id);
    if (seen.insert(doc_id).second) out.n_docs++;
    bool keep = kept.count(doc_id) > 0;
    if (!keep) {
      if (limit >= 0 && int64_t(out.items.size()) >= limit) continue;
      kept[doc_id] = out.items.size();
      out.items.emplace_back();
      out.items.back().id = std::to_string(doc_id);
    }
    EvalItem& item = out.items[kept[doc_id]];
    const json& req = field(j, "request", json::value_t::object, in, "");
    const std::string& ctx = str_field(req, "context", in, "request.");
    const std::string& cont = str_field(req, "continuation", in, "request.");
    int64_t idx = int_field(j, "idx", in, "");
    if (idx != int64_t(item.choices.size()))
      fail("{}:{}: choice idx {} of document {} is out of order (expected {})", path,
           in.line_number(), idx, doc_id, item.choices.size());
    std::string context;
    switch (prompt) {
      case OePrompt::Request:
        context = ctx;
        break;
      case OePrompt::DocQuery: {
        const json& doc = field(j, "doc", json::value_t::object, in, "");
        context = str_field(doc, "query", in, "doc.");
        // The few-shot prompt must end with the 0-shot one, or this is not the file we think.
        if (ctx.size() < context.size() || ctx.compare(ctx.size() - context.size(), context.size(), context) != 0)
          fail("{}:{}: request.context does not end with doc.query", path, in.line_number());
        break;
      }
      case OePrompt::PiqaQuestion: {
        const json& doc = field(j, "doc", json::value_t::object, in, "");
        context = "Question: " + str_field(doc, "goal", in, "doc.") + "\nAnswer:";
        break;
      }
    }
    item.choices.push_back({std::move(context), cont});
    if (with_gold) {
      int64_t gold = int_field(j, "label", in, "");
      if (idx == 0) item.gold = int(gold);
      if (gold != item.gold || gold < 0 || gold > 1000)
        fail("{}:{}: label {} of document {} is inconsistent or out of range", path,
             in.line_number(), gold, doc_id);
    }
  }
  if (out.n_docs == 0) fail("{}: no requests", path);
  for (const EvalItem& it : out.items) {
    if (with_gold && it.choices.size() < 2)
      fail("{}: document {} has {} choices, expected at least 2", path, it.id, it.choices.size());
    if (it.gold >= int(it.choices.size()))
      fail("{}: document {} has gold {} but {} choices", path, it.id, it.gold, it.choices.size());
  }
  return out;
}

}  // namespace radlads
