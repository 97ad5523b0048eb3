// AVX-512 VNNI kernels for the packed 32-column tiles (quant.h: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1): one vpdpbusd
// multiplies 16 rows × 4 columns of unsigned weights by 4 int8 activations broadcast to every lane, so the 16
// lanes are 16 output rows and no horizontal sums are needed. The stored offset (128, 8 or 16) is removed by
// starting each block's integer accumulator at -offset * sum(x of the block); Q4_1's and Q5_1's min is added
// in float as m · (d_x · sum), one more fused multiply-add per token and block. Q5's fifth bits are merged
// into the nibbles as the Q5_K kernel does (avx512_tiles.h).
//
// Where the time goes (measured on Zen 4, where a 512-bit vpdpbusd issues once per cycle and shares its two
// pipes with vmulps/vfmadd): per token and block, 8 vpdpbusd do the 512 multiply-adds and 2 float ops
// (scale product, accumulate) apply the block scales, so the GEMM tops out near 8/10 of the vpdpbusd rate.
// What the code below avoids is everything else: the tile is loaded (and Q4_0 unpacked) once for T tokens,
// the T integer chains are interleaved so vpdpbusd's latency is hidden, the offsets come from a small
// table (a broadcast load, not an integer multiply and a register broadcast), and activations and scales
// are memory-broadcast operands.
#include <immintrin.h>

#include "kernels/cpu/avx512_tiles.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/prefetch.h"

namespace r1::kernels::cpu {

namespace {

// The 8 vectors of one tile's quants: w[i] holds columns 4i..4i+3 of all 16 rows (the nibble formats' high
// nibbles are columns 16..31, so every format indexes alike).
template <DType F>
inline void load_tile(const uint8_t* tile, __m512i w[8]) {
  const uint8_t* q = tile + qtile::quants(F);
  if constexpr (F == DType::Q8_0) {
    for (int i = 0; i < 8; ++i) w[i] = _mm512_loadu_si512(q + 64 * i);
  } else {
    load_nibble_block<high_bits(F)>(q, w);
  }
}

// Asks for the tile kPrefetchTiles ahead (the next group's, past the end of this one): with few tokens per
// pass the hardware prefetcher alone leaves the vpdpbusd chains waiting on memory.
constexpr size_t kPrefetchTiles = 6;
template <DType F>
inline void prefetch_ahead(const uint8_t* tile) {
  const char* p = reinterpret_cast<const char*>(tile + kPrefetchTiles * qtile::tile_bytes(F));
  for (size_t line = 0; line < qtile::tile_bytes(F); line += 64) _mm_prefetch(p + line, _MM_HINT_T0);
}

// One token (decode) asks for the lines 8 KB ahead into L2 instead (prefetch.h): there the kernel is the
// memory's pace, and the formats with more work per byte (Q8_0's twice the bytes, Q5's fifth bits) let
// compute and memory stalls add up without it (kernels_bench *_Streamed_2Threads/1, medians of 3, none / 4 KB
// / 8 KB / 12 KB ahead: Q4_0 34.7 / 30.9 / 34.1 / 28.2 GB/s, Q8_0 25.2 / 29.4 / 30.2 / 32.3, Q5_0 22.9 / 31.1
// / 33.0 / 31.2, Q5_1 24.7 / 29.5 / 32.7 / 35.5).
constexpr size_t kPrefetchBytesOneToken = 8192;

// Activations of one pass of T tokens, interleaved by token (quant.h's act_pass layout) so that one pointer
// per block reaches all of them at constant offsets (eight separate row pointers would not fit in the general
// registers):
//   xq[(b * 8 + i) * T + t]: token t's quants 4i..4i+3 of block b, as one int32
//   d[b * T + t]: its block scale;  bias[b * T + t]: -offset * sum of its block's quants
//   dsum[b * T + t]: d · sum of its block's quants (for the formats with a min)
struct TokenPass {
  const int32_t* xq;
  const float* d;
  const int32_t* bias;
  const float* dsum;
};

// One 16-row group × T tokens over all blocks; writes y[(t0 + t) * ldy + r0 + lane] for the valid lanes.
template <DType F, int T>
void group_tokens(const TokenPass& p, size_t kb, size_t t0, const uint8_t* tiles, float* y, size_t ldy,
                  size_t r0, __mmask16 valid) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  const int32_t* xq = p.xq;
  const float* d = p.d;
  const int32_t* bias = p.bias;
  const float* dsum = p.dsum;
  for (size_t b = 0; b < kb; ++b, xq += 8 * T, d += T, bias += T, dsum += T) {
    const uint8_t* tile = tiles + b * qtile::tile_bytes(F);
    prefetch_ahead<F>(tile);
    __m512i w[8];
    load_tile<F>(tile, w);
    __m512i s[T];
    for (int t = 0; t < T; ++t) s[t] = _mm512_set1_epi32(bias[t]);
    for (int i = 0; i < 8; ++i) {
      for (int t = 0; t < T; ++t) {
        dpbusd_bcast(s[t], w[i], xq + i * T + t);
      }
    }
    const __m512 dw = f16x16(tile + qtile::kScales);
    for (int t = 0; t < T; ++t) {
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(dw, _mm512_set1_ps(d[t])), acc[t]);
    }
    if constexpr (qtile::has_min(F)) {
      const __m512 mw = f16x16(tile + qtile::kMins);
      for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(dsum[t]), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + (t0 + size_t(t)) * ldy + r0, valid, acc[t]);
}

// Block b of one token: the 8 products in two chains, so vpdpbusd's latency does not set the pace.
template <DType F>
__attribute__((always_inline)) inline __m512 one_token_block(const TokenPass& p, const uint8_t* tiles,
                                                             size_t b) {
  const uint8_t* tile = tiles + b * qtile::tile_bytes(F);
  prefetch_l2(tile + kPrefetchBytesOneToken, qtile::tile_bytes(F));
  __m512i w[8];
  load_tile<F>(tile, w);
  const int32_t* xq = p.xq + b * 8;
  __m512i s0 = _mm512_set1_epi32(p.bias[b]), s1 = _mm512_setzero_si512();
  for (int i = 0; i < 4; ++i) {
    dpbusd_bcast(s0, w[i], xq + i);
    dpbusd_bcast(s1, w[i + 4], xq + i + 4);
  }
  const __m512 dw = f16x16(tile + qtile::kScales);
  const __m512 y =
      _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), _mm512_mul_ps(dw, _mm512_set1_ps(p.d[b])));
  if constexpr (qtile::has_min(F))
    return _mm512_fmadd_ps(f16x16(tile + qtile::kMins), _mm512_set1_ps(p.dsum[b]), y);
  return y;
}

