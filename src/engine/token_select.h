#pragma once
// Selection over a row of logits without sorting the vocabulary: the k best tokens, and the cut of the
// top-p nucleus. "Rank" is the sampler's order: larger logit first, lower id first among equal logits.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/sampling.h"

namespace r1 {

// True when token a ranks before token b.
inline bool ranks_before(std::span<const float> l, int32_t a, int32_t b) {
  const float la = l[size_t(a)], lb = l[size_t(b)];
  return la != lb ? la > lb : a < b;
}

// The min(k, number of non-NaN logits) best ids by rank, in rank order. One pass over the row with a
// vectorised compare against a rising threshold; only the few survivors are sorted. `scratch` is reused.
void top_k_by_rank(const kernels::SamplingKernels& kern, std::span<const float> l, size_t k,
                   std::vector<int32_t>& out, std::vector<int32_t>& scratch);

// The top-p cut over the whole row, given e[i] = exp((l[i] - max) · scale) for every token and z = Σ e: the
// shortest rank prefix whose mass reaches p·z (0 < p < 1).
struct NucleusCut {
  int32_t last = 0;  // its last token in rank order
  size_t kept = 0;   // its length
  // Tokens with last's logit but a higher id (so ranked after it): l >= l[last] holds the prefix and these.
  std::vector<int32_t> tied_after;
};
// Only tokens close enough to the maximum to matter are looked at: a superset found by one vectorised
// compare; when that is large (a flat row), bisection on the logit with one vectorised mass pass per step
// narrows it to a few thousand tokens, which alone are sorted.
NucleusCut nucleus_cut(const kernels::SamplingKernels& kern, std::span<const float> l,
                       std::span<const float> e, double z, double p, float max_logit, float scale,
                       std::vector<int32_t>& scratch);

}  // namespace r1
