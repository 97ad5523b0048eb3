#pragma once
// The ONE resolver from a --model string to a local package folder, used by every subcommand:
//   - an existing path: itself (as before);
//   - ORG/NAME[@REVISION]: the snapshot the Hub cache holds for it (refs/<revision> -> snapshots/<commit>),
//     pulled first when missing unless HF_HUB_OFFLINE=1 (then a clear error saying what is missing).
#include <string>

#include "store/hub_config.h"
#include "store/hub_pull.h"

namespace r1::store {

struct ResolvedModel {
  std::string dir;     // the package folder to load
  std::string hub_id;  // "ORG/NAME" when it came from the Hub cache, else ""
  std::string commit;  // the snapshot's commit when from the Hub cache
};

struct ResolveOptions {
  HubConfig hub;             // usually hub_config_from_env()
  bool pull_missing = true;  // pull a Hub id the cache lacks (never when hub.offline)
  PullOptions pull;
};

ResolvedModel resolve_model(const std::string& spec, const ResolveOptions& options);

}  // namespace r1::store
