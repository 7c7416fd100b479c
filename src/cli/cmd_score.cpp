// radlads score MODEL --ids-file F --logits-out OUT.npy: float32 logits (T,V)
// of the whitespace-separated token ids in F, from a fresh state.
#include <fmt/format.h>

#include <sstream>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "cli/infer_flags.h"
#include "infer/language_model.h"
#include "io/npy.h"

namespace radlads::cli {

static CommandRegistration reg("score", "Write the logits of a token sequence as .npy", [](CLI::App& app) {
  struct Opts {
    std::string dtype = "f32";
    std::string model, ids_file, out;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("model", o->model, "GGUF file or HF folder")->required();
  add_dtype_flag(app, o->dtype);
  app.add_option("--ids-file", o->ids_file, "Token ids separated by whitespace")->required();
  app.add_option("--logits-out", o->out, "Output .npy (float32, shape [T, V])")->required();
  return [o](const ExecContext& ctx) {
    auto lm = open_language_model(ctx.be(), o->model, infer_options(o->dtype));
    std::istringstream in(read_text_file(o->ids_file));
    std::vector<int32_t> ids;
    std::string w;
    while (in >> w) {
      char* end = nullptr;
      long v = std::strtol(w.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v >= lm->n_vocab())
        fail("{}: '{}' is not a token id of this model (0..{})", o->ids_file, w, lm->n_vocab() - 1);
      ids.push_back(int32_t(v));
    }
    if (ids.empty()) fail("{}: no token ids", o->ids_file);
    std::vector<float> logits(ids.size() * size_t(lm->n_vocab()));
    lm->score(ids.data(), 1, int(ids.size()), logits.data());
    write_npy(o->out, {int64_t(ids.size()), lm->n_vocab()}, logits);
    fmt::print("wrote {} ({} x {})\n", o->out, ids.size(), lm->n_vocab());
    return 0;
  };
});

}  // namespace radlads::cli
