// radlads data prepare --tokenizer MODEL --out DIR [--heldout-every N] INPUTS...
// radlads data inspect DIR_OR_PREFIX [--tokenizer MODEL] [--tokens N]
// prepare tokenizes text files into train/held-out binidx (src/data/prepare.h);
// inspect prints a dataset's counts and its first tokens decoded.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.h"
#include "core/error.h"
#include "data/binidx.h"
#include "data/prepare.h"
#include "text/gguf_tokenizer.h"
#include "io/json_file.h"

namespace radlads::cli {

namespace {

struct PrepareCliOptions {
  std::string tokenizer, out;
  std::vector<std::string> inputs;
  int64_t heldout_every = 50;
  bool json = false;
};

struct InspectOptions {
  std::string path, tokenizer;
  int tokens = 32;
  bool json = false;
};

int run_prepare(const PrepareCliOptions& o) {
  std::FILE* out = human_out(o.json);
  fmt::print(out, "data prepare: {} input(s) -> {} (tokenizer {}, held-out every {} documents)\n", o.inputs.size(),
             o.out, o.tokenizer, o.heldout_every);
  std::fflush(out);
  const Tokenizer tok = load_tokenizer(o.tokenizer);
  PrepareOptions po;
  po.heldout_every = o.heldout_every;
  po.tokenizer_path = o.tokenizer;
  const PrepareResult r = prepare_dataset(tok, o.inputs, o.out, po);
  const int64_t tokens = r.train.tokens + r.heldout.tokens;
  const double secs = std::max(r.seconds, 1e-9);
  fmt::print(out, "train:   {} documents, {} tokens\n", r.train.docs, r.train.tokens);
  fmt::print(out, "heldout: {} documents, {} tokens\n", r.heldout.docs, r.heldout.tokens);
  if (r.documents == "paragraphs")
    fmt::print(out, "one plain-text input: its paragraphs (text between blank lines) are the documents\n");
  if (r.documents == "tail")
    fmt::print(out, "one plain-text input without a blank line: one document, whose last {} tokens are the held-out "
                    "split\n", r.heldout.tokens);
  fmt::print(out, "{} files, {:.1f} MB of text, dtype {}, {:.1f} s, {:.0f} tokens/s ({:.2f} MB/s)\n", r.files,
             r.text_bytes / 1e6, dtype_name(r.dtype), r.seconds, tokens / secs, r.text_bytes / 1e6 / secs);
  if (o.json)
    print_json({{"out", o.out},
                {"train_docs", r.train.docs},
                {"train_tokens", r.train.tokens},
                {"heldout_docs", r.heldout.docs},
                {"heldout_tokens", r.heldout.tokens},
                {"dtype", dtype_name(r.dtype)},
                {"documents", r.documents},
                {"files", r.files},
                {"text_bytes", r.text_bytes},
                {"seconds", r.seconds},
                {"tokens_per_s", tokens / secs}});
  return 0;
}

int run_inspect(const InspectOptions& o) {
  std::FILE* out = human_out(o.json);
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> sets;  // (name, prefix)
  std::string tokenizer = o.tokenizer;
  std::error_code ec;
  if (fs::is_directory(o.path, ec)) {
    const std::string meta_path = (fs::path(o.path) / "meta.json").string();
    const nlohmann::json meta = read_json_file(meta_path);
    if (tokenizer.empty() && meta.contains("tokenizer") && meta["tokenizer"].is_string())
      tokenizer = meta["tokenizer"].get<std::string>();
    for (const char* s : {"train", "heldout"}) sets.push_back({s, (fs::path(o.path) / s).string()});
  } else {
    sets.push_back({"data", o.path});
  }
  std::unique_ptr<Tokenizer> tok;
  if (!tokenizer.empty() && o.tokens > 0) tok = std::make_unique<Tokenizer>(load_tokenizer(tokenizer));
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, prefix] : sets) {
    const TokenDataset d = TokenDataset::open(prefix);
    fmt::print(out, "{}: {} documents, {} tokens, dtype {}\n", name, d.n_docs(), d.n_tokens(), dtype_name(d.dtype()));
    std::vector<int32_t> ids(size_t(std::min<int64_t>(o.tokens, d.n_tokens())));
    d.read(0, int64_t(ids.size()), ids.data());
    if (!ids.empty()) {
      fmt::print(out, "  first {} ids: {}\n", ids.size(), fmt::join(ids, " "));
      if (tok) fmt::print(out, "  decoded: {:?}\n", tok->decode(ids));
    }
    j[name] = {{"docs", d.n_docs()}, {"tokens", d.n_tokens()}, {"dtype", dtype_name(d.dtype())}, {"first_ids", ids}};
  }
  if (o.json) print_json(j);
  return 0;
}

}  // namespace

static CommandRegistration reg("data", "Prepare and inspect tokenized training data (binidx)", [](CLI::App& app) {
  app.require_subcommand(1);
  auto p = std::make_shared<PrepareCliOptions>();
  CLI::App* prep = app.add_subcommand("prepare", "Tokenize text files into OUT/{train,heldout}.{bin,idx}");
  prep->add_option("--tokenizer", p->tokenizer, "GGUF file or HF folder whose tokenizer to use")->required();
  prep->add_option("--out", p->out, "Output folder (must not exist)")->required();
  prep->add_option("--heldout-every", p->heldout_every,
                   "Hold out documents 0, N, 2N, ... (0: no held-out split)")
      ->capture_default_str();
  prep->add_option("inputs", p->inputs,
                   "Text files (.txt or any: one document each; .jsonl: \"text\" per line; .gz), "
                   "folders, or @LIST files")
      ->required();
  prep->add_flag("--json", p->json, kJsonHelp);

  auto q = std::make_shared<InspectOptions>();
  CLI::App* insp = app.add_subcommand("inspect", "Print a dataset's counts and first tokens");
  insp->add_option("path", q->path, "Folder written by prepare, or a binidx prefix")->required();
  insp->add_option("--tokenizer", q->tokenizer, "Tokenizer to decode with (default: the one in meta.json)");
  insp->add_option("--tokens", q->tokens, "How many first tokens to show")->capture_default_str();
  insp->add_flag("--json", q->json, kJsonHelp);

  return [p, q, prep](const ExecContext& ctx) { return prep->parsed() ? run_prepare(*p) : run_inspect(*q); };
});

}  // namespace radlads::cli
