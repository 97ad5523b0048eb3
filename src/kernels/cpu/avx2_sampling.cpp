// AVX2 versions of the sampler's vocabulary-wide passes (kernels/sampling.h).
#include <immintrin.h>

#include "kernels/cpu/avx2_math.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/ref/ref_sampling.h"
#include "kernels/sampling.h"

namespace r1::kernels::cpu {

namespace {
// Adds the eight floats of w (as doubles) into two accumulators.
inline void add_wide(__m256 w, __m256d& acc0, __m256d& acc1) {
  acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(w)));
  acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(w, 1)));
}
inline double sum_lanes(__m256d acc0, __m256d acc1) {
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}
}  // namespace

size_t avx2_argmax(const float* x, size_t n) {
  // Pass 1: the maximum (NaN-free lanes: max_ps returns its second operand on NaN, the running maximum).
  size_t i = 0;
  float mx = x[0];
  if (n >= 8) {
    __m256 m0 = _mm256_loadu_ps(x), m1 = m0;
    for (i = 8; i + 16 <= n; i += 16) {
      m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
      m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
    }
    for (; i + 8 <= n; i += 8) m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    mx = hmax(_mm256_max_ps(m0, m1));
  }
  for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  if (mx != mx) return ref::argmax(x, n);  // only NaN: the reference's rule
  // Pass 2: the first index holding it (the row is in L1/L2 after pass 1).
  const __m256 vm = _mm256_set1_ps(mx);
  for (i = 0; i + 8 <= n; i += 8) {
    int bits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), vm, _CMP_EQ_OQ));
    if (bits) return i + size_t(__builtin_ctz(unsigned(bits)));
  }
  for (; i < n; ++i)
    if (x[i] == mx) return i;
  return 0;
}

double avx2_exp_shifted(const float* x, size_t n, float shift, float scale, float* out, double* block_sums) {
  const __m256 vs = _mm256_set1_ps(shift), vk = _mm256_set1_ps(scale);
  return sum_by_block(n, block_sums, [&](size_t b, size_t end) {
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    size_t i = b;
    for (; i + 8 <= end; i += 8) {
      const __m256 e = exp_nonpositive(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs), vk));
      _mm256_storeu_ps(out + i, e);
      add_wide(e, acc0, acc1);
    }
    double sum = sum_lanes(acc0, acc1);
    if (i < end) sum += ref::exp_shifted(x + i, end - i, shift, scale, out + i);
    return sum;
  });
}

size_t avx2_select_range(const float* x, size_t n, float lo, float hi, int32_t* idx, size_t limit) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  size_t m = 0, i = 0;
  for (; i + 8 <= n && m <= limit; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    unsigned bits = unsigned(_mm256_movemask_ps(
        _mm256_and_ps(_mm256_cmp_ps(v, vlo, _CMP_GE_OQ), _mm256_cmp_ps(v, vhi, _CMP_LT_OQ))));
    while (bits) {
      idx[m++] = int32_t(i + size_t(__builtin_ctz(bits)));
      bits &= bits - 1;
    }
  }
  for (; i < n && m <= limit; ++i)
    if (x[i] >= lo && x[i] < hi) idx[m++] = int32_t(i);
  return m;
}

void avx2_mass_ge(const float* l, const float* e, size_t n, const float* thresholds, double* mass,
                  size_t* count) {
  constexpr size_t k = kThresholds;
  __m256d acc[kThresholds][2];
  size_t c[kThresholds] = {};
  for (size_t j = 0; j < k; ++j) acc[j][0] = acc[j][1] = _mm256_setzero_pd();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 lv = _mm256_loadu_ps(l + i), ev = _mm256_loadu_ps(e + i);
    for (size_t j = 0; j < k; ++j) {
      const __m256 hit = _mm256_cmp_ps(lv, _mm256_set1_ps(thresholds[j]), _CMP_GE_OQ);
      const __m256 w = _mm256_and_ps(hit, ev);
      add_wide(w, acc[j][0], acc[j][1]);
      c[j] += size_t(__builtin_popcount(unsigned(_mm256_movemask_ps(hit))));
    }
  }
  for (size_t j = 0; j < k; ++j) {
    mass[j] = sum_lanes(acc[j][0], acc[j][1]);
    count[j] = c[j];
    for (size_t t = i; t < n; ++t)
      if (l[t] >= thresholds[j]) {
        mass[j] += double(e[t]);
        ++count[j];
      }
  }
}

double avx2_keep_weights(const float* l, float* e, size_t n, float l_min, float e_min, double* block_sums) {
  const __m256 vl = _mm256_set1_ps(l_min), ve = _mm256_set1_ps(e_min);
  return sum_by_block(n, block_sums, [&](size_t b, size_t end) {
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    size_t i = b;
    for (; i + 8 <= end; i += 8) {
      const __m256 ev = _mm256_loadu_ps(e + i);
      const __m256 keep = _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(l + i), vl, _CMP_GE_OQ),
                                        _mm256_cmp_ps(ev, ve, _CMP_GE_OQ));
      const __m256 w = _mm256_and_ps(keep, ev);
      _mm256_storeu_ps(e + i, w);
      add_wide(w, acc0, acc1);
    }
    double sum = sum_lanes(acc0, acc1);
    if (i < end) sum += ref::keep_weights(l + i, e + i, end - i, l_min, e_min, nullptr);
    return sum;
  });
}

}  // namespace r1::kernels::cpu
