// The fast Sampler against the plain reference of its rule (sampler_reference.h) and against the
// distribution the rule defines: identical tokens for identical seeds and logits on ragged vocabularies,
// a chi-square test of the sampled frequencies, and the edge cases of each filter.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"
#include "engine/sampler.h"
#include "engine/sampler_reference.h"
#include "kernels/ref/ref_sampling.h"

namespace r1 {
namespace {

struct Case {
  const char* name;
  double temperature, top_p;
  int top_k;
  double min_p;
};
const Case kCases[] = {
    {"r1_defaults", 0.6, 0.95, 0, 0},   {"plain", 1.0, 1.0, 0, 0},     {"top_k_40", 1.0, 1.0, 40, 0},
    {"min_p_0.05", 1.0, 1.0, 0, 0.05},  {"top_k_top_p", 0.8, 0.9, 50, 0}, {"all_filters", 0.7, 0.8, 64, 0.02},
    {"hot", 1.5, 0.99, 0, 0},           {"cold", 0.05, 0.95, 0, 0},    {"top_p_0.3", 1.0, 0.3, 0, 0},
};

// Logits shaped like a language model's: a broad body and a few tokens far above it; without the spikes, like
// random weights' (normal, sigma 1 for the 1.5B dummy model), whose nucleus is most of the vocabulary.
std::vector<float> lm_logits(size_t vocab, std::mt19937& rng, float body_sigma = 2.5f, bool spikes = true) {
  std::normal_distribution<float> body(0, body_sigma);
  std::vector<float> l(vocab);
  for (float& v : l) v = body(rng);
  std::uniform_int_distribution<size_t> pick(0, vocab - 1);
  if (spikes)
    for (int i = 0; i < 5; ++i) l[pick(rng)] = 12.0f + float(i);
  return l;
}

SamplingParams params_of(const Case& c, uint64_t seed) {
  SamplingParams p;
  p.temperature = c.temperature;
  p.top_p = c.top_p;
  p.top_k = c.top_k;
  p.min_p = c.min_p;
  p.seed = seed;
  return p;
}

// Draws `steps` tokens from both samplers on fresh rows and expects the same ids.
void expect_same_tokens(const SamplingParams& p, size_t vocab, float body_sigma, int steps, bool spikes = true) {
  std::mt19937 rows(uint32_t(vocab) * 31 + uint32_t(body_sigma * 10));
  Sampler fast(p);
  std::mt19937_64 ref_rng(*p.seed);
  std::vector<int32_t> prompt{1, 2, 3}, out;
  for (int s = 0; s < steps; ++s) {
    auto l = lm_logits(vocab, rows, body_sigma, spikes);
    auto l2 = l;
    const int32_t a = fast.sample(l, prompt, out);
    const int32_t b = reference_sample(p, ref_rng, l2, prompt, out);
    ASSERT_EQ(a, b) << "step " << s;
    ASSERT_EQ(l, l2) << "the two applied penalties differently at step " << s;
    out.push_back(a);
  }
}

TEST(SamplerVsReference, SameTokensOnRaggedVocabularies) {
  for (const Case& c : kCases)
    for (size_t vocab : {1ul, 2ul, 3ul, 17ul, 100ul, 1000ul, 4099ul, 32003ul}) {
      SCOPED_TRACE(testing::Message() << c.name << " vocab " << vocab);
      expect_same_tokens(params_of(c, vocab * 7 + 1), vocab, 2.5f, 40);
    }
}

TEST(SamplerVsReference, SameTokensAtTheDistillVocabularies) {
  // 151,936 (Qwen) and 128,256 (Llama): peaked rows, and flat rows whose nucleus is most of the vocabulary
  // (the bisection path of the nucleus search; sigma 1 is what random weights give).
  for (const Case& c : kCases)
    for (size_t vocab : {151936ul, 128256ul})
      for (float sigma : {2.5f, 1.0f, 0.3f}) {
        SCOPED_TRACE(testing::Message() << c.name << " vocab " << vocab << " sigma " << sigma);
        expect_same_tokens(params_of(c, 99), vocab, sigma, 6);
      }
}

TEST(SamplerVsReference, SameTokensOnRandomWeightsRows) {
  // No token far above the rest: the nucleus search bisects and copies out the boundary's piece (a bug in
  // that bookkeeping once left an empty piece while serving random weights).
  for (const Case& c : kCases)
    for (float sigma : {1.0f, 0.5f}) {
      SCOPED_TRACE(testing::Message() << c.name << " sigma " << sigma);
      expect_same_tokens(params_of(c, 3), 151936, sigma, 5, /*spikes=*/false);
    }
}

TEST(SamplerVsReference, SameTokensWithPenaltiesAndBiasAsTheOutputGrows) {
  SamplingParams p = params_of(kCases[0], 5);
  p.repetition_penalty = 1.3;
  p.presence_penalty = 0.4;
  p.frequency_penalty = 0.3;
  p.logit_bias = {{0, 5.0f}, {7, -100.0f}, {50, 2.5f}};
  for (size_t vocab : {64ul, 1000ul}) expect_same_tokens(p, vocab, 1.0f, 200);
}

// The probabilities the rule defines, in double, straight from its definition.
std::vector<double> rule_distribution(std::vector<float> l, const SamplingParams& p) {
  const size_t n = l.size();
  std::vector<int32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  const float mx = l[order[0]];
  size_t k = p.top_k > 0 ? std::min(n, size_t(p.top_k)) : n;
  std::vector<double> w(n, 0);
  double z = 0;
  for (size_t i = 0; i < k; ++i) z += w[order[i]] = std::exp((double(l[order[i]]) - mx) / p.temperature);
  size_t keep = k;
  double c = 0;
  for (size_t i = 0; i < k && p.top_p < 1; ++i)
    if ((c += w[order[i]]) >= p.top_p * z) {
      keep = i + 1;
      break;
    }
  std::vector<double> prob(n, 0);
  double mass = 0;
  for (size_t i = 0; i < keep; ++i)
    if (w[order[i]] >= p.min_p) mass += prob[order[i]] = w[order[i]];
  for (double& q : prob) q /= mass;
  return prob;
}

TEST(SamplerDistribution, ChiSquareMatchesSoftmaxWithFilters) {
  // Twelve tokens with distinct logits, well away from every filter's boundary.
  const std::vector<float> l{2.0f, 1.1f, 0.3f, -0.4f, 1.7f, -1.5f, 0.9f, -2.2f, 0.05f, -0.9f, 1.35f, -3.0f};
  const Case cases[] = {{"plain", 1.0, 1.0, 0, 0},   {"temperature", 0.6, 1.0, 0, 0}, {"top_k", 1.0, 1.0, 5, 0},
                        {"top_p", 1.0, 0.8, 0, 0},   {"min_p", 1.0, 1.0, 0, 0.2},    {"r1", 0.6, 0.95, 0, 0},
                        {"all", 0.9, 0.85, 8, 0.1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    SamplingParams p = params_of(c, 2024);
    const auto prob = rule_distribution(l, p);
    Sampler s(p);
    const int draws = 40000;
    std::vector<int> count(l.size(), 0);
    for (int i = 0; i < draws; ++i) {
      auto row = l;
      ++count[size_t(s.sample(row, {}, {}))];
    }
    double chi2 = 0;
    int df = -1;
    for (size_t i = 0; i < l.size(); ++i) {
      if (prob[i] == 0) {
        EXPECT_EQ(count[i], 0) << "token " << i << " is outside the kept set";
        continue;
      }
      const double expect = prob[i] * draws;
      chi2 += (count[i] - expect) * (count[i] - expect) / expect;
      ++df;
    }
    // 99.9th percentile of chi-square with df <= 11 degrees of freedom is 31.3; seeded, so not flaky.
    EXPECT_LT(chi2, 31.3) << "df " << df;
  }
}

int32_t draw(SamplingParams p, std::vector<float> l, uint64_t seed = 1) {
  p.seed = seed;
  Sampler s(p);
  return s.sample(l, {}, {});
}

TEST(SamplerEdges, AllMinusInfinityButOne) {
  std::vector<float> l(1000, -INFINITY);
  l[617] = -50.0f;
  for (const Case& c : kCases)
    for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(draw(params_of(c, seed), l, seed), 617) << c.name;
}

TEST(SamplerEdges, TiesAtTheNucleusBoundaryKeepTheLowerIds) {
  // Four equal logits: top_p 0.5 keeps exactly two of them, the two lowest ids.
  std::vector<float> l{-INFINITY, 3.0f, 3.0f, 3.0f, 3.0f, -INFINITY};
  SamplingParams p;
  p.top_p = 0.5;
  std::vector<int> seen(l.size(), 0);
  for (uint64_t seed = 0; seed < 400; ++seed) ++seen[size_t(draw(p, l, seed))];
  EXPECT_GT(seen[1], 100);
  EXPECT_GT(seen[2], 100);
  EXPECT_EQ(seen[0] + seen[3] + seen[4] + seen[5], 0);
  // top_k cuts a tie the same way.
  p = {};
  p.top_k = 3;
  seen.assign(l.size(), 0);
  for (uint64_t seed = 0; seed < 400; ++seed) ++seen[size_t(draw(p, l, seed))];
  EXPECT_EQ(seen[4] + seen[0] + seen[5], 0);
  EXPECT_GT(seen[3], 50);
}

TEST(SamplerEdges, TemperatureNearZeroIsTheMaximum) {
  std::mt19937 rng(4);
  auto l = lm_logits(5000, rng);
  const int32_t best = Sampler::argmax(l);
  for (double t : {1e-3, 1e-8, 1e-40, 1e-300}) {
    SamplingParams p;
    p.temperature = t;
    for (uint64_t seed = 0; seed < 10; ++seed) EXPECT_EQ(draw(p, l, seed), best) << t;
  }
}

TEST(SamplerEdges, TopPOneAndTopKAboveTheVocabularyKeepEverything) {
  const std::vector<float> l{0.0f, 0.0f, 0.0f};
  SamplingParams p;
  p.top_p = 1.0;
  p.top_k = 50;  // above the vocabulary of 3
  std::vector<int> seen(3, 0);
  for (uint64_t seed = 0; seed < 300; ++seed) ++seen[size_t(draw(p, l, seed))];
  for (int s : seen) EXPECT_GT(s, 60);
}

TEST(SamplerVsReference, AnAllowedMaskLeavesOnlyItsTokens) {
  for (const Case& c : kCases)
    for (size_t vocab : {33ul, 1000ul, 151936ul}) {
      SCOPED_TRACE(testing::Message() << c.name << " vocab " << vocab);
      std::vector<uint32_t> mask((vocab + 31) / 32, 0);
      for (size_t id = 3; id < vocab; id += 11) mask[id / 32] |= 1u << (id % 32);
      SamplingParams p = params_of(c, 17);
      Sampler fast(p);
      std::mt19937_64 ref_rng(17);
      std::mt19937 rows(5);
      for (int step = 0; step < 10; ++step) {
        auto l = lm_logits(vocab, rows);
        auto l2 = l;
        const int32_t a = fast.sample(l, {}, {}, mask);
        EXPECT_EQ(a, reference_sample(p, ref_rng, l2, {}, {}, mask));
        EXPECT_EQ((a - 3) % 11, 0) << a;
      }
    }
}

TEST(SamplerEdges, LogitBiasBansAndForces) {
  SamplingParams p;
  p.temperature = 0;
  const std::vector<float> l{1.0f, 5.0f, 2.0f};
  p.logit_bias = {{1, -100.0f}};
  EXPECT_EQ(draw(p, l), 2);
  p.temperature = 1.0;
  p.logit_bias = {{0, 100.0f}};
  for (uint64_t seed = 0; seed < 50; ++seed) EXPECT_EQ(draw(p, l, seed), 0);
  p.logit_bias = {{3, 1.0f}};
  EXPECT_THROW(p.validate(3), Error);
  p.logit_bias = {{0, 101.0f}};
  EXPECT_THROW(p.validate(3), Error);
}

}  // namespace
}  // namespace r1
