// The element-wise kernels of every ISA table this CPU runs against the scalar reference: activation
// quantization must give the reference's bytes exactly (ties included), and SiLU·up must stay within a few
// float ulps of std::exp's result over the whole range the MLP sees, including huge and tiny gates.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/quant.h"
#include "kernels/ref/ref_ops.h"
#include "kernels/ref/ref_quant.h"

namespace r1::kernels {
namespace {

class Elementwise : public ::testing::TestWithParam<Isa> {};

TEST_P(Elementwise, QuantizeActsMatchesReferenceBytes) {
  const KernelTable* kt = kernel_table_for(GetParam());
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(GetParam());
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 2);
  for (size_t k : {32ul, 33ul, 96ul, 100ul, 1536ul, 8960ul}) {
    SCOPED_TRACE(k);
    const size_t n = 3, kb = quant_blocks(k);
    std::vector<float> x(n * k);
    for (float& v : x) v = normal(rng);
    // Exact ties after scaling: a block whose max is 127 makes x * id == x, so x.5 values hit round-half-even.
    for (size_t j = 0; j < std::min<size_t>(k, 32); ++j) x[j] = j == 0 ? 127.0f : float(j % 9) - 4.5f;
    // An all-zero block must give scale 0 and zero quants.
    if (k >= 64)
      for (size_t j = 32; j < 64; ++j) x[k + j] = 0.0f;
    std::vector<int8_t> q_ref(n * kb * 32, 99), q(n * kb * 32, -99);
    std::vector<float> d_ref(n * kb), d(n * kb);
    std::vector<int32_t> s_ref(n * kb), s(n * kb);
    ref::quantize_act_rows(x.data(), n, k, kb, q_ref.data(), d_ref.data(), s_ref.data());
    kt->quantize_acts(x.data(), n, k, kb, q.data(), d.data(), s.data());
    EXPECT_EQ(q, q_ref);
    EXPECT_EQ(d, d_ref);
    EXPECT_EQ(s, s_ref);
  }
}

TEST_P(Elementwise, SiluMulWithinFourUlpsOfReference) {
  const KernelTable* kt = kernel_table_for(GetParam());
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(GetParam());
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> wide(-30, 30);
  std::vector<float> gate(1003), up(1003);
  for (size_t i = 0; i < gate.size(); ++i) {
    gate[i] = wide(rng);
    up[i] = wide(rng);
  }
  const float specials[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 88.0f, -88.0f, 100.0f, -100.0f, -87.5f, 1000.0f};
  for (size_t i = 0; i < std::size(specials); ++i) gate[i] = specials[i];
  std::vector<float> want(gate.size()), got(gate.size());
  ref::silu_mul(gate.data(), up.data(), want.data(), gate.size());
  kt->silu_mul(gate.data(), up.data(), got.data(), gate.size());
  for (size_t i = 0; i < gate.size(); ++i) {
    // Below gate = -87, e^gate leaves float's normal range and the kernels may flush it to zero; silu there is
    // under 1e-35 · |up|, hence the tiny absolute term.
    const float tol = 4 * std::numeric_limits<float>::epsilon() * std::fabs(want[i]) + 1e-33f;
    ASSERT_NEAR(got[i], want[i], tol) << "gate " << gate[i] << " up " << up[i];
  }
  // In place (out aliases gate), as the decoder calls it.
  std::vector<float> inplace = gate;
  kt->silu_mul(inplace.data(), up.data(), inplace.data(), inplace.size());
  EXPECT_EQ(inplace, got);
}

TEST_P(Elementwise, WeightQuantizersMatchReferenceBytes) {
  const KernelTable* kt = kernel_table_for(GetParam());
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(GetParam());
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0, 0.05f);
  const size_t n_blocks = 400;
  std::vector<float> x(n_blocks * 32);
  for (float& v : x) v = normal(rng);
  // Ties: a block whose largest value is 127 has scale 1 for Q8_0, so k + 0.5 rounds away from zero; a block
  // whose largest magnitude is -8 has scale 1 for Q4_0 (x + 8.5 lands on integers). Also all-zero blocks,
  // equal magnitudes of both signs (the first one wins in Q4_0), and a block of one huge value.
  for (int j = 0; j < 32; ++j) {
    x[j] = j == 0 ? 127.0f : float(j % 11) - 5.5f;
    x[32 + j] = j == 3 ? -8.0f : float(j % 7) * 0.5f - 1.5f;
    x[64 + j] = 0.0f;
    x[96 + j] = (j % 2 ? 1.0f : -1.0f) * 0.25f;
    x[128 + j] = j == 31 ? 3e4f : 1e-3f * float(j);
  }
  std::vector<ref::BlockQ8_0> want8(n_blocks), got8(n_blocks);
  std::vector<ref::BlockQ4_0> want4(n_blocks), got4(n_blocks);
  ref::quantize_q8_0(x.data(), n_blocks, want8.data());
  ref::quantize_q4_0(x.data(), n_blocks, want4.data());
  kt->quantize_q8_0(x.data(), n_blocks, got8.data());
  kt->quantize_q4_0(x.data(), n_blocks, got4.data());
  for (size_t b = 0; b < n_blocks; ++b) {
    ASSERT_EQ(0, std::memcmp(&want8[b], &got8[b], sizeof(ref::BlockQ8_0))) << "Q8_0 block " << b;
    ASSERT_EQ(0, std::memcmp(&want4[b], &got4[b], sizeof(ref::BlockQ4_0))) << "Q4_0 block " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, Elementwise, ::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace r1::kernels
