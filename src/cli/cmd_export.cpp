// radlads export MODEL --format gguf|hf --out PATH [--dtype f32|f16|bf16|q8_0|q4_0]:
// a teacher or a student as GGUF for llama.cpp, or as an HF folder. MODEL may
// also be a student GGUF we wrote (it is imported exactly).
#include <fmt/format.h>

#include <cmath>

#include "cli/command.h"
#include "core/error.h"
#include "models/mixers/mixer_arch.h"
#include "models/student_gguf.h"
#include "export/gguf_teacher.h"
#include "models/hf_folder.h"

namespace radlads::cli {

static CommandRegistration reg("export", "Write a model as GGUF for llama.cpp or as an HF folder", [](CLI::App& app) {
  struct Opts {
    std::string model, format = "gguf", out, dtype = "f32";
  };
  auto o = std::make_shared<Opts>();
  app.add_option("model", o->model, "GGUF file or HF folder (teacher or student)")->required();
  app.add_option("--format", o->format, "Output format")->check(CLI::IsMember({"gguf", "hf"}))->capture_default_str();
  app.add_option("--out", o->out, "Output file (gguf) or new folder (hf)")->required();
  app.add_option("--dtype", o->dtype, "Weight type (hf: f32, f16, bf16)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0"}))
      ->capture_default_str();
  return [o](const ExecContext& ctx) {
    if (o->format == "hf" && (o->dtype == "q8_0" || o->dtype == "q4_0"))
      fail("--dtype {}: an HF folder holds f32, f16 or bf16", o->dtype);
    Model m = open_model(o->model);
    if (o->format == "hf") {
      if (!m.student.is_student() && m.hf_config.is_null()) m.hf_config = teacher_hf_config(m.cfg);
      save_model_hf(m, o->out, o->dtype == "f32" ? StDtype::F32 : o->dtype == "f16" ? StDtype::F16 : StDtype::BF16);
    } else if (m.student.is_student()) {
      export_student_gguf(m, o->out, ggml_type_from_name(o->dtype));
      const std::string note = mixer_arch(m.student.arch).gguf_export_note(m);
      if (!note.empty()) fmt::print("{}\n", note);
    } else {
      export_teacher_gguf(m, o->out, ggml_type_from_name(o->dtype));
    }
    fmt::print("wrote {} ({} {} weights as {})\n", o->out, m.weights.size(),
               m.student.is_student() ? m.student.arch_name() : m.cfg.arch, o->dtype);
    return 0;
  };
});

}  // namespace radlads::cli
