// AVX2 kernels for the packed 32-column tiles (quant.h: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1). A 256-bit register
// holds half a tile chunk: 8 rows × 4 columns, and a broadcast of 4 activation bytes multiplies all of it, so
// the 8 lanes are 8 output rows and no horizontal sums are needed.
//
// The weight side of each chunk is prepared once and used for T tokens (the GEMM of prefill and batched
// decode is bound by vector instructions, not memory, so the per-token work is what counts):
// - Q8_0: vpmaddubsw saturates at 16 bits, so the stored unsigned quant (q + 128) is made signed again and
//   the sign trick is used, |w| × sign(x, w) (both at most 127): per token and chunk, vpsignb + vpmaddubsw +
//   vpmaddwd + vpaddd.
// - Q4_0: nibbles (0..15) go into vpmaddubsw directly; each 16-bit lane is at most 2 × 15 × 127, so all 8
//   chunks of a block add in 16 bits before one widening vpmaddwd, and the offset 8 is removed through the
//   block's activation sum. Per token and chunk: vpmaddubsw + vpaddw. Q4_1 likewise, its min added in float
//   as m · (d_x · sum).
// - Q5_0, Q5_1: the fifth bits are merged into the nibbles (avx2_tiles.h); a 16-bit lane then holds at most
//   4 products of 2 × 31 × 127, so the sums widen after every second chunk.
#include <immintrin.h>

#include "kernels/cpu/avx2_tiles.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/prefetch.h"

namespace r1::kernels::cpu {

namespace {

// One token (decode) asks for the lines 8 KB ahead into L2 (prefetch.h), as the AVX-512 kernel does
// (R1_ISA=avx2 kernels_bench *_Streamed_2Threads/1 on Zen 4, medians of 3, two rounds, GB/s without → with:
// Q4_0 18.0 / 18.5 → 27.7 / 26.0, Q8_0 19.9 / 19.0 → 21.8 / 24.0, Q5_0 18.6 / 20.1 → 23.9 / 26.5).
constexpr size_t kPrefetchBytesOneToken = 8192;

// 8 rows (half `half` of each tile of one 16-row group) × tokens t0..t0+T-1, over all blocks. Writes
// y[(t0 + t) * ldy + r0 + i] for i < n_valid.
template <int T>
void q8_half_tokens(const QActsView& x, size_t t0, const uint8_t* tiles, size_t half, float* y, size_t ldy,
                    size_t r0, size_t n_valid) {
  const size_t kb = x.kb, kp = kb * kQBlock;
  const __m256i flip = _mm256_set1_epi8(char(0x80)), ones = _mm256_set1_epi16(1);
  const int8_t* xq[T];
  for (int t = 0; t < T; ++t) xq[t] = x.qs + (t0 + size_t(t)) * kp;
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < kb; ++b) {
    const uint8_t* tile = tiles + b * qtile::tile_bytes(DType::Q8_0);
    if constexpr (T == 1) prefetch_l2(tile + kPrefetchBytesOneToken, qtile::tile_bytes(DType::Q8_0));
    __m256i s[T];
    for (int t = 0; t < T; ++t) s[t] = _mm256_setzero_si256();
    for (int i = 0; i < 8; ++i) {
      const __m256i w = _mm256_xor_si256(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 + 64 * i + 32 * half)), flip);
      const __m256i wa = _mm256_abs_epi8(w);
      for (int t = 0; t < T; ++t) {
        const __m256i xs = _mm256_sign_epi8(bcast4(xq[t] + b * kQBlock + 4 * i), w);
        s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(_mm256_maddubs_epi16(wa, xs), ones));
        pin(s[t]);
      }
    }
    const __m256 dw = f16x8(tile + 16 * half);
    for (int t = 0; t < T; ++t) {
      const float dx = x.d[(t0 + size_t(t)) * kb + b];
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(dw, _mm256_set1_ps(dx)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + (t0 + size_t(t)) * ldy + r0, acc[t], n_valid);
}

