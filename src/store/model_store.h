#pragma once
// r1serve's own model store: imported models under names, each a complete folder with its manifest.
//
//   $ROOT (--store, else $R1SERVE_HOME, else $XDG_CACHE_HOME/r1serve, else ~/.cache/r1serve)
//   ├── models/NAME/TAG/           config, tokenizer and weight files (safetensors or weights.r1pack)
//   │   └── manifest.json          store_manifest.h
//   ├── s3/BUCKET/PREFIX/          local copies of s3:// sources (s3_source.h)
//   ├── ollama-verified.json       Ollama blobs whose sha256 matched, by file identity (verified_blobs.h)
//   └── tmp/                       imports being staged and removals in progress (same filesystem, so
//                                  a finished one appears or disappears with one rename)
//
// An entry under models/ is only ever created or removed by renaming a complete folder, so a reader never
// sees a half-imported or half-removed model, whatever moment a process is killed at.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/store_manifest.h"

namespace r1::store {

// "NAME[:TAG]" as the command line gives it; TAG defaults to "latest".
struct StoreName {
  std::string name, tag = "latest";
  std::string str() const { return name + ":" + tag; }
};
// Names and tags: 1-64 of [A-Za-z0-9._-], starting with a letter or digit (so never "." or "..", never a
// path). nullopt when `s` is not shaped like a store name at all (it has a '/', or is empty); throws
// r1::Error when it is but a part is invalid.
std::optional<StoreName> parse_store_name(const std::string& s);
// Throws r1::Error saying what is wrong when `s` is not a valid NAME[:TAG].
StoreName parse_store_name_or_fail(const std::string& s);

// The store folder from --store (when not empty) or the environment, as above.
std::filesystem::path default_store_root(const std::string& flag = "");

class ModelStore {
 public:
  explicit ModelStore(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path entry_dir(const StoreName& n) const;

  // The entry's folder when the store holds it (with its manifest), else nullopt.
  std::optional<std::filesystem::path> find(const StoreName& n) const;
  struct Entry {
    StoreName name;
    std::filesystem::path dir;
    Manifest manifest;
  };
  // Every entry, sorted by name and tag; an entry whose manifest cannot be read is skipped with a warning.
  std::vector<Entry> list() const;

  // A fresh, empty staging folder under tmp/ for an import (left-over staging folders of processes that no
  // longer run are removed first).
  std::filesystem::path make_staging_dir(const std::string& purpose) const;
  // Moves a complete staged folder into place as `n` with one rename. If `n` exists: fails saying so, or with
  // replace, swaps the two atomically (RENAME_EXCHANGE) and removes the old one.
  void commit(const std::filesystem::path& staged, const StoreName& n, bool replace) const;
  // Removes `n`: renamed out of models/ first (one atomic step), then deleted. Throws when absent.
  void remove(const StoreName& n) const;

 private:
  std::filesystem::path root_;
};

}  // namespace r1::store
