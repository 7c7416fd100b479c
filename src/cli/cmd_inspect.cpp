// radlads inspect MODEL [--json]: architecture, sizes, dtypes, tokenizer.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"
#include "models/model.h"

namespace radlads::cli {

static CommandRegistration reg("inspect", "Show a model's architecture, sizes and tokenizer", [](CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  app.add_option("model", *path, "GGUF file or HF folder")->required();
  app.add_flag("--json", *json, kJsonHelp);
  return [=](const ExecContext& ctx) {
    Model m = open_model(*path);
    const TeacherConfig& c = m.cfg;
    nlohmann::json dtypes = m.source_dtypes;
    // With --json, stdout holds only the JSON document; the table goes to stderr.
    std::FILE* out = *json ? stderr : stdout;
    fmt::print(out, "model       {} ({})\n", m.path, m.format);
    fmt::print(out, "arch        {}\n", c.arch);
    fmt::print(out, "layers      {}\nembd        {}\nheads       {} (kv {}, head dim {})\n", c.n_layer,
               c.n_embd, c.n_head, c.n_head_kv, c.head_dim);
    fmt::print(out, "ffn         {}\nvocab       {}\ncontext     {}\n", c.n_ff, c.n_vocab, c.n_ctx_train);
    fmt::print(out, "rope theta  {}\nrms eps     {}\ntied head   {}\nqkv bias    {}\n", c.rope_theta,
               c.rms_eps, c.tie_embeddings, c.attn_bias);
    const StudentOptions& so = m.student;
    if (so.is_student())
      fmt::print(out, "student     {} (rope {}, tokenshift {}, balance_state {}, groupnorm {}, softmax layers {})\n",
                 so.arch_name(), so.use_rope, so.use_tokenshift, so.balance_state, so.groupnorm_att,
                 so.num_attention_layers);
    fmt::print(out, "params      {} ({:.1f} M)\n", m.n_params(), double(m.n_params()) / 1e6);
    fmt::print(out, "dtypes      {}\n", dtypes.dump());
    fmt::print(out, "tokenizer   {} / pre '{}', {} tokens, {} merges, bos {}, eos {}\n", m.tokenizer.model,
               m.tokenizer.pre, m.tokenizer.tokens.size(), m.tokenizer.merges.size(), m.tokenizer.bos_id,
               m.tokenizer.eos_id);
    if (*json) {
      nlohmann::json j = c.to_json();
      j["n_params"] = m.n_params();
      j["format"] = m.format;
      if (so.is_student()) j["student"] = student_config_json(c, so);
      j["student_arch"] = so.is_student() ? so.arch_name() : "";
      j["dtypes"] = dtypes;
      j["tokenizer"] = {{"model", m.tokenizer.model}, {"pre", m.tokenizer.pre},
                        {"n_tokens", m.tokenizer.tokens.size()}, {"n_merges", m.tokenizer.merges.size()},
                        {"bos", m.tokenizer.bos_id}, {"eos", m.tokenizer.eos_id}};
      print_json(j);
    }
    return 0;
  };
});

}  // namespace radlads::cli
