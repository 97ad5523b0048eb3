#pragma once
// Helpers shared by the AVX-512 VNNI kernels of the packed weight tiles (avx512_quant.cpp, avx512_kquant.cpp;
// included only by translation units built with the AVX-512 flags).
#include <immintrin.h>

#include <cstdint>

#include "kernels/quant.h"

namespace r1::kernels::cpu {

// s += w · (the 4 activation bytes at x, broadcast), with the broadcast folded into vpdpbusd's memory
// operand. GCC 12 emits a separate vpbroadcastd for the intrinsic, and on Zen 4 that extra µop per
// vpdpbusd costs ~30% of the GEMM's throughput.
static inline void dpbusd_bcast(__m512i& s, __m512i w, const int32_t* x) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(s) : "v"(w), "m"(*x));
}

// Sixteen f16 values at p (one per row of a tile) as floats.
static inline __m512 f16x16(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Bit `From` of every byte of v moved to bit `To` (the other bits are garbage for the caller to mask; the
// 16-bit shifts carry bits across bytes, but never onto bit 4 or 5 for the distances used here).
template <int From, int To>
static inline __m512i move_bit(__m512i v) {
  if constexpr (From < To)
    return _mm512_slli_epi16(v, To - From);
  else if constexpr (From > To)
    return _mm512_srli_epi16(v, From - To);
  else
    return v;
}

// (a & mask) | b in one instruction.
static inline __m512i or_masked(__m512i b, __m512i a, __m512i mask) {
  return _mm512_ternarylogic_epi32(a, b, mask, 0xEC);
}

// Chunk P of a 32-column block of nibbles at q with HighBits bits above each (0, 1: the fifth bits at q +
// 256, or 2: Q6_K's two vectors there; quant.h and kquant_tiles.h): w[P] = columns 4P..4P+3 of the 16 rows
// (the low nibbles), w[P + 4] = columns 16 + 4P.. (the high ones), each with its high bits, as unsigned
// bytes.
template <int HighBits, int P>
static inline void load_nibble_chunk(const uint8_t* q, __m512i w[8]) {
  const __m512i v = _mm512_loadu_si512(q + 64 * P), lo4 = _mm512_set1_epi8(15);
  const __m512i lo = _mm512_and_si512(v, lo4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), lo4);
  if constexpr (HighBits == 0) {
    w[P] = lo;
    w[P + 4] = hi;
  } else if constexpr (HighBits == 1) {
    const __m512i h = _mm512_loadu_si512(q + kNibbleBytes), bit4 = _mm512_set1_epi8(0x10);
    w[P] = or_masked(lo, move_bit<2 * P, 4>(h), bit4);
    w[P + 4] = or_masked(hi, move_bit<2 * P + 1, 4>(h), bit4);
  } else {
    const __m512i h = _mm512_loadu_si512(q + kNibbleBytes + 64 * (P / 2)), bits45 = _mm512_set1_epi8(0x30);
    w[P] = or_masked(lo, move_bit<4 * (P % 2), 4>(h), bits45);
    w[P + 4] = or_masked(hi, move_bit<4 * (P % 2) + 2, 4>(h), bits45);
  }
}

// All 4 chunks: w[i] = columns 4i..4i+3 of the block, i < 8.
template <int HighBits>
static inline void load_nibble_block(const uint8_t* q, __m512i w[8]) {
  load_nibble_chunk<HighBits, 0>(q, w);
  load_nibble_chunk<HighBits, 1>(q, w);
  load_nibble_chunk<HighBits, 2>(q, w);
  load_nibble_chunk<HighBits, 3>(q, w);
}

}  // namespace r1::kernels::cpu
