#pragma once
// A read-only memory map of a whole file. Used to read model files. Weights that kernels stream are either
// copied out to anonymous memory or, from the packed weight file, used in place once the mapping is locked
// (lock_on_fault): page-cache-backed maps were seen being evicted mid-run (DESIGN.md), a locked one cannot
// be.
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

  // Pins every page of the mapping in memory from its first touch on (mlock2 MLOCK_ONFAULT: nothing is read
  // now, and munmap unpins). Returns false, changing nothing, when the process may not lock that much memory
  // (RLIMIT_MEMLOCK without CAP_IPC_LOCK, as in an unprivileged container).
  bool lock_on_fault();
  // Starts reading [offset, offset + n) into the page cache in the background (MADV_WILLNEED): a no-op on a
  // warm cache, and on a cold one the disk reads ahead of the first touches.
  void will_need(size_t offset, size_t n) const;
  // Unmaps this process's resident pages (MADV_DONTNEED) once their bytes have been copied out: the process's
  // memory then counts the copies alone, not the file beside them. The mapping stays valid; a later read
  // faults the page back in from the page cache or the file. Not for a locked mapping.
  void drop_resident() const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace r1
