// Subcommand registry. Each src/cli/cmd_*.cpp adds one static
// CommandRegistration; its setup declares the options on the CLI11
// subcommand and returns the function that runs it (returning the exit code).
// main.cpp only dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace radlads::cli {

using CommandRun = std::function<int()>;
using CommandSetup = std::function<CommandRun(CLI::App&)>;

struct CommandRegistration {
  CommandRegistration(const char* name, const char* help, CommandSetup setup);
};

// Commands that report numbers print a JSON object as the last line with --json.
void print_json(const nlohmann::json& j);

}  // namespace radlads::cli
