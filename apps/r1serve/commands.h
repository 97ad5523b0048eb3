#pragma once
// The subcommands of the r1serve binary. Each cmd_*.cpp registers itself with a static CommandRegistrar, so
// adding a subcommand never touches main.cpp; CMake compiles every cmd_*.cpp into the binary.
#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace r1::app {

using Action = std::function<int()>;
// Adds a subcommand and its flags to `app`; its parse callback must set `action`.
using RegisterFn = void (*)(CLI::App& app, Action& action);

std::vector<RegisterFn>& command_registry();

struct CommandRegistrar {
  explicit CommandRegistrar(RegisterFn fn) { command_registry().push_back(fn); }
};

}  // namespace r1::app
