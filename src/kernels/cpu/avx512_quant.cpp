// AVX-512 VNNI kernels for the packed Q8_0 / Q4_0 tiles (quant.h): one vpdpbusd multiplies 16 rows × 4
// columns of unsigned weights by 4 int8 activations broadcast to every lane, so the 16 lanes are 16 output
// rows and no horizontal sums are needed. The stored offset (128 or 8) is removed by starting each block's
// integer accumulator at -offset * sum(x of the block).
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

// The 8 vectors of one tile's quants: w[i] holds columns 4i..4i+3 of all 16 rows.
template <DType F>
inline void load_tile(const uint8_t* q, __m512i w[8]) {
  if constexpr (F == DType::Q8_0) {
    for (int i = 0; i < 8; ++i) w[i] = _mm512_loadu_si512(q + 64 * i);
  } else {
    const __m512i lo = _mm512_set1_epi8(15);
    for (int p = 0; p < 4; ++p) {
      __m512i v = _mm512_loadu_si512(q + 64 * p);
      w[p] = _mm512_and_si512(v, lo);
      w[p + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), lo);
    }
  }
}

// Rows of one group × T tokens, all blocks. x rows t0..t0+T-1; writes y[(t0 + t) * ldy + r0 + lane].
template <DType F, int T>
void group_tokens(const QActsView& x, size_t t0, const uint8_t* tiles, float* y, size_t ldy, size_t r0,
                  __mmask16 valid) {
  constexpr size_t tb = kQRowTile * (F == DType::Q8_0 ? 34 : 18);
  constexpr int32_t off = F == DType::Q8_0 ? 128 : 8;
  const size_t kb = x.kb, kp = kb * kQBlock;
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (size_t b = 0; b < kb; ++b) {
    const uint8_t* tile = tiles + b * tb;
    __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile)));
    __m512i w[8];
    load_tile<F>(tile + 32, w);
    for (int t = 0; t < T; ++t) {
      const size_t row = t0 + size_t(t);
      const int32_t* xq = reinterpret_cast<const int32_t*>(x.qs + row * kp + b * kQBlock);
      __m512i s = _mm512_set1_epi32(-off * x.sum[row * kb + b]);
      // w[i] holds columns 4i..4i+3 in both formats (Q4_0's high nibbles are columns 16..31).
      for (int i = 0; i < 8; ++i) s = _mm512_dpbusd_epi32(s, w[i], _mm512_set1_epi32(xq[i]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(x.d[row * kb + b])),
                               acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + size_t(t)) * ldy + r0, valid, acc[t]);
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  constexpr size_t tb = kQRowTile * (F == DType::Q8_0 ? 34 : 18);
  const size_t kb = x.kb;
  const uint8_t* base = static_cast<const uint8_t*>(w);
  // Groups are taken in batches whose tiles fit in L2 (~256 KB), and every token passes over a batch before
  // the next one, so each weight byte comes from memory once however many tokens there are.
  const size_t group_bytes = kb * tb;
  const size_t batch = max1((size_t(256) << 10) / group_bytes);
  constexpr int T = 8;
  for (size_t gb = g0; gb < g1; gb += batch) {
    const size_t ge = min_size(g1, gb + batch);
    for (size_t t0 = 0; t0 < x.n; t0 += T) {
      const size_t nt = min_size(T, x.n - t0);
      for (size_t g = gb; g < ge; ++g) {
        const size_t r0 = g * kQRowTile, nr = min_size(kQRowTile, rows - r0);
        const __mmask16 valid = __mmask16((1u << nr) - 1);
        const uint8_t* tiles = base + g * group_bytes;
        switch (nt) {
          case 8:
            group_tokens<F, 8>(x, t0, tiles, y, ldy, r0, valid);
            break;
          case 7:
            group_tokens<F, 7>(x, t0, tiles, y, ldy, r0, valid);
            break;
          case 6:
            group_tokens<F, 6>(x, t0, tiles, y, ldy, r0, valid);
            break;
          case 5:
            group_tokens<F, 5>(x, t0, tiles, y, ldy, r0, valid);
            break;
          case 4:
            group_tokens<F, 4>(x, t0, tiles, y, ldy, r0, valid);
            break;
          case 3:
            group_tokens<F, 3>(x, t0, tiles, y, ldy, r0, valid);
            break;
          case 2:
            group_tokens<F, 2>(x, t0, tiles, y, ldy, r0, valid);
            break;
          default:
            group_tokens<F, 1>(x, t0, tiles, y, ldy, r0, valid);
            break;
        }
      }
    }
  }
}

}  // namespace

void avx512_qmatmul_q8_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q8_0>(x, w, rows, g0, g1, y, ldy);
}
void avx512_qmatmul_q4_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q4_0>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
