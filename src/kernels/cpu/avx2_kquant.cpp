// AVX2 kernels for the k-quant tiles (kquant_tiles.h), built like the Q4_0 kernel (avx2_quant.cpp): a 256-bit
// register holds half a chunk, 8 rows × 4 columns, and vpmaddubsw multiplies it by 4 activation bytes
// broadcast to every lane, so the 8 lanes are 8 output rows.
//
// vpmaddubsw adds two products into 16 bits, each at most 2 × 63 × 127 = 16002 for Q6_K's 6-bit quants, so
// two chunks' products are added in 16 bits before each widening vpmaddwd (all four of a half would overflow
// for Q5_K and Q6_K). Scales and mins are applied in float per 32-column sub-block, as the AVX-512 kernel
// does.
#include <immintrin.h>

#include "kernels/cpu/avx2_tiles.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/prefetch.h"
#include "kernels/kquant_tiles.h"

namespace r1::kernels::cpu {

namespace {

// Eight scale bytes (unsigned, or signed for Q6_K) as floats times the rows' d.
template <bool Signed>
inline __m256 scales8(const uint8_t* p, __m256 d) {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return _mm256_mul_ps(d, _mm256_cvtepi32_ps(Signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b)));
}

// 8 rows (half `half` of each tile of one 16-row group) × tokens t0..t0+T-1, over all super-blocks. Writes
// y[(t0 + t) * ldy + r0 + i] for i < n_valid.
template <DType F, int T>
void half_tokens(const QActsView& x, size_t t0, const uint8_t* tiles, size_t half, float* y, size_t ldy,
                 size_t r0, size_t n_valid) {
  constexpr size_t tb = ktile::tile_bytes(F);
  const size_t kb = x.kb, ks = kb / 8, kp = kb * kQBlock;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t s = 0; s < ks; ++s) {
    const uint8_t* tile = tiles + s * tb;
    const __m256 dv = f16x8(tile + ktile::kD + 16 * half);
    for (size_t j = 0; j < 8; ++j) {
      const size_t b = s * 8 + j;
      const uint8_t* sub = tile + ktile::sub_offset(F, j);
      // Decode: the tile three ahead into L2, an eighth per sub-block, as avx512_kquant.cpp does (R1_ISA=avx2
      // kernels_bench Q4K/Q6K_Streamed_2Threads/1 on Zen 4, GB/s without → with, two rounds: Q4_K 19.8 / 18.3
      // → 23.1 / 27.9, Q6_K 19.2 / 18.7 → 26.3 / 24.7).
      if constexpr (T == 1) prefetch_l2_part(tile + 3 * tb, tb, j, 8);
      __m256i lo32[T], hi32[T];  // Q4_K/Q5_K use lo32 for the whole block
      for (int t = 0; t < T; ++t) lo32[t] = hi32[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int p = 0; p < 4; p += 2) {
        __m256i wl0, wh0, wl1, wh1;
        load_nibble_chunk<high_bits(F)>(sub, half, p, &wl0, &wh0);
        load_nibble_chunk<high_bits(F)>(sub, half, p + 1, &wl1, &wh1);
        for (int t = 0; t < T; ++t) {
          const int8_t* xb = x.qs + (t0 + size_t(t)) * kp + b * kQBlock;
          const __m256i a = _mm256_add_epi16(_mm256_maddubs_epi16(wl0, bcast4(xb + 4 * p)),
                                             _mm256_maddubs_epi16(wl1, bcast4(xb + 4 * p + 4)));
          const __m256i c = _mm256_add_epi16(_mm256_maddubs_epi16(wh0, bcast4(xb + 16 + 4 * p)),
                                             _mm256_maddubs_epi16(wh1, bcast4(xb + 16 + 4 * p + 4)));
          if constexpr (F == DType::Q6_K) {
            lo32[t] = _mm256_add_epi32(lo32[t], _mm256_madd_epi16(a, ones));
            hi32[t] = _mm256_add_epi32(hi32[t], _mm256_madd_epi16(c, ones));
          } else {
            lo32[t] = _mm256_add_epi32(lo32[t], _mm256_madd_epi16(_mm256_add_epi16(a, c), ones));
          }
        }
      }
      if constexpr (F == DType::Q6_K) {
        const __m256 sl = scales8<true>(tile + ktile::kScale6 + 16 * (2 * j) + 8 * half, dv);
        const __m256 sh = scales8<true>(tile + ktile::kScale6 + 16 * (2 * j + 1) + 8 * half, dv);
        for (int t = 0; t < T; ++t) {
          const size_t xi = (t0 + size_t(t)) * kb + b;
          const int32_t hs = x.hsum[xi];
          const __m256 l = _mm256_cvtepi32_ps(_mm256_sub_epi32(lo32[t], _mm256_set1_epi32(32 * hs)));
          const __m256 h =
              _mm256_cvtepi32_ps(_mm256_sub_epi32(hi32[t], _mm256_set1_epi32(32 * (x.sum[xi] - hs))));
          acc[t] =
              _mm256_fmadd_ps(_mm256_fmadd_ps(l, sl, _mm256_mul_ps(h, sh)), _mm256_set1_ps(x.d[xi]), acc[t]);
        }
      } else {
        const __m256 sc = scales8<false>(tile + ktile::kScale + 16 * j + 8 * half, dv);
        const __m256 mn =
            scales8<false>(tile + ktile::kMin + 16 * j + 8 * half, f16x8(tile + ktile::kDmin + 16 * half));
        for (int t = 0; t < T; ++t) {
          const size_t xi = (t0 + size_t(t)) * kb + b;
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo32[t]), _mm256_mul_ps(sc, _mm256_set1_ps(x.d[xi])),
                                   acc[t]);
          acc[t] = _mm256_fnmadd_ps(mn, _mm256_set1_ps(x.d[xi] * float(x.sum[xi])), acc[t]);
        }
      }
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + (t0 + size_t(t)) * ldy + r0, acc[t], n_valid);
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  // Tokens per pass over a half tile: as many as the 16 registers hold accumulators for (Q6_K keeps three
  // per token).
  constexpr int T = F == DType::Q6_K ? 4 : 6;
  const size_t group_bytes = x.kb / 8 * ktile::tile_bytes(F);
  // Groups in batches whose tiles fit in L2; every token passes over a batch before the next is read.
  const size_t batch = max1((size_t(256) << 10) / group_bytes);
  for (size_t gb = g0; gb < g1; gb += batch) {
    const size_t ge = min_size(g1, gb + batch);
    // Tokens in ceil(n / T) passes of near-equal size.
    const size_t passes = (x.n + T - 1) / T;
    for (size_t pass = 0, t0 = 0; pass < passes; ++pass) {
      const size_t nt = (x.n - t0) / (passes - pass);
      for (size_t g = gb; g < ge; ++g) {
        const uint8_t* tiles = static_cast<const uint8_t*>(w) + g * group_bytes;
        for (size_t half = 0; half < 2; ++half) {
          const size_t r0 = g * kQRowTile + 8 * half;
          if (r0 >= rows) break;
          const size_t nv = min_size(8, rows - r0);
          with_count_up_to_8(nt, [&]<int N>() {
            if constexpr (N <= T) half_tokens<F, N>(x, t0, tiles, half, y, ldy, r0, nv);
          });
        }
      }
      t0 += nt;
    }
  }
}

}  // namespace

void avx2_qmatmul_q4_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q4_K>(x, w, rows, g0, g1, y, ldy);
}
void avx2_qmatmul_q5_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q5_K>(x, w, rows, g0, g1, y, ldy);
}
void avx2_qmatmul_q6_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q6_K>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
