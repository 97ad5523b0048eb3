#pragma once
// `r1serve pull`: the files a model needs, from the Hub into its cache (hub_cache.h), several at once, each
// resumable, each checked (size; sha256 for LFS files) before it appears under snapshots/.
#include <filesystem>
#include <string>
#include <vector>

#include "store/hub_client.h"
#include "store/hub_config.h"
#include "store/model_ref.h"

namespace r1::store {

struct PullOptions {
  // Extra files to fetch, as huggingface_hub's allow_patterns (fnmatch, '*' also crosses '/').
  std::vector<std::string> include;
  int max_workers = 8;  // huggingface_hub's snapshot_download default
  bool tty_progress = false;
  // When set, plain files in this folder instead of the cache (huggingface_hub's local_dir): no blobs, refs
  // or symlinks; a file is FILE.incomplete until its size and sha256 are right, and one already there with
  // the right size is kept.
  std::filesystem::path local_dir;
};

struct PullResult {
  std::string commit;
  std::filesystem::path snapshot;  // the package folder: snapshots/<commit>, or the local dir
  size_t files = 0;
};

// What r1serve loads, at the top level of the repo: config, generation config, tokenizer files, safetensors
// and their index.
const std::vector<std::string>& default_pull_patterns();

// The repo's files to fetch: those matching the defaults (top level only) or an `include` pattern.
std::vector<RepoFile> select_files(const std::vector<RepoFile>& files,
                                   const std::vector<std::string>& include);

// Pulls `ref` into config.cache_dir and points refs/<revision> at its commit once every file is in place.
// Throws r1::Error naming the model and file on any failure (HF_HUB_OFFLINE=1 included).
PullResult pull_model(const HubConfig& config, const ModelRef& ref, const PullOptions& options);

}  // namespace r1::store
