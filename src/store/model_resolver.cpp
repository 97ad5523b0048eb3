#include "store/model_resolver.h"

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "store/hub_cache.h"
#include "store/ollama_store.h"
#include "store/s3_source.h"

namespace r1::store {

namespace fs = std::filesystem;

namespace {
// What the cache lacks for `ref`, for the offline error.
std::string missing_part(const HubCache& cache, const ModelRef& ref) {
  std::error_code ec;
  fs::path repo = cache.repo_dir(ref.repo_id);
  if (!fs::is_directory(repo, ec)) return fmt::format("there is no {}", repo.string());
  if (is_commit_hash(ref.revision))
    return fmt::format("there is no snapshot {}", cache.snapshot_dir(ref.repo_id, ref.revision).string());
  fs::path refp = cache.ref_path(ref.repo_id, ref.revision);
  if (!fs::exists(refp, ec)) return fmt::format("there is no {}", refp.string());
  return fmt::format("{} names a commit whose snapshots/ folder is missing", refp.string());
}
}  // namespace

ResolvedModel resolve_model(const std::string& spec, const ResolveOptions& options) {
  std::error_code ec;
  if (spec.empty()) fail("--model: empty");
  if (fs::exists(spec, ec)) return ResolvedModel{spec, "", "", ""};
  if (spec.rfind("ollama:", 0) == 0) {  // Ollama's store: the verified GGUF blob itself
    const std::string name = spec.substr(7);
    const fs::path blob =
        resolve_ollama_model(name, default_store_root(options.store_dir) / kOllamaVerifiedBlobsFile);
    return ResolvedModel{blob.string(), "", "", parse_ollama_name(name).display()};
  }
  if (std::optional<S3Location> loc = parse_s3_url(spec)) {
    const fs::path dest = default_store_root(options.store_dir) / "s3" / loc->bucket / loc->prefix;
    if (options.hub.offline) {
      if (fs::exists(dest / "config.json", ec)) return ResolvedModel{dest.string(), "", "", ""};
      fail("--model {}: offline (HF_HUB_OFFLINE=1) and no local copy at {}", spec, dest.string());
    }
    spdlog::info("--model {}: fetching into {}", spec, dest.string());
    return ResolvedModel{fetch_s3_model(s3_config_from_env(), *loc, dest, options.pull.tty_progress).string(),
                         "", "", ""};
  }
  if (std::optional<StoreName> name = parse_store_name(spec)) {
    ModelStore store(default_store_root(options.store_dir));
    auto dir = store.find(*name);
    if (!dir)
      fail(
          "--model {}: no such folder, and no model {} in the store at {} (r1serve list shows what it holds; "
          "r1serve import adds one)",
          spec, name->str(), store.root().string());
    spdlog::info("--model {}: {} from the model store", spec, dir->string());
    return ResolvedModel{dir->string(), "", "", name->str()};
  }
  std::optional<ModelRef> ref = parse_model_ref(spec);
  if (!ref)
    fail("--model {}: no such folder, not a store name NAME[:TAG], and not a Hub id ORG/NAME[@REVISION]",
         spec);
  HubCache cache(options.hub.cache_dir);
  if (auto commit = cache.find_commit(ref->repo_id, ref->revision)) {
    fs::path dir = cache.snapshot_dir(ref->repo_id, *commit);
    spdlog::info("--model {}: {} from the Hugging Face cache", spec, dir.string());
    return ResolvedModel{dir.string(), ref->repo_id, *commit, ""};
  }
  if (options.hub.offline)
    fail(
        "--model {}: not a folder, and not in the Hugging Face cache at {} ({}); HF_HUB_OFFLINE=1 forbids "
        "downloading it: run `r1serve pull {}` where the Hub can be reached, or unset HF_HUB_OFFLINE",
        spec, cache.root().string(), missing_part(cache, *ref), spec);
  if (!options.pull_missing)
    fail("--model {}: not a folder, and not in the Hugging Face cache at {} ({}); run `r1serve pull {}`",
         spec, cache.root().string(), missing_part(cache, *ref), spec);
  spdlog::info("--model {}: not in the Hugging Face cache at {}; pulling it", spec, cache.root().string());
  PullResult r = pull_model(options.hub, *ref, options.pull);
  return ResolvedModel{r.snapshot.string(), ref->repo_id, r.commit, ""};
}

}  // namespace r1::store
