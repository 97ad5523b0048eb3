// AVX2 + FMA + F16C kernels (only called when cpuid says so).
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/isa.h"

namespace r1::kernels {

namespace {

using cpu::hsum;
using cpu::load1;
using cpu::load8;

// One row, one token, two FMA chains (a single chain's 4-cycle latency per 8 weights would cap the row's
// stream below what memory delivers).
template <DType D>
inline float dot_row(const float* x, size_t k, const void* w_row) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 16 <= k; j += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j), load8<D>(w_row, j), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j + 8), load8<D>(w_row, j + 8), a1);
  }
  for (; j + 8 <= k; j += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + j), load8<D>(w_row, j), a0);
  float s = hsum(_mm256_add_ps(a0, a1));
  for (; j < k; ++j) s += x[j] * load1<D>(w_row, j);
  return s;
}

template <DType D, int T>
inline void dot_rows(const float* x, size_t k, const void* w_row, float* out, size_t ldy) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 8 <= k; j += 8) {
    __m256 wv = load8<D>(w_row, j);
    for (int t = 0; t < T; ++t) acc[t] = _mm256_fmadd_ps(_mm256_loadu_ps(x + t * k + j), wv, acc[t]);
  }
  for (int t = 0; t < T; ++t) {
    float s = hsum(acc[t]);
    for (size_t jj = j; jj < k; ++jj) s += x[t * k + jj] * load1<D>(w_row, jj);
    out[t * ldy] = s;
  }
}

// Two weight rows × T tokens: each activation load feeds two FMAs and each widened weight vector T of them,
// so the loop is bound by the FMA units rather than by loads and widening.
template <DType D, int T>
inline void dot_rows2(const float* x, size_t k, const void* w0, const void* w1, float* out, size_t ldy) {
  __m256 acc0[T], acc1[T];
  for (int t = 0; t < T; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 8 <= k; j += 8) {
    const __m256 a = load8<D>(w0, j), b = load8<D>(w1, j);
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_loadu_ps(x + t * k + j);
      acc0[t] = _mm256_fmadd_ps(xv, a, acc0[t]);
      acc1[t] = _mm256_fmadd_ps(xv, b, acc1[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float s0 = hsum(acc0[t]), s1 = hsum(acc1[t]);
    for (size_t jj = j; jj < k; ++jj) {
      s0 += x[t * k + jj] * load1<D>(w0, jj);
      s1 += x[t * k + jj] * load1<D>(w1, jj);
    }
    out[t * ldy] = s0;
    out[t * ldy + 1] = s1;
  }
}

template <DType D>
void matmul_rows(const float* x, size_t n, size_t k, const void* w, size_t rb, size_t re, float* y,
                 size_t ldy) {
  size_t row_bytes = k * (D == DType::F32 ? 4 : 2);
  auto row = [&](size_t r) { return static_cast<const uint8_t*>(w) + r * row_bytes; };
  size_t r = rb;
  if (n == 1) {  // decode: one row at a time streams best (pairs of rows measured 10% slower)
    for (; r < re; ++r) y[r] = dot_row<D>(x, k, row(r));
    return;
  }
  // Batches: pairs of rows share each activation load.
  for (; r + 2 <= re; r += 2) {
    size_t t = 0;
    for (; t + 4 <= n; t += 4) dot_rows2<D, 4>(x + t * k, k, row(r), row(r + 1), y + t * ldy + r, ldy);
    for (; t + 2 <= n; t += 2) dot_rows2<D, 2>(x + t * k, k, row(r), row(r + 1), y + t * ldy + r, ldy);
    for (; t < n; ++t) dot_rows2<D, 1>(x + t * k, k, row(r), row(r + 1), y + t * ldy + r, ldy);
  }
  for (; r < re; ++r) {
    size_t t = 0;
    for (; t + 4 <= n; t += 4) dot_rows<D, 4>(x + t * k, k, row(r), y + t * ldy + r, ldy);
    for (; t < n; ++t) dot_rows<D, 1>(x + t * k, k, row(r), y + t * ldy + r, ldy);
  }
}

}  // namespace

const KernelTable& avx2_kernel_table() {
  static const KernelTable t{Isa::Avx2,
                             matmul_rows<DType::F32>,
                             matmul_rows<DType::BF16>,
                             matmul_rows<DType::F16>,
                             cpu::avx2_qmatmul_q8_0,
                             cpu::avx2_qmatmul_q4_0,
                             cpu::avx2_qmatmul_q4_1,
                             cpu::avx2_qmatmul_q5_0,
                             cpu::avx2_qmatmul_q5_1,
                             cpu::avx2_qmatmul_q4_k,
                             cpu::avx2_qmatmul_q5_k,
                             cpu::avx2_qmatmul_q6_k,
                             cpu::avx2_attention,
                             cpu::avx2_quantize_act_rows,
                             cpu::avx2_silu_mul,
                             cpu::avx2_quantize_q8_0,
                             cpu::avx2_quantize_q4_0};
  return t;
}

}  // namespace r1::kernels
