// AVX2 kernels for the packed Q8_0 / Q4_0 tiles (quant.h). A 256-bit register holds half a tile chunk: 8 rows
// × 4 columns. vpmaddubsw saturates at 16 bits, so Q8_0 uses the sign trick (|w| × sign(x, w), both at most
// 127 in magnitude) rather than the +128 stored offset; Q4_0's nibbles (0..15) go in directly and the offset
// 8 is removed through the block's activation sum, as in the AVX-512 kernel.
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

// Integer dot of 8 rows (one half of a tile) with one block of activations: 8 int32 lanes, offset not
// removed.
template <DType F>
inline __m256i half_tile_dot(const uint8_t* q, size_t half, const int32_t* xq) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s = _mm256_setzero_si256();
  if constexpr (F == DType::Q8_0) {
    const __m256i flip = _mm256_set1_epi8(char(0x80));
    for (int i = 0; i < 8; ++i) {
      __m256i wq = _mm256_xor_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * i + 32 * half)), flip);
      __m256i xb = _mm256_set1_epi32(xq[i]);
      __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(wq, wq), _mm256_sign_epi8(xb, wq));
      s = _mm256_add_epi32(s, _mm256_madd_epi16(p, ones));
    }
  } else {
    const __m256i lo = _mm256_set1_epi8(15);
    // Each 16-bit sum is at most 2 × 15 × 127, so all four chunks add in 16 bits before widening.
    __m256i p16 = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * p + 32 * half));
      p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(_mm256_and_si256(v, lo), _mm256_set1_epi32(xq[p])));
      p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), lo),
                                                       _mm256_set1_epi32(xq[p + 4])));
    }
    s = _mm256_madd_epi16(p16, ones);
  }
  return s;
}

template <DType F, int T>
void half_group_tokens(const QActsView& x, size_t t0, const uint8_t* tiles, size_t half, float* y, size_t ldy,
                       size_t r0, size_t n_valid) {
  constexpr size_t tb = kQRowTile * (F == DType::Q8_0 ? 34 : 18);
  constexpr int32_t off = F == DType::Q8_0 ? 0 : 8;  // Q8_0 is signed again after the xor
  const size_t kb = x.kb, kp = kb * kQBlock;
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < kb; ++b) {
    const uint8_t* tile = tiles + b * tb;
    __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 16 * half)));
    for (int t = 0; t < T; ++t) {
      const size_t row = t0 + size_t(t);
      const int32_t* xq = reinterpret_cast<const int32_t*>(x.qs + row * kp + b * kQBlock);
      __m256i s = _mm256_sub_epi32(half_tile_dot<F>(tile + 32, half, xq),
                                   _mm256_set1_epi32(off * x.sum[row * kb + b]));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(x.d[row * kb + b])),
                               acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float* out = y + (t0 + size_t(t)) * ldy + r0;
    if (n_valid == 8) {
      _mm256_storeu_ps(out, acc[t]);
    } else {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, acc[t]);
      for (size_t i = 0; i < n_valid; ++i) out[i] = tmp[i];
    }
  }
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  constexpr size_t tb = kQRowTile * (F == DType::Q8_0 ? 34 : 18);
  const size_t group_bytes = x.kb * tb;
  const size_t batch = max1((size_t(256) << 10) / group_bytes);  // see avx512_quant.cpp
  constexpr int T = 4;
  for (size_t gb = g0; gb < g1; gb += batch) {
    const size_t ge = min_size(g1, gb + batch);
    for (size_t t0 = 0; t0 < x.n; t0 += T) {
      const size_t nt = min_size(T, x.n - t0);
      for (size_t g = gb; g < ge; ++g) {
        const uint8_t* tiles = static_cast<const uint8_t*>(w) + g * group_bytes;
        for (size_t half = 0; half < 2; ++half) {
          const size_t r0 = g * kQRowTile + 8 * half;
          if (r0 >= rows) break;
          const size_t nv = min_size(8, rows - r0);
          switch (nt) {
            case 4:
              half_group_tokens<F, 4>(x, t0, tiles, half, y, ldy, r0, nv);
              break;
            case 3:
              half_group_tokens<F, 3>(x, t0, tiles, half, y, ldy, r0, nv);
              break;
            case 2:
              half_group_tokens<F, 2>(x, t0, tiles, half, y, ldy, r0, nv);
              break;
            default:
              half_group_tokens<F, 1>(x, t0, tiles, half, y, ldy, r0, nv);
              break;
          }
        }
      }
    }
  }
}

}  // namespace

void avx2_qmatmul_q8_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q8_0>(x, w, rows, g0, g1, y, ldy);
}
void avx2_qmatmul_q4_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q4_0>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
