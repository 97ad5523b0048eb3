#pragma once
// Checks a content-addressed blob (Ollama's blobs/sha256-<hex>) against its digest, remembering the blobs
// that passed so a multi-GB model is not re-hashed on every start (sha256 runs at ~1.7 GB/s here: ~3 s for a
// 7B Q4_K_M blob, ~12 s for a 32B one, on top of reading it).
//
// What is remembered is the file's identity when it was hashed: (path, device, inode, size, mtime, ctime),
// never the path alone. Any write to the file changes its ctime (which, unlike mtime, user space cannot set
// back), a file replaced by a rename has a new inode, and a truncated or extended one a new size; so a blob
// changed in any way after a successful check is hashed again — and refused — on the next load. (A blob
// changed less than 2 s before it was hashed is not remembered: timestamps that coarse could hide a second
// change.) What the
// cache cannot see is corruption below the filesystem (a bad disk sector); deleting the cache file forces
// every blob to be hashed again.
#include <filesystem>
#include <string>

namespace r1::store {

class VerifiedBlobs {
 public:
  // `cache_file`: where the identities of blobs that passed are kept (JSON); "" = no cache, always hash.
  explicit VerifiedBlobs(std::filesystem::path cache_file) : cache_file_(std::move(cache_file)) {}

  enum class Outcome { Hashed, Remembered };
  // Guarantees the blob's sha256 is `hex` (64 lowercase hex digits): either hashed now, or unchanged since it
  // was hashed and matched. Throws r1::Error naming the blob (and `what`, the manifest that names it) when it
  // does not match. A cache that cannot be read or written only costs a re-hash (a warning, never an error).
  Outcome check(const std::filesystem::path& blob, const std::string& hex, const std::string& what) const;

 private:
  std::filesystem::path cache_file_;
};

}  // namespace r1::store
