#include "store/ollama_store.h"

#include <strings.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "store/verified_blobs.h"

namespace r1::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kModelMediaType = "application/vnd.ollama.image.model";
constexpr const char* kDefaultHost = "registry.ollama.ai";
constexpr const char* kDefaultNamespace = "library";
constexpr size_t kMaxPart = 128;  // Ollama's own limit on a name

// Why `part` (the `what` of a name) is not a valid part, "" when it is. The rules are Ollama's: letters,
// digits, '_', '-', '.'; no '.' in a namespace; plus, so that a part is always one plain folder name, no
// leading '.' and no "..".
std::string part_problem(const std::string& part, const char* what) {
  if (part.empty()) return fmt::format("the {} is empty", what);
  if (part.size() > kMaxPart) return fmt::format("the {} has more than {} characters", what, kMaxPart);
  for (char c : part) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    if (!ok || (c == '.' && std::string(what) == "namespace"))
      return fmt::format("the {} \"{}\" has the character '{}'", what, part, c);
  }
  if (part.front() == '.' || part.find("..") != std::string::npos)
    return fmt::format("the {} \"{}\" starts with '.' or has \"..\"", what, part);
  return {};
}

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.c_str(), b.c_str(), a.size()) == 0;
}

// `rel` under `root`, each component matched exactly or else case-insensitively; nullopt when absent.
std::optional<fs::path> find_case_insensitive(const fs::path& root, const fs::path& rel) {
  fs::path at = root;
  std::error_code ec;
  for (const fs::path& comp : rel) {
    if (fs::exists(at / comp, ec)) {
      at /= comp;
      continue;
    }
    std::optional<fs::path> match;
    for (fs::directory_iterator it(at, ec), end; !ec && it != end; it.increment(ec))
      if (iequals(it->path().filename().string(), comp.string())) match = it->path();
    if (!match) return std::nullopt;
    at = *match;
  }
  return at;
}

// A layer's or the config's digest as a 64-hex string; throws naming the manifest when it is malformed.
std::string digest_hex(const json& layer, const fs::path& manifest, const char* what) {
  const std::string digest = layer.is_object() ? layer.value("digest", "") : "";
  if (digest.rfind("sha256:", 0) != 0 || digest.size() != 7 + 64 ||
      digest.find_first_not_of("0123456789abcdef", 7) != std::string::npos)
    fail("{}: {} digest \"{}\" is not sha256:<64 hex>", manifest.string(), what, digest);
  return digest.substr(7);
}

fs::path blob_path(const fs::path& root, const std::string& hex) {
  return root / "blobs" / ("sha256-" + hex);
}

// The manifest as JSON and its model layer (nullptr when it has none); throws naming the file.
json read_manifest_json(const fs::path& manifest) {
  std::ifstream in(manifest);
  if (!in) fail("{}: cannot be read", manifest.string());
  json m;
  try {
    m = json::parse(in);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", manifest.string(), e.what());
  }
  if (!m.is_object() || !m.contains("layers") || !m["layers"].is_array())
    fail("{}: missing \"layers\" (an array)", manifest.string());
  return m;
}

const json* model_layer(const json& m) {
  for (const auto& layer : m["layers"])
    if (layer.is_object() && layer.value("mediaType", "") == kModelMediaType) return &layer;
  return nullptr;
}

