#pragma once
// Turns one row of logits into a token: penalties, temperature, top-k, top-p, min-p, then a draw from a
// per-request seeded generator (the same seed gives the same tokens). Temperature 0 is greedy.
#include <cstdint>
#include <optional>
#include <random>
#include <span>
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
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);

  // Picks the next token. `logits` is modified (penalties, scaling). `prompt` and `output` are the ids so far.
  int32_t sample(std::span<float> logits, std::span<const int32_t> prompt, std::span<const int32_t> output);

  // Lowest index of the largest value (how llama.cpp and transformers break ties).
  static int32_t argmax(std::span<const float> logits);

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

}  // namespace r1
