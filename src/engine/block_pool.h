#pragma once
// The KV block pool: which blocks are free, how many requests share each block, and which full blocks hold a
// cached prefix (by BlockHash). Blocks hold no data here — the memory is the executor's KvCache; this is the
// bookkeeping, as vLLM v1's BlockPool.
//
// Free blocks sit in one LRU list: freeing appends at the tail, allocation takes from the head. A free block
// may still hold a cached prefix; it stays findable by hash until allocation reuses (evicts) it, so the least
// recently freed cached blocks are evicted first.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/block_hash.h"

namespace r1 {

class BlockPool {
 public:
  BlockPool(size_t n_blocks, size_t block_size, bool enable_caching);

  size_t n_blocks() const { return blocks_.size(); }
  size_t block_size() const { return block_size_; }
  // Blocks that can be allocated now (free, cached or not).
  size_t num_free() const { return n_free_; }
  // Blocks referenced by at least one request.
  size_t num_used() const { return blocks_.size() - n_free_; }
  size_t num_cached() const { return cached_.size(); }

  // Takes `n` blocks (ref count 1 each), evicting cached ones from the LRU head as needed. The caller must
  // check num_free() first; asking for more is an internal error.
  std::vector<int32_t> allocate(size_t n);
  // Adds a reference to each block (a prefix-cache hit); a free block leaves the free list.
  void touch(std::span<const int32_t> blocks);
  // Drops one reference from each block, in the given order; blocks reaching zero join the LRU tail.
  void release(std::span<const int32_t> blocks);

  // The cached block holding exactly `tokens` after the prefix hashed as `hash`, if any.
  std::optional<int32_t> lookup(const BlockHash& hash, std::span<const int32_t> tokens) const;
  // Marks a full, computed block as holding `tokens` under `hash`. When another block already holds that hash
  // this one stays uncached (first one wins) and false is returned.
  bool cache(int32_t block, const BlockHash& hash, std::span<const int32_t> tokens);
  int ref_count(int32_t block) const { return blocks_[size_t(block)].refs; }
  bool is_cached(int32_t block) const { return blocks_[size_t(block)].hash.has_value(); }
  // Forgets every cached prefix (e.g. after the weights change). Referenced blocks keep their data.
  void clear_cache();

 private:
  struct Block {
    int refs = 0;
    std::optional<BlockHash> hash;
    int32_t prev = -1, next = -1;  // free-list links; -1 = none
    bool in_free_list = false;
  };
  void push_free_tail(int32_t b);
  void unlink_free(int32_t b);
  void evict(int32_t b);

  size_t block_size_;
  bool caching_;
  std::vector<Block> blocks_;
  std::vector<int32_t> tokens_;  // [n_blocks, block_size]: the tokens of cached blocks, to verify a hit
  int32_t head_ = -1, tail_ = -1;
  size_t n_free_ = 0;
  std::unordered_map<BlockHash, int32_t, BlockHashHasher> cached_;
};

}  // namespace r1
