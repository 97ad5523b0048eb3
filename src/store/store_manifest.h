#pragma once
// manifest.json of a model in r1serve's store: what was imported, from where, and the checksum of every file,
// so `show` can say what a name is and a changed file can be told from the one imported.
#include <cstdint>
#include <string>
#include <vector>

namespace r1::store {

struct ManifestFile {
  std::string path;  // relative to the model's folder
  uint64_t bytes = 0;
  std::string sha256;
};

struct Manifest {
  int schema = 1;
  std::string name, tag;     // "deepseek-r1", "7b"
  std::string source;        // as given to import: a folder, ORG/NAME[@REV], s3://...
  std::string revision;      // the Hub commit when from the Hub, else ""
  std::string architecture;  // config.json's, e.g. "Qwen2ForCausalLM"
  uint64_t parameters = 0;
  std::string weights_format;  // "safetensors", "packed" or "gguf"
  std::string dtype;           // the packed file's precision (bf16, q8, q4); "" for safetensors
  std::string imported_at;     // UTC, ISO 8601
  std::vector<ManifestFile> files;
  uint64_t total_bytes() const;
};

// Throws r1::Error naming `path` and the field when the file is not a manifest this version reads.
Manifest read_manifest(const std::string& path);
// Writes it and flushes it to disk.
void write_manifest(const std::string& path, const Manifest& m);

}  // namespace r1::store
