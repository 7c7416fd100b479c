// radlads perplexity MODEL --file F [--ctx N] [--dtype T] [--json]: tokenized without BOS,
// non-overlapping windows of N tokens, every token after each window's first scored.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"
#include "cli/infer_flags.h"
#include "core/file_io.h"
#include "eval/perplexity.h"
#include "text/tokenizer.h"

namespace radlads::cli {

static CommandRegistration reg("perplexity", "Perplexity of a model on a text file", [](CLI::App& app) {
  struct Opts {
    std::string dtype = "f32";
    std::string model, file;
    int ctx = 512;
    int64_t max_tokens = 0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("model", o->model, "GGUF file or HF folder")->required();
  add_dtype_flag(app, o->dtype);
  app.add_option("--file", o->file, "Text file (UTF-8)")->required();
  app.add_option("--ctx", o->ctx, "Window length in tokens")->capture_default_str();
  app.add_option("--max-tokens", o->max_tokens, "Use only the first N tokens of the file (0 = all)");
  app.add_flag("--json", o->json, kJsonHelp);
  return [o](const ExecContext& ctx) {
    std::FILE* out = human_out(o->json);
    auto lm = open_language_model(ctx.be(), o->model, infer_options(o->dtype));
    Tokenizer tok(lm->model().tokenizer);
    std::vector<int32_t> ids = tok.encode(read_text_file(o->file), /*parse_special=*/false);
    if (o->max_tokens > 0 && int64_t(ids.size()) > o->max_tokens) ids.resize(size_t(o->max_tokens));
    fmt::print(stderr, "{}: {} tokens, {} windows of {}\n", o->file, ids.size(), ids.size() / size_t(o->ctx), o->ctx);
    PerplexityResult r = perplexity(*lm, ids, o->ctx, [](int w, int n) {
      fmt::print(stderr, "\rwindow {}/{}", w, n);
      if (w == n) fmt::print(stderr, "\n");
    });
    fmt::print(out, "tokens scored {}\nmean nll      {:.6f}\nperplexity    {:.4f}\ntop-1 acc     {:.4f}\ntokens/s      {:.1f}\n",
               r.tokens, r.nll, r.ppl, double(r.top1_hits) / double(r.tokens), r.tokens_per_s);
    if (o->json)
      print_json({{"tokens", r.tokens}, {"nll", r.nll}, {"ppl", r.ppl}, {"tokens_per_s", r.tokens_per_s},
                  {"top1", double(r.top1_hits) / double(r.tokens)}, {"seconds", r.seconds}, {"ctx", o->ctx}});
    return 0;
  };
});

}  // namespace radlads::cli
