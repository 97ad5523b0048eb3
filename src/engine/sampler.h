#pragma once
// Turns one row of logits into a token: logit bias, penalties, temperature, top-k, top-p, min-p, then a draw
// from a per-request seeded generator (the same seed gives the same tokens). Temperature 0 is greedy.
//
// The exact rule (sampler_reference.h spells it out in plain scalar code, the oracle of the tests):
//  1. l[id] += logit_bias; l[id] = -inf where an output constraint's mask forbids id; repetition penalty once
//  per distinct id of prompt and output (l / r if l > 0,
//     else l · r); l[id] -= presence + frequency · count for each distinct output id.
//  2. temperature 0: the lowest id of the largest l.
//  3. Rank = larger l first, lower id first on ties. top-k keeps the k best ranks.
//  4. e[i] = exp_nonpositive((l[i] - max l) · s), s = 1 / temperature (kernels/ref/ref_sampling.h: the same
//     bits on every CPU), z = Σ e over the top-k survivors.
//  5. top-p keeps the shortest rank prefix whose Σ e reaches top_p · z; min-p keeps e >= min_p (the max has
//     e = 1, so this is p >= min_p · p_max).
//  6. Draw r uniformly in [0, Σ e of the kept tokens); walking the kept tokens in id order, the first whose
//     running sum exceeds r is the token.
// Sums are in double; implementations may add in different orders, which can change a token only when a
// draw or a cut falls within ~1e-15 (relative) of a boundary.
//
// Cost: the vocabulary-wide work is a few vectorised passes (kernels/sampling.h); sorting touches only the
// candidates near the top (token_select.h); penalties and bias touch only the ids involved.
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace r1 {

struct SamplingParams {
  double temperature = 1.0;
  double top_p = 1.0;
  int top_k = 0;  // 0 or negative: off
  double min_p = 0.0;
  double repetition_penalty = 1.0;  // applied to prompt and output tokens (HF / vLLM semantics)
  double presence_penalty = 0.0;    // OpenAI semantics, over output tokens
  double frequency_penalty = 0.0;
  std::optional<uint64_t> seed;
  // OpenAI logit_bias: added to the logit of each id before everything else (-100 bans, +100 forces).
  std::vector<std::pair<int32_t, float>> logit_bias;

  // Throws r1::Error naming the parameter when a value is out of range; with vocab > 0 also when a
  // logit_bias id is outside [0, vocab).
  void validate(size_t vocab = 0) const;
  bool greedy() const { return temperature == 0; }
};

// Sets l[id] = -inf for every id whose bit in `allowed` is clear (token_constraint.h's mask layout).
void apply_allowed_mask(std::span<float> logits, std::span<const uint32_t> allowed);

// 1 / temperature as the float the rule above multiplies by (clamped so that 0 · s stays 0).
float inverse_temperature(double temperature);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);

  // Picks the next token. `logits` is modified (bias, penalties). `prompt` and `output` are the ids so far;
  // calls for one request see the same prompt and a growing output (the penalties' counts are kept between
  // calls; anything else rebuilds them).
  // `allowed`, when not empty, is an output constraint's mask ([ceil(vocab / 32)] words, bit id % 32 of word
  // id / 32 set = allowed): the others become -inf after the logit bias, before everything else.
  int32_t sample(std::span<float> logits, std::span<const int32_t> prompt, std::span<const int32_t> output,
                 std::span<const uint32_t> allowed = {});

  // Lowest index of the largest value (how llama.cpp and transformers break ties).
  static int32_t argmax(std::span<const float> logits);

  const SamplingParams& params() const { return p_; }

 private:
  void apply_penalties(std::span<float> logits, std::span<const int32_t> prompt,
                       std::span<const int32_t> output, std::span<const uint32_t> allowed);
  int32_t draw_from_candidates(std::span<const float> e, std::span<int32_t> kept, bool sorted_by_id);
  int32_t draw_from_row(std::span<const float> e, std::span<const double> block_sums, double mass);

  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<float> e_;          // [vocab] scaled exponentials
  std::vector<double> blocks_;    // [ceil(vocab / kExpBlock)] sums of e_ per block
  std::vector<int32_t> ids_;      // [vocab] gathered ids (a prefix is in use)
  std::vector<int32_t> top_;      // the top-k ids
  std::vector<int32_t> scratch_;  // selection scratch
  // Penalty bookkeeping, grown as the output grows.
  std::vector<uint64_t> seen_bits_;  // [ceil(vocab / 64)] ids of prompt ∪ output
  std::vector<int32_t> seen_ids_;    // the same ids, each once
  std::unordered_map<int32_t, int> output_counts_;
  size_t prompt_seen_ = 0, output_seen_ = 0, penalty_vocab_ = 0;
};

}  // namespace r1
