// r1serve show NAME[:TAG]: what a stored model is (its manifest), or the manifest itself with --json.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "core/error.h"
#include "store/model_store.h"

namespace r1::app {

namespace {

struct ShowOptions {
  std::string name, store;
  bool json = false;
};

int show(const ShowOptions& o) {
  store::ModelStore s(store::default_store_root(o.store));
  const store::StoreName n = store::parse_store_name_or_fail(o.name);
  auto dir = s.find(n);
  if (!dir) fail("{} is not in the store at {} (r1serve list shows what is)", n.str(), s.root().string());
  const std::string path = (*dir / "manifest.json").string();
  if (o.json) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::fputs(ss.str().c_str(), stdout);
    return 0;
  }
  const store::Manifest m = store::read_manifest(path);
  std::printf("name          %s:%s\n", m.name.c_str(), m.tag.c_str());
  std::printf("folder        %s\n", dir->c_str());
  std::printf("source        %s\n", m.source.c_str());
  if (!m.revision.empty()) std::printf("revision      %s\n", m.revision.c_str());
  std::printf("architecture  %s\n", m.architecture.c_str());
  std::printf("parameters    %llu\n", static_cast<unsigned long long>(m.parameters));
  std::printf("weights       %s\n",
              m.weights_format == "packed" ? ("packed " + m.dtype).c_str() : m.weights_format.c_str());
  std::printf("size          %llu bytes\n", static_cast<unsigned long long>(m.total_bytes()));
  std::printf("imported      %s\n", m.imported_at.c_str());
  std::printf("files\n");
  for (const auto& f : m.files)
    std::printf("  %-32s %14llu  sha256 %s\n", f.path.c_str(), static_cast<unsigned long long>(f.bytes),
                f.sha256.c_str());
  return 0;
}

void register_show(CLI::App& app, Action& action) {
  auto o = std::make_shared<ShowOptions>();
  CLI::App* cmd = app.add_subcommand("show", "Show a model in r1serve's model store (its manifest)");
  cmd->add_option("name", o->name, "NAME[:TAG] (tag default: latest)")->required();
  cmd->add_flag("--json", o->json, "Print manifest.json as it is");
  cmd->add_option("--store", o->store, "Model store folder (default: $R1SERVE_HOME, else ~/.cache/r1serve)");
  cmd->callback([&action, o] { action = [o] { return show(*o); }; });
}

const CommandRegistrar kRegisterShow(register_show);

}  // namespace
}  // namespace r1::app
