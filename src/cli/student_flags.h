// The step-0 student options shared by `init`, `convert` and the single-step
// training commands: declared once, resolved against the teacher's defaults.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <string>

#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/student_gguf.h"
#include "models/student_options.h"

namespace radlads::cli {

struct StudentFlags {
  std::string arch, target = "radlads", gate;
  int use_rope = -1, tokenshift = -1, balance = -1, groupnorm = -1, attention_layers = 0;

  void add_to(CLI::App& app, bool arch_required) {
    auto* a = app.add_option("--arch", arch, "Student architecture")->check(CLI::IsMember(mixer_arch_names()));
    if (arch_required) a->required();
    app.add_option("--use-rope", use_rope, "RoPE on r,k: 0 or 1 (default: rwkv6 0, rwkv7 1)")->check(CLI::Range(0, 1));
    app.add_option("--tokenshift", tokenshift, "RAD-RWKV6 token shift: 0 or 1 (default 1)")->check(CLI::Range(0, 1));
    app.add_option("--balance-state", balance, "balance_state: 0 or 1 (default 1)")->check(CLI::Range(0, 1));
    app.add_option("--groupnorm", groupnorm, "groupnorm_att (GroupNorm ln_x on the time mix's output): 0 or 1 (default 0)")
        ->check(CLI::Range(0, 1));
    app.add_option("--gate", gate,
                   "Output gate (the reference's gate_rank_type): full (1, gate.weight), lowrank (2, g1/g2) or none "
                   "(0) (default: rwkv6 full, rwkv7 lowrank)")
        ->check(CLI::IsMember({"none", "full", "lowrank"}));
    app.add_option("--attention-layers", attention_layers, "Hybrid: keep softmax attention in the last N layers");
    app.add_option("--target", target,
                   "Where the student will run: radlads (the paper's options), or llama.cpp (options its "
                   "rwkv6qwen2/arwkv7 graphs compute: no RoPE, balance_state 1 for rwkv6 and 0 for rwkv7, no hybrid)")
        ->check(CLI::IsMember({"radlads", "llama.cpp"}))
        ->capture_default_str();
  }

  // The paper's defaults for this arch and teacher (or --target llama.cpp's),
  // overridden by the flags. A student llama.cpp could not run: an error
  // naming why under --target llama.cpp, else a warning on stderr now rather
  // than at export after the conversion.
  StudentOptions resolve(const TeacherConfig& teacher) const {
    StudentOptions s = StudentOptions::defaults(student_arch_from_name(arch), teacher);
    if (target == "llama.cpp") {
      s.use_rope = false;
      s.balance_state = s.arch == StudentArch::RWKV6;  // what each llama.cpp graph computes
    }
    if (use_rope >= 0) s.use_rope = use_rope;
    if (tokenshift >= 0) s.use_tokenshift = tokenshift && s.arch == StudentArch::RWKV6;
    if (balance >= 0) s.balance_state = balance;
    if (groupnorm >= 0) s.groupnorm_att = groupnorm;
    if (!gate.empty()) s.gate = gate_rank_from_name(gate);
    s.num_attention_layers = attention_layers;
    const std::string why = student_gguf_options_blocker(teacher, s);
    if (!why.empty() && target == "llama.cpp") fail("--target llama.cpp: this {} student cannot run in llama.cpp: {}", arch, why);
    if (!why.empty())
      fmt::print(stderr,
                 "radlads: note: this {} student will not export to llama.cpp GGUF ({}); --target llama.cpp picks "
                 "options llama.cpp runs\n",
                 arch, why);
    return s;
  }
};

}  // namespace radlads::cli
