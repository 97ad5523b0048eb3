#include "store/store_manifest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace r1::store {

using nlohmann::json;

uint64_t Manifest::total_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files) n += f.bytes;
  return n;
}

Manifest read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot read", path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail("{}: not a JSON object", path);
  auto str = [&](const char* k) -> std::string {
    if (!j.contains(k) || !j[k].is_string()) fail("{}: \"{}\" must be a string", path, k);
    return j[k].get<std::string>();
  };
  Manifest m;
  if (!j.contains("schema") || !j["schema"].is_number_integer() || j["schema"].get<int>() != 1)
    fail("{}: \"schema\" must be 1 (written by another r1serve version?)", path);
  m.name = str("name");
  m.tag = str("tag");
  m.source = str("source");
  m.revision = str("revision");
  m.architecture = str("architecture");
  m.weights_format = str("weights_format");
  m.dtype = str("dtype");
  m.imported_at = str("imported_at");
  if (!j.contains("parameters") || !j["parameters"].is_number_unsigned())
    fail("{}: \"parameters\" must be a count", path);
  m.parameters = j["parameters"].get<uint64_t>();
  if (!j.contains("files") || !j["files"].is_array()) fail("{}: \"files\" must be a list", path);
  for (const auto& f : j["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("bytes") ||
        !f["bytes"].is_number_unsigned() || !f.contains("sha256") || !f["sha256"].is_string())
      fail("{}: each of \"files\" needs path, bytes and sha256", path);
    m.files.push_back(
        {f["path"].get<std::string>(), f["bytes"].get<uint64_t>(), f["sha256"].get<std::string>()});
  }
  return m;
}

void write_manifest(const std::string& path, const Manifest& m) {
  json files = json::array();
  for (const auto& f : m.files) files.push_back({{"path", f.path}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  json j = {{"schema", m.schema},
            {"name", m.name},
            {"tag", m.tag},
            {"source", m.source},
            {"revision", m.revision},
            {"architecture", m.architecture},
            {"parameters", m.parameters},
            {"weights_format", m.weights_format},
            {"dtype", m.dtype},
            {"imported_at", m.imported_at},
            {"total_bytes", m.total_bytes()},
            {"files", files}};
  const std::string text = j.dump(2) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("{}: cannot create: {}", path, std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) fail("{}: write failed: {}", path, std::strerror(err));
}

}  // namespace r1::store
