// r1serve list: the models in r1serve's store, one line each.
#include <fmt/format.h>

#include <cstdio>

#include "commands.h"
#include "store/model_store.h"

namespace r1::app {

namespace {

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = double(b);
  int u = 0;
  while (v >= 1000 && u < 4) v /= 1000, ++u;
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string human_count(uint64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.1f}B", double(n) / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.1f}M", double(n) / 1e6);
  if (n >= 1'000) return fmt::format("{:.1f}K", double(n) / 1e3);
  return std::to_string(n);
}

int list(const std::string& store_flag) {
  store::ModelStore s(store::default_store_root(store_flag));
  const auto entries = s.list();
  std::printf("%-32s %-20s %-8s %-12s %-10s %-20s %s\n", "NAME", "ARCHITECTURE", "PARAMS", "WEIGHTS", "SIZE",
              "IMPORTED", "SOURCE");
  for (const auto& e : entries) {
    const auto& m = e.manifest;
    const std::string weights = m.weights_format == "packed" ? "packed " + m.dtype : m.weights_format;
    std::printf("%-32s %-20s %-8s %-12s %-10s %-20s %s\n", e.name.str().c_str(), m.architecture.c_str(),
                human_count(m.parameters).c_str(), weights.c_str(), human_bytes(m.total_bytes()).c_str(),
                m.imported_at.c_str(), m.source.c_str());
  }
  return 0;
}

void register_list(CLI::App& app, Action& action) {
  auto store_flag = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("list", "List the models in r1serve's model store");
  cmd->add_option("--store", *store_flag,
                  "Model store folder (default: $R1SERVE_HOME, else ~/.cache/r1serve)");
  cmd->callback([&action, store_flag] { action = [store_flag] { return list(*store_flag); }; });
}

const CommandRegistrar kRegisterList(register_list);

}  // namespace
}  // namespace r1::app
