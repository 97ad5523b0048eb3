#pragma once
// A read-only memory map of a whole file. Used to read model files; weights that kernels stream are copied
// out to anonymous memory (see DESIGN.md: page-cache-backed maps were seen being evicted mid-run).
#include <cstddef>
#include <cstdint>
#include <string>

namespace r1 {

class MappedFile {
 public:
  // Throws r1::Error naming the path if it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace r1
