// radlads export MODEL --format gguf --out FILE [--dtype f32|f16|bf16|q8_0].
#include <fmt/format.h>

#include "cli/command.h"
#include "core/error.h"
#include "export/gguf_teacher.h"

namespace radlads::cli {

static CommandRegistration reg("export", "Write a model as GGUF for llama.cpp", [](CLI::App& app) {
  struct Opts {
    std::string model, format = "gguf", out, dtype = "f32";
  };
  auto o = std::make_shared<Opts>();
  app.add_option("model", o->model, "GGUF file or HF folder")->required();
  app.add_option("--format", o->format, "Output format")->check(CLI::IsMember({"gguf"}))->capture_default_str();
  app.add_option("--out", o->out, "Output path")->required();
  app.add_option("--dtype", o->dtype, "Weight type")->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}))->capture_default_str();
  return [o]() {
    Model m = load_model(o->model);
    export_teacher_gguf(m, o->out, ggml_type_from_name(o->dtype));
    fmt::print("wrote {} ({} weights as {})\n", o->out, m.weights.size(), o->dtype);
    return 0;
  };
});

}  // namespace radlads::cli
