#include "engine/kv_cache_manager.h"

#include <algorithm>

#include "core/error.h"

namespace r1 {

KvCacheManager::KvCacheManager(size_t n_blocks, size_t block_size, bool enable_prefix_caching)
    : pool_(n_blocks, block_size, enable_prefix_caching), caching_(enable_prefix_caching) {}

PrefixHit KvCacheManager::find_prefix(std::span<const int32_t> tokens) const {
  PrefixHit hit;
  if (!caching_ || tokens.empty()) return hit;
  const size_t bs = block_size();
  const size_t max_blocks = (tokens.size() - 1) / bs;  // keep >= 1 token to compute
  for (size_t i = 0; i < max_blocks; ++i) {
    auto block_tokens = tokens.subspan(i * bs, bs);
    BlockHash h = hash_block(hit.hashes.empty() ? nullptr : &hit.hashes.back(), block_tokens);
    auto b = pool_.lookup(h, block_tokens);
    if (!b) break;
    hit.blocks.push_back(*b);
    hit.hashes.push_back(h);
  }
  hit.n_tokens = hit.blocks.size() * bs;
  return hit;
}

bool KvCacheManager::allocate(uint64_t seq, size_t num_computed, size_t num_new, const PrefixHit* hit) {
  auto it = seqs_.find(seq);
  const size_t have = it == seqs_.end() ? 0 : it->second.blocks.size();
  const size_t n_hit = hit ? hit->blocks.size() : 0;
  R1_CHECK(!hit || (have == 0 && hit->n_tokens == num_computed), "prefix hit for a sequence that has blocks");
  const size_t want = blocks_for(num_computed + num_new);
  const size_t fresh = want > have + n_hit ? want - have - n_hit : 0;
  // Hit blocks nobody references sit in the free list: adopting them uses up free blocks too.
  size_t hit_from_free = 0;
  if (hit)
    for (int32_t b : hit->blocks) hit_from_free += pool_.ref_count(b) == 0;
  if (fresh + hit_from_free > pool_.num_free()) return false;

  Entry& e = seqs_[seq];
  if (hit) {
    pool_.touch(hit->blocks);
    e.blocks = hit->blocks;
    e.hashes = hit->hashes;
  }
  auto fresh_blocks = pool_.allocate(fresh);
  e.blocks.insert(e.blocks.end(), fresh_blocks.begin(), fresh_blocks.end());
  return true;
}

void KvCacheManager::cache_computed(uint64_t seq, std::span<const int32_t> tokens, size_t num_computed) {
  if (!caching_) return;
  auto it = seqs_.find(seq);
  R1_CHECK(it != seqs_.end(), "caching blocks of unknown sequence {}", seq);
  Entry& e = it->second;
  const size_t bs = block_size();
  const size_t full = std::min(num_computed, tokens.size()) / bs;
  R1_CHECK(full <= e.blocks.size(), "{} full blocks computed but {} allocated", full, e.blocks.size());
  for (size_t i = e.hashes.size(); i < full; ++i) {
    auto block_tokens = tokens.subspan(i * bs, bs);
    BlockHash h = hash_block(e.hashes.empty() ? nullptr : &e.hashes.back(), block_tokens);
    pool_.cache(e.blocks[i], h, block_tokens);
    e.hashes.push_back(h);
  }
}

void KvCacheManager::free(uint64_t seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  std::vector<int32_t> reversed(it->second.blocks.rbegin(), it->second.blocks.rend());
  pool_.release(reversed);
  seqs_.erase(it);
}

const std::vector<int32_t>& KvCacheManager::block_table(uint64_t seq) const {
  auto it = seqs_.find(seq);
  R1_CHECK(it != seqs_.end(), "no block table for sequence {}", seq);
  return it->second.blocks;
}

}  // namespace r1