// The nibble formats: as q8_half_tokens.
template <DType F, int T>
void nibble_half_tokens(const QActsView& x, size_t t0, const uint8_t* tiles, size_t half, float* y,
                        size_t ldy, size_t r0, size_t n_valid) {
  constexpr size_t tb = qtile::tile_bytes(F);
  constexpr bool kWidenPairs = high_bits(F) == 1;  // 5-bit quants: widen every second chunk (above)
  const size_t kb = x.kb, kp = kb * kQBlock;
  const __m256i ones = _mm256_set1_epi16(1);
  const int8_t* xq[T];
  for (int t = 0; t < T; ++t) xq[t] = x.qs + (t0 + size_t(t)) * kp;
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < kb; ++b) {
    const uint8_t* tile = tiles + b * tb;
    if constexpr (T == 1) prefetch_l2(tile + kPrefetchBytesOneToken, tb);
    __m256i s16[T], s32[T];
    for (int t = 0; t < T; ++t) s16[t] = s32[t] = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      __m256i wl, wh;
      load_nibble_chunk<high_bits(F)>(tile + qtile::quants(F), half, p, &wl, &wh);
      for (int t = 0; t < T; ++t) {
        const int8_t* xb = xq[t] + b * kQBlock;
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(wl, bcast4(xb + 4 * p)));
        s16[t] = _mm256_add_epi16(s16[t], _mm256_maddubs_epi16(wh, bcast4(xb + 16 + 4 * p)));
        pin(s16[t]);
      }
      if (kWidenPairs && p % 2 == 1) {
        for (int t = 0; t < T; ++t) {
          s32[t] = _mm256_add_epi32(s32[t], _mm256_madd_epi16(s16[t], ones));
          s16[t] = _mm256_setzero_si256();
        }
      }
    }
    const __m256 dw = f16x8(tile + qtile::kScales + 16 * half);
    for (int t = 0; t < T; ++t) {
      const size_t xb = (t0 + size_t(t)) * kb + b;
      __m256i s = kWidenPairs ? s32[t] : _mm256_madd_epi16(s16[t], ones);
      if constexpr (qtile::offset(F) != 0)
        s = _mm256_sub_epi32(s, _mm256_set1_epi32(qtile::offset(F) * x.sum[xb]));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(dw, _mm256_set1_ps(x.d[xb])), acc[t]);
    }
    if constexpr (qtile::has_min(F)) {
      const __m256 mw = f16x8(tile + qtile::kMins + 16 * half);
      for (int t = 0; t < T; ++t) {
        const size_t xb = (t0 + size_t(t)) * kb + b;
        acc[t] = _mm256_fmadd_ps(mw, _mm256_set1_ps(x.d[xb] * float(x.sum[xb])), acc[t]);
      }
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + (t0 + size_t(t)) * ldy + r0, acc[t], n_valid);
}

template <DType F, int T>
inline void half_tokens(const QActsView& x, size_t t0, const uint8_t* tiles, size_t half, float* y,
                        size_t ldy, size_t r0, size_t n_valid) {
  if constexpr (F == DType::Q8_0)
    q8_half_tokens<T>(x, t0, tiles, half, y, ldy, r0, n_valid);
  else
    nibble_half_tokens<F, T>(x, t0, tiles, half, y, ldy, r0, n_valid);
}

template <DType F>
void qmatmul(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y, size_t ldy) {
  constexpr size_t tb = qtile::tile_bytes(F);
  // Tokens per pass over a half tile. Eight passes share each weight preparation widely and, for a decode
  // batch of 8, read the weights once; Q4_0's 8-token pass spills accumulators, which costs more than it
  // saves once a prefill has many passes anyway (kernels_bench Streamed: Q8 n=8 1250 -> 1100 us, Q4 n=8 796
  // -> 770, Q4 n=64 5100 -> 5700 with 8, so Q4 keeps 6 there). The 5-bit formats keep a 32-bit sum per token
  // beside the 16-bit one, so 4 tokens fill the registers.
  constexpr size_t kMaxT = high_bits(F) == 1 ? 4 : 8;
  const size_t T = high_bits(F) == 1 ? 4 : F == DType::Q8_0 || x.n <= 8 ? 8 : 6;
  const size_t group_bytes = x.kb * tb;
  // Groups are taken in batches whose tiles fit in L2, and every token passes over a batch before the next
  // batch is read from memory.
  const size_t batch = max1((size_t(256) << 10) / group_bytes);
  for (size_t gb = g0; gb < g1; gb += batch) {
    const size_t ge = min_size(g1, gb + batch);
    // Tokens in ceil(n / T) passes of near-equal size (8 = 4 + 4, not 6 + 2): the weight preparation is
    // shared by the tokens of a pass, so a short last pass would pay it for little work.
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
            if constexpr (N <= kMaxT) half_tokens<F, N>(x, t0, tiles, half, y, ldy, r0, nv);
          });
        }
      }
      t0 += nt;
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
void avx2_qmatmul_q4_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q4_1>(x, w, rows, g0, g1, y, ldy);
}
void avx2_qmatmul_q5_0(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q5_0>(x, w, rows, g0, g1, y, ldy);
}
void avx2_qmatmul_q5_1(const QActsView& x, const void* w, size_t rows, size_t g0, size_t g1, float* y,
                       size_t ldy) {
  qmatmul<DType::Q5_1>(x, w, rows, g0, g1, y, ldy);
}

}  // namespace r1::kernels::cpu
