// Subcommand registry. Each src/cli/cmd_*.cpp adds one static
// CommandRegistration; its setup declares the options on the CLI11
// subcommand and returns the function that runs it (returning the exit code).
// main.cpp only dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <string>

#include "engine/context.h"

namespace radlads::cli {

using radlads::ExecContext;

// Runs the parsed command in the execution context main() built from the
// global flags (--threads).
using CommandRun = std::function<int(const ExecContext&)>;
using CommandSetup = std::function<CommandRun(CLI::App&)>;

struct CommandRegistration {
  CommandRegistration(const char* name, const char* help, CommandSetup setup);
};

// With --json, stdout holds exactly one JSON document (print_json) and every
// human-readable line goes to stderr: human_out(json) is where a command
// writes its report.
void print_json(const nlohmann::json& j);
inline std::FILE* human_out(bool json) { return json ? stderr : stdout; }
inline constexpr const char* kJsonHelp = "Print one JSON document on stdout (the report goes to stderr)";

}  // namespace radlads::cli
