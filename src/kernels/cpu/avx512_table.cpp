// AVX-512 kernels (compiled with -mavx512f/bw/vl/dq/bf16/vnni; only called when cpuid says so).
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/isa.h"

namespace r1::kernels {

namespace {

// Sixteen consecutive F32 or F16 weights widened to float; `mask` selects the valid lanes of a ragged tail.
// (BF16 weights have their own kernel, avx512_dense.cpp.)
template <DType D>
inline __m512 load16(const void* w, size_t i, __mmask16 mask) {
  static_assert(D == DType::F32 || D == DType::F16);
  if constexpr (D == DType::F32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(w) + i);
  } else {
    __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(w) + i);
    return _mm512_cvtph_ps(h);
  }
}

// Up to four activation rows share each weight load, so prefill reads a weight row from cache, not memory,
// for every fourth token.
template <DType D, int T>
inline void dot_rows(const float* x, size_t k, const void* w_row, float* out, size_t ldy) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  size_t j = 0;
  for (; j + 16 <= k; j += 16) {
    __m512 wv = load16<D>(w_row, j, 0xffff);
    for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(_mm512_loadu_ps(x + t * k + j), wv, acc[t]);
  }
  if (j < k) {
    __mmask16 m = __mmask16((1u << (k - j)) - 1);
    __m512 wv = load16<D>(w_row, j, m);
    for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + t * k + j), wv, acc[t]);
  }
  for (int t = 0; t < T; ++t) out[t * ldy] = _mm512_reduce_add_ps(acc[t]);
}

template <DType D>
void matmul_rows(const float* x, size_t n, size_t k, const void* w, size_t rb, size_t re, float* y,
                 size_t ldy) {
  size_t row_bytes = k * (D == DType::F32 ? 4 : 2);
  for (size_t r = rb; r < re; ++r) {
    const void* w_row = static_cast<const uint8_t*>(w) + r * row_bytes;
    size_t t = 0;
    for (; t + 4 <= n; t += 4) dot_rows<D, 4>(x + t * k, k, w_row, y + t * ldy + r, ldy);
    for (; t < n; ++t) dot_rows<D, 1>(x + t * k, k, w_row, y + t * ldy + r, ldy);
  }
}

}  // namespace

const KernelTable& avx512_kernel_table() {
  static const KernelTable t{Isa::Avx512,
                             matmul_rows<DType::F32>,
                             cpu::avx512_matmul_rows_bf16,
                             matmul_rows<DType::F16>,
                             cpu::avx512_qmatmul_q8_0,
                             cpu::avx512_qmatmul_q4_0,
                             cpu::avx512_qmatmul_q4_1,
                             cpu::avx512_qmatmul_q5_0,
                             cpu::avx512_qmatmul_q5_1,
                             cpu::avx512_qmatmul_q4_k,
                             cpu::avx512_qmatmul_q5_k,
                             cpu::avx512_qmatmul_q6_k,
                             cpu::avx512_attention,
                             // Element-wise work is a small share; the AVX2 code runs on every AVX-512 CPU.
                             cpu::avx2_quantize_act_rows,
                             cpu::avx2_silu_mul,
                             cpu::avx2_quantize_q8_0,
                             cpu::avx2_quantize_q4_0};
  return t;
}

}  // namespace r1::kernels
