#pragma once
// Scalar decoders of ggml's block formats as GGUF files store them: the exact reference (each value is what
// ggml's dequantize_row_* gives) that --dtype f32 uses at load, and the oracle for the per-ISA kernels.
// Each takes n / block-size consecutive blocks at `blocks` (any alignment) and writes n floats.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace r1::kernels::ref {

// The f16 stored at p, as float. Blocks of a mapped file sit at any offset: read with memcpy, never a cast.
inline float f16_load(const void* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// 32-value blocks: n must be a multiple of 32.
void dequantize_q4_0(const void* blocks, float* out, size_t n);  // d · (q − 8), q 4-bit
void dequantize_q4_1(const void* blocks, float* out, size_t n);  // d · q + m, q 4-bit
void dequantize_q5_0(const void* blocks, float* out, size_t n);  // d · (q − 16), q 5-bit
void dequantize_q5_1(const void* blocks, float* out, size_t n);  // d · q + m, q 5-bit
void dequantize_q8_0(const void* blocks, float* out, size_t n);  // d · q, q int8
// 256-value super-blocks (k-quants): n must be a multiple of 256.
void dequantize_q4_k(const void* blocks, float* out,
                     size_t n);  // 8 sub-blocks of 32, 6-bit scale and min each
void dequantize_q5_k(const void* blocks, float* out, size_t n);  // as Q4_K with a fifth bit per value
void dequantize_q6_k(const void* blocks, float* out, size_t n);  // 16 sub-blocks of 16, int8 scale each

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block, from its 12 packed bytes:
// sub-blocks 0-3 keep theirs in the low 6 bits of bytes j and j+4; 4-7 split theirs between a nibble of byte
// j+4 and the top two bits of bytes j-4 and j.
void kquant_scale_min(int j, const uint8_t* scales, uint8_t* sc, uint8_t* m);

}  // namespace r1::kernels::ref
