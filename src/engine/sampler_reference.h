#pragma once
// The sampler's rule (sampler.h) in plain scalar code: full sorts, sequential sums, no state kept between
// calls. The oracle the fast Sampler is tested against; never optimise it.
#include <random>
#include <span>

#include "engine/sampler.h"

namespace r1 {

// One draw under `p` from `rng` (consumed exactly as Sampler consumes its own: one uniform per non-greedy
// draw). `logits` is modified like Sampler::sample modifies it.
int32_t reference_sample(const SamplingParams& p, std::mt19937_64& rng, std::span<float> logits,
                         std::span<const int32_t> prompt, std::span<const int32_t> output,
                         std::span<const uint32_t> allowed = {});

}  // namespace r1