std::string utc_iso8601(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "";
  std::tm tm{};
  ::gmtime_r(&st.st_mtim.tv_sec, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Ollama's config blob (model_family, model_type, file_type): a description only, so any problem with it
// leaves the fields empty.
void read_config(const fs::path& root, const json& m, const fs::path& manifest, OllamaModel& out) {
  if (!m.contains("config")) return;
  try {
    const fs::path cfg = blob_path(root, digest_hex(m["config"], manifest, "config"));
    std::error_code ec;
    if (!fs::is_regular_file(cfg, ec) || fs::file_size(cfg, ec) > (1u << 20)) return;
    std::ifstream in(cfg);
    const json c = json::parse(in);
    if (!c.is_object()) return;
    auto str = [&](const char* k) {
      return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : "";
    };
    out.family = str("model_family");
    out.parameter_size = str("model_type");
    out.file_type = str("file_type");
  } catch (const std::exception&) {
  }
}

uint64_t size_of(const json& layer) {
  return layer.is_object() && layer.contains("size") && layer["size"].is_number_unsigned()
             ? layer["size"].get<uint64_t>()
             : 0;
}

}  // namespace

fs::path ollama_models_dir() {
  if (const char* d = std::getenv("OLLAMA_MODELS"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".ollama" / "models";
}

std::string OllamaName::display() const {
  const bool default_host = iequals(host, kDefaultHost);
  std::string s;
  if (!default_host)
    s = host + "/" + ns + "/";
  else if (!iequals(ns, kDefaultNamespace))
    s = ns + "/";
  return s + model + ":" + tag;
}

fs::path OllamaName::manifest_path() const {
  return fs::path("manifests") / host / ns / model / tag;
}

OllamaName parse_ollama_name(const std::string& s) {
  OllamaName n;
  std::string path = s;
  const size_t slash = s.rfind('/'), colon = s.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    n.tag = s.substr(colon + 1);
    path = s.substr(0, colon);
  }
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t end = path.find('/', start);
    parts.push_back(path.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (parts.size() > 3)
    fail("Ollama name \"{}\": at most HOST/NAMESPACE/MODEL:TAG ({} parts separated by '/')", s, parts.size());
  n.model = parts.back();
  if (parts.size() >= 2) n.ns = parts[parts.size() - 2];
  if (parts.size() == 3) n.host = parts[0];
  for (auto [part, what] :
       {std::pair{&n.host, "host"}, {&n.ns, "namespace"}, {&n.model, "model"}, {&n.tag, "tag"}})
    if (auto p = part_problem(*part, what); !p.empty()) fail("Ollama name \"{}\": {}", s, p);
  return n;
}

fs::path resolve_ollama_model(const std::string& spec, const fs::path& verify_cache) {
  OllamaName n;
  try {
    n = parse_ollama_name(spec);
  } catch (const Error& e) {
    fail("--model ollama:{}: {}", spec, e.what());
  }
  const fs::path root = ollama_models_dir();
  const std::optional<fs::path> found = find_case_insensitive(root, n.manifest_path());
  if (!found)
    fail(
        "--model ollama:{}: no manifest at {} (is OLLAMA_MODELS right? `r1serve list` shows Ollama's models)",
        spec, (root / n.manifest_path()).string());
  const fs::path manifest = *found;
  const json m = read_manifest_json(manifest);
  const json* layer = model_layer(m);
  if (!layer) fail("{}: no layer of media type {}", manifest.string(), kModelMediaType);
  const std::string hex = digest_hex(*layer, manifest, "model layer");
  const fs::path blob = blob_path(root, hex);
  std::error_code ec;
  if (!fs::is_regular_file(blob, ec)) fail("{}: model blob {} is missing", manifest.string(), blob.string());
  if (layer->contains("size") && (*layer)["size"].is_number_unsigned() &&
      size_of(*layer) != fs::file_size(blob, ec))
    fail("{}: {} bytes, the manifest says {}", blob.string(), fs::file_size(blob, ec), size_of(*layer));
  VerifiedBlobs(verify_cache).check(blob, hex, manifest.string());
  return blob;
}

OllamaListing list_ollama_models(const fs::path& root) {
  OllamaListing out;
  const fs::path dir = root / "manifests";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  // manifests/HOST/NAMESPACE/MODEL/TAG: the files four levels down; anything else is not a manifest.
  std::vector<fs::path> files;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) out.warnings.push_back(fmt::format("{}: cannot be read: {}", dir.string(), ec.message()));
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    const bool is_dir = it->is_directory(type_ec);
    if (it->path().filename().string().front() == '.') {  // temporary or hidden: not Ollama's
      if (is_dir) it.disable_recursion_pending();
      continue;
    }
    if (it.depth() == 3 && !is_dir) files.push_back(it->path());
    if (it.depth() >= 3) it.disable_recursion_pending();
  }
  if (ec) out.warnings.push_back(fmt::format("{}: listing stopped: {}", dir.string(), ec.message()));
  for (const fs::path& f : files) {
    try {
      const fs::path rel = f.lexically_relative(dir);
      std::vector<std::string> c;
      for (const auto& p : rel) c.push_back(p.string());
      OllamaModel om;
      om.name = OllamaName{c[0], c[1], c[2], c[3]};
      for (auto [part, what] : {std::pair{c[0], "host"}, {c[1], "namespace"}, {c[2], "model"}, {c[3], "tag"}})
        if (auto p = part_problem(part, what); !p.empty())
          fail("{}: not an Ollama model name: {}", f.string(), p);
      om.manifest = f;
      const json m = read_manifest_json(f);
      const json* layer = model_layer(m);
      if (!layer)
        fail("{}: no layer of media type {} (not a model r1serve can load)", f.string(), kModelMediaType);
      const std::string hex = digest_hex(*layer, f, "model layer");
      om.digest = "sha256:" + hex;
      om.model_blob = blob_path(root, hex);
      if (!fs::is_regular_file(om.model_blob, ec))
        fail("{}: model blob {} is missing", f.string(), om.model_blob.string());
      om.model_bytes = fs::file_size(om.model_blob, ec);
      om.total_bytes = m.contains("config") ? size_of(m["config"]) : 0;
      for (const auto& l : m["layers"]) om.total_bytes += size_of(l);
      om.modified = utc_iso8601(f);
      read_config(root, m, f, om);
      out.models.push_back(std::move(om));
    } catch (const Error& e) {
      out.warnings.push_back(std::string(e.what()) + "; skipped");
    }
  }
  std::sort(out.models.begin(), out.models.end(),
            [](const OllamaModel& a, const OllamaModel& b) { return a.name.display() < b.name.display(); });
  return out;
}

}  // namespace r1::store
