#pragma once
// The paged KV cache: one pool of fixed-size blocks per layer. Which block holds which positions of which
// sequence is the engine's business (block tables); this class only owns the memory.
#include <cstddef>

#include "core/aligned_buffer.h"
#include "model/model_config.h"

namespace r1 {

class KvCache {
 public:
  KvCache(const ModelConfig& c, size_t n_blocks, size_t block_size);

  size_t n_blocks() const { return n_blocks_; }
  size_t block_size() const { return block_size_; }
  size_t slot_stride() const { return slot_stride_; }  // floats per slot: n_kv_heads * head_dim
  // [n_blocks * block_size, n_kv_heads, head_dim]
  float* k(size_t layer) { return storage_.as<float>() + (2 * layer) * layer_floats_; }
  float* v(size_t layer) { return storage_.as<float>() + (2 * layer + 1) * layer_floats_; }
  size_t bytes() const { return storage_.size(); }
  // Bytes one block takes across all layers, K and V.
  static size_t block_bytes(const ModelConfig& c, size_t block_size);

 private:
  size_t n_blocks_, block_size_, slot_stride_, layer_floats_;
  AlignedBuffer storage_;
};

}  // namespace r1
