#include "engine/sampler.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/error.h"
#include "engine/token_select.h"
#include "kernels/ref/ref_sampling.h"
#include "kernels/sampling.h"

namespace r1 {

namespace {
// Kept sets up to this size are drawn from as a list of ids; larger ones by weighing the rest 0.
constexpr size_t kGatherLimit = 4096;
}  // namespace

void SamplingParams::validate(size_t vocab) const {
  if (!(temperature >= 0) || !std::isfinite(temperature))
    fail("temperature must be >= 0, got {}", temperature);
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

float inverse_temperature(double temperature) {
  return float(std::min(1.0 / temperature, double(FLT_MAX)));
}

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed ? *p.seed : std::random_device{}()) {}

int32_t Sampler::argmax(std::span<const float> logits) {
  return int32_t(kernels::active_sampling_kernels().argmax(logits.data(), logits.size()));
}

void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> prompt,
                              std::span<const int32_t> output, std::span<const uint32_t> allowed) {
  const size_t vocab = logits.size();
  auto in_vocab = [&](int32_t id) { return id >= 0 && size_t(id) < vocab; };
  for (auto [id, bias] : p_.logit_bias)
    if (in_vocab(id)) logits[size_t(id)] += bias;
  if (!allowed.empty()) apply_allowed_mask(logits, allowed);
  const bool repetition = p_.repetition_penalty != 1.0;
  const bool additive = p_.presence_penalty != 0 || p_.frequency_penalty != 0;
  if (!repetition && !additive) return;

  // Fold in only the ids that arrived since the last call; start over if this is not the same request.
  if (penalty_vocab_ != vocab || prompt.size() != prompt_seen_ || output.size() < output_seen_) {
    seen_bits_.assign((vocab + 63) / 64, 0);
    seen_ids_.clear();
    output_counts_.clear();
    prompt_seen_ = output_seen_ = 0;
    penalty_vocab_ = vocab;
  }
  auto see = [&](int32_t id) {
    if (!in_vocab(id)) return;
    uint64_t& word = seen_bits_[size_t(id) / 64];
    const uint64_t bit = uint64_t(1) << (size_t(id) % 64);
    if (!(word & bit)) {
      word |= bit;
      seen_ids_.push_back(id);
    }
  };
  if (repetition)
    for (size_t i = prompt_seen_; i < prompt.size(); ++i) see(prompt[i]);
  for (size_t i = output_seen_; i < output.size(); ++i) {
    if (repetition) see(output[i]);
    if (additive) ++output_counts_[output[i]];
  }
  prompt_seen_ = prompt.size();
  output_seen_ = output.size();

  if (repetition)
    for (int32_t id : seen_ids_) {
      float& l = logits[size_t(id)];
      l = l > 0 ? float(l / p_.repetition_penalty) : float(l * p_.repetition_penalty);
    }
  if (additive)
    for (auto [id, n] : output_counts_)
      if (in_vocab(id)) logits[size_t(id)] -= float(p_.presence_penalty + p_.frequency_penalty * n);
}

