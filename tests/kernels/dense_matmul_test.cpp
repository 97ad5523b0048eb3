// The F32 / BF16 / F16 matmul kernels of every ISA table this CPU runs, against ref::matmul_rows, on shapes
// with ragged columns (not a multiple of 8 or 32), odd row ranges (pairs of rows plus a leftover) and token
// counts that leave remainders in every token tiling (1..17), the single-token path with k = 8, 24, 100,
// 1539, and k past the AVX-512 BF16 kernel's 2048-column chunks. The AVX-512 BF16 kernel rounds the
// activations to bf16 (cpu/avx512_dense.cpp); it gets a bound derived from that rounding, and separate tests
// show that the rounding is its only difference from the reference and that its outputs do not depend on
// the batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/ref/ref_ops.h"

namespace r1::kernels {
namespace {

struct Shape {
  size_t rows, k, n, rb, re;
};

std::vector<Shape> ragged_shapes() {
  std::vector<Shape> s = {Shape{1, 8, 1, 0, 1},      Shape{5, 13, 3, 0, 5},     Shape{16, 64, 9, 3, 14},
                          Shape{7, 1536, 8, 0, 7},   Shape{33, 100, 4, 1, 32},  Shape{4, 7, 2, 0, 4},
                          Shape{9, 257, 6, 2, 9},    Shape{3, 1539, 1, 0, 3},   Shape{6, 100, 1, 1, 5},
                          Shape{2, 24, 1, 0, 2},     Shape{21, 2049, 1, 0, 21}, Shape{10, 4133, 9, 1, 10},
                          Shape{13, 2100, 70, 2, 13}};
  // Every token count 1..17 (token tiles of up to 6, split evenly) with k not a multiple of 32 and row
  // ranges that leave 1..3 rows after the 4- and 8-row blocks.
  for (size_t n = 1; n <= 17; ++n) s.push_back(Shape{23, 45 + 29 * n, n, n % 4, 23 - n % 3});
  return s;
}

MatmulRowsFn matmul_fn(const KernelTable* kt, DType dt) {
  return dt == DType::F32    ? kt->matmul_rows_f32
         : dt == DType::BF16 ? kt->matmul_rows_bf16
                             : kt->matmul_rows_f16;
}

float round_bf16(float v) {
  return bf16_to_f32(f32_to_bf16(v));
}

// Random activations and weights of shape s, the weights stored as dt (as f32, rounded, in wf).
struct Case {
  std::vector<float> x, wf;
  std::vector<uint16_t> w16;
  const void* w = nullptr;
  Case(const Shape& s, DType dt, std::mt19937& rng, bool bf16_x)
      : x(s.n * s.k), wf(s.rows * s.k), w16(wf.size()) {
    std::uniform_real_distribution<float> u(-1, 1);
    for (float& v : x) v = bf16_x ? round_bf16(u(rng)) : u(rng);
    for (float& v : wf) v = u(rng);
    for (size_t i = 0; i < wf.size(); ++i) {
      w16[i] = dt == DType::F16 ? f32_to_f16(wf[i]) : f32_to_bf16(wf[i]);
      if (dt != DType::F32) wf[i] = dt == DType::F16 ? f16_to_f32(w16[i]) : bf16_to_f32(w16[i]);
    }
    w = dt == DType::F32 ? static_cast<const void*>(wf.data()) : w16.data();
  }
  // Σ_j |x[t, j] · w[r, j]|
  double abs_dot(const Shape& s, size_t t, size_t r) const {
    double a = 0;
    for (size_t j = 0; j < s.k; ++j) a += std::fabs(double(x[t * s.k + j]) * wf[r * s.k + j]);
    return a;
  }
};

// Runs fn and ref on s; `tol(t, r)` is the allowed |got - want|. Rows outside [rb, re) must stay untouched.
template <class Tol>
void expect_matches_ref(MatmulRowsFn fn, DType dt, const Shape& s, const Case& c, Tol tol) {
  SCOPED_TRACE(testing::Message() << s.rows << "x" << s.k << " n=" << s.n << " rows " << s.rb << ".."
                                  << s.re);
  const size_t ldy = s.rows + 2;
  std::vector<float> want(s.n * ldy, -5.0f), got(s.n * ldy, -5.0f);
  ref::matmul_rows(c.x.data(), s.n, s.k, c.w, dt, s.rb, s.re, want.data(), ldy);
  fn(c.x.data(), s.n, s.k, c.w, s.rb, s.re, got.data(), ldy);
  for (size_t t = 0; t < s.n; ++t)
    for (size_t r = 0; r < ldy; ++r) {
      if (r < s.rb || r >= s.re) {
        ASSERT_EQ(got[t * ldy + r], -5.0f) << "wrote outside rows, t=" << t << " r=" << r;
        continue;
      }
      ASSERT_NEAR(got[t * ldy + r], want[t * ldy + r], tol(t, r)) << "t=" << t << " r=" << r;
    }
}

// Float sums in a different order: a few ulps of the sum of |x·w| (at most k, since |x|, |w| <= 1).
double order_tolerance(const Shape& s) {
  return 1e-6 * double(s.k) + 1e-6;
}

class DenseMatmul : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(DenseMatmul, MatchesReferenceOnRaggedShapes) {
  auto [isa, dt] = GetParam();
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
  const MatmulRowsFn fn = matmul_fn(kt, dt);
  // The AVX-512 BF16 kernel rounds each activation to bf16 (relative error <= 2^-9, round to nearest even),
  // so a dot product may move by up to 2^-9 · Σ|x·w| on top of the summation-order slack.
  const bool rounds_x = isa == Isa::Avx512 && dt == DType::BF16;
  std::mt19937 rng(17);
  for (const Shape& s : ragged_shapes()) {
    Case c(s, dt, rng, false);
    expect_matches_ref(fn, dt, s, c, [&](size_t t, size_t r) {
      return order_tolerance(s) + (rounds_x ? std::ldexp(c.abs_dot(s, t, r), -9) : 0.0);
    });
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, DenseMatmul,
                         ::testing::Combine(::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                                            ::testing::Values(DType::F32, DType::BF16, DType::F16)),
                         [](const auto& info) {
                           return std::string(isa_name(std::get<0>(info.param))) + "_" +
                                  std::string(dtype_name(std::get<1>(info.param)));
                         });

// With activations that bf16 already represents, the AVX-512 BF16 kernel's rounding is a no-op and its
// products are exact, so it agrees with the reference to the summation-order tolerance: the activation
// rounding is its only approximation.
TEST(DenseMatmulAvx512Bf16, ExactForBf16RepresentableActivations) {
  const KernelTable* kt = kernel_table_for(Isa::Avx512);
  if (!kt) GTEST_SKIP() << "this CPU cannot run avx512";
  std::mt19937 rng(29);
  for (const Shape& s : ragged_shapes()) {
    Case c(s, DType::BF16, rng, true);
    expect_matches_ref(kt->matmul_rows_bf16, DType::BF16, s, c,
                       [&](size_t, size_t) { return order_tolerance(s); });
  }
}

// A token's outputs are bit-identical whatever else shares the call (alone, in a batch of 8, in a 70-token
// prefill that takes two passes) and however the rows are split among threads: a sequence's logits do not
// depend on the batch it was scheduled with.
TEST(DenseMatmulAvx512Bf16, OutputsDoNotDependOnTheBatch) {
  const KernelTable* kt = kernel_table_for(Isa::Avx512);
  if (!kt) GTEST_SKIP() << "this CPU cannot run avx512";
  const MatmulRowsFn fn = kt->matmul_rows_bf16;
  std::mt19937 rng(41);
  for (size_t k : {size_t(1536), size_t(4133)}) {
    const Shape s{19, k, 70, 0, 19};
    Case c(s, DType::BF16, rng, false);
    std::vector<float> all(s.n * s.rows), one(s.rows), eight(8 * s.rows), split(s.n * s.rows);
    fn(c.x.data(), s.n, k, c.w, 0, s.rows, all.data(), s.rows);
    fn(c.x.data(), s.n, k, c.w, 0, 7, split.data(), s.rows);
    fn(c.x.data(), s.n, k, c.w, 7, s.rows, split.data(), s.rows);
    EXPECT_EQ(0, std::memcmp(all.data(), split.data(), all.size() * sizeof(float))) << "k=" << k;
    for (size_t t = 0; t < s.n; ++t) {
      fn(c.x.data() + t * k, 1, k, c.w, 0, s.rows, one.data(), s.rows);
      EXPECT_EQ(0, std::memcmp(one.data(), all.data() + t * s.rows, s.rows * sizeof(float)))
          << "k=" << k << " t=" << t;
    }
    for (size_t t0 = 0; t0 + 8 <= s.n; t0 += 8) {
      fn(c.x.data() + t0 * k, 8, k, c.w, 0, s.rows, eight.data(), s.rows);
      EXPECT_EQ(0, std::memcmp(eight.data(), all.data() + t0 * s.rows, eight.size() * sizeof(float)))
          << "k=" << k << " t0=" << t0;
    }
  }
}

}  // namespace
}  // namespace r1::kernels
