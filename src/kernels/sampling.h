#pragma once
// The vocabulary-wide passes of the sampler (src/engine/sampler.h), picked once for this CPU like the
// kernel table (isa.h): the sampler itself is selection logic over small candidate sets, and only these
// passes touch every one of the ~150k logits per step.
//
// Every table computes exactly the same floats: exp_shifted's per-element values are bit-identical across
// ISAs (one polynomial, the same fused multiply-adds; ref::exp_nonpositive is the scalar spelling), so a
// seeded sampler draws the same tokens on every CPU. Sums are accumulated in double, whose lane order
// differs between ISAs only in the last bits.
#include <cstddef>
#include <cstdint>

#include "kernels/isa.h"

namespace r1::kernels {

inline constexpr size_t kExpBlock = 1024;
inline constexpr size_t kThresholds = 8;

struct SamplingKernels {
  Isa isa;
  // Index of the largest x[i] (the lowest such index on ties), i < n; n >= 1. NaN never wins.
  size_t (*argmax)(const float* x, size_t n);
  // out[i] = exp((x[i] - shift) * scale), computed as ref::exp_nonpositive. Requires (x[i] - shift) * scale
  // <= 0 (shift = the maximum, scale > 0); -inf gives 0. Returns the sum of out[0..n) in double; when
  // block_sums is not null it also receives the sum of each block of kExpBlock elements ([ceil(n /
  // kExpBlock)], the last one ragged), so a draw can find its block without another pass.
  double (*exp_shifted)(const float* x, size_t n, float shift, float scale, float* out, double* block_sums);
  // Writes the indices i < n with lo <= x[i] < hi to idx in increasing order and returns how many; stops
  // once more than `limit` match, returning a count above `limit` (idx holds limit + 16).
  size_t (*select_range)(const float* x, size_t n, float lo, float hi, int32_t* idx, size_t limit);
  // The weight of the tokens at or above each of kThresholds logits, in one pass: mass[j] = Σ e[i] over
  // l[i] >= thresholds[j] (in double), count[j] = how many (pad unused thresholds with +inf).
  void (*mass_ge)(const float* l, const float* e, size_t n, const float* thresholds, double* mass,
                  size_t* count);
  // Weighs 0 every token with l[i] < l_min or e[i] < e_min (e in place); block_sums as exp_shifted's; returns
  // the new total.
  double (*keep_weights)(const float* l, float* e, size_t n, float l_min, float e_min, double* block_sums);
};

// Runs block(begin, end) -> double over [0, n) in blocks of kExpBlock, stores each result in block_sums (when
// not null) and returns their sum in block order: the block bookkeeping of exp_shifted and keep_weights in
// every table.
template <class Block>
inline double sum_by_block(size_t n, double* block_sums, Block&& block) {
  double total = 0;
  for (size_t b = 0; b < n; b += kExpBlock) {
    const double sum = block(b, n < b + kExpBlock ? n : b + kExpBlock);
    if (block_sums) block_sums[b / kExpBlock] = sum;
    total += sum;
  }
  return total;
}

// The table for an ISA, or nullptr if this CPU cannot run it.
const SamplingKernels* sampling_kernels_for(Isa isa);
// The table of the ISA active_kernels() picked (so R1_ISA caps both).
const SamplingKernels& active_sampling_kernels();

namespace cpu {
size_t avx2_argmax(const float* x, size_t n);
double avx2_exp_shifted(const float* x, size_t n, float shift, float scale, float* out, double* block_sums);
size_t avx2_select_range(const float* x, size_t n, float lo, float hi, int32_t* idx, size_t limit);
void avx2_mass_ge(const float* l, const float* e, size_t n, const float* thresholds, double* mass,
                  size_t* count);
double avx2_keep_weights(const float* l, float* e, size_t n, float l_min, float e_min, double* block_sums);
size_t avx512_argmax(const float* x, size_t n);
double avx512_exp_shifted(const float* x, size_t n, float shift, float scale, float* out, double* block_sums);
size_t avx512_select_range(const float* x, size_t n, float lo, float hi, int32_t* idx, size_t limit);
void avx512_mass_ge(const float* l, const float* e, size_t n, const float* thresholds, double* mass,
                    size_t* count);
double avx512_keep_weights(const float* l, float* e, size_t n, float l_min, float e_min, double* block_sums);
}  // namespace cpu

}  // namespace r1::kernels
