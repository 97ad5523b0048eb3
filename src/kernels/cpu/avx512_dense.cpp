// AVX-512 BF16 dense matmul: y[t, r] = x[t] · w[r] for bf16 weights, with vdpbf16ps (AVX512_BF16), which
// multiplies 32 bf16 pairs and adds them into 16 f32 lanes in one instruction (on Zen 4 one per cycle, twice
// the multiply-adds of an f32 FMA and no widening of the weights).
//
// Why the activations are rounded to bf16: vdpbf16ps takes bf16 in both operands. The weights already are
// bf16, so each product of the rounded values is exact in f32 and the sums accumulate in f32; the one new
// error is the rounding of each activation to bf16 (round to nearest even, relative error at most 2^-9). A
// dot product therefore moves by at most 2^-9 · Σ|x·w| (typically ~2^-9 · sqrt(Σ(x·w)²), the errors having
// random signs), the same size as the rounding the bf16 weights themselves already carry, and what the bf16
// checkpoints see in PyTorch/vLLM, whose activations are bf16 throughout. llama.cpp does the same for bf16
// weights (its vec_dot_type for BF16 is BF16). Tests check both the bound and that with bf16-representable
// activations the result equals the f32 reference (tests/kernels/dense_matmul_test.cpp).
//
// Shape of the work: the activations of a pass of up to 64 tokens are converted once per call (not per
// weight row; per 2048-column chunk when k is longer) into a stack buffer, padded with zeros to 32 columns;
// then register tiles of 4 weight rows × up to 6 tokens (24 f32 accumulators, 4 weight vectors and one
// activation vector of the 32 zmm) walk k 32 columns at a time, so each weight load serves up to 6 tokens and
// each activation load 4 rows. Horizontal sums happen once per row and token at the end of a tile, four rows
// at a time (one transpose-and-add tree whose result is four adjacent outputs). A single token (decode)
// streams 8 rows at once: 8 independent chains in flight and 8 sequential streams, ample to keep up with
// memory (one vdpbf16ps per 64 bytes of weights, far below the instruction's rate). Every tile prefetches
// the next block's rows as it goes (see tile()).
//
// Measured on Zen 4 (8960×1536, bench/kernels_bench): in cache ~100 of the 114 G multiply-adds/s a core can
// issue; streamed from memory over 2 threads, 1 token at 31-41 GB/s, 8 tokens at 190-200 GOP/s, 64 tokens at
// 335-385 GOP/s.
//
// Batch invariance: every (row, token) output is summed in the same order whatever the token count, tile
// or pass: one accumulator chain over k-steps of 32 in order, k split into fixed chunks of kChunk columns
// (independent of n), and the same reduction tree. A sequence's logits are bit-identical alone or batched
// (tests check this); that is also why a single token gets more rows in flight rather than two accumulators
// per row, which would change its summation order relative to the batched path.
#include <immintrin.h>

#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

// Columns per k-chunk (a multiple of 32), fixed so that the summation order never depends on n. Chunking
// lets a pass hold many tokens even for a long k (the down projection's 8960..29568): each chunk's partial
// sums are added into y.
constexpr size_t kChunk = 2048;
// The bf16 activations of one pass live on the stack (worker threads have 8 MB stacks).
constexpr size_t kPassBytes = 192 * 1024;
constexpr size_t kMaxPass = 64;
constexpr size_t kMaxTokensPerTile = 6;

inline size_t round32(size_t v) {
  return (v + 31) & ~size_t(31);
}

