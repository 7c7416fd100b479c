// radlads init --teacher T --arch rad-rwkv6|rad-rwkv7 [options] --out DIR:
// step 0 of RADLADS (weight transfer + init of the new tensors).
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/student_flags.h"
#include "models/hf_folder.h"
#include "models/student_weights.h"

namespace radlads::cli {

static CommandRegistration reg("init", "Step 0: make a student from a teacher", [](CLI::App& app) {
  struct Opts {
    std::string teacher, out;
    StudentFlags student;
    uint64_t seed = 1234;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--teacher", o->teacher, "Teacher GGUF file or HF folder")->required();
  app.add_option("--out", o->out, "Output folder (must not exist)")->required();
  o->student.add_to(app, true);
  app.add_option("--seed", o->seed, "Seed of the random inits")->capture_default_str();
  return [o](const ExecContext& ctx) {
    Model teacher = open_model(o->teacher);
    StudentOptions s = o->student.resolve(teacher.cfg);
    Model m = init_student(teacher, s, o->seed);
    fmt::print("{}\n", student_config_json(m.cfg, m.student).dump(2));
    save_model_hf(m, o->out);
    fmt::print("wrote {} ({} tensors, {:.1f} M params)\n", o->out, m.weights.size(), m.n_params() / 1e6);
    return 0;
  };
});

}  // namespace radlads::cli
