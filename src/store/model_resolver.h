#pragma once
// The ONE resolver from a --model string to a local package folder, used by every subcommand:
//   - an existing path: itself (as before);
//   - ollama:NAME[:TAG]: the GGUF blob of that model in Ollama's store, digest-verified
//   (store/ollama_store.h);
//   - s3://BUCKET/PREFIX/: its files fetched into the model store's s3/ folder (store/s3_source.h), then
//     that folder (offline: the copy already there, if any);
//   - NAME[:TAG] (no '/'): the model imported under that name into r1serve's store (model_store.h);
//   - ORG/NAME[@REVISION]: the snapshot the Hub cache holds for it (refs/<revision> -> snapshots/<commit>),
//     pulled first when missing unless HF_HUB_OFFLINE=1 (then a clear error saying what is missing).
#include <string>

#include "store/hub_config.h"
#include "store/hub_pull.h"
#include "store/model_store.h"

namespace r1::store {

struct ResolvedModel {
  std::string dir;         // the package folder to load
  std::string hub_id;      // "ORG/NAME" when it came from the Hub cache, else ""
  std::string commit;      // the snapshot's commit when from the Hub cache
  std::string store_name;  // "NAME:TAG" when it came from the model store, else ""
  // The name to serve it under by default: the Hub id or the store name ("" for a folder).
  std::string served_name() const { return hub_id.empty() ? store_name : hub_id; }
};

struct ResolveOptions {
  HubConfig hub;             // usually hub_config_from_env()
  bool pull_missing = true;  // pull a Hub id the cache lacks (never when hub.offline)
  PullOptions pull;
  std::string store_dir;  // the model store (--store); "" = $R1SERVE_HOME or its default
};

ResolvedModel resolve_model(const std::string& spec, const ResolveOptions& options);

}  // namespace r1::store
