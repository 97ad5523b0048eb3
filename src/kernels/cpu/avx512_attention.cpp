// Grouped-query attention over the paged KV cache with AVX-512: 16 elements of a K or V row per instruction
// (masked at a ragged end of the head), widened from F16 (vcvtph2ps) or BF16 (shift) as they stream, once for
// all the query heads that share the KV head. Same shape as the AVX2 kernel. The register tiles' loops carry
// `#pragma GCC unroll`: unrolled only late, g++ 12 kept the accumulator arrays in memory and stored every one
// of them after each FMA, which made the kernel store-bound.
//
// The cache is read one block (a run of consecutive slots) at a time and every row whole, so each K and V
// byte comes from memory once, in address order: at depth the kernel streams tens of MB a step and is bound
// by that traffic, which is what makes a 16-bit cache (half the bytes) faster than F32. Reading V one
// 16-column slice at a time over the whole context instead (the kernel before) revisited every row eight
// times at a 512-byte stride and ran at a sixth of the bandwidth.
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

// Lanes of columns [d, d + 16) that lie inside a head of hd columns (none when d >= hd).
inline __mmask16 cols_mask(size_t d, size_t hd) {
  return d >= hd ? __mmask16(0) : hd - d >= 16 ? __mmask16(0xffff) : __mmask16((1u << (hd - d)) - 1);
}

// _mm512_shuffle_f32x4 with every lane written: the plain intrinsic starts from _mm512_undefined_ps, which
// g++ 12 reports as used uninitialised; a full mask compiles to the same instruction (hsum4 uses the masked
// forms of its other shuffles for the same reason).
template <int IMM>
inline __m512 shuffle_quarters(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_f32x4(a, __mmask16(0xffff), a, b, IMM);
}

// The four horizontal sums of a, b, c, d as lanes 0..3: halves and quarters are folded across the four
// registers together (shuffles of two registers at a time), so the four cost about as much as two single
// reductions.
inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m512 ab = _mm512_add_ps(shuffle_quarters<0x44>(a, b), shuffle_quarters<0xee>(a, b));
  const __m512 cd = _mm512_add_ps(shuffle_quarters<0x44>(c, d), shuffle_quarters<0xee>(c, d));
  // 128-bit quarters: a, b, c, d, each 4 partial sums
  __m512 u = _mm512_add_ps(shuffle_quarters<0x88>(ab, cd), shuffle_quarters<0xdd>(ab, cd));
  u = _mm512_add_ps(u, _mm512_mask_permute_ps(u, __mmask16(0xffff), u, 0x4e));
  u = _mm512_add_ps(u, _mm512_mask_permute_ps(u, __mmask16(0xffff), u, 0xb1));
  const __m512i first_lanes = _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_maskz_extractf32x4_ps(__mmask8(0xf),
                                      _mm512_mask_permutexvar_ps(u, __mmask16(0xffff), first_lanes, u), 0);
}

// Scores of R consecutive rows (K at k, rows k_stride elements apart) against NQ queries: R·NQ accumulators
// (at most 24 of the 32 registers), each K slice widened once for all NQ queries and each query slice loaded
// once for all R rows. Writes scores[h * n_ctx + r] = q_h·k_r · scale for r < R.
template <DType D, int NQ, int R>
inline void score_rows(const float* q, size_t q_stride, const void* k, size_t k_off, size_t k_stride,
                       size_t hd, float scale, float* scores, size_t n_ctx) {
  static_assert(R == 1 || R == 2 || R == 4);
  __m512 acc[NQ * R];  // [NQ][R]
#pragma GCC unroll 32
  for (int a = 0; a < NQ * R; ++a) acc[a] = _mm512_setzero_ps();
  for (size_t d = 0; d < hd; d += 16) {
    const __mmask16 m = cols_mask(d, hd);
    __m512 kr[R];
#pragma GCC unroll 32
    for (int r = 0; r < R; ++r) kr[r] = load16<D>(k, k_off + r * k_stride + d, m);
#pragma GCC unroll 32
    for (int h = 0; h < NQ; ++h) {
      const __m512 qh = _mm512_maskz_loadu_ps(m, q + h * q_stride + d);
#pragma GCC unroll 32
      for (int r = 0; r < R; ++r) acc[h * R + r] = _mm512_fmadd_ps(qh, kr[r], acc[h * R + r]);
    }
  }
  const __m512 z = _mm512_setzero_ps();
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h) {
    const __m512* a = acc + h * R;
    const __m128 sums = _mm_mul_ps(R == 4   ? hsum4(a[0], a[1], a[2], a[3])
                                   : R == 2 ? hsum4(a[0], a[1], z, z)
                                            : hsum4(a[0], z, z, z),
                                   _mm_set1_ps(scale));
    if constexpr (R == 4) {
      _mm_storeu_ps(scores + h * n_ctx, sums);
    } else {
      alignas(16) float lanes[4];
      _mm_store_ps(lanes, sums);
#pragma GCC unroll 32
      for (int r = 0; r < R; ++r) scores[h * n_ctx + r] = lanes[r];
    }
  }
}

