#pragma once
// Helpers shared by the AVX2 kernels of the packed weight tiles (avx2_quant.cpp, avx2_kquant.cpp; included
// only by translation units built with the AVX2 flags). A 256-bit register holds half a tile chunk: 8 rows ×
// 4 columns.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/quant.h"

namespace r1::kernels::cpu {

// The 4 activation bytes at p broadcast to every 32-bit lane.
static inline __m256i bcast4(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Pins an accumulator to its register at this point, so the compiler keeps the straight chain of adds
// written here instead of re-associating a block's 32 products into a tree that spills to the stack.
static inline void pin(__m256i& v) {
  asm("" : "+x"(v));
}

// Eight f16 values at p (one per row of a half tile) as floats.
static inline __m256 f16x8(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// The first n_valid of 8 row results to out.
static inline void store_rows(float* out, __m256 v, size_t n_valid) {
  if (n_valid == 8) {
    _mm256_storeu_ps(out, v);
    return;
  }
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, v);
  for (size_t i = 0; i < n_valid; ++i) out[i] = tmp[i];
}

// Bit `from` of every byte of v moved to bit `to` (other bits are masked by the caller; the 16-bit shifts
// never carry a neighbour's bit onto bits 4-5 at these distances).
static inline __m256i move_bit(__m256i v, int from, int to) {
  if (from < to) return _mm256_slli_epi16(v, to - from);
  if (from > to) return _mm256_srli_epi16(v, from - to);
  return v;
}

// Half `half` (rows 8 half..8 half + 7) of chunk p of a 32-column block of nibbles at q with HighBits bits
// above each (0, 1: the fifth bits at q + kNibbleBytes, or 2: Q6_K's two vectors there; quant.h and
// kquant_tiles.h): lo = columns 4p..4p+3, hi = columns 16 + 4p.., each with its high bits, as unsigned bytes.
template <int HighBits>
static inline void load_nibble_chunk(const uint8_t* q, size_t half, int p, __m256i* lo, __m256i* hi) {
  const __m256i lo4 = _mm256_set1_epi8(15);
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 64 * p + 32 * half));
  *lo = _mm256_and_si256(v, lo4);
  *hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), lo4);
  if constexpr (HighBits == 1) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + kNibbleBytes + 32 * half));
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    *lo = _mm256_or_si256(*lo, _mm256_and_si256(move_bit(h, 2 * p, 4), bit4));
    *hi = _mm256_or_si256(*hi, _mm256_and_si256(move_bit(h, 2 * p + 1, 4), bit4));
  } else if constexpr (HighBits == 2) {
    const __m256i h = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(q + kNibbleBytes + 64 * size_t(p / 2) + 32 * half));
    const __m256i bits45 = _mm256_set1_epi8(0x30);
    *lo = _mm256_or_si256(*lo, _mm256_and_si256(move_bit(h, 4 * (p % 2), 4), bits45));
    *hi = _mm256_or_si256(*hi, _mm256_and_si256(move_bit(h, 4 * (p % 2) + 2, 4), bits45));
  }
}

}  // namespace r1::kernels::cpu
