#pragma once
// Identity of a full KV block for prefix caching: a 128-bit hash of the block's tokens chained with the hash
// of the block before it, so equal hashes mean equal prefixes (the pool also compares the tokens, so a
// collision would need both 64-bit halves and the block's own tokens to agree).
#include <cstdint>
#include <functional>
#include <span>

namespace r1 {

struct BlockHash {
  uint64_t lo = 0, hi = 0;
  bool operator==(const BlockHash&) const = default;
};

// The hash of a block holding `tokens`, after the block whose hash is `parent` (none for the first block).
BlockHash hash_block(const BlockHash* parent, std::span<const int32_t> tokens);

struct BlockHashHasher {
  size_t operator()(const BlockHash& h) const { return size_t(h.lo ^ (h.hi * 0x9e3779b97f4a7c15ull)); }
};

}  // namespace r1
