// The sampler's vocabulary-wide passes of every ISA table this CPU runs against the scalar reference: the
// per-element exponentials must be the reference's exact bits (so a seeded draw is the same token on every
// CPU), argmax and select_range the same indices, and the double sums equal up to summation order.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/ref_sampling.h"
#include "kernels/sampling.h"

namespace r1::kernels {
namespace {

class SamplingKernelsTest : public ::testing::TestWithParam<Isa> {};

const size_t kSizes[] = {1, 7, 15, 16, 17, 31, 33, 100, 1023, 4097, 151936};

std::vector<float> random_row(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 3);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

TEST_P(SamplingKernelsTest, ArgmaxIsTheLowestIndexOfTheMaximum) {
  const SamplingKernels* k = sampling_kernels_for(GetParam());
  if (!k) GTEST_SKIP() << "this CPU cannot run " << isa_name(GetParam());
  for (size_t n : kSizes) {
    SCOPED_TRACE(n);
    auto x = random_row(n, uint32_t(n));
    EXPECT_EQ(k->argmax(x.data(), n), ref::argmax(x.data(), n));
    // A tie at the maximum: the lower index wins, wherever the two land in the vector lanes.
    if (n >= 3) {
      const float top = 100.0f;
      x[n - 1] = top;
      x[n / 2] = top;
      EXPECT_EQ(k->argmax(x.data(), n), n / 2);
    }
    std::vector<float> all_inf(n, -std::numeric_limits<float>::infinity());
    EXPECT_EQ(k->argmax(all_inf.data(), n), 0u);
    all_inf[n - 1] = -1e30f;
    EXPECT_EQ(k->argmax(all_inf.data(), n), n - 1);
  }
}

TEST_P(SamplingKernelsTest, ExpShiftedGivesTheReferenceBits) {
  const SamplingKernels* k = sampling_kernels_for(GetParam());
  if (!k) GTEST_SKIP() << "this CPU cannot run " << isa_name(GetParam());
  for (size_t n : kSizes) {
    for (float scale : {1.0f, 1.0f / 0.6f, 37.5f, 1e-3f}) {
      SCOPED_TRACE(testing::Message() << "n " << n << " scale " << scale);
      auto x = random_row(n, uint32_t(n) + 7);
      if (n > 4) x[3] = -std::numeric_limits<float>::infinity();
      const float mx = x[ref::argmax(x.data(), n)];
      std::vector<float> want(n), got(n, -1.0f);
      const size_t n_blocks = (n + kExpBlock - 1) / kExpBlock;
      std::vector<double> blocks_ref(n_blocks), blocks(n_blocks, -1.0);
      const double sum_ref = ref::exp_shifted(x.data(), n, mx, scale, want.data(), blocks_ref.data());
      const double sum = k->exp_shifted(x.data(), n, mx, scale, got.data(), blocks.data());
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i])) << i;
      EXPECT_NEAR(sum, sum_ref, 1e-12 * sum_ref);
      for (size_t b = 0; b < n_blocks; ++b) EXPECT_NEAR(blocks[b], blocks_ref[b], 1e-12 * blocks_ref[b]) << b;
      EXPECT_EQ(k->exp_shifted(x.data(), n, mx, scale, got.data(), nullptr), sum);
    }
  }
}

