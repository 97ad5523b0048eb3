// r1serve rm NAME[:TAG]: removes a model from r1serve's store (one rename takes it out, then it is deleted).
#include <cstdio>

#include "commands.h"
#include "store/model_store.h"

namespace r1::app {

namespace {

struct RmOptions {
  std::vector<std::string> names;
  std::string store;
};

int rm(const RmOptions& o) {
  store::ModelStore s(store::default_store_root(o.store));
  for (const auto& name : o.names) {
    const store::StoreName n = store::parse_store_name_or_fail(name);
    s.remove(n);
    std::printf("removed %s\n", n.str().c_str());
  }
  return 0;
}

void register_rm(CLI::App& app, Action& action) {
  auto o = std::make_shared<RmOptions>();
  CLI::App* cmd = app.add_subcommand("rm", "Remove models from r1serve's model store");
  cmd->add_option("name", o->names, "NAME[:TAG] (tag default: latest); several may be given")->required();
  cmd->add_option("--store", o->store, "Model store folder (default: $R1SERVE_HOME, else ~/.cache/r1serve)");
  cmd->callback([&action, o] { action = [o] { return rm(*o); }; });
}

const CommandRegistrar kRegisterRm(register_rm);

}  // namespace
}  // namespace r1::app
