#include "store/verified_blobs.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "store/sha256.h"

namespace r1::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kStillForNs = 2'000'000'000;

// The file's identity as the kernel reports it; any change to its bytes changes at least one field.
json identity(const fs::path& blob) {
  struct stat st {};
  if (::stat(blob.c_str(), &st) != 0) fail("{}: cannot stat the blob", blob.string());
  auto ns = [](const timespec& t) { return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  return {{"dev", uint64_t(st.st_dev)},
          {"ino", uint64_t(st.st_ino)},
          {"size", uint64_t(st.st_size)},
          {"mtime_ns", ns(st.st_mtim)},
          {"ctime_ns", ns(st.st_ctim)}};
}

// A file changed within the filesystem's timestamp granularity of now could change again with no visible
// change of its ctime (the kernel's clock ticks coarsely; some filesystems keep whole seconds), so it is not
// remembered until it has been still for longer than that — git's "racily clean" rule.
bool recently_changed(const json& id) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const int64_t now_ns = int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  return now_ns - id["ctime_ns"].get<int64_t>() < kStillForNs;
}

json read_cache(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return json::object();  // none yet
  try {
    json j = json::parse(in);
    if (j.is_object() && j.value("schema", 0) == 1 && j.contains("blobs") && j["blobs"].is_object()) return j;
  } catch (const json::exception&) {
  }
  spdlog::warn("{}: not a verified-blob cache this version reads; blobs will be hashed again", file.string());
  return json::object();
}

// Written to a temporary file and renamed over the old one, so a reader never sees half a cache; two
// processes racing only lose one entry (one more re-hash later).
void write_cache(const fs::path& file, const json& j) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = file.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(1) << "\n";
    if (!out.flush()) {
      spdlog::warn("{}: cannot write the verified-blob cache; the blob will be hashed again next time",
                   tmp.string());
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    spdlog::warn("{}: cannot write the verified-blob cache ({})", file.string(), ec.message());
    fs::remove(tmp, ec);
  }
}

}  // namespace

VerifiedBlobs::Outcome VerifiedBlobs::check(const fs::path& blob, const std::string& hex,
                                            const std::string& what) const {
  const std::string key = fs::absolute(blob).lexically_normal().string();
  const json id = identity(blob);
  json cache = cache_file_.empty() ? json::object() : read_cache(cache_file_);
  if (cache.contains("blobs") && cache["blobs"].contains(key)) {
    const json& e = cache["blobs"][key];
    if (e.is_object() && e.value("sha256", "") == hex && e.contains("identity") && e["identity"] == id)
      return Outcome::Remembered;
  }
  spdlog::info("{}: checking {} against its sha256 digest", what, blob.string());
  const std::string actual = sha256_file(blob);
  // The identity is taken again after hashing: a file written while it was being hashed is not remembered.
  const json id_after = identity(blob);
  if (!cache_file_.empty()) {
    if (!cache.is_object() || !cache.contains("blobs")) cache = {{"schema", 1}, {"blobs", json::object()}};
    if (actual == hex && id_after == id && !recently_changed(id)) {
      cache["blobs"][key] = {{"sha256", hex}, {"identity", id}};
      write_cache(cache_file_, cache);
    } else if (cache["blobs"].erase(key) > 0) {
      write_cache(cache_file_, cache);
    }
  }
  if (actual != hex)
    fail("{}: sha256 {} does not match the manifest's digest {} ({}); refusing a corrupt or changed blob",
         blob.string(), actual, hex, what);
  return Outcome::Hashed;
}

}  // namespace r1::store