TEST_P(SamplingKernelsTest, SelectRangeFindsTheSameIndicesInOrder) {
  const SamplingKernels* k = sampling_kernels_for(GetParam());
  if (!k) GTEST_SKIP() << "this CPU cannot run " << isa_name(GetParam());
  for (size_t n : kSizes) {
    auto x = random_row(n, uint32_t(n) + 11);
    const float inf = std::numeric_limits<float>::infinity();
    for (auto [lo, hi] : {std::pair{-1e9f, inf}, {0.0f, inf}, {2.5f, 8.0f}, {8.0f, inf}, {x[n / 2], inf},
                          {-1.0f, x[n / 2]}, {x[n / 2], x[n / 2]}}) {
      SCOPED_TRACE(testing::Message() << "n " << n << " range " << lo << " " << hi);
      std::vector<int32_t> want(n + 16), got(n + 16);
      want.resize(ref::select_range(x.data(), n, lo, hi, want.data(), n));
      got.resize(k->select_range(x.data(), n, lo, hi, got.data(), n));
      EXPECT_EQ(got, want);
      // With a limit, a count above it says "more", and what was written is the start of the full list.
      const size_t limit = want.size() / 3;
      std::vector<int32_t> part(limit + 16);
      const size_t m = k->select_range(x.data(), n, lo, hi, part.data(), limit);
      if (want.size() > limit) {
        EXPECT_GT(m, limit);
        for (size_t i = 0; i <= limit; ++i) EXPECT_EQ(part[i], want[i]);
      } else {
        EXPECT_EQ(m, want.size());
      }
    }
  }
}

TEST_P(SamplingKernelsTest, MassGeAndKeepWeightsMatchTheReference) {
  const SamplingKernels* k = sampling_kernels_for(GetParam());
  if (!k) GTEST_SKIP() << "this CPU cannot run " << isa_name(GetParam());
  for (size_t n : kSizes) {
    auto l = random_row(n, uint32_t(n) + 13);
    const float mx = l[ref::argmax(l.data(), n)];
    std::vector<float> e(n);
    ref::exp_shifted(l.data(), n, mx, 1.0f, e.data());
    for (float t : {-1e9f, -2.0f, 0.0f, 2.5f, l[n / 2]}) {
      SCOPED_TRACE(testing::Message() << "n " << n << " threshold " << t);
      const float ts[] = {t, t + 0.5f, t + 1.0f, 1.5f, -1.0f, t + 2.0f, 3.0f, std::numeric_limits<float>::infinity()};
      static_assert(kThresholds == 8);
      double m_ref[8], m[8];
      size_t c_ref[8], c[8];
      ref::mass_ge(l.data(), e.data(), n, ts, m_ref, c_ref);
      k->mass_ge(l.data(), e.data(), n, ts, m, c);
      for (size_t j = 0; j < 8; ++j) {
        EXPECT_NEAR(m[j], m_ref[j], 1e-12 * m_ref[j]) << j;
        EXPECT_EQ(c[j], c_ref[j]) << j;
      }
      for (float e_min : {0.0f, 0.05f, 0.5f}) {
        const size_t n_blocks = (n + kExpBlock - 1) / kExpBlock;
        std::vector<float> w_ref = e, w = e;
        std::vector<double> b_ref(n_blocks), b(n_blocks);
        const double s_ref = ref::keep_weights(l.data(), w_ref.data(), n, t, e_min, b_ref.data());
        EXPECT_NEAR(k->keep_weights(l.data(), w.data(), n, t, e_min, b.data()), s_ref, 1e-12 * s_ref);
        EXPECT_EQ(w, w_ref);
        for (size_t i = 0; i < n_blocks; ++i) EXPECT_NEAR(b[i], b_ref[i], 1e-12 * b_ref[i]);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, SamplingKernelsTest, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

TEST(ExpNonpositive, WithinThreeUlpOfExpOverItsRange) {
  // Every 97th float from 0 down to -87, plus the ends.
  int worst = 0;
  for (uint32_t bits = std::bit_cast<uint32_t>(-0.0f); ; bits += 97) {
    const float x = std::bit_cast<float>(bits);
    if (x < -87.0f) break;
    const float got = ref::exp_nonpositive(x);
    const float want = float(std::exp(double(x)));
    const int ulp = std::abs(int(std::bit_cast<uint32_t>(got)) - int(std::bit_cast<uint32_t>(want)));
    worst = std::max(worst, ulp);
  }
  EXPECT_LE(worst, 3);
  EXPECT_EQ(ref::exp_nonpositive(0.0f), 1.0f);  // the maximum's weight is exactly 1 (min-p relies on it)
  EXPECT_EQ(ref::exp_nonpositive(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_EQ(ref::exp_nonpositive(-88.0f), 0.0f);
}

}  // namespace
}  // namespace r1::kernels
