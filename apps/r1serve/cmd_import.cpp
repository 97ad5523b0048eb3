// r1serve import SRC --name NAME[:TAG] [--dtype q8|q4|bf16]: a model into r1serve's store under a name, after
// every check the loader makes; with --dtype, its weights converted once into a packed weight file so that
// every later load is one read with no conversion.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli_util.h"
#include "commands.h"
#include "core/error.h"
#include "model/gguf_file.h"
#include "serving/gguf_text.h"
#include "store/model_import.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace r1::app {

namespace {

struct ImportCliOptions {
  std::string source, name, dtype, store;
  bool force = false;
};

// The tokenizer and chat template load as serve will load them.
void check_tokenizer(const std::string& dir) {
  if (const std::string gguf = gguf_model_file(dir); !gguf.empty()) {
    serving::load_gguf_text(gguf);  // the file's own tokenizer and template
    return;
  }
  if (!Tokenizer::from_dir(dir))
    fail("{}: no tokenizer.json (a model in the store must be servable: it needs its tokenizer)", dir);
  const std::string cfg = (std::filesystem::path(dir) / "tokenizer_config.json").string();
  if (std::filesystem::exists(cfg)) ChatTemplate::from_tokenizer_config(cfg);
}

int import(const ImportCliOptions& o) {
  store::ImportOptions io;
  io.source = o.source;
  io.name = store::parse_store_name_or_fail(o.name);
  if (!o.dtype.empty()) {
    const WeightPrecision p = parse_weight_precision(o.dtype);
    if (p != WeightPrecision::BF16 && p != WeightPrecision::Q8 && p != WeightPrecision::Q4)
      fail("--dtype {}: a packed weight file holds bf16, q8 or q4", o.dtype);
    io.pack = p;
  }
  io.replace = o.force;
  io.resolve.hub = store::hub_config_from_env();
  io.resolve.pull.tty_progress = ::isatty(STDERR_FILENO);
  io.resolve.store_dir = o.store;
  io.check_package = check_tokenizer;
  store::ModelStore s(store::default_store_root(o.store));
  store::import_model(s, io);
  std::printf("%s\n", s.entry_dir(io.name).c_str());
  return 0;
}

void register_import(CLI::App& app, Action& action) {
  auto o = std::make_shared<ImportCliOptions>();
  CLI::App* cmd = app.add_subcommand("import",
                                     "Add a model (folder, Hub id or s3:// URL) to r1serve's model store "
                                     "under a name, checked, optionally packed");
  cmd->add_option("source", o->source,
                  "A model folder, a Hub id ORG/NAME[@REV] (pulled when missing), an s3://BUCKET/PREFIX/ or "
                  "a store name")
      ->required();
  cmd->add_option("--name", o->name, "NAME[:TAG] to store it under (tag default: latest)")->required();
  cmd->add_option(
      "--dtype", o->dtype,
      "Convert the weights once to q8, q4 or bf16 and store them packed (loads with no conversion)");
  cmd->add_option("--store", o->store, "Model store folder (default: $R1SERVE_HOME, else ~/.cache/r1serve)");
  cmd->add_flag("--force", o->force, "Replace a model already stored under that name (atomically)");
  cmd->callback([&action, o] { action = [o] { return import(*o); }; });
}

const CommandRegistrar kRegisterImport(register_import);

}  // namespace
}  // namespace r1::app
