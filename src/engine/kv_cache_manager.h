#pragma once
// Block tables per sequence over one BlockPool: allocate-or-refuse as sequences grow, prefix-cache lookups
// for new sequences, and registration of computed full blocks so later sequences can reuse them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/block_pool.h"

namespace r1 {

// Cached blocks covering the start of a sequence: blocks[i] holds positions [i * block_size, (i+1) *
// block_size).
struct PrefixHit {
  std::vector<int32_t> blocks;
  std::vector<BlockHash> hashes;  // [blocks.size()]
  size_t num_tokens() const { return n_tokens; }
  size_t n_tokens = 0;
};

class KvCacheManager {
 public:
  KvCacheManager(size_t n_blocks, size_t block_size, bool enable_prefix_caching);

  size_t block_size() const { return pool_.block_size(); }
  size_t n_blocks() const { return pool_.n_blocks(); }
  size_t num_free_blocks() const { return pool_.num_free(); }
  size_t num_used_blocks() const { return pool_.num_used(); }
  double usage() const { return double(pool_.num_used()) / double(pool_.n_blocks()); }
  size_t blocks_for(size_t n_tokens) const { return (n_tokens + block_size() - 1) / block_size(); }
  bool prefix_caching() const { return caching_; }

  // The longest run of cached full blocks at the start of `tokens`. At least one token is always left to
  // compute (its logits are needed), so a fully cached sequence hits all but its last block's worth.
  PrefixHit find_prefix(std::span<const int32_t> tokens) const;

  // Grows `seq`'s block table to hold positions [0, num_computed + num_new). For a sequence with no blocks
  // yet, `hit` (may be null) gives its cached prefix, whose length must equal num_computed. Returns false and
  // changes nothing when the pool has too few free blocks.
  bool allocate(uint64_t seq, size_t num_computed, size_t num_new, const PrefixHit* hit);

  // Registers the full blocks among tokens[0, num_computed) of `seq` (their KV is now computed) in the prefix
  // cache.
  void cache_computed(uint64_t seq, std::span<const int32_t> tokens, size_t num_computed);

  // Releases every block of `seq` (tail blocks first, so they are evicted before shared prefixes).
  void free(uint64_t seq);

  // [blocks]; valid until the next allocate/free of this sequence.
  const std::vector<int32_t>& block_table(uint64_t seq) const;
  bool has(uint64_t seq) const { return seqs_.count(seq) != 0; }
  const BlockPool& pool() const { return pool_; }
  void clear_prefix_cache() { pool_.clear_cache(); }

 private:
  struct Entry {
    std::vector<int32_t> blocks;
    std::vector<BlockHash> hashes;  // chain hashes of blocks[0, hashes.size()), all full and computed
  };
  BlockPool pool_;
  bool caching_;
  std::unordered_map<uint64_t, Entry> seqs_;
};

}  // namespace r1
