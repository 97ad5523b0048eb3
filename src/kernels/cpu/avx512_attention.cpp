// Grouped-query attention over the paged KV cache with AVX-512: 16 elements of a K or V row per instruction
// (masked at a ragged end of the head), widened from F16 (vcvtph2ps) or BF16 (shift) once for all the query
// heads that share the KV head, and a vectorised softmax (avx2_math.h). Same shape as the AVX2 kernel.
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

template <DType D>
inline __m512 load16(const void* base, size_t i, __mmask16 m) {
  if constexpr (D == DType::F32) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(base) + i);
  } else {
    __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(base) + i);
    if constexpr (D == DType::F16)
      return _mm512_cvtph_ps(h);
    else
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

inline __mmask16 tail_mask(size_t left) {
  return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
}

// NQ query heads against one KV head. Scores: each K row is widened once and dotted with all NQ queries.
// Output: for every 16 columns of the head, the NQ accumulators stay in registers while the V rows stream
// past, each widened once for all heads.
template <DType D, int NQ>
void attention_group(const float* q, size_t q_stride, const KvView& kv, size_t kv_head, size_t n_ctx, size_t hd,
                     float scale, float* scores, float* out, size_t out_stride) {
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * hd;
    __m512 acc[NQ];
    for (int h = 0; h < NQ; ++h) acc[h] = _mm512_setzero_ps();
    for (size_t d = 0; d < hd; d += 16) {
      const __mmask16 m = tail_mask(hd - d);
      const __m512 k = load16<D>(kv.k, base + d, m);
      for (int h = 0; h < NQ; ++h)
        acc[h] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + h * q_stride + d), k, acc[h]);
    }
    for (int h = 0; h < NQ; ++h) {
      const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(acc[h]),
                                        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[h]), 1)));
      scores[h * n_ctx + j] = hsum(half) * scale;
    }
  }
  for (int h = 0; h < NQ; ++h) softmax_avx2(scores + h * n_ctx, n_ctx);
  for (size_t d = 0; d < hd; d += 16) {
    const __mmask16 m = tail_mask(hd - d);
    __m512 acc[NQ];
    for (int h = 0; h < NQ; ++h) acc[h] = _mm512_setzero_ps();
    for (size_t j = 0; j < n_ctx; ++j) {
      const __m512 v = load16<D>(kv.v, kv_slot(kv, j) * kv.slot_stride + kv_head * hd + d, m);
      for (int h = 0; h < NQ; ++h) acc[h] = _mm512_fmadd_ps(_mm512_set1_ps(scores[h * n_ctx + j]), v, acc[h]);
    }
    for (int h = 0; h < NQ; ++h) _mm512_mask_storeu_ps(out + h * out_stride + d, m, acc[h]);
  }
}

}  // namespace

void avx512_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
                      size_t n_ctx, size_t head_dim, float scale, float* scratch, float* out, size_t out_stride) {
  // Up to 8 heads per pass (the R1 distills have 4 to 8 query heads per KV head).
  with_kv_dtype(kv.dtype, [&]<DType D>() {
    for_each_head_pass(n_q, [&]<int N>(size_t h0) {
      attention_group<D, N>(q + h0 * q_stride, q_stride, kv, kv_head, n_ctx, head_dim, scale, scratch,
                            out + h0 * out_stride, out_stride);
    });
  });
}

}  // namespace r1::kernels::cpu
