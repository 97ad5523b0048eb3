// Grouped-query attention over the paged KV cache with AVX2 + FMA + F16C: 8 elements of a K or V row per
// instruction, widened from F16 (vcvtph2ps) or BF16 (shift) as they stream, once for all the query heads that
// share the KV head; a vectorised softmax (avx2_math.h). Same shape as the AVX-512 kernel, whose header says
// why the cache is read block by block and every row whole and why the tiles' loops carry unroll pragmas;
// with 16 registers the tiles are smaller.
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

// Scores of R consecutive rows (K at k, rows k_stride elements apart) against NQ queries: R·NQ accumulators
// (at most 12 of the 16 registers), each K slice widened once for all NQ queries and each query slice loaded
// once for all R rows; columns past the last multiple of 8 in plain code. Writes scores[h * n_ctx + r] =
// q_h·k_r · scale for r < R.
template <DType D, int NQ, int R>
inline void score_rows(const float* q, size_t q_stride, const void* k, size_t k_off, size_t k_stride,
                       size_t hd, float scale, float* scores, size_t n_ctx) {
  const size_t hd8 = hd / 8 * 8;
  __m256 acc[NQ][R];
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h)
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) acc[h][r] = _mm256_setzero_ps();
  for (size_t d = 0; d < hd8; d += 8) {
    __m256 kr[R];
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) kr[r] = load8<D>(k, k_off + r * k_stride + d);
#pragma GCC unroll 32
    for (int h = 0; h < NQ; ++h) {
      const __m256 qh = _mm256_loadu_ps(q + h * q_stride + d);
#pragma GCC unroll 32
      for (int r = 0; r < R; ++r) acc[h][r] = _mm256_fmadd_ps(qh, kr[r], acc[h][r]);
    }
  }
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h)
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) {
      float dot = hsum(acc[h][r]);
      for (size_t d = hd8; d < hd; ++d) dot += q[h * q_stride + d] * load1<D>(k, k_off + r * k_stride + d);
      scores[h * n_ctx + r] = dot * scale;
    }
}

// out_h[d0, d0 + 8C) += Σ_i p_h[i] · v_i[d0, d0 + 8C) over the n rows of one block, d0 + 8C <= head_dim: NQ·C
// accumulators held in registers across the block, loaded from and stored back to out once per block.
template <DType D, int NQ, int C>
inline void accumulate_rows(const float* p, size_t n_ctx, const void* v, size_t v_off, size_t v_stride,
                            size_t n, size_t d0, float* out, size_t out_stride) {
  __m256 acc[NQ][C];
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h)
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) acc[h][c] = _mm256_loadu_ps(out + h * out_stride + d0 + 8 * c);
  for (size_t i = 0; i < n; ++i) {
    __m256 vr[C];
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) vr[c] = load8<D>(v, v_off + i * v_stride + d0 + 8 * c);
#pragma GCC unroll 32
    for (int h = 0; h < NQ; ++h) {
      const __m256 ph = _mm256_broadcast_ss(p + h * n_ctx + i);
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) acc[h][c] = _mm256_fmadd_ps(ph, vr[c], acc[h][c]);
    }
  }
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h)
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + h * out_stride + d0 + 8 * c, acc[h][c]);
}

// NQ query heads against one KV head: scores block by block (R rows at a time), the unnormalised softmax,
// then V block by block (C 8-column slices per pass over the block's rows, which stay in L1 between passes),
// and the outputs divided by the softmax sums.
template <DType D, int NQ>
void attention_group(const float* q, size_t q_stride, const KvView& kv, size_t kv_head, size_t n_ctx,
                     size_t hd, float scale, float* scores, float* out, size_t out_stride) {
  constexpr int R = NQ <= 6 ? 2 : 1;                              // score tile: R·NQ <= 12 accumulators
  constexpr int C = NQ <= 2 ? 4 : NQ <= 3 ? 3 : NQ <= 6 ? 2 : 1;  // V pass: C·NQ <= 12 accumulators
  const size_t bs = kv.block_size, stride = kv.slot_stride, head_off = kv_head * hd, hd8 = hd / 8 * 8;
  for (size_t j0 = 0; j0 < n_ctx; j0 += bs) {
    const size_t n = min_size(bs, n_ctx - j0), off = size_t(kv.block_table[j0 / bs]) * bs * stride + head_off;
    size_t i = 0;
    for (; i + R <= n; i += R)
      score_rows<D, NQ, R>(q, q_stride, kv.k, off + i * stride, stride, hd, scale, scores + j0 + i, n_ctx);
    for (; i < n; ++i)
      score_rows<D, NQ, 1>(q, q_stride, kv.k, off + i * stride, stride, hd, scale, scores + j0 + i, n_ctx);
  }
  float inv_sum[NQ];
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h) inv_sum[h] = 1.0f / exp_minus_max(scores + h * n_ctx, n_ctx);
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h)
    for (size_t d = 0; d < hd; ++d) out[h * out_stride + d] = 0;
  for (size_t j0 = 0; j0 < n_ctx; j0 += bs) {
    const size_t n = min_size(bs, n_ctx - j0), off = size_t(kv.block_table[j0 / bs]) * bs * stride + head_off;
    const float* p = scores + j0;
    size_t d0 = 0;
    for (; d0 + 8 * C <= hd8; d0 += 8 * C)
      accumulate_rows<D, NQ, C>(p, n_ctx, kv.v, off, stride, n, d0, out, out_stride);
    for (; d0 < hd8; d0 += 8) accumulate_rows<D, NQ, 1>(p, n_ctx, kv.v, off, stride, n, d0, out, out_stride);
    for (size_t i = 0; i < n; ++i)  // ragged head_dim
      for (size_t d = hd8; d < hd; ++d) {
        const float vd = load1<D>(kv.v, off + i * stride + d);
#pragma GCC unroll 32
        for (int h = 0; h < NQ; ++h) out[h * out_stride + d] += p[h * n_ctx + i] * vd;
      }
  }
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h) {
    const __m256 inv = _mm256_set1_ps(inv_sum[h]);
    float* o = out + h * out_stride;
    for (size_t d = 0; d < hd8; d += 8) _mm256_storeu_ps(o + d, _mm256_mul_ps(_mm256_loadu_ps(o + d), inv));
    for (size_t d = hd8; d < hd; ++d) o[d] *= inv_sum[h];
  }
}

}  // namespace

void avx2_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
                    size_t n_ctx, size_t head_dim, float scale, float* scratch, float* out,
                    size_t out_stride) {
  // Up to 8 heads per pass (the R1 distills have 4 to 8 query heads per KV head).
  with_kv_dtype(kv.dtype, [&]<DType D>() {
    for_each_head_pass(n_q, [&]<int N>(size_t h0) {
      attention_group<D, N>(q + h0 * q_stride, q_stride, kv, kv_head, n_ctx, head_dim, scale, scratch,
                            out + h0 * out_stride, out_stride);
    });
  });
}

}  // namespace r1::kernels::cpu
