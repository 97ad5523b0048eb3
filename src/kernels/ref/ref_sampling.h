#pragma once
// Scalar references of the sampler's vocabulary-wide passes (kernels/sampling.h). Never optimise these.
#include <cstddef>
#include <cstdint>

namespace r1::kernels::ref {

// exp(x) for x <= 0: x = n·ln2 + r (Cody-Waite, |r| <= ln2/2), e^r by a degree-6 polynomial, 2^n from the
// exponent bits; below -87 gives 0. Within ~2 ulp of expf, and the exact operation sequence (fused
// multiply-adds included) of the AVX2 and AVX-512 versions, so all three give the same bits.
float exp_nonpositive(float x);

size_t argmax(const float* x, size_t n);
double exp_shifted(const float* x, size_t n, float shift, float scale, float* out, double* block_sums = nullptr);
size_t select_range(const float* x, size_t n, float lo, float hi, int32_t* idx, size_t limit);
void mass_ge(const float* l, const float* e, size_t n, const float* thresholds, double* mass, size_t* count);
double keep_weights(const float* l, float* e, size_t n, float l_min, float e_min, double* block_sums);

}  // namespace r1::kernels::ref
