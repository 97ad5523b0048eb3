#include "store/ollama_store.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "store/sha256.h"

namespace r1::store {

namespace fs = std::filesystem;

fs::path ollama_models_dir() {
  if (const char* d = std::getenv("OLLAMA_MODELS"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".ollama" / "models";
}

fs::path resolve_ollama_model(const std::string& name_tag) {
  const size_t colon = name_tag.rfind(':');
  std::string name = colon == std::string::npos ? name_tag : name_tag.substr(0, colon);
  const std::string tag = colon == std::string::npos ? "latest" : name_tag.substr(colon + 1);
  if (name.find('/') == std::string::npos) name = "library/" + name;
  auto bad = [](const std::string& s) {
    return s.empty() || s.find("..") != std::string::npos || s.front() == '/' ||
           s.find('\\') != std::string::npos;
  };
  if (bad(name) || bad(tag) || tag.find('/') != std::string::npos)
    fail("--model ollama:{}: not an Ollama name NAME[:TAG]", name_tag);
  const fs::path root = ollama_models_dir();
  const fs::path manifest = root / "manifests" / "registry.ollama.ai" / name / tag;
  std::ifstream in(manifest);
  if (!in)
    fail("--model ollama:{}: no manifest at {} (is OLLAMA_MODELS right?)", name_tag, manifest.string());
  nlohmann::json m;
  try {
    m = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", manifest.string(), e.what());
  }
  if (!m.is_object() || !m.contains("layers") || !m["layers"].is_array())
    fail("{}: missing \"layers\" (an array)", manifest.string());
  for (const auto& layer : m["layers"]) {
    if (!layer.is_object() || layer.value("mediaType", "") != "application/vnd.ollama.image.model") continue;
    const std::string digest = layer.value("digest", "");
    if (digest.rfind("sha256:", 0) != 0 || digest.size() != 7 + 64 ||
        digest.find_first_not_of("0123456789abcdef", 7) != std::string::npos)
      fail("{}: model layer digest \"{}\" is not sha256:<64 hex>", manifest.string(), digest);
    const fs::path blob = root / "blobs" / ("sha256-" + digest.substr(7));
    std::error_code ec;
    if (!fs::is_regular_file(blob, ec))
      fail("{}: model blob {} is missing", manifest.string(), blob.string());
    if (layer.contains("size") && layer["size"].is_number_unsigned() &&
        layer["size"].get<uint64_t>() != fs::file_size(blob, ec))
      fail("{}: {} bytes, the manifest says {}", blob.string(), fs::file_size(blob, ec),
           layer["size"].get<uint64_t>());
    spdlog::info("--model ollama:{}: checking {} against its sha256 digest", name_tag, blob.string());
    const std::string actual = sha256_file(blob);
    if (actual != digest.substr(7))
      fail("{}: sha256 {} does not match the manifest's digest {}; refusing a corrupt blob", blob.string(),
           actual, digest.substr(7));
    return blob;
  }
  fail("{}: no layer of media type application/vnd.ollama.image.model", manifest.string());
}

}  // namespace r1::store
