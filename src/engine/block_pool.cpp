#include "engine/block_pool.h"

#include <algorithm>

#include "core/error.h"

namespace r1 {

BlockPool::BlockPool(size_t n_blocks, size_t block_size, bool enable_caching)
    : block_size_(block_size), caching_(enable_caching), blocks_(n_blocks) {
  R1_CHECK(n_blocks > 0 && block_size > 0, "empty block pool");
  if (caching_) tokens_.resize(n_blocks * block_size);
  for (size_t b = 0; b < n_blocks; ++b) push_free_tail(int32_t(b));
}

void BlockPool::push_free_tail(int32_t b) {
  Block& blk = blocks_[size_t(b)];
  R1_CHECK(!blk.in_free_list, "block {} freed twice", b);
  blk.prev = tail_;
  blk.next = -1;
  if (tail_ >= 0)
    blocks_[size_t(tail_)].next = b;
  else
    head_ = b;
  tail_ = b;
  blk.in_free_list = true;
  ++n_free_;
}

void BlockPool::unlink_free(int32_t b) {
  Block& blk = blocks_[size_t(b)];
  R1_CHECK(blk.in_free_list, "block {} is not free", b);
  if (blk.prev >= 0)
    blocks_[size_t(blk.prev)].next = blk.next;
  else
    head_ = blk.next;
  if (blk.next >= 0)
    blocks_[size_t(blk.next)].prev = blk.prev;
  else
    tail_ = blk.prev;
  blk.prev = blk.next = -1;
  blk.in_free_list = false;
  --n_free_;
}

void BlockPool::evict(int32_t b) {
  Block& blk = blocks_[size_t(b)];
  if (!blk.hash) return;
  auto it = cached_.find(*blk.hash);
  if (it != cached_.end() && it->second == b) cached_.erase(it);
  blk.hash.reset();
}

std::vector<int32_t> BlockPool::allocate(size_t n) {
  R1_CHECK(n <= n_free_, "allocating {} blocks with {} free", n, n_free_);
  std::vector<int32_t> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t b = head_;
    unlink_free(b);
    evict(b);  // its old contents are about to be overwritten
    blocks_[size_t(b)].refs = 1;
    out.push_back(b);
  }
  return out;
}

void BlockPool::touch(std::span<const int32_t> blocks) {
  for (int32_t b : blocks) {
    Block& blk = blocks_[size_t(b)];
    if (blk.refs == 0) unlink_free(b);
    ++blk.refs;
  }
}

void BlockPool::release(std::span<const int32_t> blocks) {
  for (int32_t b : blocks) {
    Block& blk = blocks_[size_t(b)];
    R1_CHECK(blk.refs > 0, "block {} released with no reference", b);
    if (--blk.refs == 0) {
      if (!caching_) blk.hash.reset();
      push_free_tail(b);
    }
  }
}

std::optional<int32_t> BlockPool::lookup(const BlockHash& hash, std::span<const int32_t> tokens) const {
  if (!caching_ || tokens.size() != block_size_) return std::nullopt;
  auto it = cached_.find(hash);
  if (it == cached_.end()) return std::nullopt;
  const int32_t* held = tokens_.data() + size_t(it->second) * block_size_;
  if (!std::equal(tokens.begin(), tokens.end(), held)) return std::nullopt;
  return it->second;
}

bool BlockPool::cache(int32_t block, const BlockHash& hash, std::span<const int32_t> tokens) {
  if (!caching_) return false;
  R1_CHECK(tokens.size() == block_size_, "caching a block of {} tokens", tokens.size());
  Block& blk = blocks_[size_t(block)];
  R1_CHECK(blk.refs > 0, "caching unreferenced block {}", block);
  if (blk.hash) return *blk.hash == hash;
  if (!cached_.emplace(hash, block).second) return false;
  blk.hash = hash;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + long(size_t(block) * block_size_));
  return true;
}

void BlockPool::clear_cache() {
  for (Block& b : blocks_) b.hash.reset();
  cached_.clear();
}

}  // namespace r1
