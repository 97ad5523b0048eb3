// KvCacheManager: block tables grow with the sequence, allocation refuses without side effects, computed full
// blocks become prefix hits for later sequences, and everything returns to the pool.
#include "engine/kv_cache_manager.h"

#include <gtest/gtest.h>

#include <numeric>

namespace r1 {
namespace {

std::vector<int32_t> toks(int32_t first, size_t n) {
  std::vector<int32_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(KvCacheManager, GrowsBlockTableByBlocks) {
  KvCacheManager m(8, 4, true);
  ASSERT_TRUE(m.allocate(1, 0, 5, nullptr));  // 5 tokens → 2 blocks
  EXPECT_EQ(m.block_table(1).size(), 2u);
  ASSERT_TRUE(m.allocate(1, 5, 3, nullptr));  // up to 8 → still 2
  EXPECT_EQ(m.block_table(1).size(), 2u);
  ASSERT_TRUE(m.allocate(1, 8, 1, nullptr));  // 9 → 3
  EXPECT_EQ(m.block_table(1).size(), 3u);
  EXPECT_EQ(m.num_used_blocks(), 3u);
  m.free(1);
  EXPECT_EQ(m.num_free_blocks(), 8u);
  EXPECT_FALSE(m.has(1));
}

TEST(KvCacheManager, RefusesWithoutSideEffects) {
  KvCacheManager m(3, 4, true);
  ASSERT_TRUE(m.allocate(1, 0, 8, nullptr));
  EXPECT_FALSE(m.allocate(2, 0, 8, nullptr));
  EXPECT_FALSE(m.has(2));
  EXPECT_EQ(m.num_free_blocks(), 1u);
  EXPECT_FALSE(m.allocate(1, 8, 5, nullptr));  // needs 2 more
  EXPECT_EQ(m.block_table(1).size(), 2u);
  EXPECT_TRUE(m.allocate(1, 8, 4, nullptr));
  m.free(1);
  EXPECT_EQ(m.num_free_blocks(), 3u);
}

TEST(KvCacheManager, ComputedFullBlocksBecomePrefixHits) {
  KvCacheManager m(16, 4, true);
  auto prompt = toks(100, 10);  // 2 full blocks + 2 tokens
  ASSERT_TRUE(m.allocate(1, 0, 10, nullptr));
  m.cache_computed(1, prompt, 10);
  // Same prompt: both full blocks hit, the last 2 tokens are computed.
  PrefixHit hit = m.find_prefix(prompt);
  EXPECT_EQ(hit.num_tokens(), 8u);
  EXPECT_EQ(hit.blocks, (std::vector<int32_t>{m.block_table(1)[0], m.block_table(1)[1]}));
  ASSERT_TRUE(m.allocate(2, 8, 2, &hit));
  EXPECT_EQ(m.pool().ref_count(hit.blocks[0]), 2);
  EXPECT_NE(m.block_table(2)[2], m.block_table(1)[2]);
  // A prompt that diverges in the second block hits only the first.
  auto diverged = prompt;
  diverged[5] = 7;
  EXPECT_EQ(m.find_prefix(diverged).num_tokens(), 4u);
  // The same second block after a different first block is not a hit (chained hash).
  auto other_first = prompt;
  other_first[0] = 7;
  EXPECT_EQ(m.find_prefix(other_first).num_tokens(), 0u);
  m.free(1);
  m.free(2);
  EXPECT_EQ(m.num_free_blocks(), 16u);
}

TEST(KvCacheManager, FullyCachedPromptStillComputesItsLastToken) {
  KvCacheManager m(16, 4, true);
  auto prompt = toks(1, 8);  // exactly 2 blocks
  ASSERT_TRUE(m.allocate(1, 0, 8, nullptr));
  m.cache_computed(1, prompt, 8);
  m.free(1);
  PrefixHit hit = m.find_prefix(prompt);
  EXPECT_EQ(hit.num_tokens(), 4u);  // the second block is recomputed for the last token's logits
  ASSERT_TRUE(m.allocate(2, 4, 4, &hit));
  EXPECT_EQ(m.block_table(2).size(), 2u);
  m.free(2);
}

TEST(KvCacheManager, OnlyComputedBlocksAreCached) {
  KvCacheManager m(16, 4, true);
  auto prompt = toks(1, 12);
  ASSERT_TRUE(m.allocate(1, 0, 12, nullptr));
  m.cache_computed(1, prompt, 6);  // a chunk of 6 computed: only block 0 is full
  EXPECT_EQ(m.find_prefix(prompt).num_tokens(), 4u);
  m.cache_computed(1, prompt, 12);
  EXPECT_EQ(m.find_prefix(prompt).num_tokens(), 8u);  // block 2 is full but holds the last token
  m.free(1);
}

TEST(KvCacheManager, HitOnFreeCachedBlocksCountsAgainstFreeSpace) {
  KvCacheManager m(3, 4, true);
  auto prompt = toks(1, 9);
  ASSERT_TRUE(m.allocate(1, 0, 9, nullptr));
  m.cache_computed(1, prompt, 9);
  m.free(1);
  EXPECT_EQ(m.num_free_blocks(), 3u);
  PrefixHit hit = m.find_prefix(prompt);
  ASSERT_EQ(hit.num_tokens(), 8u);
  // Adopting 2 free cached blocks plus 2 fresh ones is 4 > 3 free: refused, nothing changes.
  EXPECT_FALSE(m.allocate(2, 8, 5, &hit));
  EXPECT_EQ(m.num_free_blocks(), 3u);
  EXPECT_EQ(m.find_prefix(prompt).num_tokens(), 8u);
  ASSERT_TRUE(m.allocate(2, 8, 1, &hit));
  EXPECT_EQ(m.num_free_blocks(), 0u);
  m.free(2);
}

TEST(KvCacheManager, DisabledPrefixCachingNeverHits) {
  KvCacheManager m(8, 4, false);
  auto prompt = toks(1, 9);
  ASSERT_TRUE(m.allocate(1, 0, 9, nullptr));
  m.cache_computed(1, prompt, 9);
  EXPECT_EQ(m.find_prefix(prompt).num_tokens(), 0u);
  m.free(1);
}

}  // namespace
}  // namespace r1
