#include "kernels/ref/ref_sampling.h"

#include <bit>
#include <cmath>

#include "kernels/sampling.h"

namespace r1::kernels::ref {

float exp_nonpositive(float x) {
  if (!(x >= -87.0f)) return 0.0f;  // also -inf and NaN
  const float n = std::nearbyint(x * 1.44269504088896341f);
  float r = std::fma(-n, 0.693359375f, x);
  r = std::fma(-n, -2.12194440e-4f, r);
  float p = 1.0f / 720;
  p = std::fma(p, r, 1.0f / 120);
  p = std::fma(p, r, 1.0f / 24);
  p = std::fma(p, r, 1.0f / 6);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  const float scale = std::bit_cast<float>(uint32_t(int32_t(n) + 127) << 23);
  return p * scale;
}

size_t argmax(const float* x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (x[i] > x[best] || (std::isnan(x[best]) && !std::isnan(x[i]))) best = i;
  return best;
}

double exp_shifted(const float* x, size_t n, float shift, float scale, float* out, double* block_sums) {
  return sum_by_block(n, block_sums, [&](size_t b, size_t end) {
    double sum = 0;
    for (size_t i = b; i < end; ++i) {
      const float d = x[i] - shift;  // separate statements: no contraction into one fused operation
      const float s = d * scale;
      out[i] = exp_nonpositive(s);
      sum += double(out[i]);
    }
    return sum;
  });
}

size_t select_range(const float* x, size_t n, float lo, float hi, int32_t* idx, size_t limit) {
  size_t m = 0;
  for (size_t i = 0; i < n && m <= limit; ++i)
    if (x[i] >= lo && x[i] < hi) idx[m++] = int32_t(i);
  return m;
}

void mass_ge(const float* l, const float* e, size_t n, const float* thresholds, double* mass, size_t* count) {
  for (size_t j = 0; j < kThresholds; ++j) {
    mass[j] = 0;
    count[j] = 0;
    for (size_t i = 0; i < n; ++i)
      if (l[i] >= thresholds[j]) {
        mass[j] += double(e[i]);
        ++count[j];
      }
  }
}

double keep_weights(const float* l, float* e, size_t n, float l_min, float e_min, double* block_sums) {
  return sum_by_block(n, block_sums, [&](size_t b, size_t end) {
    double sum = 0;
    for (size_t i = b; i < end; ++i) {
      if (!(l[i] >= l_min && e[i] >= e_min)) e[i] = 0.0f;
      sum += double(e[i]);
    }
    return sum;
  });
}

}  // namespace r1::kernels::ref
