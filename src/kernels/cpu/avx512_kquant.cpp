// AVX-512 VNNI kernels for the k-quant tiles (kquant_tiles.h), built like the Q4_0 kernel (avx512_quant.cpp):
// one vpdpbusd multiplies 16 rows × 4 columns of unsigned quants by 4 int8 activations broadcast to every
// lane, so the 16 lanes are 16 output rows. What the k-quants add, per 32-column sub-block:
// - the fifth (Q5_K) or top two (Q6_K) bits, moved next to the nibbles with a shift and a bitwise select;
// - the sub-block's own scales, one byte per row, widened and multiplied by the super-block's f16 d once for
//   all the tokens of a pass;
// - Q4_K/Q5_K's min, subtracted in float as dmin · m · (d_x · Σ qx); Q6_K's offset 32, in the integer start
//   value of each 16-column half (−32 · Σ qx of that half), since each half has its own scale.
// So a token costs 8 vpdpbusd a sub-block, as in Q4_0, plus 3 (Q4_K/Q5_K) or 4 (Q6_K) float operations
// instead of 2.
#include <immintrin.h>

#include "kernels/cpu/avx512_tiles.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/prefetch.h"
#include "kernels/kquant_tiles.h"

namespace r1::kernels::cpu {

namespace {

// Sixteen unsigned (Q4_K/Q5_K) or signed (Q6_K) scale bytes as floats times the rows' d.
template <bool Signed>
inline __m512 scales(const uint8_t* p, __m512 d) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm512_mul_ps(d, _mm512_cvtepi32_ps(Signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b)));
}

// Asks for the tile three ahead (7-10 KB; prefetch.h), an eighth per sub-block: with few tokens per pass the
// hardware prefetcher alone leaves the vpdpbusd chains waiting on memory (kernels_bench
// Q4K/Q6K_Streamed_2Threads/1, medians of 3: into L1 two tiles ahead 22.4 / 22.2 GB/s; into L2 two 32.2 /
// 28.3, three 37.8 / 32.9, four 38.9 / 27.2, six 25.5 / 24.9; the same matrix from L3 runs at 80 / 76 GB/s).
template <DType F>
inline void prefetch_ahead(const uint8_t* tile, size_t j) {
  constexpr size_t tb = ktile::tile_bytes(F);
  prefetch_l2_part(tile + 3 * tb, tb, j, 8);
}

// Activations of one pass of T tokens, interleaved by token (quant.h's act_pass layout):
//   xq[(b * 8 + i) * T + t]: token t's quants 4i..4i+3 of block b, as one int32;  d[b * T + t]: its scale
//   Q4_K/Q5_K: dsum[b * T + t] = d · Σ qx of the block
//   Q6_K: bias_lo / bias_hi[b * T + t] = −32 · Σ qx of the block's first / second 16 columns
struct TokenPass {
  const int32_t* xq;
  const float* d;
  const float* dsum;
  const int32_t* bias_lo;
  const int32_t* bias_hi;
};

