// The F32 / BF16 / F16 matmul kernels of every ISA table this CPU runs, against ref::matmul_rows, on shapes
// with ragged columns (not a multiple of 8), odd row ranges (pairs of rows plus a leftover) and token counts
// that leave remainders in every token tiling (1..9), and the single-token path with k = 8, 24, 100, 1539.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/ref/ref_ops.h"

namespace r1::kernels {
namespace {

class DenseMatmul : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(DenseMatmul, MatchesReferenceOnRaggedShapes) {
  auto [isa, dt] = GetParam();
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
  const MatmulRowsFn fn = dt == DType::F32    ? kt->matmul_rows_f32
                          : dt == DType::BF16 ? kt->matmul_rows_bf16
                                              : kt->matmul_rows_f16;
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> u(-1, 1);
  struct Shape {
    size_t rows, k, n, rb, re;
  };
  for (Shape s : {Shape{1, 8, 1, 0, 1}, Shape{5, 13, 3, 0, 5}, Shape{16, 64, 9, 3, 14}, Shape{7, 1536, 8, 0, 7},
                  Shape{33, 100, 4, 1, 32}, Shape{4, 7, 2, 0, 4}, Shape{9, 257, 6, 2, 9}, Shape{3, 1539, 1, 0, 3},
                  Shape{6, 100, 1, 1, 5}, Shape{2, 24, 1, 0, 2}}) {
    SCOPED_TRACE(testing::Message() << s.rows << "x" << s.k << " n=" << s.n << " rows " << s.rb << ".." << s.re);
    std::vector<float> x(s.n * s.k), wf(s.rows * s.k);
    for (float& v : x) v = u(rng);
    for (float& v : wf) v = u(rng);
    std::vector<uint16_t> w16(wf.size());
    for (size_t i = 0; i < wf.size(); ++i) w16[i] = dt == DType::F16 ? f32_to_f16(wf[i]) : f32_to_bf16(wf[i]);
    const void* w = dt == DType::F32 ? static_cast<const void*>(wf.data()) : w16.data();
    const size_t ldy = s.rows + 2;
    std::vector<float> want(s.n * ldy, -5.0f), got(s.n * ldy, -5.0f);
    ref::matmul_rows(x.data(), s.n, s.k, w, dt, s.rb, s.re, want.data(), ldy);
    fn(x.data(), s.n, s.k, w, s.rb, s.re, got.data(), ldy);
    for (size_t t = 0; t < s.n; ++t)
      for (size_t r = 0; r < ldy; ++r) {
        if (r < s.rb || r >= s.re) {
          ASSERT_EQ(got[t * ldy + r], -5.0f) << "wrote outside rows, t=" << t << " r=" << r;
          continue;
        }
        // Float sums in a different order: a few ulps of the sum of |x·w| (at most k).
        ASSERT_NEAR(got[t * ldy + r], want[t * ldy + r], 1e-6 * double(s.k) + 1e-6) << "t=" << t << " r=" << r;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, DenseMatmul,
                         ::testing::Combine(::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                                            ::testing::Values(DType::F32, DType::BF16, DType::F16)),
                         [](const auto& info) {
                           return std::string(isa_name(std::get<0>(info.param))) + "_" +
                                  std::string(dtype_name(std::get<1>(info.param)));
                         });

}  // namespace
}  // namespace r1::kernels
