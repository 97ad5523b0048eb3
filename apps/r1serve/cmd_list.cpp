// r1serve list: the models in r1serve's store, then those in Ollama's store (each under the name --model
// takes: ollama:NAME:TAG), one line each; --json for scripts.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "store/gguf_summary.h"
#include "store/model_store.h"
#include "store/ollama_store.h"

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

// One Ollama model as list shows it: Ollama's manifest and config, completed from the GGUF header (the
// blob's sha256 is not checked here — that is --model's job, at load).
struct OllamaRow {
  store::OllamaModel m;
  store::GgufSummary g;
  std::string name() const { return "ollama:" + m.name.display(); }
  std::string architecture() const { return g.architecture.empty() ? m.family : g.architecture; }
  std::string params() const { return g.parameters ? human_count(g.parameters) : m.parameter_size; }
  std::string file_type() const { return g.file_type.empty() ? m.file_type : g.file_type; }
};

void print_table(const std::vector<store::ModelStore::Entry>& own, const std::vector<OllamaRow>& ollama,
                 const std::filesystem::path& ollama_dir) {
  const char* row = "%-40s %-20s %-8s %-14s %-10s %-20s %s\n";
  std::printf(row, "NAME", "ARCHITECTURE", "PARAMS", "WEIGHTS", "SIZE", "IMPORTED", "SOURCE");
  for (const auto& e : own) {
    const auto& m = e.manifest;
    const std::string weights = m.weights_format == "packed" ? "packed " + m.dtype : m.weights_format;
    std::printf(row, e.name.str().c_str(), m.architecture.c_str(), human_count(m.parameters).c_str(),
                weights.c_str(), human_bytes(m.total_bytes()).c_str(), m.imported_at.c_str(),
                m.source.c_str());
  }
  if (ollama.empty()) return;
  std::printf("\nOllama's models in %s (served in place, sha256-checked at load):\n", ollama_dir.c_str());
  std::printf(row, "NAME", "ARCHITECTURE", "PARAMS", "WEIGHTS", "SIZE", "MODIFIED", "SOURCE");
  for (const auto& r : ollama) {
    const std::string weights = "gguf " + r.file_type();
    std::printf(row, r.name().c_str(), r.architecture().c_str(), r.params().c_str(), weights.c_str(),
                human_bytes(r.m.total_bytes).c_str(), r.m.modified.c_str(),
                r.g.problem.empty() ? "ollama" : "ollama (cannot be served, below)");
  }
  for (const auto& r : ollama)
    if (!r.g.problem.empty()) std::printf("%s cannot be served: %s\n", r.name().c_str(), r.g.problem.c_str());
}

void print_json(const std::vector<store::ModelStore::Entry>& own, const std::vector<OllamaRow>& ollama,
                const std::vector<std::string>& warnings) {
  nlohmann::json out = {{"models", nlohmann::json::array()}, {"warnings", warnings}};
  for (const auto& e : own) {
    const auto& m = e.manifest;
    out["models"].push_back({{"name", e.name.str()},
                             {"store", "r1serve"},
                             {"architecture", m.architecture},
                             {"parameters", m.parameters},
                             {"weights_format", m.weights_format},
                             {"dtype", m.dtype},
                             {"bytes", m.total_bytes()},
                             {"imported_at", m.imported_at},
                             {"source", m.source},
                             {"path", e.dir.string()}});
  }
  for (const auto& r : ollama) {
    nlohmann::json j = {{"name", r.name()},
                        {"store", "ollama"},
                        {"ollama_name", r.m.name.display()},
                        {"architecture", r.architecture()},
                        {"parameters", r.g.parameters},
                        {"parameter_size", r.params()},
                        {"weights_format", "gguf"},
                        {"file_type", r.file_type()},
                        {"bytes", r.m.total_bytes},
                        {"model_bytes", r.m.model_bytes},
                        {"modified_at", r.m.modified},
                        {"digest", r.m.digest},
                        {"manifest", r.m.manifest.string()},
                        {"path", r.m.model_blob.string()},
                        {"servable", r.g.problem.empty()}};
    if (!r.g.problem.empty()) j["problem"] = r.g.problem;
    out["models"].push_back(std::move(j));
  }
  std::printf("%s\n", out.dump(2).c_str());
}

int list(const std::string& store_flag, bool json) {
  store::ModelStore s(store::default_store_root(store_flag));
  const auto own = s.list();
  const std::filesystem::path ollama_dir = store::ollama_models_dir();
  store::OllamaListing listing = store::list_ollama_models(ollama_dir);
  std::vector<OllamaRow> ollama;
  for (auto& m : listing.models) {
    store::GgufSummary g = store::summarize_gguf(m.model_blob);
    ollama.push_back({std::move(m), std::move(g)});
  }
  if (json)
    print_json(own, ollama, listing.warnings);
  else
    print_table(own, ollama, ollama_dir);
  // Warnings go to stderr in both forms (after the list), so a script reading stdout gets the whole list.
  std::fflush(stdout);
  for (const auto& w : listing.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  return 0;
}

void register_list(CLI::App& app, Action& action) {
  auto store_flag = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "list",
      "List the models in r1serve's model store and in Ollama's ($OLLAMA_MODELS, else ~/.ollama/models)");
  cmd->add_option("--store", *store_flag,
                  "Model store folder (default: $R1SERVE_HOME, else ~/.cache/r1serve)");
  cmd->add_flag("--json", *json, "Print one JSON object: {models: [...], warnings: [...]}");
  cmd->callback(
      [&action, store_flag, json] { action = [store_flag, json] { return list(*store_flag, *json); }; });
}

const CommandRegistrar kRegisterList(register_list);

}  // namespace
}  // namespace r1::app