// One 16-row group × T tokens over all super-blocks; writes y[(t0 + t) * ldy + r0 + lane] for the valid
// lanes.
template <DType F, int T>
void group_tokens(const TokenPass& p, size_t ks, size_t t0, const uint8_t* tiles, float* y, size_t ldy,
                  size_t r0, __mmask16 valid) {
  constexpr size_t tb = ktile::tile_bytes(F);
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t s = 0; s < ks; ++s) {
    const uint8_t* tile = tiles + s * tb;
    const __m512 dv = f16x16(tile + ktile::kD);
    for (size_t j = 0; j < 8; ++j) {
      prefetch_ahead<F>(tile, j);
      const size_t b = s * 8 + j;
      const int32_t* xq = p.xq + b * 8 * T;
      const float* dx = p.d + b * T;
      __m512i w[8];
      load_nibble_block<high_bits(F)>(tile + ktile::sub_offset(F, j), w);
      __m512i si[T];
      if constexpr (F == DType::Q6_K && T == 1) {
        // One token (decode): both halves' chains at once, so vpdpbusd's latency does not set the pace.
        __m512i lo = _mm512_set1_epi32(p.bias_lo[b]), hi = _mm512_set1_epi32(p.bias_hi[b]);
#pragma GCC unroll 8
        for (int i = 0; i < 4; ++i) {
          dpbusd_bcast(lo, w[i], xq + i);
          dpbusd_bcast(hi, w[i + 4], xq + i + 4);
        }
        const __m512 sl = scales<true>(tile + ktile::kScale6 + 16 * (2 * j), dv);
        const __m512 sh = scales<true>(tile + ktile::kScale6 + 16 * (2 * j + 1), dv);
        const __m512 both =
            _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), sl, _mm512_mul_ps(_mm512_cvtepi32_ps(hi), sh));
        acc[0] = _mm512_fmadd_ps(both, _mm512_set1_ps(dx[0]), acc[0]);
      } else if constexpr (F == DType::Q6_K) {
        // The two halves one after the other, so that T accumulators (not 2T) live at a time.
        const int32_t* bias[2] = {p.bias_lo + b * T, p.bias_hi + b * T};
#pragma GCC unroll 8
        for (int half = 0; half < 2; ++half) {
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) si[t] = _mm512_set1_epi32(bias[half][t]);
#pragma GCC unroll 8
          for (int i = 4 * half; i < 4 * half + 4; ++i)
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) dpbusd_bcast(si[t], w[i], xq + i * T + t);
          const __m512 sc = scales<true>(tile + ktile::kScale6 + 16 * (2 * j + size_t(half)), dv);
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t)
            acc[t] =
                _mm512_fmadd_ps(_mm512_cvtepi32_ps(si[t]), _mm512_mul_ps(sc, _mm512_set1_ps(dx[t])), acc[t]);
        }
      } else {
        if constexpr (T == 1) {
          // One token (decode): two chains, so vpdpbusd's latency does not set the pace.
          __m512i s1 = _mm512_setzero_si512();
          si[0] = _mm512_setzero_si512();
#pragma GCC unroll 8
          for (int i = 0; i < 4; ++i) {
            dpbusd_bcast(si[0], w[i], xq + i);
            dpbusd_bcast(s1, w[i + 4], xq + i + 4);
          }
          si[0] = _mm512_add_epi32(si[0], s1);
        } else {
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) si[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
          for (int i = 0; i < 8; ++i)
#pragma GCC unroll 8
            for (int t = 0; t < T; ++t) dpbusd_bcast(si[t], w[i], xq + i * T + t);
        }
        const __m512 sc = scales<false>(tile + ktile::kScale + 16 * j, dv);
        const __m512 mn = scales<false>(tile + ktile::kMin + 16 * j, f16x16(tile + ktile::kDmin));
        const float* dsum = p.dsum + b * T;
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          acc[t] =
              _mm512_fmadd_ps(_mm512_cvtepi32_ps(si[t]), _mm512_mul_ps(sc, _mm512_set1_ps(dx[t])), acc[t]);
          acc[t] = _mm512_fnmadd_ps(mn, _mm512_set1_ps(dsum[t]), acc[t]);
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + size_t(t)) * ldy + r0, valid, acc[t]);
}

template <DType F, int T>
void groups_tokens(const TokenPass& p, size_t ks, size_t t0, const uint8_t* base, size_t rows, size_t g0,
                   size_t g1, float* y, size_t ldy) {
  for (size_t g = g0; g < g1; ++g) {
    const size_t r0 = g * kQRowTile, nr = min_size(kQRowTile, rows - r0);
    const __mmask16 valid = __mmask16((1u << nr) - 1);
    group_tokens<F, T>(p, ks, t0, base + g * ks * ktile::tile_bytes(F), y, ldy, r0, valid);
  }
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  static_assert(kActPass == 8, "group_tokens is instantiated for 1..8 tokens");
  const size_t kb = x.kb, ks = kb / 8;
  const uint8_t* base = static_cast<const uint8_t*>(w);
  // Groups in batches whose tiles fit in L2 (~512 KB of Zen 4's 1 MB); every token passes over a batch before
  // the next one, so each weight byte comes from memory once however many tokens there are.
  const size_t batch = max1((size_t(512) << 10) / (ks * ktile::tile_bytes(F)));
  // Per pass: the float d · Σ qx (Q4_K/Q5_K) or the integer start values of the halves (Q6_K).
  auto* dsum = static_cast<float*>(__builtin_alloca(kActPass * kb * sizeof(float)));
  auto* bias_lo = static_cast<int32_t*>(__builtin_alloca(kActPass * kb * sizeof(int32_t)));
  auto* bias_hi = static_cast<int32_t*>(__builtin_alloca(kActPass * kb * sizeof(int32_t)));
  const size_t passes = act_passes(x.n);
  for (size_t gb = g0; gb < g1; gb += batch) {
    const size_t ge = min_size(g1, gb + batch);
    for (size_t pi = 0; pi < passes; ++pi) {
      size_t t0, nt;
      act_pass(x.n, pi, &t0, &nt);
      const int32_t* psum = x.psum + t0 * kb;
      const int32_t* phsum = x.phsum + t0 * kb;
      const float* pd = x.pd + t0 * kb;
      for (size_t i = 0; i < nt * kb; ++i) {
        if constexpr (F == DType::Q6_K) {
          bias_lo[i] = -32 * phsum[i];
          bias_hi[i] = -32 * (psum[i] - phsum[i]);
        } else {
          dsum[i] = pd[i] * float(psum[i]);
        }
      }
      const TokenPass p{x.pq + t0 * kb * 8, pd, dsum, bias_lo, bias_hi};
      with_count_up_to_8(nt, [&]<int N>() { groups_tokens<F, N>(p, ks, t0, base, rows, gb, ge, y, ldy); });
    }
  }
}

}  // namespace

void avx512_qmatmul_q4_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q4_K>(x, w, rows, g0, g1, y, ldy);
}
void avx512_qmatmul_q5_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q5_K>(x, w, rows, g0, g1, y, ldy);
}
void avx512_qmatmul_q6_k(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q6_K>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
