#pragma once
// The Hugging Face Hub cache, laid out exactly as huggingface_hub writes it, so that a model downloaded by
// `hf download` is used as it is and one pulled by r1serve is found by Python tools:
//
//   <cache>/models--ORG--NAME/blobs/<etag>                  file contents, named by the Hub's etag
//                                                           (sha256 for LFS files, git blob sha1 otherwise)
//          models--ORG--NAME/blobs/<etag>.incomplete        a download in progress (resumable)
//          models--ORG--NAME/snapshots/<commit>/<file>      relative symlink -> ../../blobs/<etag>
//          models--ORG--NAME/refs/<revision>                the commit a branch/tag pointed to (no newline)
//   <cache>/.locks/models--ORG--NAME/<etag>.lock            flock'd while a blob is written (as filelock
//   does)
//
// A snapshot entry only ever points at a complete, verified blob: blobs are renamed into place, links are
// made under a temporary name and renamed over, so a killed pull leaves nothing partial under snapshots/.
#include <filesystem>
#include <optional>
#include <string>

namespace r1::store {

// "ORG/NAME" -> "models--ORG--NAME" (huggingface_hub's repo_folder_name for model repos).
std::string repo_folder_name(const std::string& repo_id);
// An etag as the cache names blobs: the quotes and a weak "W/" prefix removed (huggingface_hub's
// _normalize_etag). Throws r1::Error when the result could not be a file name (a server's bad answer).
std::string normalize_etag(const std::string& etag_header);

class HubCache {
 public:
  explicit HubCache(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }

  std::filesystem::path repo_dir(const std::string& repo_id) const;
  std::filesystem::path snapshot_dir(const std::string& repo_id, const std::string& commit) const;
  std::filesystem::path blob_path(const std::string& repo_id, const std::string& etag) const;
  std::filesystem::path incomplete_path(const std::string& repo_id, const std::string& etag) const;
  std::filesystem::path lock_path(const std::string& repo_id, const std::string& etag) const;
  std::filesystem::path ref_path(const std::string& repo_id, const std::string& revision) const;

  // The commit `revision` names in this cache: a commit hash with a snapshot folder is itself; a branch or
  // tag is what refs/<revision> holds (when that snapshot folder exists). nullopt when the cache does not
  // know.
  std::optional<std::string> find_commit(const std::string& repo_id, const std::string& revision) const;
  // refs/<revision> <- commit, atomically (a temporary file renamed over). A no-op when revision is the
  // commit.
  void write_ref(const std::string& repo_id, const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<file> -> the blob of `etag` as a relative symlink, replacing any older entry
  // atomically. The blob must exist.
  void link_snapshot_file(const std::string& repo_id, const std::string& commit, const std::string& file,
                          const std::string& etag) const;
  // True when snapshots/<commit>/<file> resolves to an existing file.
  bool has_snapshot_file(const std::string& repo_id, const std::string& commit,
                         const std::string& file) const;

 private:
  std::filesystem::path root_;
};

// An exclusive flock on a lock file (created with its folders), released on destruction. The same lock
// huggingface_hub's filelock takes, so an r1serve pull and a Python download of one blob never interleave.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace r1::store
