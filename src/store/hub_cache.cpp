#include "store/hub_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "store/model_ref.h"

namespace r1::store {

namespace fs = std::filesystem;

namespace {
// A name unique to this process and call, for write-then-rename.
std::string temp_suffix() {
  static std::atomic<unsigned> counter{0};
  return fmt::format(".tmp-{}-{}", ::getpid(), counter++);
}

void create_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create the folder {}: {}", dir.string(), ec.message());
}
}  // namespace

std::string repo_folder_name(const std::string& repo_id) {
  std::string out = "models--";
  for (char c : repo_id) {
    if (c == '/')
      out += "--";
    else
      out += c;
  }
  return out;
}

std::string normalize_etag(const std::string& header) {
  std::string e = header;
  if (e.rfind("W/", 0) == 0) e = e.substr(2);
  if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
  bool ok = !e.empty() && e.size() <= 128 && e.front() != '.';
  for (char c : e)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
  if (!ok) fail("the server's ETag \"{}\" is not usable as a cache blob name", header);
  return e;
}

fs::path HubCache::repo_dir(const std::string& repo_id) const {
  return root_ / repo_folder_name(repo_id);
}

fs::path HubCache::snapshot_dir(const std::string& repo_id, const std::string& commit) const {
  return repo_dir(repo_id) / "snapshots" / commit;
}

fs::path HubCache::blob_path(const std::string& repo_id, const std::string& etag) const {
  return repo_dir(repo_id) / "blobs" / etag;
}

fs::path HubCache::incomplete_path(const std::string& repo_id, const std::string& etag) const {
  return repo_dir(repo_id) / "blobs" / (etag + ".incomplete");
}

fs::path HubCache::lock_path(const std::string& repo_id, const std::string& etag) const {
  return root_ / ".locks" / repo_folder_name(repo_id) / (etag + ".lock");
}

fs::path HubCache::ref_path(const std::string& repo_id, const std::string& revision) const {
  return repo_dir(repo_id) / "refs" / revision;
}

std::optional<std::string> HubCache::find_commit(const std::string& repo_id,
                                                 const std::string& revision) const {
  std::error_code ec;
  if (is_commit_hash(revision))
    return fs::is_directory(snapshot_dir(repo_id, revision), ec) ? std::optional(revision) : std::nullopt;
  std::ifstream in(ref_path(repo_id, revision));
  if (!in) return std::nullopt;
  std::string commit;
  std::getline(in, commit);
  while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) commit.pop_back();
  if (!is_commit_hash(commit))
    fail("{}: expected a 40-hex commit id, found \"{}\"", ref_path(repo_id, revision).string(), commit);
  if (!fs::is_directory(snapshot_dir(repo_id, commit), ec)) return std::nullopt;
  return commit;
}

void HubCache::write_ref(const std::string& repo_id, const std::string& revision,
                         const std::string& commit) const {
  if (revision == commit) return;
  fs::path path = ref_path(repo_id, revision);
  create_dirs(path.parent_path());
  fs::path tmp = path.string() + temp_suffix();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << commit;  // no newline: huggingface_hub writes the bare hash
    if (!out.flush()) fail("cannot write {}", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("cannot write {}: {}", path.string(), ec.message());
  }
}

void HubCache::link_snapshot_file(const std::string& repo_id, const std::string& commit,
                                  const std::string& file, const std::string& etag) const {
  fs::path link = snapshot_dir(repo_id, commit) / file;
  fs::path blob = blob_path(repo_id, etag);
  create_dirs(link.parent_path());
  // Relative, as huggingface_hub makes them (../../blobs/<etag>, one more ../ per folder in `file`), so the
  // cache can be moved or mounted elsewhere.
  fs::path target = fs::relative(blob, link.parent_path());
  fs::path tmp = link.string() + temp_suffix();
  std::error_code ec;
  fs::create_symlink(target, tmp, ec);
  if (ec) fail("cannot create the symlink {} -> {}: {}", tmp.string(), target.string(), ec.message());
  fs::rename(tmp, link, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("cannot create {}: {}", link.string(), ec.message());
  }
}

bool HubCache::has_snapshot_file(const std::string& repo_id, const std::string& commit,
                                 const std::string& file) const {
  std::error_code ec;
  return fs::is_regular_file(snapshot_dir(repo_id, commit) / file, ec);
}

FileLock::FileLock(const fs::path& path) {
  create_dirs(path.parent_path());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot open the lock file {}: {}", path.string(), std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd_);
    fail("cannot lock {}: {}", path.string(), std::strerror(e));
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace r1::store