// Lane i of the result is the sum of the 16 lanes of input i (a, b, c, d); each input's lanes are added in
// the same tree whatever the other inputs are.
inline __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  // The zero-masked forms of the shuffles: GCC 12's plain ones start from _mm512_undefined_*, which
  // -Wuninitialized flags once inlined here.
  constexpr __mmask16 all16 = 0xffff;
  constexpr __mmask8 all8 = 0xff;
  // Per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3] and the same for c, d.
  const __m512 ab =
      _mm512_add_ps(_mm512_maskz_unpacklo_ps(all16, a, b), _mm512_maskz_unpackhi_ps(all16, a, b));
  const __m512 cd =
      _mm512_add_ps(_mm512_maskz_unpacklo_ps(all16, c, d), _mm512_maskz_unpackhi_ps(all16, c, d));
  // Per 128-bit lane: [a, b, c, d] partial sums.
  const __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
  const __m512 s = _mm512_add_ps(_mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, abd, cdd)),
                                 _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, abd, cdd)));
  const __m256 h =
      _mm256_add_ps(_mm512_maskz_extractf32x8_ps(all8, s, 0), _mm512_maskz_extractf32x8_ps(all8, s, 1));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

inline __m512bh as_bh(__m512i v) {
  return (__m512bh)v;
}

// One chunk of columns [0, len) of R weight rows (w + r * ldw) × T tokens (x + t * ldx, bf16, zero-padded to
// a multiple of 32); writes, or with `add` adds into, y[t * ldy + r]. Asks for the same columns of rows
// [R + pf0, R + pf1) (of the next block) into L2 as it goes: the weights stream from memory, and with many
// multiply-adds per weight line the hardware prefetcher alone left a single core at a third of its bandwidth
// (8 tokens over an 8960×1536 matrix: 8 GB/s). The token groups of a block share out its next block's rows,
// so the requests spread over the whole block's compute.
template <int R, int T>
void tile(const uint16_t* w, size_t ldw, size_t len, const uint16_t* x, size_t ldx, float* y, size_t ldy,
          bool add, int pf0, int pf1) {
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  const size_t full = len & ~size_t(31);
  size_t j = 0;
  for (; j < full; j += 32) {
    for (int r = pf0; r < pf1; ++r)
      _mm_prefetch(reinterpret_cast<const char*>(w + (R + r) * ldw + j), _MM_HINT_T1);
    __m512bh wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = as_bh(_mm512_loadu_si512(w + r * ldw + j));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512bh xv = as_bh(_mm512_load_si512(x + t * ldx + j));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wv[r], xv);
    }
  }
  if (j < len) {
    // Ragged tail: the weights past k are masked to zero (and the activations are zero-padded).
    const __mmask32 m = __mmask32((1u << (len - j)) - 1);
    __m512bh wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = as_bh(_mm512_maskz_loadu_epi16(m, w + r * ldw + j));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512bh xv = as_bh(_mm512_load_si512(x + t * ldx + j));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wv[r], xv);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 2
    for (int r0 = 0; r0 < R; r0 += 4) {
      const __m128 s = reduce4(acc[r0][t], r0 + 1 < R ? acc[r0 + 1][t] : zero,
                               r0 + 2 < R ? acc[r0 + 2][t] : zero, r0 + 3 < R ? acc[r0 + 3][t] : zero);
      const __mmask8 m = __mmask8((1u << (R - r0 < 4 ? R - r0 : 4)) - 1);
      float* out = y + t * ldy + r0;
      _mm_mask_storeu_ps(out, m, add ? _mm_add_ps(_mm_maskz_loadu_ps(m, out), s) : s);
    }
  }
}

using TileFn = void (*)(const uint16_t*, size_t, size_t, const uint16_t*, size_t, float*, size_t, bool, int,
                        int);

// [rows - 1][tokens - 1]
constexpr TileFn kTiles[4][kMaxTokensPerTile] = {
    {tile<1, 1>, tile<1, 2>, tile<1, 3>, tile<1, 4>, tile<1, 5>, tile<1, 6>},
    {tile<2, 1>, tile<2, 2>, tile<2, 3>, tile<2, 4>, tile<2, 5>, tile<2, 6>},
    {tile<3, 1>, tile<3, 2>, tile<3, 3>, tile<3, 4>, tile<3, 5>, tile<3, 6>},
    {tile<4, 1>, tile<4, 2>, tile<4, 3>, tile<4, 4>, tile<4, 5>, tile<4, 6>},
};