// One token (decode): two blocks in flight, each with its own accumulator.
template <DType F>
void group_one_token(const TokenPass& p, size_t kb, size_t t0, const uint8_t* tiles, float* y, size_t ldy,
                     size_t r0, __mmask16 valid) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t b = 0;
  for (; b + 2 <= kb; b += 2) {
    acc0 = _mm512_add_ps(acc0, one_token_block<F>(p, tiles, b));
    acc1 = _mm512_add_ps(acc1, one_token_block<F>(p, tiles, b + 1));
  }
  if (b < kb) acc0 = _mm512_add_ps(acc0, one_token_block<F>(p, tiles, b));
  _mm512_mask_storeu_ps(y + t0 * ldy + r0, valid, _mm512_add_ps(acc0, acc1));
}

template <DType F, int T>
void groups_tokens(const TokenPass& p, size_t kb, size_t t0, const uint8_t* base, size_t rows, size_t g0,
                   size_t g1, float* y, size_t ldy) {
  for (size_t g = g0; g < g1; ++g) {
    const size_t r0 = g * kQRowTile, nr = min_size(kQRowTile, rows - r0);
    const __mmask16 valid = __mmask16((1u << nr) - 1);
    const uint8_t* tiles = base + g * kb * qtile::tile_bytes(F);
    if constexpr (T == 1)
      group_one_token<F>(p, kb, t0, tiles, y, ldy, r0, valid);
    else
      group_tokens<F, T>(p, kb, t0, tiles, y, ldy, r0, valid);
  }
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  constexpr int32_t off = qtile::offset(F);
  static_assert(kActPass == 8, "group_tokens is instantiated for 1..8 tokens");
  const size_t kb = x.kb;
  const uint8_t* base = static_cast<const uint8_t*>(w);
  // Groups are taken in batches whose tiles fit in L2 (~512 KB of Zen 4's 1 MB), and every token passes over
  // a batch before the next one, so each weight byte comes from memory once however many tokens there are.
  const size_t batch = max1((size_t(512) << 10) / (kb * qtile::tile_bytes(F)));
  // The passes' integer start values: -offset * sum per token and block, for one pass at a time; for the
  // formats with a min, d · sum.
  auto* bias = static_cast<int32_t*>(__builtin_alloca(kActPass * kb * sizeof(int32_t)));
  auto* dsum = static_cast<float*>(__builtin_alloca(kActPass * kb * sizeof(float)));
  const size_t passes = act_passes(x.n);
  for (size_t gb = g0; gb < g1; gb += batch) {
    const size_t ge = min_size(g1, gb + batch);
    for (size_t pi = 0; pi < passes; ++pi) {
      size_t t0, nt;
      act_pass(x.n, pi, &t0, &nt);
      const int32_t* psum = x.psum + t0 * kb;
      const float* pd = x.pd + t0 * kb;
      for (size_t i = 0; i < nt * kb; ++i) bias[i] = -off * psum[i];
      if constexpr (qtile::has_min(F))
        for (size_t i = 0; i < nt * kb; ++i) dsum[i] = pd[i] * float(psum[i]);
      const TokenPass p{x.pq + t0 * kb * 8, pd, bias, dsum};
      with_count_up_to_8(nt, [&]<int N>() { groups_tokens<F, N>(p, kb, t0, base, rows, gb, ge, y, ldy); });
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
void avx512_qmatmul_q4_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q4_1>(x, w, rows, g0, g1, y, ldy);
}
void avx512_qmatmul_q5_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q5_0>(x, w, rows, g0, g1, y, ldy);
}
void avx512_qmatmul_q5_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                         size_t ldy) {
  qmatmul<DType::Q5_1>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
