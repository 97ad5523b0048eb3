#pragma once
// GGUF's Q8_0 and Q4_0 blocks, their quantizers, and the scalar matmul on them: the oracle for the packed
// kernels (quant.h). Never optimise these.
#include <cstddef>
#include <cstdint>

#include "kernels/quant.h"

namespace r1::kernels::ref {

struct BlockQ8_0 {
  uint16_t d;     // f16 scale
  int8_t qs[32];  // value = qs * d
};
struct BlockQ4_0 {
  uint16_t d;      // f16 scale
  uint8_t qs[16];  // element j: low nibble of qs[j]; element j + 16: high nibble; value = (nibble - 8) * d
};
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18, "GGUF block sizes");

// x: [32 * n_blocks] -> n_blocks blocks.
void quantize_q8_0(const float* x, size_t n_blocks, BlockQ8_0* out);
void quantize_q4_0(const float* x, size_t n_blocks, BlockQ4_0* out);
void dequantize_q8_0(const BlockQ8_0* b, size_t n_blocks, float* out);
void dequantize_q4_0(const BlockQ4_0* b, size_t n_blocks, float* out);

// Activations per block of 32: d = max|x| / 127, qs = round-half-even(x * 127 / max|x|), sum = Σ qs; the
// contract of QuantizeActsFn (isa.h).
void quantize_act_rows(const float* x, size_t n, size_t k, size_t kb, int8_t* qs, float* d, int32_t* sum);

// y[t * ldy + r] = sum over blocks of d_w * d_x * (integer dot of the block), for t < x.n, r < rows, in
// double. w: [rows, x.kb] blocks.
void matmul_q8_0(const QuantizedActs& x, const BlockQ8_0* w, size_t rows, float* y, size_t ldy);
void matmul_q4_0(const QuantizedActs& x, const BlockQ4_0* w, size_t rows, float* y, size_t ldy);

}  // namespace r1::kernels::ref
