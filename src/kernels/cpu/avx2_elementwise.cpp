// AVX2 element-wise kernels of the decoder's hot path: per-block int8 quantization of activations (before
// every quantized matmul) and SiLU(gate) · up (the MLP), both bound by the scalar reference's lroundf / expf
// calls before.
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

// One full block of 32 values; the same float operations as ref::quantize_act_rows, and vcvtps2dq rounds
// half to even under the default MXCSR mode, as nearbyint does.
inline void quantize_block(const float* v, int8_t* q, float* d, int32_t* sum) {
  __m256 x[4];
  const float amax = load_block_absmax(v, x);
  const __m256 id = _mm256_set1_ps(amax != 0 ? 127.0f / amax : 0.0f);
  __m256i qi[4];
  for (int i = 0; i < 4; ++i) qi[i] = _mm256_cvtps_epi32(_mm256_mul_ps(x[i], id));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), pack_bytes(qi));
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
