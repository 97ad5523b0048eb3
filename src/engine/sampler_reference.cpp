#include "engine/sampler_reference.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include "kernels/ref/ref_sampling.h"

namespace r1 {

int32_t reference_sample(const SamplingParams& p, std::mt19937_64& rng, std::span<float> logits,
                         std::span<const int32_t> prompt, std::span<const int32_t> output,
                         std::span<const uint32_t> allowed) {
  const size_t vocab = logits.size();
  auto in_vocab = [&](int32_t id) { return id >= 0 && size_t(id) < vocab; };
  for (auto [id, bias] : p.logit_bias)
    if (in_vocab(id)) logits[size_t(id)] += bias;
  if (!allowed.empty())
    for (size_t id = 0; id < vocab; ++id)
      if (!(allowed[id / 32] >> (id % 32) & 1u)) logits[id] = -INFINITY;
  if (p.repetition_penalty != 1.0) {
    std::vector<bool> seen(vocab, false);
    for (auto ids : {prompt, output})
      for (int32_t id : ids)
        if (in_vocab(id) && !seen[size_t(id)]) {
          seen[size_t(id)] = true;
          float& l = logits[size_t(id)];
          l = l > 0 ? float(l / p.repetition_penalty) : float(l * p.repetition_penalty);
        }
  }
  if (p.presence_penalty != 0 || p.frequency_penalty != 0) {
    std::map<int32_t, int> counts;
    for (int32_t id : output) ++counts[id];
    for (auto [id, n] : counts)
      if (in_vocab(id)) logits[size_t(id)] -= float(p.presence_penalty + p.frequency_penalty * n);
  }
  const int32_t best = int32_t(kernels::ref::argmax(logits.data(), vocab));
  if (p.temperature == 0) return best;
  const float mx = logits[size_t(best)];
  if (!(mx > -INFINITY && mx < INFINITY)) return best;  // nothing to weigh, or one token outweighs all

  // Rank order; NaN ranks last.
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  auto key = [&](int32_t id) { return std::isnan(logits[size_t(id)]) ? -INFINITY : logits[size_t(id)]; };
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return key(a) > key(b); });
  size_t n = vocab;
  for (size_t i = 0; i < vocab; ++i)
    if (std::isnan(logits[size_t(order[i])])) {
      n = i;
      break;
    }
  if (p.top_k > 0) n = std::min(n, size_t(p.top_k));

  const float s = inverse_temperature(p.temperature);
  std::vector<float> e(vocab, 0.0f);
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = order[i];
    const float d = logits[size_t(id)] - mx;
    const float scaled = d * s;
    e[size_t(id)] = kernels::ref::exp_nonpositive(scaled);
  }
  size_t keep = n;
  if (p.top_p < 1.0) {
    double z = 0;
    for (size_t i = 0; i < vocab; ++i) z += double(e[i]);
    double c = 0;
    for (size_t i = 0; i < n; ++i) {
      c += double(e[size_t(order[i])]);
      if (c >= p.top_p * z) {
        keep = i + 1;
        break;
      }
    }
  }
  std::vector<int32_t> kept;
  for (size_t i = 0; i < keep; ++i)
    if (p.min_p <= 0 || double(e[size_t(order[i])]) >= p.min_p) kept.push_back(order[i]);
  std::sort(kept.begin(), kept.end());
  double mass = 0;
  for (int32_t id : kept) mass += double(e[size_t(id)]);
  double r = std::uniform_real_distribution<double>(0.0, mass)(rng);
  for (int32_t id : kept) {
    r -= double(e[size_t(id)]);
    if (r < 0) return id;
  }
  return kept.back();
}

}  // namespace r1
