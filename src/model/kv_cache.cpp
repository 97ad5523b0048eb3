#include "model/kv_cache.h"

#include "core/error.h"

namespace r1 {

std::optional<DType> parse_kv_cache_dtype(const std::string& s) {
  if (s == "auto") return std::nullopt;
  if (s == "f32" || s == "float32") return DType::F32;
  if (s == "f16" || s == "float16") return DType::F16;
  if (s == "bf16" || s == "bfloat16") return DType::BF16;
  fail("unsupported --kv-cache-dtype \"{}\" (supported: auto, f32, f16, bf16)", s);
}

DType resolve_kv_cache_dtype(const std::string& s, const ModelConfig& c, WeightPrecision p) {
  if (std::optional<DType> d = parse_kv_cache_dtype(s)) return *d;
  if (p == WeightPrecision::F32) return DType::F32;
  if (p == WeightPrecision::BF16) return DType::BF16;
  if (c.torch_dtype == "float16") return DType::F16;
  if (c.torch_dtype == "float32") return DType::F32;
  return DType::BF16;
}

KvCache::KvCache(const ModelConfig& c, size_t n_blocks, size_t block_size, DType dtype)
    : n_blocks_(n_blocks),
      block_size_(block_size),
      slot_stride_(c.kv_dim()),
      dtype_(dtype),
      layer_bytes_(n_blocks * block_size * c.kv_dim() * dtype_size(dtype)),
      storage_(2 * c.n_layers * layer_bytes_) {
  R1_CHECK(n_blocks > 0 && block_size > 0, "empty KV cache");
  R1_CHECK(dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16, "KV cache dtype {}",
           dtype_name(dtype));
}

float* KvCache::k(size_t layer) {
  R1_CHECK(dtype_ == DType::F32, "float view of a {} KV cache", dtype_name(dtype_));
  return static_cast<float*>(k_data(layer));
}

float* KvCache::v(size_t layer) {
  R1_CHECK(dtype_ == DType::F32, "float view of a {} KV cache", dtype_name(dtype_));
  return static_cast<float*>(v_data(layer));
}

size_t KvCache::block_bytes(const ModelConfig& c, size_t block_size, DType dtype) {
  return 2 * c.n_layers * block_size * c.kv_dim() * dtype_size(dtype);
}

}  // namespace r1
