#include "engine/sampler.h"

#include <cmath>
#include <map>

#include "core/error.h"
#include "support/test_support.h"

namespace r1 {
namespace {

std::map<int32_t, int> histogram(SamplingParams p, std::vector<float> logits, int draws,
                                 std::vector<int32_t> prompt = {}, std::vector<int32_t> out = {}) {
  p.seed = 1234;
  Sampler s(p);
  std::map<int32_t, int> h;
  for (int i = 0; i < draws; ++i) {
    std::vector<float> l = logits;
    h[s.sample(l, prompt, out)]++;
  }
  return h;
}

TEST(Sampler, GreedyTakesLowestIdOfTheMaximum) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p);
  std::vector<float> l{0.f, 3.f, 1.f, 3.f};
  EXPECT_EQ(s.sample(l, {}, {}), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  SamplingParams p;
  p.seed = 42;
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = float(std::sin(double(i)));
  Sampler a(p), b(p);
  for (int i = 0; i < 100; ++i) {
    auto la = logits, lb = logits;
    EXPECT_EQ(a.sample(la, {}, {}), b.sample(lb, {}, {}));
  }
}

TEST(Sampler, FollowsTheSoftmaxDistribution) {
  SamplingParams p;
  // logits ln(1), ln(2), ln(7): probabilities 0.1, 0.2, 0.7.
  auto h = histogram(p, {0.f, float(std::log(2.0)), float(std::log(7.0))}, 20000);
  EXPECT_NEAR(h[0] / 20000.0, 0.1, 0.015);
  EXPECT_NEAR(h[1] / 20000.0, 0.2, 0.015);
  EXPECT_NEAR(h[2] / 20000.0, 0.7, 0.015);
}

TEST(Sampler, TopKTopPMinPCutTheTail) {
  std::vector<float> l{0.f, float(std::log(2.0)), float(std::log(7.0))};
  SamplingParams k;
  k.top_k = 2;
  EXPECT_EQ(histogram(k, l, 2000).count(0), 0u);
  SamplingParams tp;
  tp.top_p = 0.75;  // 0.7 alone is short of 0.75, so {2, 1} survive
  auto h = histogram(tp, l, 2000);
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_GT(h[1], 0);
  SamplingParams mp;
  mp.min_p = 0.2;  // floor 0.14: drops p=0.1, keeps p=0.2
  h = histogram(mp, l, 2000);
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_GT(h[1], 0);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0;
  Sampler s(p);
  std::vector<float> l{4.f, 3.f, -1.f};
  std::vector<int32_t> prompt{0, 2};
  EXPECT_EQ(s.sample(l, prompt, {}), 1);  // 4 → 2 loses to 3
  EXPECT_FLOAT_EQ(l[0], 2.f);
  EXPECT_FLOAT_EQ(l[2], -2.f);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountOutputTokens) {
  SamplingParams p;
  p.temperature = 0;
  p.presence_penalty = 0.5;
  p.frequency_penalty = 0.25;
  Sampler s(p);
  std::vector<float> l{2.f, 1.5f};
  std::vector<int32_t> out{0, 0};
  s.sample(l, {}, out);
  EXPECT_FLOAT_EQ(l[0], 2.f - 0.5f - 0.5f);
}

TEST(Sampler, ValidatesRanges) {
  SamplingParams p;
  p.top_p = 0;
  EXPECT_THROW(p.validate(), Error);
  p = {};
  p.temperature = -1;
  EXPECT_THROW(p.validate(), Error);
  p = {};
  p.repetition_penalty = 0;
  EXPECT_THROW(p.validate(), Error);
}

}  // namespace
}  // namespace r1
