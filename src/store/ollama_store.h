#pragma once
// Ollama's model store, read in place: $OLLAMA_MODELS (default ~/.ollama/models) holds
// manifests/<host>/<namespace>/<model>/<tag> (JSON: a config and layers of {mediaType, digest, size}) and
// blobs/sha256-<hex>. A model's weights are the layer of media type application/vnd.ollama.image.model — a
// GGUF file, which r1serve loads directly. The host is registry.ollama.ai for `ollama pull NAME`, hf.co for
// models Ollama pulls from the Hugging Face Hub (`ollama pull hf.co/USER/REPO:QUANT`), or any other registry.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace r1::store {

// The file in r1serve's store (model_store.h) that remembers the Ollama blobs whose digest matched.
inline constexpr const char* kOllamaVerifiedBlobsFile = "ollama-verified.json";

// $OLLAMA_MODELS, else $HOME/.ollama/models.
std::filesystem::path ollama_models_dir();

// A model name as Ollama spells it: [HOST/][NAMESPACE/]MODEL[:TAG], defaults registry.ollama.ai, library,
// latest. Parts are [A-Za-z0-9._-] (no '.' in a namespace, no "..", none starting with '.'), so a name never
// leaves manifests/.
struct OllamaName {
  std::string host = "registry.ollama.ai", ns = "library", model, tag = "latest";
  // The shortest spelling that names it again, as `ollama list` writes it: "deepseek-r1:7b",
  // "user/model:tag", "hf.co/bartowski/Some-GGUF:Q4_K_M".
  std::string display() const;
  // manifests/HOST/NAMESPACE/MODEL/TAG, relative to the models folder.
  std::filesystem::path manifest_path() const;
};
// Throws r1::Error saying which part is wrong when `s` is not a valid name.
OllamaName parse_ollama_name(const std::string& s);

// The model blob of NAME (parse_ollama_name), after checking its size and sha256 digest against the
// manifest. The manifest is found case-insensitively (Ollama treats names so, and some of its versions wrote
// them lowercased). `verify_cache`: where blobs that passed are remembered (verified_blobs.h); "" = hash
// every time. Throws r1::Error naming the manifest or blob and the problem.
std::filesystem::path resolve_ollama_model(const std::string& name,
                                           const std::filesystem::path& verify_cache = {});

// One model of Ollama's store as its manifest describes it (nothing is hashed).
struct OllamaModel {
  OllamaName name;
  std::filesystem::path manifest;
  std::filesystem::path model_blob;  // blobs/sha256-<hex> of the model layer
  std::string digest;                // "sha256:<hex>" of the model layer
  uint64_t model_bytes = 0;          // the model layer's size
  uint64_t total_bytes = 0;          // config and every layer, as `ollama list` counts
  std::string modified;              // the manifest's mtime, UTC ISO 8601
  // Ollama's own description (its config blob), "" when absent: "qwen2", "7.6B", "Q4_K_M".
  std::string family, parameter_size, file_type;
};
struct OllamaListing {
  std::vector<OllamaModel> models;  // sorted by display name
  std::vector<std::string>
      warnings;  // one line each, naming the manifest: unreadable, broken, no model layer
};
// Every manifest under `root`/manifests; a missing folder lists nothing.
OllamaListing list_ollama_models(const std::filesystem::path& root);

}  // namespace r1::store
