// AVX-512 versions of the sampler's vocabulary-wide passes (kernels/sampling.h).
#include <immintrin.h>

#include "kernels/ref/ref_sampling.h"
#include "kernels/sampling.h"

namespace r1::kernels::cpu {

namespace {

// ref::exp_nonpositive, sixteen lanes at a time: the same operations in the same order, so the same bits.
inline __m512 exp_nonpositive16(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.0f);
  const __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);  // clears -inf, below -87 (and NaN)
  x = _mm512_max_ps(x, lo);
  const __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(keep, p, _mm512_castsi512_ps(e));
}

// Lanes 8..15 (a shuffle rather than an extract, whose intrinsic reads an undefined register).
inline __m256 upper8(__m512 v) {
  return _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, 0xEE));
}
// Adds the sixteen floats of w (as doubles) into two accumulators.
inline void add_wide(__m512 w, __m512d& acc0, __m512d& acc1) {
  acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(w)));
  acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(upper8(w)));
}
inline double sum_lanes(__m512d acc0, __m512d acc1) {
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, _mm512_add_pd(acc0, acc1));
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

}  // namespace

size_t avx512_argmax(const float* x, size_t n) {
  size_t i = 0;
  float mx = x[0];
  if (n >= 16) {
    __m512 m0 = _mm512_loadu_ps(x), m1 = m0;
    for (i = 16; i + 32 <= n; i += 32) {
      m0 = _mm512_max_ps(_mm512_loadu_ps(x + i), m0);
      m1 = _mm512_max_ps(_mm512_loadu_ps(x + i + 16), m1);
    }
    for (; i + 16 <= n; i += 16) m0 = _mm512_max_ps(_mm512_loadu_ps(x + i), m0);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, _mm512_max_ps(m0, m1));
    for (float v : lanes) mx = v > mx ? v : mx;
  }
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  if (mx != mx) return ref::argmax(x, n);
  const __m512 vm = _mm512_set1_ps(mx);
  for (i = 0; i + 16 <= n; i += 16) {
    unsigned bits = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), vm, _CMP_EQ_OQ);
    if (bits) return i + size_t(__builtin_ctz(bits));
  }
  for (; i < n; ++i)
    if (x[i] == mx) return i;
  return 0;
}

double avx512_exp_shifted(const float* x, size_t n, float shift, float scale, float* out,
                          double* block_sums) {
  const __m512 vs = _mm512_set1_ps(shift), vk = _mm512_set1_ps(scale);
  return sum_by_block(n, block_sums, [&](size_t b, size_t end) {
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    size_t i = b;
    for (; i + 16 <= end; i += 16) {
      const __m512 e = exp_nonpositive16(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vs), vk));
      _mm512_storeu_ps(out + i, e);
      add_wide(e, acc0, acc1);
    }
    if (i < end) {
      const __mmask16 m = __mmask16((1u << (end - i)) - 1);
      const __m512 e = exp_nonpositive16(
          _mm512_mul_ps(_mm512_sub_ps(_mm512_mask_loadu_ps(vs, m, x + i), vs), vk));  // padding lanes: exp(0)
      _mm512_mask_storeu_ps(out + i, m, e);
      const __m512 ez = _mm512_maskz_mov_ps(m, e);
      add_wide(ez, acc0, acc1);
    }
    const double sum = sum_lanes(acc0, acc1);
    return sum;
  });
}

size_t avx512_select_range(const float* x, size_t n, float lo, float hi, int32_t* idx, size_t limit) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  size_t m = 0;
  for (size_t i = 0; i < n && m <= limit; i += 16) {
    const __mmask16 valid = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(valid, x + i);
    const __mmask16 hit =
        _mm512_mask_cmp_ps_mask(_mm512_mask_cmp_ps_mask(valid, v, vlo, _CMP_GE_OQ), v, vhi, _CMP_LT_OQ);
    if (hit) {
      // Compress in a register, then a masked store: vpcompressd straight to memory is microcoded and slow
      // on Zen 4.
      const int k = __builtin_popcount(hit);
      const __m512i ids = _mm512_maskz_compress_epi32(hit, _mm512_add_epi32(lane, _mm512_set1_epi32(int(i))));
      _mm512_mask_storeu_epi32(idx + m, __mmask16((1u << k) - 1), ids);
      m += size_t(k);
    }
  }
  return m;
}

