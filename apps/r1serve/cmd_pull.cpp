// r1serve pull ORG/NAME[@REVISION]: a model's files from the Hugging Face Hub into the Hub's own cache
// (shared with huggingface_hub), printing the snapshot folder on stdout for scripts.
#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "core/error.h"
#include "store/hub_pull.h"

namespace r1::app {

namespace {

struct PullCliOptions {
  std::string model, cache_dir, local_dir;
  std::vector<std::string> include;
  int max_workers = 8;
};

int pull(const PullCliOptions& o) {
  std::optional<store::ModelRef> ref = store::parse_model_ref(o.model);
  if (!ref) fail("pull {}: expected a Hub id ORG/NAME[@REVISION]", o.model);
  store::HubConfig config = store::hub_config_from_env(o.cache_dir);
  store::PullOptions p;
  p.include = o.include;
  p.max_workers = o.max_workers;
  p.local_dir = o.local_dir;
  p.tty_progress = ::isatty(STDERR_FILENO);
  store::PullResult r = store::pull_model(config, *ref, p);
  std::printf("%s\n", r.snapshot.c_str());
  return 0;
}

void register_pull(CLI::App& app, Action& action) {
  auto o = std::make_shared<PullCliOptions>();
  CLI::App* cmd = app.add_subcommand("pull",
                                     "Download a model from the Hugging Face Hub into its cache "
                                     "(HF_HUB_CACHE, shared with huggingface_hub)");
  cmd->add_option("model", o->model, "ORG/NAME or ORG/NAME@REVISION (branch, tag or commit; default main)")
      ->required();
  cmd->add_option("--include", o->include,
                  "Also fetch the files matching this glob (repeatable; e.g. '*.md'); config, tokenizer and "
                  "safetensors files are always fetched");
  cmd->add_option(
      "--cache-dir", o->cache_dir,
      "Hub cache folder (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)");
  cmd->add_option("--local-dir", o->local_dir,
                  "Write plain files into this folder instead of the Hub cache (a model folder for --model)");
  cmd->add_option("--max-workers", o->max_workers, "Files downloaded at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->callback([&action, o] { action = [o] { return pull(*o); }; });
}

const CommandRegistrar kRegisterPull(register_pull);

}  // namespace
}  // namespace r1::app
