// AVX2 quantizers of weights into GGUF's Q8_0 / Q4_0 blocks, bit-identical to ref::quantize_q8_0 /
// ref::quantize_q4_0 (the scalar versions spend most of a model load in lroundf / floorf).
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"

namespace r1::kernels::cpu {

namespace {

// Keeps a product a separately rounded float, so the compiler cannot fuse it with the following add into an
// FMA (the reference rounds twice).
inline __m256 rounded(__m256 v) {
  asm("" : "+x"(v));
  return v;
}

// lround: nearest, halves away from zero. t = trunc(p) and p - t are exact, so the tie test is exact too.
inline __m256i round_half_away(__m256 p) {
  const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 frac = _mm256_and_ps(_mm256_sub_ps(p, t), abs_mask);
  const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_andnot_ps(abs_mask, p));  // ±1 as p's sign
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, step)));
}

}  // namespace

void avx2_quantize_q8_0(const float* x, size_t n_blocks, void* out) {
  auto* blocks = static_cast<uint8_t*>(out);
  for (size_t b = 0; b < n_blocks; ++b) {
    __m256 xv[4];
    const float d = load_block_absmax(x + b * 32, xv) / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int i = 0; i < 4; ++i) q[i] = round_half_away(rounded(_mm256_mul_ps(xv[i], vid)));
    uint8_t* blk = blocks + b * 34;
    const uint16_t dh = f32_to_f16(d);
    __builtin_memcpy(blk, &dh, 2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(blk + 2), pack_bytes(q));
  }
}

void avx2_quantize_q4_0(const float* x, size_t n_blocks, void* out) {
  auto* blocks = static_cast<uint8_t*>(out);
  for (size_t b = 0; b < n_blocks; ++b) {
    const float* v = x + b * 32;
    __m256 xv[4];
    // The reference keeps the first value of largest magnitude, with its sign.
    const float amax = load_block_absmax(v, xv);
    float mv = 0;
    for (int j = 0; j < 32; ++j)
      if (__builtin_fabsf(v[j]) == amax) {
        mv = v[j];
        break;
      }
    const float d = mv / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id), half8 = _mm256_set1_ps(8.5f);
    __m256i q[4];
    for (int i = 0; i < 4; ++i) {
      const __m256 f = _mm256_floor_ps(_mm256_add_ps(rounded(_mm256_mul_ps(xv[i], vid)), half8));
      const __m256i qi = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(f, _mm256_setzero_ps()), _mm256_set1_ps(15.0f)));
      q[i] = qi;
    }
    const __m256i bytes = pack_bytes(q);  // q[0..31], each 0..15
    const __m128i lo = _mm256_castsi256_si128(bytes), hi = _mm256_extracti128_si256(bytes, 1);
    uint8_t* blk = blocks + b * 18;
    const uint16_t dh = f32_to_f16(d);
    __builtin_memcpy(blk, &dh, 2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(blk + 2), _mm_or_si128(lo, _mm_slli_epi16(hi, 4)));
  }
}

}  // namespace r1::kernels::cpu
