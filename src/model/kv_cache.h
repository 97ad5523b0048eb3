#pragma once
// The paged KV cache: one pool of fixed-size blocks per layer. Which block holds which positions of which
// sequence is the engine's business (block tables); this class only owns the memory.
#include <cstddef>
#include <optional>
#include <string>

#include "core/aligned_buffer.h"
#include "core/dtype.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace r1 {

// "f32", "f16", "bf16" -> the element type, "auto" -> nullopt (resolve_kv_cache_dtype decides); throws
// r1::Error naming --kv-cache-dtype otherwise.
std::optional<DType> parse_kv_cache_dtype(const std::string& s);

// The --kv-cache-dtype value s for a model of config c loaded at weight precision p. "auto" is vLLM's
// default, the precision the model computes in: F32 under WeightPrecision::F32 (the exact path, held to the
// golden logits), BF16 under BF16, otherwise the checkpoint's torch_dtype when it is float16 or float32, and
// BF16 for bfloat16 (every R1 distill), so a 16-bit cache is what a user gets: half the bytes each decode
// step reads and twice the tokens a KV budget holds.
DType resolve_kv_cache_dtype(const std::string& s, const ModelConfig& c, WeightPrecision p);

class KvCache {
 public:
  // dtype: F32 (the default, the golden path), F16 or BF16 (half the memory and the attention traffic).
  KvCache(const ModelConfig& c, size_t n_blocks, size_t block_size, DType dtype = DType::F32);

  size_t n_blocks() const { return n_blocks_; }
  size_t block_size() const { return block_size_; }
  size_t slot_stride() const { return slot_stride_; }  // elements per slot: n_kv_heads * head_dim
  DType dtype() const { return dtype_; }
  // [n_blocks * block_size, n_kv_heads, head_dim] of dtype()
  void* k_data(size_t layer) { return storage_.data() + (2 * layer) * layer_bytes_; }
  void* v_data(size_t layer) { return storage_.data() + (2 * layer + 1) * layer_bytes_; }
  // The same as float; only for an F32 cache (checked).
  float* k(size_t layer);
  float* v(size_t layer);
  size_t bytes() const { return storage_.size(); }
  // Bytes one block takes across all layers, K and V.
  static size_t block_bytes(const ModelConfig& c, size_t block_size, DType dtype = DType::F32);

 private:
  size_t n_blocks_, block_size_, slot_stride_;
  DType dtype_;
  size_t layer_bytes_;
  AlignedBuffer storage_;
};

}  // namespace r1
