// Grouped-query attention over the paged KV cache with AVX2 + FMA + F16C: 8 elements of a K or V row per
// instruction, widened from F16 (vcvtph2ps) or BF16 (shift) once for all the query heads that share the KV
// head; a vectorised softmax (avx2_math.h).
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

// NQ query heads against one KV head. Scores: each K row is widened once and dotted with all NQ queries.
// Output: for every 8 columns of the head, the NQ accumulators stay in registers while the V rows stream
// past, each widened once for all heads.
template <DType D, int NQ>
void attention_group(const float* q, size_t q_stride, const KvView& kv, size_t kv_head, size_t n_ctx, size_t hd,
                     float scale, float* scores, float* out, size_t out_stride) {
  const size_t hd8 = hd / 8 * 8;
  for (size_t j = 0; j < n_ctx; ++j) {
    const size_t base = kv_slot(kv, j) * kv.slot_stride + kv_head * hd;
    __m256 acc[NQ];
    for (int h = 0; h < NQ; ++h) acc[h] = _mm256_setzero_ps();
    for (size_t d = 0; d < hd8; d += 8) {
      const __m256 k = load8<D>(kv.k, base + d);
      for (int h = 0; h < NQ; ++h) acc[h] = _mm256_fmadd_ps(_mm256_loadu_ps(q + h * q_stride + d), k, acc[h]);
    }
    for (int h = 0; h < NQ; ++h) {
      float dot = hsum(acc[h]);
      for (size_t d = hd8; d < hd; ++d) dot += q[h * q_stride + d] * load1<D>(kv.k, base + d);
      scores[h * n_ctx + j] = dot * scale;
    }
  }
  for (int h = 0; h < NQ; ++h) softmax_avx2(scores + h * n_ctx, n_ctx);
  for (size_t d = 0; d < hd8; d += 8) {
    __m256 acc[NQ];
    for (int h = 0; h < NQ; ++h) acc[h] = _mm256_setzero_ps();
    for (size_t j = 0; j < n_ctx; ++j) {
      const __m256 v = load8<D>(kv.v, kv_slot(kv, j) * kv.slot_stride + kv_head * hd + d);
      for (int h = 0; h < NQ; ++h) acc[h] = _mm256_fmadd_ps(_mm256_set1_ps(scores[h * n_ctx + j]), v, acc[h]);
    }
    for (int h = 0; h < NQ; ++h) _mm256_storeu_ps(out + h * out_stride + d, acc[h]);
  }
  for (size_t d = hd8; d < hd; ++d) {  // ragged head_dim
    for (int h = 0; h < NQ; ++h) {
      float o = 0;
      for (size_t j = 0; j < n_ctx; ++j)
        o += scores[h * n_ctx + j] * load1<D>(kv.v, kv_slot(kv, j) * kv.slot_stride + kv_head * hd + d);
      out[h * out_stride + d] = o;
    }
  }
}

}  // namespace

void avx2_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head, size_t n_ctx,
                    size_t head_dim, float scale, float* scratch, float* out, size_t out_stride) {
  // Up to 8 heads per pass (the R1 distills have 4 to 8 query heads per KV head).
  with_kv_dtype(kv.dtype, [&]<DType D>() {
    for_each_head_pass(n_q, [&]<int N>(size_t h0) {
      attention_group<D, N>(q + h0 * q_stride, q_stride, kv, kv_head, n_ctx, head_dim, scale, scratch,
                            out + h0 * out_stride, out_stride);
    });
  });
}

}  // namespace r1::kernels::cpu
