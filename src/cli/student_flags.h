// The step-0 student options shared by `init`, `convert` and the single-step
// training commands: declared once, resolved against the teacher's defaults.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "models/mixers/mixer_arch.h"
#include "models/student_options.h"

namespace radlads::cli {

struct StudentFlags {
  std::string arch;
  int use_rope = -1, tokenshift = -1, balance = -1, groupnorm = -1, attention_layers = 0;

  void add_to(CLI::App& app, bool arch_required) {
    auto* a = app.add_option("--arch", arch, "Student architecture")->check(CLI::IsMember(mixer_arch_names()));
    if (arch_required) a->required();
    app.add_option("--use-rope", use_rope, "RoPE on r,k: 0 or 1 (default: rwkv6 0, rwkv7 1)")->check(CLI::Range(0, 1));
    app.add_option("--tokenshift", tokenshift, "RAD-RWKV6 token shift: 0 or 1 (default 1)")->check(CLI::Range(0, 1));
    app.add_option("--balance-state", balance, "balance_state: 0 or 1 (default 1)")->check(CLI::Range(0, 1));
    app.add_option("--groupnorm", groupnorm, "RAD-RWKV7 groupnorm_att: 0 or 1 (default 0)")->check(CLI::Range(0, 1));
    app.add_option("--attention-layers", attention_layers, "Hybrid: keep softmax attention in the last N layers");
  }

  // The paper's defaults for this arch and teacher, overridden by the flags.
  StudentOptions resolve(const TeacherConfig& teacher) const {
    StudentOptions s = StudentOptions::defaults(student_arch_from_name(arch), teacher);
    if (use_rope >= 0) s.use_rope = use_rope;
    if (tokenshift >= 0) s.use_tokenshift = tokenshift && s.arch == StudentArch::RWKV6;
    if (balance >= 0) s.balance_state = balance;
    if (groupnorm >= 0) s.groupnorm_att = groupnorm && s.arch == StudentArch::RWKV7;
    s.num_attention_layers = attention_layers;
    return s;
  }
};

}  // namespace radlads::cli
