#pragma once
// The subcommands of the r1serve binary. Each registers its flags on the app and returns the action to run.
#include <CLI/CLI.hpp>
#include <functional>

namespace r1::app {

using Action = std::function<int()>;

// r1serve run: generate from a prompt with one sequence.
void register_run(CLI::App& app, Action& action);

}  // namespace r1::app
