// radlads init --teacher T --arch rad-rwkv6|rad-rwkv7 [options] --out DIR:
// step 0 of RADLADS (weight transfer + init of the new tensors).
#include <fmt/format.h>

#include "cli/command.h"
#include "export/hf_folder.h"
#include "models/student_weights.h"

namespace radlads::cli {

static CommandRegistration reg("init", "Step 0: make a student from a teacher", [](CLI::App& app) {
  struct Opts {
    std::string teacher, arch, out;
    int use_rope = -1, tokenshift = -1, balance = -1, groupnorm = -1, attention_layers = 0;
    uint64_t seed = 1234;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--teacher", o->teacher, "Teacher GGUF file or HF folder")->required();
  app.add_option("--arch", o->arch, "Student architecture")->required()->check(CLI::IsMember({"rad-rwkv6", "rad-rwkv7"}));
  app.add_option("--out", o->out, "Output folder (must not exist)")->required();
  app.add_option("--use-rope", o->use_rope, "RoPE on r,k: 0 or 1 (default: rwkv6 0, rwkv7 1)")->check(CLI::Range(0, 1));
  app.add_option("--tokenshift", o->tokenshift, "RAD-RWKV6 token shift: 0 or 1 (default 1)")->check(CLI::Range(0, 1));
  app.add_option("--balance-state", o->balance, "balance_state: 0 or 1 (default 1)")->check(CLI::Range(0, 1));
  app.add_option("--groupnorm", o->groupnorm, "RAD-RWKV7 groupnorm_att: 0 or 1 (default 0)")->check(CLI::Range(0, 1));
  app.add_option("--attention-layers", o->attention_layers, "Hybrid: keep softmax attention in the last N layers");
  app.add_option("--seed", o->seed, "Seed of the random inits")->capture_default_str();
  return [o]() {
    Model teacher = load_model(o->teacher);
    StudentOptions s = StudentOptions::defaults(student_arch_from_name(o->arch), teacher.cfg);
    if (o->use_rope >= 0) s.use_rope = o->use_rope;
    if (o->tokenshift >= 0) s.use_tokenshift = o->tokenshift && s.arch == StudentArch::RWKV6;
    if (o->balance >= 0) s.balance_state = o->balance;
    if (o->groupnorm >= 0) s.groupnorm_att = o->groupnorm && s.arch == StudentArch::RWKV7;
    s.num_attention_layers = o->attention_layers;
    Model m = init_student(teacher, s, o->seed);
    fmt::print("{}\n", student_config_json(m.cfg, m.student).dump(2));
    save_model_hf(m, o->out);
    fmt::print("wrote {} ({} tensors, {:.1f} M params)\n", o->out, m.weights.size(), m.n_params() / 1e6);
    return 0;
  };
});

}  // namespace radlads::cli