// Rows [rb, re) × the np tokens of a pass for one chunk of columns (w and y already offset to the chunk's
// first column and the pass's first token).
void chunk_rows(const uint16_t* w, size_t ldw, size_t len, const uint16_t* x, size_t ldx, size_t np,
                size_t rb, size_t re, float* y, size_t ldy, bool add) {
  size_t r = rb;
  if (np == 1) {
    for (; r + 8 <= re; r += 8) tile<8, 1>(w + r * ldw, ldw, len, x, ldx, y + r, ldy, add, 0, 8);
  }
  // Token groups as even as possible (8 tokens: 4 + 4, not 6 + 2).
  const size_t groups = (np + kMaxTokensPerTile - 1) / kMaxTokensPerTile;
  for (; r < re; r += 4) {
    const size_t rows = min_size(4, re - r);
    for (size_t g = 0; g < groups; ++g) {
      const size_t t0 = np * g / groups, t1 = np * (g + 1) / groups;
      const int pf0 = int(rows * g / groups), pf1 = int(rows * (g + 1) / groups);
      kTiles[rows - 1][t1 - t0 - 1](w + r * ldw, ldw, len, x + t0 * ldx, ldx, y + t0 * ldy + r, ldy, add, pf0,
                                    pf1);
    }
  }
}

// Columns [c0, c0 + len) of np token rows of x (row stride k) rounded to bf16 (nearest even) into out
// (row stride ldx = round32(len), zero-padded).
void to_bf16(const float* x, size_t k, size_t c0, size_t len, size_t np, uint16_t* out, size_t ldx) {
  for (size_t t = 0; t < np; ++t) {
    const float* src = x + t * k + c0;
    uint16_t* dst = out + t * ldx;
    for (size_t j = 0; j < ldx; j += 32) {
      const size_t rem = len - j;  // > 0: ldx < len + 32
      const __mmask16 lo = rem >= 16 ? __mmask16(0xffff) : __mmask16((1u << rem) - 1);
      const __mmask16 hi = rem >= 32   ? __mmask16(0xffff)
                           : rem <= 16 ? __mmask16(0)
                                       : __mmask16((1u << (rem - 16)) - 1);
      const __m512bh v =
          _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, src + j + 16), _mm512_maskz_loadu_ps(lo, src + j));
      _mm512_store_si512(dst + j, (__m512i)v);
    }
  }
}

}  // namespace

void avx512_matmul_rows_bf16(const float* x, size_t n, size_t k, const void* w_bytes, size_t rb, size_t re,
                             float* y, size_t ldy) {
  if (n == 0 || rb >= re) return;
  if (k == 0) {
    for (size_t t = 0; t < n; ++t)
      for (size_t r = rb; r < re; ++r) y[t * ldy + r] = 0;
    return;
  }
  const uint16_t* w = static_cast<const uint16_t*>(w_bytes);
  const size_t chunk = min_size(k, kChunk), ldx_max = round32(chunk);
  const size_t pass_max = min_size(kMaxPass, max1(kPassBytes / (2 * ldx_max)));
  const size_t n_passes = (n + pass_max - 1) / pass_max;
  const size_t pass = (n + n_passes - 1) / n_passes;  // passes of even size: 100 tokens are 50 + 50
  // [pass, ldx_max] bf16
  uint16_t* xb = static_cast<uint16_t*>(__builtin_alloca_with_align(pass * ldx_max * 2, 512));
  for (size_t t0 = 0; t0 < n; t0 += pass) {
    const size_t np = min_size(pass, n - t0);
    for (size_t c0 = 0; c0 < k; c0 += chunk) {
      const size_t len = min_size(chunk, k - c0), ldx = round32(len);
      to_bf16(x + t0 * k, k, c0, len, np, xb, ldx);
      chunk_rows(w + c0, k, len, xb, ldx, np, rb, re, y + t0 * ldy, ldy, c0 > 0);
    }
  }
}

}  // namespace r1::kernels::cpu
