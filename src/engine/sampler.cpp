#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/error.h"

namespace r1 {

void SamplingParams::validate(size_t vocab) const {
  if (!(temperature >= 0) || !std::isfinite(temperature)) fail("temperature must be >= 0, got {}", temperature);
  if (!(top_p > 0 && top_p <= 1)) fail("top_p must be in (0, 1], got {}", top_p);
  if (!(min_p >= 0 && min_p <= 1)) fail("min_p must be in [0, 1], got {}", min_p);
  if (!(repetition_penalty > 0) || !std::isfinite(repetition_penalty))
    fail("repetition_penalty must be > 0, got {}", repetition_penalty);
  if (!(presence_penalty >= -2 && presence_penalty <= 2))
    fail("presence_penalty must be in [-2, 2], got {}", presence_penalty);
  if (!(frequency_penalty >= -2 && frequency_penalty <= 2))
    fail("frequency_penalty must be in [-2, 2], got {}", frequency_penalty);
  for (auto [id, bias] : logit_bias) {
    if (!std::isfinite(bias) || bias < -100 || bias > 100)
      fail("logit_bias for token {} must be in [-100, 100], got {}", id, bias);
    if (id < 0 || (vocab > 0 && size_t(id) >= vocab))
      fail("logit_bias token id {} is outside the vocabulary [0, {})", id, vocab);
  }
}

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed ? *p.seed : std::random_device{}()) {}

int32_t Sampler::argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[size_t(best)]) best = int32_t(i);
  return best;
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> prompt, std::span<const int32_t> output) {
  const size_t vocab = logits.size();
  for (auto [id, bias] : p_.logit_bias)
    if (id >= 0 && size_t(id) < vocab) logits[size_t(id)] += bias;
  if (p_.repetition_penalty != 1.0) {
    auto penalise = [&](int32_t id) {
      if (id < 0 || size_t(id) >= vocab) return;
      float& l = logits[size_t(id)];
      l = l > 0 ? float(l / p_.repetition_penalty) : float(l * p_.repetition_penalty);
    };
    std::vector<bool> seen(vocab, false);
    for (auto ids : {prompt, output})
      for (int32_t id : ids)
        if (id >= 0 && size_t(id) < vocab && !seen[size_t(id)]) {
          seen[size_t(id)] = true;
          penalise(id);
        }
  }
  if (p_.presence_penalty != 0 || p_.frequency_penalty != 0) {
    std::unordered_map<int32_t, int> counts;
    for (int32_t id : output) ++counts[id];
    for (auto [id, n] : counts)
      if (id >= 0 && size_t(id) < vocab)
        logits[size_t(id)] -= float(p_.presence_penalty + p_.frequency_penalty * n);
  }
  if (p_.temperature == 0) return argmax(logits);

  candidates_.clear();
  candidates_.reserve(vocab);
  for (size_t i = 0; i < vocab; ++i) candidates_.emplace_back(float(logits[i] / p_.temperature), int32_t(i));
  auto by_logit = [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; };
  size_t keep = vocab;
  if (p_.top_k > 0 && size_t(p_.top_k) < vocab) {
    keep = size_t(p_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + long(keep), candidates_.end(), by_logit);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit);
  }
  candidates_.resize(keep);
  // Softmax over the survivors (sorted, so candidates_[0] holds the maximum).
  const float mx = candidates_[0].first;
  double sum = 0;
  std::vector<double> probs(keep);
  for (size_t i = 0; i < keep; ++i) sum += probs[i] = std::exp(double(candidates_[i].first - mx));
  for (double& pr : probs) pr /= sum;
  // top-p: the smallest prefix whose mass reaches top_p (always at least one token).
  if (p_.top_p < 1.0) {
    double cum = 0;
    size_t k = 0;
    while (k < keep) {
      cum += probs[k++];
      if (cum >= p_.top_p) break;
    }
    keep = k;
  }
  // min-p: drop tokens less likely than min_p times the most likely one.
  if (p_.min_p > 0) {
    double floor_p = p_.min_p * probs[0];
    size_t k = 1;
    while (k < keep && probs[k] >= floor_p) ++k;
    keep = k;
  }
  double mass = 0;
  for (size_t i = 0; i < keep; ++i) mass += probs[i];
  double r = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    r -= probs[i];
    if (r < 0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace r1