// One threshold's accumulation, unrolled by template so every accumulator stays in a register.
template <size_t J>
inline void mass_step(__m512 lv, __m512d lo, __m512d hi, __mmask16 valid, const __m512 (&t)[kThresholds],
                      __m512d (&acc)[kThresholds][2], size_t (&c)[kThresholds]) {
  if constexpr (J < kThresholds) {
    const __mmask16 hit = _mm512_mask_cmp_ps_mask(valid, lv, t[J], _CMP_GE_OQ);
    acc[J][0] = _mm512_mask_add_pd(acc[J][0], __mmask8(hit), acc[J][0], lo);
    acc[J][1] = _mm512_mask_add_pd(acc[J][1], __mmask8(hit >> 8), acc[J][1], hi);
    c[J] += size_t(__builtin_popcount(hit));
    mass_step<J + 1>(lv, lo, hi, valid, t, acc, c);
  }
}

void avx512_mass_ge(const float* l, const float* e, size_t n, const float* thresholds, double* mass,
                    size_t* count) {
  __m512d acc[kThresholds][2];
  __m512 t[kThresholds];
  size_t c[kThresholds] = {};
  for (size_t j = 0; j < kThresholds; ++j) {
    acc[j][0] = acc[j][1] = _mm512_setzero_pd();
    t[j] = _mm512_set1_ps(thresholds[j]);
  }
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 lv = _mm512_loadu_ps(l + i), ev = _mm512_loadu_ps(e + i);
    mass_step<0>(lv, _mm512_cvtps_pd(_mm512_castps512_ps256(ev)), _mm512_cvtps_pd(upper8(ev)), 0xffff, t, acc,
                 c);
  }
  if (i < n) {
    const __mmask16 valid = __mmask16((1u << (n - i)) - 1);
    const __m512 lv = _mm512_maskz_loadu_ps(valid, l + i), ev = _mm512_maskz_loadu_ps(valid, e + i);
    mass_step<0>(lv, _mm512_cvtps_pd(_mm512_castps512_ps256(ev)), _mm512_cvtps_pd(upper8(ev)), valid, t, acc,
                 c);
  }
  for (size_t j = 0; j < kThresholds; ++j) {
    mass[j] = sum_lanes(acc[j][0], acc[j][1]);
    count[j] = c[j];
  }
}

double avx512_keep_weights(const float* l, float* e, size_t n, float l_min, float e_min, double* block_sums) {
  const __m512 vl = _mm512_set1_ps(l_min), ve = _mm512_set1_ps(e_min);
  return sum_by_block(n, block_sums, [&](size_t b, size_t end) {
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    for (size_t i = b; i < end; i += 16) {
      const __mmask16 valid = end - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (end - i)) - 1);
      const __m512 ev = _mm512_maskz_loadu_ps(valid, e + i);
      __mmask16 keep = _mm512_mask_cmp_ps_mask(valid, _mm512_maskz_loadu_ps(valid, l + i), vl, _CMP_GE_OQ);
      keep = _mm512_mask_cmp_ps_mask(keep, ev, ve, _CMP_GE_OQ);
      const __m512 w = _mm512_maskz_mov_ps(keep, ev);
      _mm512_mask_storeu_ps(e + i, valid, w);
      add_wide(w, acc0, acc1);
    }
    const double sum = sum_lanes(acc0, acc1);
    return sum;
  });
}

}  // namespace r1::kernels::cpu
