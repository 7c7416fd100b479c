// radlads system [--bench] [--json]: what this machine gives radlads — the
// CPU and its vector features, the kernel set of our own ops, the sgemm
// library and the kernels it picked, OpenBLAS's core (the double path), the
// thread count, and whether the teacher's GEMMs run in bf16. --bench adds the
// measured sgemm ceiling (ours and OpenBLAS's, n = 1024 and 2048).
#include <fmt/format.h>

#include <memory>

#include "cli/command.h"
#include "core/cpu.h"
#include "core/sysinfo.h"
#include "backend/cpu/sgemm_ceiling.h"
#include "models/teacher.h"
#include "backend/cpu/blas.h"
#include "backend/cpu/matmul_bf16.h"

namespace radlads::cli {

namespace {

struct SystemOptions {
  bool bench = false, json = false;
};

nlohmann::json system_json(const ExecContext& ctx, bool bench) {
  const CpuFeatures& f = cpu_features();
  nlohmann::json isas = nlohmann::json::array();
  for (Isa i : supported_isas()) isas.push_back(isa_name(i));
  nlohmann::json j = {{"cpu", {{"vendor", f.vendor}, {"brand", f.brand}, {"family", f.family}, {"model", f.model},
                               {"features", f.flags()}}},
                      {"kernels", isa_name(active_isa())},
                      {"kernels_supported", isas},
                      {"sgemm", blas_sgemm_info()},
                      {"dgemm", blas_openblas_info()},
                      {"teacher_gemm_auto", teacher_gemm_name(teacher_gemm_from_name("auto", ctx.be()))},
                      {"threads", ctx.threads},
                      {"engine", ctx.to_json()}};
  if (bench) {
    const SgemmCeiling c = measure_sgemm_ceiling();
    j["sgemm_gflops"] = {{"ours", c.ours}, {"openblas", c.openblas}, {"ceiling", c.gflops}, {"best", c.which}};
  }
  return j;
}

}  // namespace

static CommandRegistration reg("system", "Show the CPU, the kernels and libraries radlads runs on", [](CLI::App& app) {
  auto o = std::make_shared<SystemOptions>();
  app.add_flag("--bench", o->bench, "Also measure the sgemm ceiling (a few seconds)");
  app.add_flag("--json", o->json, kJsonHelp);
  return [o](const ExecContext& ctx) {
    const nlohmann::json j = system_json(ctx, o->bench);
    if (o->json) {
      print_json(j);
      return 0;
    }
    fmt::print("cpu        {} ({}, family {} model {})\n", j["cpu"]["brand"].get<std::string>(),
               j["cpu"]["vendor"].get<std::string>(), j["cpu"]["family"].get<int>(), j["cpu"]["model"].get<int>());
    fmt::print("features   {}\n", j["cpu"]["features"].get<std::string>());
    fmt::print("kernels    {} (supported: {}; RADLADS_ISA=avx2|avx512 overrides)\n", j["kernels"].get<std::string>(),
               j["kernels_supported"].dump());
    fmt::print("sgemm      {}\n", j["sgemm"].get<std::string>());
    fmt::print("dgemm      {}\n", j["dgemm"].get<std::string>());
    fmt::print("teacher    {} GEMMs in steps 1-2 (--teacher-gemm auto)\n", j["teacher_gemm_auto"].get<std::string>());
    fmt::print("threads    {}\n", j["threads"].get<int>());
    if (o->bench)
      fmt::print("sgemm      ours {:.1f} GFLOP/s, OpenBLAS {:.1f} GFLOP/s: ceiling {:.1f} ({})\n",
                 j["sgemm_gflops"]["ours"].get<double>(), j["sgemm_gflops"]["openblas"].get<double>(),
                 j["sgemm_gflops"]["ceiling"].get<double>(), j["sgemm_gflops"]["best"].get<std::string>());
    return 0;
  };
});

}  // namespace radlads::cli
