// BlockPool: free list order, reference counts, prefix-cache registration, lookup and LRU eviction.
#include "engine/block_pool.h"

#include <gtest/gtest.h>

#include <numeric>

namespace r1 {
namespace {

std::vector<int32_t> toks(int32_t first, size_t n) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(BlockPool, AllocatesInOrderAndCountsFree) {
  BlockPool pool(4, 2, true);
  EXPECT_EQ(pool.num_free(), 4u);
  auto a = pool.allocate(3);
  EXPECT_EQ(a, (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(pool.num_free(), 1u);
  EXPECT_EQ(pool.num_used(), 3u);
  for (int32_t b : a) EXPECT_EQ(pool.ref_count(b), 1);
  pool.release(a);
  EXPECT_EQ(pool.num_free(), 4u);
  EXPECT_EQ(pool.num_used(), 0u);
}

TEST(BlockPool, SharedBlocksFreeOnLastRelease) {
  BlockPool pool(2, 2, true);
  auto a = pool.allocate(1);
  pool.touch(a);
  EXPECT_EQ(pool.ref_count(a[0]), 2);
  pool.release(a);
  EXPECT_EQ(pool.num_free(), 1u);
  pool.release(a);
  EXPECT_EQ(pool.num_free(), 2u);
}

TEST(BlockPool, CachedBlockIsFoundAfterReleaseUntilReused) {
  BlockPool pool(2, 4, true);
  auto t = toks(10, 4);
  BlockHash h = hash_block(nullptr, t);
  auto a = pool.allocate(1);
  ASSERT_TRUE(pool.cache(a[0], h, t));
  pool.release(a);
  EXPECT_EQ(pool.num_free(), 2u);
  ASSERT_EQ(pool.lookup(h, t), a[0]);
  // Different tokens under the same hash are not a hit (collision guard).
  auto other = toks(11, 4);
  EXPECT_FALSE(pool.lookup(h, other));
  // Touching a cached free block takes it out of the free list.
  pool.touch(a);
  EXPECT_EQ(pool.num_free(), 1u);
  pool.release(a);
  // Allocating everything reuses (evicts) the cached block.
  auto all = pool.allocate(2);
  EXPECT_FALSE(pool.lookup(h, t));
  EXPECT_EQ(pool.num_cached(), 0u);
  pool.release(all);
}

TEST(BlockPool, EvictsLeastRecentlyFreedFirst) {
  BlockPool pool(3, 1, true);
  auto a = pool.allocate(3);
  for (int32_t b : a)
    ASSERT_TRUE(pool.cache(b, hash_block(nullptr, std::vector<int32_t>{b}), std::vector<int32_t>{b}));
  // Free in the order 2, 0, 1: block 2 is the least recently freed.
  pool.release(std::vector<int32_t>{2});
  pool.release(std::vector<int32_t>{0});
  pool.release(std::vector<int32_t>{1});
  auto got = pool.allocate(1);
  EXPECT_EQ(got[0], 2);
  EXPECT_FALSE(pool.lookup(hash_block(nullptr, std::vector<int32_t>{2}), std::vector<int32_t>{2}));
  EXPECT_TRUE(pool.lookup(hash_block(nullptr, std::vector<int32_t>{0}), std::vector<int32_t>{0}));
  EXPECT_TRUE(pool.lookup(hash_block(nullptr, std::vector<int32_t>{1}), std::vector<int32_t>{1}));
}

TEST(BlockPool, DuplicateHashKeepsFirstBlock) {
  BlockPool pool(2, 2, true);
  auto t = toks(0, 2);
  BlockHash h = hash_block(nullptr, t);
  auto a = pool.allocate(2);
  EXPECT_TRUE(pool.cache(a[0], h, t));
  EXPECT_FALSE(pool.cache(a[1], h, t));
  EXPECT_TRUE(pool.is_cached(a[0]));
  EXPECT_FALSE(pool.is_cached(a[1]));
  // Releasing the uncached duplicate and reusing it must not drop the first block's entry.
  pool.release(std::vector<int32_t>{a[1]});
  auto again = pool.allocate(1);
  EXPECT_EQ(pool.lookup(h, t), a[0]);
  pool.release(again);
  pool.release(std::vector<int32_t>{a[0]});
}

TEST(BlockPool, DisabledCachingNeverHits) {
  BlockPool pool(1, 2, false);
  auto t = toks(0, 2);
  auto a = pool.allocate(1);
  EXPECT_FALSE(pool.cache(a[0], hash_block(nullptr, t), t));
  pool.release(a);
  EXPECT_FALSE(pool.lookup(hash_block(nullptr, t), t));
}

TEST(BlockHash, ChainsThroughTheParent) {
  auto t = toks(5, 4);
  BlockHash root = hash_block(nullptr, t);
  BlockHash p1 = hash_block(nullptr, toks(1, 4)), p2 = hash_block(nullptr, toks(2, 4));
  EXPECT_NE(hash_block(&p1, t), hash_block(&p2, t));
  EXPECT_NE(hash_block(&p1, t), root);
  EXPECT_EQ(hash_block(&p1, t), hash_block(&p1, toks(5, 4)));
}

}  // namespace
}  // namespace r1
