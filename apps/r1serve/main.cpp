// r1serve: one binary, several subcommands (see commands.h).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "core/error.h"

namespace r1::app {
std::vector<RegisterFn>& command_registry() {
  static std::vector<RegisterFn> registry;
  return registry;
}
}  // namespace r1::app

int main(int argc, char** argv) {
  // stdout carries the product (generated text, ids, JSON); logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("r1serve"));
  CLI::App app{"r1serve: fast inference and serving for DeepSeek-R1 distilled models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "r1serve 0.1.0");
  r1::app::Action action;
  for (r1::app::RegisterFn reg : r1::app::command_registry()) reg(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action();
  } catch (const r1::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fatal: %s\n", e.what());
    return 2;
  }
}
