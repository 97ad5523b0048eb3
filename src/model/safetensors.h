#pragma once
// The safetensors format: an 8-byte little-endian header length, a JSON header mapping tensor names to
// {dtype, shape, data_offsets}, then the data. Files are untrusted: every field is checked.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "core/tensor.h"

namespace r1 {

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  std::vector<size_t> shape;
  size_t begin = 0, end = 0;  // byte offsets into the data section
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;  // sorted by begin offset
  size_t data_offset = 0;                 // where the data section starts in the file
};

// Parses and validates the header of a whole file held in [data, data + size). `file` names it in errors.
// Guarantees: every tensor's dtype is known, its byte size equals numel × element size, its bytes lie inside
// the file, and no two tensors overlap. Throws r1::Error naming file, tensor and problem otherwise.
SafetensorsHeader parse_safetensors(const uint8_t* data, size_t size, const std::string& file);

// A memory-mapped, validated safetensors file.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return file_.path(); }
  const std::vector<SafetensorsEntry>& tensors() const { return header_.tensors; }
  const SafetensorsEntry* find(const std::string& name) const;
  TensorView view(const SafetensorsEntry& e) const;
  // See MappedFile::drop_resident.
  void drop_resident_pages() const { file_.drop_resident(); }

 private:
  MappedFile file_;
  SafetensorsHeader header_;
  std::map<std::string, size_t> index_;
};

}  // namespace r1
