#pragma once
// A Hugging Face model folder: config.json, generation_config.json, and the weights as one
// model.safetensors or shards listed by model.safetensors.index.json — or, in r1serve's model store, as one
// packed weight file (weights.r1pack, model/packed_weights.h), which is then used instead of any safetensors.
// Or a single GGUF file, whose metadata gives the config (model/gguf_config.h).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/generation_config.h"
#include "model/gguf_file.h"
#include "model/model_config.h"
#include "model/safetensors.h"

namespace r1 {

class ModelPackage {
 public:
  // Opens and validates the folder's files (not yet the tensor set; see load_weights).
  // Throws r1::Error naming the file and the problem.
  // `dir` may also be a GGUF file (told by its magic, not its name), or a folder holding one as model.gguf
  // (an imported GGUF model, with weights.r1pack beside it when packed at import).
  static ModelPackage open(const std::string& dir);
  // config.json and the optional generation_config.json only, no weight files (tensors() is empty): for
  // --load-format dummy, where the weights are made from the config. `dir` may also be the path of a
  // config.json file (its folder is then the package's folder). Throws r1::Error as open() does.
  static ModelPackage open_config_only(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const ModelConfig& config() const { return config_; }
  const GenerationConfig& generation_config() const { return generation_; }

  // Every tensor of the package by name, with the file that holds it.
  struct Located {
    const SafetensorsFile* file;
    const SafetensorsEntry* entry;
  };
  const std::map<std::string, Located>& tensors() const { return tensors_; }
  // The packed weight file when the folder has one (tensors() is then empty), else "".
  const std::string& packed_path() const { return packed_path_; }
  // The GGUF file when the package is one (tensors() is then empty), else null.
  const GgufFile* gguf() const { return gguf_.get(); }
  // Lets go of the resident pages of its safetensors or GGUF file(s) once the weights have been copied out of
  // them (MappedFile::drop_resident); the files stay mapped and readable.
  void drop_resident_pages() const;
  // Bytes of all tensors in the files (of the packed file when there is one).
  size_t weight_bytes() const;

 private:
  std::string dir_;
  ModelConfig config_;
  GenerationConfig generation_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, Located> tensors_;
  std::string packed_path_;
  std::unique_ptr<GgufFile> gguf_;
};

// The name of the folder, or of a GGUF file without its .gguf (the default served model name).
std::string package_name(const std::string& dir);

}  // namespace r1
