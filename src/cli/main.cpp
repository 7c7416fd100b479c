// radlads command-line entry point: builds the subcommands from the registry,
// parses, dispatches. User errors print one line and exit 2.
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "cli/command.h"
#include "core/error.h"

namespace radlads::cli {

namespace {
struct Entry {
  const char* name;
  const char* help;
  CommandSetup setup;
};
std::vector<Entry>& registry() {
  static std::vector<Entry> r;
  return r;
}
}  // namespace

CommandRegistration::CommandRegistration(const char* name, const char* help, CommandSetup setup) {
  registry().push_back({name, help, std::move(setup)});
}

void print_json(const nlohmann::json& j) {
  std::fflush(stdout);
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace radlads::cli

int main(int argc, char** argv) {
  using namespace radlads::cli;
  CLI::App app{"radlads: convert softmax-attention LLMs into linear-attention RNNs (RADLADS)"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "Threads (default: all cores)");
  std::string backend = "cpu";
  app.add_option("--backend", backend,
                 radlads::cuda_built() ? "Compute backend: cpu, or cuda / cuda:N (training and inference commands)"
                                       : "Compute backend (this build: cpu)")
      ->capture_default_str();
  std::map<CLI::App*, CommandRun> runs;
  for (auto& e : registry()) {
    CLI::App* sub = app.add_subcommand(e.name, e.help);
    runs[sub] = e.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  // Outlives the context: under mpirun an error on one rank stops them all
  // (MPI_Abort) instead of leaving the others in a collective.
  std::shared_ptr<radlads::Comm> comm;
  auto failed = [&](int status) {
    if (comm && comm->size() > 1) comm->abort(status);
    return status;
  };
  try {
    radlads::ExecContext ctx = radlads::ExecContext::launched(threads);
    comm = ctx.comm;
    ctx.backend = &radlads::backend_by_name(backend);
    for (auto& [sub, run] : runs)
      if (sub->parsed()) {
        // On a GPU so far: the protocol's phases (convert, align, distill,
        // extend; their held-out scores and export stay on the host) and the
        // commands that compute through a LanguageModel (infer/). The others
        // read or write models on the host only (docs/ARCHITECTURE.md).
        static const std::set<std::string> kOnGpu = {"convert", "align", "distill", "extend", "generate",
                                                     "score", "perplexity", "eval", "serve"};
        const std::string& name = sub->get_name();
        if (ctx.backend->device() != radlads::Device::Cpu && !kOnGpu.count(name))
          radlads::fail("--backend {}: `{}` does not compute on a GPU (convert, align, distill, extend, generate, "
                        "score, perplexity, eval and serve do); use --backend cpu",
                        backend, name);
        return run(ctx);
      }
  } catch (const radlads::Interrupted& e) {
    std::fflush(stdout);
    if (!comm || comm->rank() == 0) std::fprintf(stderr, "\nradlads: %s\n", e.what());
    return 128 + e.signal;  // every rank stops after the same step (run_convert agrees on it)
  } catch (const radlads::Error& e) {
    std::fflush(stdout);
    if (comm && comm->size() > 1)
      std::fprintf(stderr, "radlads: error (rank %d of %d): %s\n", comm->rank(), comm->size(), e.what());
    else
      std::fprintf(stderr, "radlads: error: %s\n", e.what());
    return failed(2);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "radlads: error: out of memory\n");
    return failed(2);
  }
  return 2;
}
