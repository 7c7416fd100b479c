// radlads generate MODEL --prompt S [--chat] [sampling options]: streams text.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "core/error.h"
#include "cli/infer_flags.h"
#include "infer/language_model.h"
#include "infer/sampling.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace radlads::cli {

static CommandRegistration reg("generate", "Generate text from a prompt", [](CLI::App& app) {
  struct Opts {
    std::string dtype = "f32";
    std::string model, prompt;
    bool chat = false;
    int max_tokens = 128;
    SamplingParams s;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("model", o->model, "GGUF file or HF folder")->required();
  add_dtype_flag(app, o->dtype);
  app.add_option("--prompt", o->prompt, "Prompt text")->required();
  app.add_flag("--chat", o->chat, "Wrap the prompt in the model's chat template");
  app.add_option("--max-tokens", o->max_tokens, "Tokens to generate")->capture_default_str();
  app.add_option("--temp", o->s.temp, "Temperature (0 = greedy)")->capture_default_str();
  app.add_option("--top-k", o->s.top_k, "Top-k (0 = off)")->capture_default_str();
  app.add_option("--top-p", o->s.top_p, "Top-p (1 = off)")->capture_default_str();
  app.add_option("--seed", o->s.seed, "Random seed")->capture_default_str();
  return [o](const ExecContext& ctx) {
    auto lm = open_language_model(ctx.be(), o->model, infer_options(o->dtype));
    Tokenizer tok(lm->model().tokenizer);
    const std::vector<int32_t> ids =
        o->chat ? encode_chat_prompt(tok, {{"user", o->prompt}}) : encode_text_prompt(tok, o->prompt);
    if (ids.empty()) fail("the prompt is empty");
    auto state = lm->new_state(int(ids.size()) + o->max_tokens);
    std::vector<float> logits(size_t(lm->n_vocab()));
    Sampler sampler(o->s);
    if (!o->chat) fmt::print("{}", o->prompt);
    auto t0 = std::chrono::steady_clock::now();
    state->feed(ids.data(), int(ids.size()), logits.data());
    auto t1 = std::chrono::steady_clock::now();
    int n = 0;
    for (; n < o->max_tokens; n++) {
      int32_t next = sampler.sample(logits);
      if (ends_generation(tok, next)) break;
      std::string piece = tok.decode(std::span<const int32_t>(&next, 1));
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      state->feed(&next, 1, logits.data());
    }
    auto t2 = std::chrono::steady_clock::now();
    fmt::print("\n");
    const double prompt_s = std::chrono::duration<double>(t1 - t0).count();
    fmt::print(stderr, "prompt {} tokens in {:.2f} s ({:.1f} tokens/s); generated {} tokens at {:.1f} tokens/s\n",
               ids.size(), prompt_s, double(ids.size()) / std::max(1e-9, prompt_s), n,
               n / std::max(1e-9, std::chrono::duration<double>(t2 - t1).count()));
    return 0;
  };
});

}  // namespace radlads::cli
