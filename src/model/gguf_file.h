#pragma once
// The GGUF container (llama.cpp's model file, versions 2 and 3): a header, typed key/value metadata, a table
// of tensor infos, then the aligned tensor data. Files are untrusted: every count, length, offset and type is
// checked before anything is read or allocated on its behalf.
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/mapped_file.h"

namespace r1 {

// ggml's tensor types (ggml.h enum ggml_type) that r1serve reads; any other id is refused by the parser.
enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
};
// The type for a ggml type id, or nullopt for one r1serve does not decode.
std::optional<GgmlType> ggml_type_from_id(uint32_t id);
std::string ggml_type_name(GgmlType t);
// ggml's name for any type id, read or not ("Q2_K" for 10), for errors; a phrase saying so for an unknown id.
std::string ggml_type_id_name(uint32_t id);
size_t ggml_block_elems(GgmlType t);  // 1 for F32/F16/BF16, 32 for Q*_0/Q*_1, 256 for the k-quants
size_t ggml_block_bytes(GgmlType t);  // bytes of one block (one element for the float types)

struct GgufTensor {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> ne;  // GGUF order: ne[0] is the innermost dimension (a matrix's columns)
  uint64_t offset = 0;       // from the start of the data section
  uint64_t bytes = 0;
  uint64_t numel() const;
  // The shape outermost first, as Hugging Face and TensorView write it (ne reversed).
  std::vector<size_t> shape() const;
};

struct GgufHeader {
  uint32_t version = 0;
  // The metadata as JSON: integers, floats, bools, strings, and arrays of them (strings hold the file's bytes
  // as they are). Key order is the file's.
  nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
  std::vector<GgufTensor> tensors;  // in the file's order
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // where the data section starts in the file
};

// Parses and validates a whole GGUF file held in [data, data + size). `file` names it in errors.
// Guarantees: version 2 or 3; every tensor has a known type, 1 to 4 non-zero dimensions whose innermost is a
// multiple of the type's block, an offset that is a multiple of the alignment, bytes that lie inside the file
// and overlap no other tensor's, and a unique name. Throws r1::Error naming the file and the problem
// otherwise.
GgufHeader parse_gguf(const uint8_t* data, size_t size, const std::string& file);

// Whether the file starts with GGUF's magic (what `--model FILE` uses to tell a GGUF file from a folder).
bool looks_like_gguf(const std::string& path);

// The file name r1serve's store keeps an imported GGUF file under.
inline constexpr const char* kGgufModelFile = "model.gguf";
// The GGUF file a --model path names: the path itself when it is a GGUF file, DIR/model.gguf when the folder
// holds one (an imported GGUF model); "" otherwise.
std::string gguf_model_file(const std::string& path);

// A memory-mapped, validated GGUF file.
class GgufFile {
 public:
  explicit GgufFile(const std::string& path);
  const std::string& path() const { return file_.path(); }
  const GgufHeader& header() const { return header_; }
  const nlohmann::ordered_json& metadata() const { return header_.metadata; }
  const std::vector<GgufTensor>& tensors() const { return header_.tensors; }
  const GgufTensor* find(const std::string& name) const;
  const uint8_t* data(const GgufTensor& t) const { return file_.data() + header_.data_offset + t.offset; }
  size_t file_bytes() const { return file_.size(); }
  // See MappedFile::drop_resident.
  void drop_resident_pages() const { file_.drop_resident(); }

 private:
  MappedFile file_;
  GgufHeader header_;
  std::map<std::string, size_t> index_;
};

}  // namespace r1
