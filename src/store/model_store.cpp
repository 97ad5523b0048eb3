#include "store/model_store.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "core/error.h"

namespace r1::store {

namespace fs = std::filesystem;

namespace {

// Empty when valid.
std::string part_problem(const std::string& s) {
  if (s.empty()) return "is empty";
  if (s.size() > 64) return "is longer than 64 characters";
  if (!std::isalnum(static_cast<unsigned char>(s[0]))) return "must start with a letter or digit";
  for (char ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '_' && ch != '-')
      return fmt::format("has '{}' (only letters, digits, '.', '_' and '-' are allowed)", ch);
  return "";
}

// "import-<pid>-<random>" -> pid.
std::optional<pid_t> staging_pid(const std::string& name) {
  size_t a = name.find('-'), b = name.rfind('-');
  if (a == std::string::npos || a == b) return std::nullopt;
  try {
    return pid_t(std::stol(name.substr(a + 1, b - a - 1)));
  } catch (...) {
    return std::nullopt;
  }
}

void sync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::optional<StoreName> parse_store_name(const std::string& s) {
  if (s.empty() || s.find('/') != std::string::npos) return std::nullopt;
  return parse_store_name_or_fail(s);
}

StoreName parse_store_name_or_fail(const std::string& s) {
  StoreName n;
  const size_t colon = s.find(':');
  n.name = s.substr(0, colon);
  if (colon != std::string::npos) n.tag = s.substr(colon + 1);
  if (std::string p = part_problem(n.name); !p.empty()) fail("model name \"{}\": the name {}", s, p);
  if (std::string p = part_problem(n.tag); !p.empty()) fail("model name \"{}\": the tag {}", s, p);
  return n;
}

fs::path default_store_root(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* h = std::getenv("R1SERVE_HOME"); h && *h) return h;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "r1serve";
  const char* home = std::getenv("HOME");
  if (!home || !*home) fail("no model store folder: set R1SERVE_HOME or HOME, or pass --store");
  return fs::path(home) / ".cache" / "r1serve";
}

fs::path ModelStore::entry_dir(const StoreName& n) const {
  return root_ / "models" / n.name / n.tag;
}

std::optional<fs::path> ModelStore::find(const StoreName& n) const {
  std::error_code ec;
  fs::path d = entry_dir(n);
  if (fs::is_regular_file(d / "manifest.json", ec)) return d;
  return std::nullopt;
}

std::vector<ModelStore::Entry> ModelStore::list() const {
  std::vector<Entry> out;
  std::error_code ec;
  for (const auto& name : fs::directory_iterator(root_ / "models", ec)) {
    if (!name.is_directory()) continue;
    for (const auto& tag : fs::directory_iterator(name.path(), ec)) {
      if (!fs::is_regular_file(tag.path() / "manifest.json")) continue;
      try {
        out.push_back({StoreName{name.path().filename().string(), tag.path().filename().string()}, tag.path(),
                       read_manifest((tag.path() / "manifest.json").string())});
      } catch (const Error& e) {
        spdlog::warn("{}", e.what());
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Entry& a, const Entry& b) { return a.name.str() < b.name.str(); });
  return out;
}

fs::path ModelStore::make_staging_dir(const std::string& purpose) const {
  const fs::path tmp = root_ / "tmp";
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) fail("{}: cannot create: {}", tmp.string(), ec.message());
  // Folders left by killed imports or removals: nothing refers to them, so they only cost disk.
  for (const auto& e : fs::directory_iterator(tmp, ec)) {
    auto pid = staging_pid(e.path().filename().string());
    if (pid && *pid != ::getpid() && ::kill(*pid, 0) != 0 && errno == ESRCH) {
      spdlog::info("removing {} (left by process {}, which no longer runs)", e.path().string(), *pid);
      fs::remove_all(e.path(), ec);
    }
  }
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    fs::path d = tmp / fmt::format("{}-{}-{:08x}", purpose, ::getpid(), rd());
    if (fs::create_directory(d, ec)) return d;
  }
  fail("{}: cannot create a staging folder: {}", tmp.string(), ec.message());
}

void ModelStore::commit(const fs::path& staged, const StoreName& n, bool replace) const {
  const fs::path dst = entry_dir(n);
  std::error_code ec;
  fs::create_directories(dst.parent_path(), ec);
  if (ec) fail("{}: cannot create: {}", dst.parent_path().string(), ec.message());
  sync_dir(staged);
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) == 0) {
    sync_dir(dst.parent_path());
    return;
  }
  if (errno != EEXIST && errno != ENOTEMPTY)
    fail("{}: cannot move the import into place: {}", dst.string(), std::strerror(errno));
  if (!replace)
    fail("{} is already in the store at {} (r1serve rm {} first, or import with --force)", n.str(),
         dst.string(), n.str());
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, dst.c_str(), RENAME_EXCHANGE) != 0)
    fail("{}: cannot swap in the new import: {}", dst.string(), std::strerror(errno));
  sync_dir(dst.parent_path());
  fs::remove_all(staged, ec);  // now the old entry
}

void ModelStore::remove(const StoreName& n) const {
  if (!find(n)) fail("{} is not in the store at {} (r1serve list shows what is)", n.str(), root_.string());
  const fs::path gone = make_staging_dir("rm");
  std::error_code ec;
  fs::remove(gone, ec);
  if (::rename(entry_dir(n).c_str(), gone.c_str()) != 0)
    fail("{}: cannot remove: {}", entry_dir(n).string(), std::strerror(errno));
  sync_dir(entry_dir(n).parent_path());
  fs::remove_all(gone, ec);
  fs::remove(entry_dir(n).parent_path(), ec);  // the name's folder, when that was its last tag
}

}  // namespace r1::store
