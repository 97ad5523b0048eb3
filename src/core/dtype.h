#pragma once
// Element types of tensors, and scalar conversions between the 16-bit floats and float.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace r1 {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  I32,
  I64,
  U8,
  I8,
  Q8_0,
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q4_K,
  Q5_K,
  Q6_K
};

// Bytes per element for plain types; for block-quantized types, bytes per block (see block_elems).
size_t dtype_size(DType t);
// Elements per block: 1 for plain types, 32 for Q8_0/Q4_0/Q4_1/Q5_0/Q5_1, 256 for the k-quant super-blocks
// (Q4_K, Q5_K, Q6_K: ggml's blocks as GGUF stores them).
size_t dtype_block_elems(DType t);
// Bytes needed for n elements (n must be a multiple of the block size for block types).
size_t dtype_bytes(DType t, size_t n);
std::string_view dtype_name(DType t);
// Names as safetensors headers spell them ("F32", "BF16", ...). Unknown names give nullopt.
std::optional<DType> dtype_from_safetensors(std::string_view name);

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as PyTorch does; NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace r1
