#pragma once
// One model a server offers: its name, how to load it, and its lifecycle overrides. Built from the
// repeatable `--model` flag:
//   --model SOURCE                        one model, named after its folder / Hub id (as before)
//   --model NAME=SOURCE[,KEY=VALUE...]    a named model; each KEY=VALUE overrides a global flag for it alone
// KEY is a global flag's name without the dashes (dtype, load-format, tokenizer, kv-cache-memory,
// kv-cache-dtype, max-model-len, max-num-seqs, max-batch-tokens, max-input-tokens, max-total-tokens, threads,
// chat-template, reasoning-parser, idle-unload). SOURCE is resolved by the app (store/model_resolver.h).
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "serving/keep_alive.h"
#include "serving/serving_options.h"

namespace r1::serving {

struct ModelSpec {
  std::string name;
  ServingOptions options;  // options.model_dir: the resolved folder; served_model_name: name
  // Unset: the server's --idle-unload. Set to nullopt: never unload this one.
  std::optional<std::optional<Millis>> idle_unload;
  bool preload = false;  // load at start; start-up fails when it cannot load
};

// `--model` as written, before SOURCE is resolved.
struct ModelArg {
  std::string name;                                            // "" for the plain SOURCE form
  std::string source;                                          // a folder or Hub id
  std::vector<std::pair<std::string, std::string>> overrides;  // KEY=VALUE, in order
};

// Splits one --model value. A NAME is letters, digits and . _ : - (no '/', so "dir/a=b" stays a path).
// Throws r1::Error naming --model on an empty NAME or SOURCE or a malformed KEY=VALUE.
ModelArg parse_model_arg(const std::string& arg);
// Applies one KEY=VALUE to `spec`; throws r1::Error naming the model and the key on an unknown key or bad
// value.
void apply_model_override(ModelSpec& spec, const std::string& key, const std::string& value);
// Whether `name` can be a model name (the NAME of NAME=SOURCE).
bool valid_model_name(const std::string& name);

}  // namespace r1::serving
