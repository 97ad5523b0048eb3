#pragma once
// Scalar quantizers from floats to GGUF's k-quant super-blocks, byte for byte as llama.cpp stores them (the
// inverse of ref_gguf_blocks.h's decoders): what bench/llamacpp's make_dummy_gguf writes Q4_K_M, Q5_K_M and
// Q6_K files with. A simple, sound search in the spirit of ggml's reference quantizers (quantize_row_q4_K_ref
// and friends), not a copy of them: the bytes need not equal llama-quantize's, only decode (with
// dequantize_q4_k/q5_k/q6_k) to values close to the input — within the bounds the tests state.
#include <cstddef>

namespace r1::kernels::ref {

inline constexpr size_t kQ4KBlockBytes =
    144;  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 of nibbles
inline constexpr size_t kQ5KBlockBytes = 176;  // as Q4_K plus 32 bytes of fifth bits
inline constexpr size_t kQ6KBlockBytes =
    210;  // 128 low nibbles, 64 of high 2-bit pairs, 16 int8 scales, f16 d

// x: [n] floats, n a multiple of 256 -> n / 256 super-blocks written at `out` (any alignment).
// Q4_K/Q5_K: each sub-block of 32 values becomes d·sc·q − dmin·m with q in [0, 15] / [0, 31] and 6-bit sc, m.
// Q6_K: each sub-block of 16 values becomes d·sc·q with q in [−32, 31] and an int8 sc.
// Finite input only (the caller's weights); an all-zero super-block encodes as zeros and decodes to zeros.
void quantize_q4_k(const float* x, void* out, size_t n);
void quantize_q5_k(const float* x, void* out, size_t n);
void quantize_q6_k(const float* x, void* out, size_t n);

}  // namespace r1::kernels::ref
