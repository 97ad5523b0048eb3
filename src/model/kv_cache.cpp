#include "model/kv_cache.h"

#include "core/error.h"

namespace r1 {

KvCache::KvCache(const ModelConfig& c, size_t n_blocks, size_t block_size)
    : n_blocks_(n_blocks),
      block_size_(block_size),
      slot_stride_(c.kv_dim()),
      layer_floats_(n_blocks * block_size * c.kv_dim()),
      storage_(2 * c.n_layers * layer_floats_ * sizeof(float)) {
  R1_CHECK(n_blocks > 0 && block_size > 0, "empty KV cache");
}

size_t KvCache::block_bytes(const ModelConfig& c, size_t block_size) {
  return 2 * c.n_layers * block_size * c.kv_dim() * sizeof(float);
}

}  // namespace r1
