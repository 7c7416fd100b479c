// radlads serve MODEL [--host H --port P --max-sessions N --max-tokens N --ctx N --dtype T]:
// an OpenAI-compatible HTTP server (serve/server.h).
#include <filesystem>

#include "cli/command.h"
#include "cli/infer_flags.h"
#include "core/error.h"
#include "infer/language_model.h"
#include "serve/server.h"
#include "text/tokenizer.h"

namespace radlads::cli {

static CommandRegistration reg("serve", "Serve a model over an OpenAI-compatible HTTP API", [](CLI::App& app) {
  struct Opts {
    std::string model, dtype = "f32";
    serve::ServeOptions s;
    int max_body_kb = 1024;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("model", o->model, "GGUF file or HF folder")->required();
  add_dtype_flag(app, o->dtype);
  app.add_option("--host", o->s.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", o->s.port, "Port (0: any free port, printed)")->capture_default_str()->check(
      CLI::Range(0, 65535));
  app.add_option("--max-sessions", o->s.limits.max_sessions,
                 "Sequences decoded at once; also requests waiting, and session states kept")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--max-tokens", o->s.limits.max_tokens, "Largest max_tokens a request may ask")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--ctx", o->s.limits.ctx, "Tokens of one sequence (prompt + generated)")
      ->capture_default_str()
      ->check(CLI::Range(16, 1 << 22));
  app.add_option("--session-dir", o->s.session_dir,
                 "Keep the kept sessions across restarts: saved here at shutdown, restored at start (created if absent)");
  app.add_option("--max-body-kb", o->max_body_kb, "Largest request body (KiB)")->capture_default_str()->check(
      CLI::Range(1, 1 << 20));
  return [o](const ExecContext& ctx) {
    if (ctx.world() > 1) fail("serve runs in one process (not under mpirun)");
    if (!o->s.session_dir.empty()) {  // checked before the model loads
      std::error_code ec;
      std::filesystem::create_directories(o->s.session_dir, ec);
      if (!std::filesystem::is_directory(o->s.session_dir))
        fail("{}: --session-dir is not a folder radlads can create", o->s.session_dir);
    }
    auto lm = open_language_model(ctx.be(), o->model, infer_options(o->dtype));
    Tokenizer tok(lm->model().tokenizer);
    serve::ServeOptions s = o->s;
    s.limits.max_body = size_t(o->max_body_kb) * 1024;
    s.model_name = std::filesystem::path(o->model).filename().string();
    if (s.model_name.empty()) s.model_name = std::filesystem::path(o->model).parent_path().filename().string();
    return serve::serve(*lm, tok, s);
  };
});

}  // namespace radlads::cli