// out_h[d0, d0 + 16C) += Σ_i p_h[i] · v_i[d0, d0 + 16C) over the n rows of one block: NQ·C accumulators held
// in registers across the block, loaded from and stored back to out (which stays in L1) once per block.
template <DType D, int NQ, int C>
inline void accumulate_rows(const float* p, size_t n_ctx, const void* v, size_t v_off, size_t v_stride,
                            size_t n, size_t d0, size_t hd, float* out, size_t out_stride) {
  __mmask16 m[C];
#pragma GCC unroll 32
  for (int c = 0; c < C; ++c) m[c] = cols_mask(d0 + 16 * c, hd);
  __m512 acc[NQ][C];
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h)
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) acc[h][c] = _mm512_maskz_loadu_ps(m[c], out + h * out_stride + d0 + 16 * c);
  for (size_t i = 0; i < n; ++i) {
    __m512 vr[C];
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) vr[c] = load16<D>(v, v_off + i * v_stride + d0 + 16 * c, m[c]);
#pragma GCC unroll 32
    for (int h = 0; h < NQ; ++h) {
      const __m512 ph = _mm512_set1_ps(p[h * n_ctx + i]);
#pragma GCC unroll 32
      for (int c = 0; c < C; ++c) acc[h][c] = _mm512_fmadd_ps(ph, vr[c], acc[h][c]);
    }
  }
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h)
#pragma GCC unroll 32
    for (int c = 0; c < C; ++c) _mm512_mask_storeu_ps(out + h * out_stride + d0 + 16 * c, m[c], acc[h][c]);
}

// NQ query heads against one KV head: scores block by block (R rows at a time), the unnormalised softmax,
// then V block by block (C 16-column slices per pass over the block's rows, which stay in L1 between passes),
// and the outputs divided by the softmax sums.
template <DType D, int NQ>
void attention_group(const float* q, size_t q_stride, const KvView& kv, size_t kv_head, size_t n_ctx,
                     size_t hd, float scale, float* scores, float* out, size_t out_stride) {
  constexpr int R = NQ <= 6 ? 4 : 2;                // score tile: R·NQ <= 24 accumulators
  constexpr int C = NQ <= 3 ? 8 : NQ <= 6 ? 4 : 2;  // V pass: C·NQ <= 24 accumulators
  const size_t bs = kv.block_size, stride = kv.slot_stride, head_off = kv_head * hd;
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
    for (size_t d = 0; d < hd; d += 16)
      _mm512_mask_storeu_ps(out + h * out_stride + d, cols_mask(d, hd), _mm512_setzero_ps());
  for (size_t j0 = 0; j0 < n_ctx; j0 += bs) {
    const size_t n = min_size(bs, n_ctx - j0), off = size_t(kv.block_table[j0 / bs]) * bs * stride + head_off;
    for (size_t d0 = 0; d0 < hd; d0 += 16 * C)
      accumulate_rows<D, NQ, C>(scores + j0, n_ctx, kv.v, off, stride, n, d0, hd, out, out_stride);
  }
#pragma GCC unroll 32
  for (int h = 0; h < NQ; ++h) {
    const __m512 inv = _mm512_set1_ps(inv_sum[h]);
    for (size_t d = 0; d < hd; d += 16) {
      const __mmask16 m = cols_mask(d, hd);
      float* o = out + h * out_stride + d;
      _mm512_mask_storeu_ps(o, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, o), inv));
    }
  }
}

}  // namespace

void avx512_attention(const float* q, size_t n_q, size_t q_stride, const KvView& kv, size_t kv_head,
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
