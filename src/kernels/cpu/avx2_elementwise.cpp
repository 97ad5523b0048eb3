// AVX2 element-wise kernels of the decoder's hot path: per-block int8 quantization of activations (before
// every quantized matmul) and SiLU(gate) · up (the MLP), both bound by the scalar reference's lroundf / expf
// calls before.
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// One full block of 32 values; the same float operations as ref::quantize_act_rows, and vcvtps2dq rounds
// half to even under the default MXCSR mode, as nearbyint does.
inline void quantize_block(const float* v, int8_t* q, float* d, int32_t* sum) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 x[4];
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < 4; ++i) {
    x[i] = _mm256_loadu_ps(v + 8 * i);
    m = _mm256_max_ps(m, _mm256_and_ps(x[i], abs_mask));
  }
  const float amax = hmax(m);
  const __m256 id = _mm256_set1_ps(amax != 0 ? 127.0f / amax : 0.0f);
  __m256i qi[4];
  for (int i = 0; i < 4; ++i) qi[i] = _mm256_cvtps_epi32(_mm256_mul_ps(x[i], id));
  // packs interleave the 128-bit lanes: 0 1 4 5 2 3 6 7 (in groups of 4 bytes) -> put them back in order.
  const __m256i p16a = _mm256_packs_epi32(qi[0], qi[1]), p16b = _mm256_packs_epi32(qi[2], qi[3]);
  const __m256i p8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(p16a, p16b),
                                                 _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), p8);
  *d = amax / 127.0f;
  *sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(qi[0], qi[1]), _mm256_add_epi32(qi[2], qi[3])));
}

}  // namespace

void avx2_quantize_act_rows(const float* x, size_t n, size_t k, size_t kb, int8_t* qs, float* d,
                            int32_t* sum) {
  const size_t full = k / kQBlock, kp = kb * kQBlock;
  for (size_t t = 0; t < n; ++t) {
    for (size_t b = 0; b < full; ++b)
      quantize_block(x + t * k + b * kQBlock, qs + t * kp + b * kQBlock, d + t * kb + b, sum + t * kb + b);
    if (full < kb) {  // a ragged last block (k not a multiple of 32): the reference's scalar code
      ref::quantize_act_rows(x + t * k + full * kQBlock, 1, k - full * kQBlock, 1, qs + t * kp + full * kQBlock,
                             d + t * kb + full, sum + t * kb + full);
    }
  }
}

void avx2_silu_mul(const float* gate, const float* up, float* out, size_t n) {
  const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    // σ(g) = 1 / (1 + e^-g) for g >= 0 and e^g / (1 + e^g) for g < 0: the exponent is always -|g|.
    const __m256 e = exp_nonpositive(_mm256_or_ps(g, sign));
    const __m256 neg = _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 sig = _mm256_div_ps(_mm256_blendv_ps(one, e, neg), _mm256_add_ps(one, e));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_loadu_ps(up + i)));
  }
  if (i < n) ref::silu_mul(gate + i, up + i, out + i, n - i);
}

}  // namespace r1::kernels::cpu
