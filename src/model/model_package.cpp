#include "model/model_package.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "model/gguf_config.h"
#include "model/packed_weights.h"

namespace r1 {

namespace fs = std::filesystem;
using nlohmann::json;

std::string package_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  if (p.extension() == ".gguf") return p.stem().string();
  return p.filename().string();
}

namespace {

// Shard file names from model.safetensors.index.json, with the tensors each should hold.
std::map<std::string, std::set<std::string>> read_index(const std::string& path) {
  json j = read_json_file(path);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail("{}: missing object \"weight_map\"", path);
  std::map<std::string, std::set<std::string>> shards;
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string()) fail("{}: weight_map[\"{}\"] must be a file name", path, it.key());
    std::string shard = it.value().get<std::string>();
    if (shard.find('/') != std::string::npos || shard == "..")
      fail("{}: weight_map[\"{}\"] names \"{}\", which is not a file in the folder", path, it.key(), shard);
    shards[shard].insert(it.key());
  }
  if (shards.empty()) fail("{}: weight_map is empty", path);
  return shards;
}

}  // namespace

ModelPackage ModelPackage::open_config_only(const std::string& path) {
  const bool is_file = fs::is_regular_file(path);
  if (!is_file && !fs::is_directory(path)) fail("{}: not a model folder (no such directory)", path);
  const fs::path folder = is_file ? fs::path(path).parent_path() : fs::path(path);
  const std::string cfg = is_file ? path : (folder / "config.json").string();
  ModelPackage p;
  p.dir_ = is_file ? (folder.empty() ? fs::path(".") : folder).string() : path;
  if (!fs::exists(cfg)) fail("{}: missing (a model folder needs config.json)", cfg);
  p.config_ = ModelConfig::from_file(cfg);
  p.generation_ = GenerationConfig::from_file_if_present((folder / "generation_config.json").string());
  return p;
}

ModelPackage ModelPackage::open(const std::string& dir) {
  if (const std::string gguf = gguf_model_file(dir); !gguf.empty()) {
    ModelPackage p;
    p.dir_ = dir;
    p.gguf_ = std::make_unique<GgufFile>(gguf);
    p.config_ = gguf_model_config(*p.gguf_);
    // An imported GGUF model packed at import: the file still gives the config and tokenizer.
    if (fs::is_directory(dir) && fs::exists(fs::path(dir) / kPackedWeightsFile))
      p.packed_path_ = (fs::path(dir) / kPackedWeightsFile).string();
    return p;
  }
  if (!fs::is_directory(dir)) fail("{}: not a model folder (no such directory)", dir);
  ModelPackage p = open_config_only(dir);
  const fs::path packed = fs::path(dir) / kPackedWeightsFile;
  if (fs::exists(packed)) {
    p.packed_path_ = packed.string();
    return p;
  }

  std::string single = (fs::path(dir) / "model.safetensors").string();
  std::string index = (fs::path(dir) / "model.safetensors.index.json").string();
  auto add_file = [&](const std::string& path) -> SafetensorsFile& {
    p.files_.push_back(std::make_unique<SafetensorsFile>(path));
    SafetensorsFile& f = *p.files_.back();
    for (const auto& e : f.tensors()) {
      auto [it, inserted] = p.tensors_.emplace(e.name, Located{&f, &e});
      if (!inserted) fail("{}: tensor \"{}\" is also in {}", path, e.name, it->second.file->path());
    }
    return f;
  };
  if (fs::exists(index)) {
    for (const auto& [shard, names] : read_index(index)) {
      std::string path = (fs::path(dir) / shard).string();
      if (!fs::exists(path)) fail("{}: missing shard {} (named in {})", path, shard, index);
      SafetensorsFile& f = add_file(path);
      for (const auto& n : names)
        if (!f.find(n)) fail("{}: tensor \"{}\" is listed in {} but not in this file", path, n, index);
    }
  } else if (fs::exists(single)) {
    add_file(single);
  } else {
    fail("{}: no weights: neither model.safetensors nor model.safetensors.index.json", dir);
  }
  return p;
}

size_t ModelPackage::weight_bytes() const {
  if (!packed_path_.empty()) return fs::file_size(packed_path_);
  if (gguf_) {
    size_t n = 0;
    for (const auto& t : gguf_->tensors()) n += t.bytes;
    return n;
  }
  size_t n = 0;
  for (const auto& [name, loc] : tensors_) n += loc.entry->end - loc.entry->begin;
  return n;
}

void ModelPackage::drop_resident_pages() const {
  for (const auto& f : files_) f->drop_resident_pages();
  if (gguf_) gguf_->drop_resident_pages();
}

}  // namespace r1
