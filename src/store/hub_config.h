#pragma once
// The Hub settings huggingface_hub reads from the environment, read the same way so that one environment
// drives both: where the cache is, which endpoint, which token, offline or not, timeouts.
#include <filesystem>
#include <optional>
#include <string>

namespace r1::store {

struct HubConfig {
  std::filesystem::path cache_dir;  // $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
  std::string endpoint = "https://huggingface.co";  // $HF_ENDPOINT (mirrors), without a trailing '/'
  std::optional<std::string> token;  // $HF_TOKEN, else the file $HF_TOKEN_PATH or $HF_HOME/token
  bool offline = false;              // $HF_HUB_OFFLINE=1: never touch the network
  double metadata_timeout_s = 10;    // $HF_HUB_ETAG_TIMEOUT: the revision API and HEAD requests
  double download_timeout_s = 10;    // $HF_HUB_DOWNLOAD_TIMEOUT: a download stalled this long fails
};

// Reads the environment (HF_HOME defaults to $XDG_CACHE_HOME/huggingface, then ~/.cache/huggingface).
// `cache_dir_override` (--cache-dir) wins over the environment when non-empty.
HubConfig hub_config_from_env(const std::string& cache_dir_override = "");

// huggingface_hub's truthy values for boolean variables: 1, ON, YES, TRUE (any case).
bool env_flag(const char* name);

}  // namespace r1::store
