#include "engine/block_hash.h"

namespace r1 {

namespace {

// splitmix64's finaliser: a strong 64-bit mixer.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// Two independent lanes (different seeds and multipliers) give the 128 bits.
uint64_t lane(uint64_t seed, uint64_t mult, const BlockHash* parent, std::span<const int32_t> tokens) {
  uint64_t h = mix(seed);
  if (parent) h = mix(h ^ parent->lo) * mult + mix(parent->hi + seed);
  h = mix(h + tokens.size());
  for (int32_t t : tokens) h = mix(h * mult + uint64_t(uint32_t(t)) + seed);
  return h;
}

}  // namespace

BlockHash hash_block(const BlockHash* parent, std::span<const int32_t> tokens) {
  return {lane(0x243f6a8885a308d3ull, 0x100000001b3ull, parent, tokens),
          lane(0x13198a2e03707344ull, 0x9e3779b97f4a7c15ull, parent, tokens)};
}

}  // namespace r1