void apply_allowed_mask(std::span<float> logits, std::span<const uint32_t> allowed) {
  R1_CHECK(allowed.size() * 32 >= logits.size(), "a mask of {} words for {} logits", allowed.size(),
           logits.size());
  for (size_t w = 0; w < allowed.size(); ++w) {
    uint32_t banned = ~allowed[w];
    while (banned) {
      const size_t id = w * 32 + size_t(__builtin_ctz(banned));
      banned &= banned - 1;
      if (id < logits.size()) logits[id] = -INFINITY;
    }
  }
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> prompt,
                        std::span<const int32_t> output, std::span<const uint32_t> allowed) {
  const auto& kern = kernels::active_sampling_kernels();
  const size_t vocab = logits.size();
  R1_CHECK(vocab > 0, "sampling from an empty row");
  apply_penalties(logits, prompt, output, allowed);
  const int32_t best = int32_t(kern.argmax(logits.data(), vocab));
  if (p_.greedy()) return best;
  const float mx = logits[size_t(best)];
  if (!(mx > -INFINITY && mx < INFINITY)) return best;  // nothing to weigh, or one token outweighs all
  const float s = inverse_temperature(p_.temperature);

  if (p_.top_k > 0 && size_t(p_.top_k) < vocab) {
    // A few candidates: everything after the selection works on them alone.
    top_k_by_rank(kern, logits, size_t(p_.top_k), top_, scratch_);
    e_.resize(vocab);
    double z = 0;
    for (int32_t id : top_) {
      const float d = logits[size_t(id)] - mx;
      const float scaled = d * s;
      z += double(e_[size_t(id)] = kernels::ref::exp_nonpositive(scaled));
    }
    size_t keep = top_.size();
    if (p_.top_p < 1.0) {
      double c = 0;
      for (size_t i = 0; i < top_.size(); ++i) {
        c += double(e_[size_t(top_[i])]);
        if (c >= p_.top_p * z) {
          keep = i + 1;
          break;
        }
      }
    }
    top_.resize(keep);
    if (p_.min_p > 0) std::erase_if(top_, [&](int32_t id) { return double(e_[size_t(id)]) < p_.min_p; });
    return draw_from_candidates(e_, top_, /*sorted_by_id=*/false);
  }

  e_.resize(vocab);
  blocks_.resize((vocab + kernels::kExpBlock - 1) / kernels::kExpBlock);
  const double z = kern.exp_shifted(logits.data(), vocab, mx, s, e_.data(), blocks_.data());
  if (p_.top_p >= 1.0 && p_.min_p <= 0) return draw_from_row(e_, blocks_, z);

  // The kept tokens: the nucleus (the rank prefix through cut.last, all within l >= l[cut.last]) and/or
  // e >= min_p. e_min is the least float whose double reaches min_p, so float compares give the rule's
  // answer.
  float e_min = float(p_.min_p);
  if (double(e_min) < p_.min_p) e_min = std::nextafter(e_min, INFINITY);
  NucleusCut cut;
  float l_min = -INFINITY;
  size_t kept = vocab;
  if (p_.top_p < 1.0) {
    cut = nucleus_cut(kern, logits, e_, z, p_.top_p, mx, s, scratch_);
    l_min = logits[size_t(cut.last)];
    kept = cut.kept;
  }
  if (ids_.size() < vocab + 16) ids_.resize(vocab + 16);  // sized once: later calls write a prefix, no fill
  size_t n = 0;
  if (p_.top_p < 1.0 && kept <= kGatherLimit)
    n = kern.select_range(logits.data(), vocab, l_min, INFINITY, ids_.data(), vocab);
  else if (p_.top_p >= 1.0)  // min-p alone: gather unless more than kGatherLimit pass
    kept = n = kern.select_range(e_.data(), vocab, e_min, INFINITY, ids_.data(), kGatherLimit);
  if (kept <= kGatherLimit) {
    std::span<int32_t> kept_ids(ids_.data(), n);
    n = size_t(std::remove_if(kept_ids.begin(), kept_ids.end(),
                              [&](int32_t id) {
                                return e_[size_t(id)] < e_min ||
                                       (p_.top_p < 1.0 && logits[size_t(id)] == l_min && id > cut.last);
                              }) -
               kept_ids.begin());
    return draw_from_candidates(e_, kept_ids.first(n), /*sorted_by_id=*/true);
  }
  // Most of the vocabulary is kept (a flat row): weigh the dropped tokens 0 and draw over the whole row.
  double mass = kern.keep_weights(logits.data(), e_.data(), vocab, l_min, e_min, blocks_.data());
  for (int32_t id : cut.tied_after) {
    blocks_[size_t(id) / kernels::kExpBlock] -= double(e_[size_t(id)]);
    mass -= double(e_[size_t(id)]);
    e_[size_t(id)] = 0.0f;
  }
  return draw_from_row(e_, blocks_, mass);
}

// `kept` in rank or id order: draws walking them in id order.
int32_t Sampler::draw_from_candidates(std::span<const float> e, std::span<int32_t> kept, bool sorted_by_id) {
  R1_CHECK(!kept.empty(), "the sampler kept no token");
  if (!sorted_by_id) std::sort(kept.begin(), kept.end());
  double mass = 0;
  for (int32_t id : kept) mass += double(e[size_t(id)]);
  double r = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  for (int32_t id : kept) {
    r -= double(e[size_t(id)]);
    if (r < 0) return id;
  }
  return kept.back();
}

// Draws over the whole row: finds the block of ids the draw falls in from block sums (given, or computed
// here when `block_sums` is empty), then walks that block.
int32_t Sampler::draw_from_row(std::span<const float> e, std::span<const double> block_sums, double mass) {
  constexpr size_t kBlock = kernels::kExpBlock;
  const size_t n = e.size(), n_blocks = (n + kBlock - 1) / kBlock;
  if (block_sums.empty()) {
    blocks_.resize(n_blocks);
    mass = 0;
    for (size_t b = 0; b < n_blocks; ++b) {
      double acc[4] = {0, 0, 0, 0};
      const size_t end = std::min(n, (b + 1) * kBlock);
      size_t i = b * kBlock;
      for (; i + 4 <= end; i += 4)
        for (size_t j = 0; j < 4; ++j) acc[j] += double(e[i + j]);
      for (; i < end; ++i) acc[0] += double(e[i]);
      mass += blocks_[b] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    block_sums = blocks_;
  }
  double r = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  size_t last_weighted = n_blocks;
  for (size_t b = 0; b < n_blocks; ++b) {
    if (block_sums[b] > 0) last_weighted = b;
    if (r >= block_sums[b]) {
      r -= block_sums[b];
      continue;
    }
    for (size_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
      r -= double(e[i]);
      if (r < 0) return int32_t(i);
    }
  }
  // Rounding left r just short of the end: the last token with any weight.
  R1_CHECK(last_weighted < n_blocks, "the sampler found no token with weight");
  for (size_t i = std::min(n, (last_weighted + 1) * kBlock); i-- > last_weighted * kBlock;)
    if (e[i] > 0) return int32_t(i);
  return int32_t(last_weighted * kBlock);
}

}  // namespace r1
