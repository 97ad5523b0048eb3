#include "store/hub_pull.h"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "store/hub_cache.h"
#include "store/pull_progress.h"
#include "store/sha256.h"

namespace r1::store {

namespace fs = std::filesystem;

const std::vector<std::string>& default_pull_patterns() {
  static const std::vector<std::string> p = {"config.json",
                                             "generation_config.json",
                                             "tokenizer.json",
                                             "tokenizer_config.json",
                                             "special_tokens_map.json",
                                             "*.safetensors",
                                             "*.safetensors.index.json"};
  return p;
}

std::vector<RepoFile> select_files(const std::vector<RepoFile>& files,
                                   const std::vector<std::string>& include) {
  std::vector<RepoFile> out;
  for (const RepoFile& f : files) {
    bool want = false;
    for (const auto& p : default_pull_patterns())
      want = want || fnmatch(p.c_str(), f.path.c_str(), FNM_PATHNAME) == 0;
    for (const auto& p : include) want = want || fnmatch(p.c_str(), f.path.c_str(), 0) == 0;
    if (want) out.push_back(f);
  }
  return out;
}

namespace {

struct Job {
  RepoFile file;
  size_t progress_id = 0;
};

// One file as a plain file under `dir` (--local-dir). Returns true when bytes were downloaded.
bool fetch_to_dir(HubClient& client, const fs::path& dir, const std::string& repo, const std::string& commit,
                  const Job& job, PullProgress& progress) {
  const RepoFile& f = job.file;
  const std::string what = repo + ": " + f.path;
  const fs::path final_path = dir / f.path, partial = dir / (f.path + ".incomplete");
  std::error_code ec;
  if (f.size && fs::is_regular_file(final_path, ec) && fs::file_size(final_path, ec) == *f.size) return false;
  FileMeta meta = client.file_meta(repo, commit, f.path);
  if (meta.commit != commit)
    fail("{}: the Hub resolved commit {} to {} (X-Repo-Commit)", what, commit, meta.commit);
  if (fs::is_regular_file(final_path, ec) && fs::file_size(final_path, ec) == meta.size) return false;
  const std::string sha = !f.lfs_sha256.empty() ? f.lfs_sha256 : meta.lfs ? meta.etag : "";
  fs::create_directories(partial.parent_path(), ec);
  client.download(meta, what, partial, [&](uint64_t have) { progress.update(job.progress_id, have); });
  const uint64_t got = fs::file_size(partial, ec);
  if (ec || got != meta.size)
    fail("{}: {} holds {} bytes, expected {}", what, partial.string(), got, meta.size);
  if (!sha.empty()) {
    std::string actual = sha256_file(partial);
    if (actual != sha) {
      fs::remove(partial, ec);
      fail("{}: sha256 mismatch: expected {} (the Hub's LFS hash), got {}; the download was discarded", what,
           sha, actual);
    }
  }
  fs::rename(partial, final_path, ec);
  if (ec) fail("{}: cannot move {} into place: {}", what, partial.string(), ec.message());
  return true;
}

// One file into the cache. Returns true when bytes were downloaded, false when it was already there.
bool fetch_file(HubClient& client, const HubCache& cache, const std::string& repo, const std::string& commit,
                const Job& job, PullProgress& progress) {
  const RepoFile& f = job.file;
  const std::string what = repo + ": " + f.path;
  if (cache.has_snapshot_file(repo, commit, f.path)) return false;
  FileMeta meta = client.file_meta(repo, commit, f.path);
  if (meta.commit != commit)
    fail("{}: the Hub resolved commit {} to {} (X-Repo-Commit)", what, commit, meta.commit);
  if (f.size && *f.size != meta.size)
    fail("{}: the revision API lists {} bytes, the file's headers {}", what, *f.size, meta.size);
  // The LFS sha256: from the revision API when it gave one, else the LFS etag (which is the sha256).
  std::string sha = !f.lfs_sha256.empty() ? f.lfs_sha256 : meta.lfs ? meta.etag : "";
  fs::path blob = cache.blob_path(repo, meta.etag);
  std::error_code ec;
  auto blob_ok = [&] { return fs::is_regular_file(blob, ec) && fs::file_size(blob, ec) == meta.size; };
  if (!blob_ok()) {
    // One writer per blob, across processes (and huggingface_hub's own downloads of it).
    FileLock lock(cache.lock_path(repo, meta.etag));
    if (!blob_ok()) {
      fs::create_directories(blob.parent_path(), ec);
      fs::path partial = cache.incomplete_path(repo, meta.etag);
      client.download(meta, what, partial, [&](uint64_t have) { progress.update(job.progress_id, have); });
      uint64_t got = fs::file_size(partial, ec);
      if (ec || got != meta.size)
        fail("{}: {} holds {} bytes, expected {}", what, partial.string(), got, meta.size);
      if (!sha.empty()) {
        std::string actual = sha256_file(partial);
        if (actual != sha) {
          fs::remove(partial, ec);  // no use resuming corrupt bytes
          fail(
              "{}: sha256 mismatch: expected {} (the Hub's LFS hash), got {}; the download was discarded and "
              "nothing was added to the cache",
              what, sha, actual);
        }
      }
      fs::rename(partial, blob, ec);
      if (ec) fail("{}: cannot move {} into place: {}", what, partial.string(), ec.message());
      cache.link_snapshot_file(repo, commit, f.path, meta.etag);
      return true;
    }
  }
  cache.link_snapshot_file(repo, commit, f.path, meta.etag);
  return false;
}

}  // namespace

PullResult pull_model(const HubConfig& config, const ModelRef& ref, const PullOptions& options) {
  const std::string name = ref.repo_id + (ref.revision == "main" ? "" : "@" + ref.revision);
  if (config.offline)
    fail(
        "{}: HF_HUB_OFFLINE=1 is set, so nothing can be downloaded; unset it to pull, or use a model already "
        "in the cache at {}",
        name, config.cache_dir.string());
  HubCache cache(config.cache_dir);
  HubClient api(config);
  RepoRevision rev = api.revision(ref.repo_id, ref.revision);
  std::vector<RepoFile> files = select_files(rev.files, options.include);
  bool has_config = false, has_weights = false;
  for (const auto& f : files) {
    has_config = has_config || f.path == "config.json";
    has_weights = has_weights || f.path.ends_with(".safetensors");
  }
  if (!has_config)
    fail("{}: the repository has no config.json at {} ({}): not a Hugging Face model package", name,
         ref.revision, rev.commit);
  if (!has_weights)
    spdlog::warn("{}: no .safetensors files at {}: r1serve reads safetensors weights only", name, rev.commit);
  const bool to_dir = !options.local_dir.empty();
  spdlog::info("pulling {} at {} ({} files) into {}", name, rev.commit, files.size(),
               to_dir ? options.local_dir.string() : cache.repo_dir(ref.repo_id).string());

  PullProgress progress(options.tty_progress);
  std::vector<Job> jobs;
  for (const auto& f : files) jobs.push_back(Job{f, progress.add_file(f.path, f.size.value_or(0))});
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex err_mu;
  std::string first_error;
  auto worker = [&] {
    try {
      HubClient client(config);
      for (size_t i; !failed && (i = next++) < jobs.size();) {
        bool downloaded =
            to_dir ? fetch_to_dir(client, options.local_dir, ref.repo_id, rev.commit, jobs[i], progress)
                   : fetch_file(client, cache, ref.repo_id, rev.commit, jobs[i], progress);
        progress.done(jobs[i].progress_id, downloaded);
      }
    } catch (const std::exception& e) {
      std::lock_guard lk(err_mu);
      if (!failed.exchange(true)) first_error = e.what();
    }
  };
  size_t n_workers = std::clamp<size_t>(size_t(std::max(1, options.max_workers)), 1, jobs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n_workers; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  progress.finish();
  if (failed) fail("{}", first_error);
  if (to_dir) return PullResult{rev.commit, options.local_dir, files.size()};
  // Last: the ref names a snapshot only once every file of it is in place.
  cache.write_ref(ref.repo_id, ref.revision, rev.commit);
  return PullResult{rev.commit, cache.snapshot_dir(ref.repo_id, rev.commit), files.size()};
}

}  // namespace r1::store
