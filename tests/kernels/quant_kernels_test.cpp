// The packed Q8_0 / Q4_0 matmul kernels of every ISA table this CPU runs, against the scalar reference on
// GGUF blocks (ref/ref_quant.h), on random shapes including ragged rows (not a multiple of 16), ragged
// columns (not a multiple of 32) and token counts that leave remainders in every kernel's token tiling.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/ops.h"
#include "kernels/quant.h"
#include "kernels/ref/ref_quant.h"

namespace r1::kernels {
namespace {

struct Shape {
  size_t rows, cols, n;
};

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// Packs w [rows, cols] the way Weights does.
std::vector<uint8_t> pack(DType fmt, const std::vector<float>& w, size_t rows, size_t cols) {
  std::vector<uint8_t> out(packed_bytes(fmt, rows, cols));
  for (size_t g = 0; g * kQRowTile < rows; ++g)
    pack_row_group(fmt, cols, g, w.data() + g * kQRowTile * cols, std::min(kQRowTile, rows - g * kQRowTile),
                   out.data());
  return out;
}

// The reference: GGUF blocks of each zero-padded row, scalar matmul in double.
std::vector<float> reference(DType fmt, const std::vector<float>& w, size_t rows, size_t cols,
                             const QuantizedActs& xq) {
  const size_t kb = quant_blocks(cols);
  std::vector<float> padded(kb * kQBlock);
  std::vector<ref::BlockQ8_0> b8(rows * kb);
  std::vector<ref::BlockQ4_0> b4(rows * kb);
  for (size_t r = 0; r < rows; ++r) {
    std::fill(padded.begin(), padded.end(), 0.0f);
    std::copy(w.begin() + long(r * cols), w.begin() + long((r + 1) * cols), padded.begin());
    if (fmt == DType::Q8_0)
      ref::quantize_q8_0(padded.data(), kb, b8.data() + r * kb);
    else
      ref::quantize_q4_0(padded.data(), kb, b4.data() + r * kb);
  }
  std::vector<float> y(xq.n * rows);
  if (fmt == DType::Q8_0)
    ref::matmul_q8_0(xq, b8.data(), rows, y.data(), rows);
  else
    ref::matmul_q4_0(xq, b4.data(), rows, y.data(), rows);
  return y;
}

class QuantKernels : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(QuantKernels, MatchReferenceOnRaggedShapes) {
  auto [isa, fmt] = GetParam();
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
  QMatmulFn fn = fmt == DType::Q8_0 ? kt->qmatmul_q8_0 : kt->qmatmul_q4_0;
  std::mt19937 rng(42);
  const Shape shapes[] = {{1, 32, 1},    {16, 64, 1},  {17, 33, 3},    {35, 100, 9},  {5, 31, 17},
                          {64, 1536, 1}, {48, 576, 8}, {33, 1000, 12}, {200, 96, 23}, {16, 8960, 2}};
  for (const Shape& s : shapes) {
    SCOPED_TRACE(testing::Message() << s.rows << "x" << s.cols << " n=" << s.n);
    std::vector<float> w = random_vec(s.rows * s.cols, rng), x = random_vec(s.n * s.cols, rng, 3.0f);
    std::vector<uint8_t> packed = pack(fmt, w, s.rows, s.cols);
    QuantizedActs xq;
    quantize_acts(x.data(), s.n, s.cols, xq);
    std::vector<float> want = reference(fmt, w, s.rows, s.cols, xq);
    // Sentinels catch writes outside the matrix's rows (ldy is wider than rows).
    const size_t ldy = s.rows + 3;
    std::vector<float> got(s.n * ldy, 12345.0f);
    fn(xq.view(), packed.data(), s.rows, 0, (s.rows + 15) / 16, got.data(), ldy);
    double max_ref = 0;
    for (float v : want) max_ref = std::max(max_ref, double(std::fabs(v)));
    for (size_t t = 0; t < s.n; ++t) {
      for (size_t r = 0; r < s.rows; ++r)
        // Integer dots are exact; only the float sum over blocks differs from the double reference.
        ASSERT_NEAR(got[t * ldy + r], want[t * s.rows + r], 1e-5 * std::max(1.0, max_ref))
            << "t=" << t << " r=" << r;
      for (size_t r = s.rows; r < ldy; ++r) ASSERT_EQ(got[t * ldy + r], 12345.0f);
    }
  }
}

TEST_P(QuantKernels, GroupRangeWritesOnlyItsRows) {
  auto [isa, fmt] = GetParam();
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
  QMatmulFn fn = fmt == DType::Q8_0 ? kt->qmatmul_q8_0 : kt->qmatmul_q4_0;
  std::mt19937 rng(7);
  const size_t rows = 50, cols = 70, n = 3;
  std::vector<float> w = random_vec(rows * cols, rng), x = random_vec(n * cols, rng);
  std::vector<uint8_t> packed = pack(fmt, w, rows, cols);
  QuantizedActs xq;
  quantize_acts(x.data(), n, cols, xq);
  std::vector<float> want = reference(fmt, w, rows, cols, xq), got(n * rows, -1.0f);
  fn(xq.view(), packed.data(), rows, 1, 3, got.data(), rows);  // rows 16..47
  for (size_t t = 0; t < n; ++t)
    for (size_t r = 0; r < rows; ++r) {
      if (r >= 16 && r < 48)
        EXPECT_NEAR(got[t * rows + r], want[t * rows + r], 1e-4);
      else
        EXPECT_EQ(got[t * rows + r], -1.0f);
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, QuantKernels,
                         ::testing::Combine(::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                                            ::testing::Values(DType::Q8_0, DType::Q4_0)),
                         [](const auto& info) {
                           return std::string(isa_name(std::get<0>(info.param))) + "_" +
                                  std::string(dtype_name(std::get<1>(info.param)));
                         });

TEST(QuantPacking, UnpackRowMatchesGgufDequantization) {
  std::mt19937 rng(3);
  const size_t rows = 21, cols = 77, kb = quant_blocks(cols);
  std::vector<float> w = random_vec(rows * cols, rng);
  for (DType fmt : {DType::Q8_0, DType::Q4_0}) {
    std::vector<uint8_t> packed = pack(fmt, w, rows, cols);
    std::vector<float> padded(kb * kQBlock), want(kb * kQBlock), got(cols);
    for (size_t r = 0; r < rows; ++r) {
      std::fill(padded.begin(), padded.end(), 0.0f);
      std::copy(w.begin() + long(r * cols), w.begin() + long((r + 1) * cols), padded.begin());
      if (fmt == DType::Q8_0) {
        std::vector<ref::BlockQ8_0> b(kb);
        ref::quantize_q8_0(padded.data(), kb, b.data());
        ref::dequantize_q8_0(b.data(), kb, want.data());
      } else {
        std::vector<ref::BlockQ4_0> b(kb);
        ref::quantize_q4_0(padded.data(), kb, b.data());
        ref::dequantize_q4_0(b.data(), kb, want.data());
      }
      unpack_row(fmt, packed.data(), cols, r, got.data());
      for (size_t c = 0; c < cols; ++c)
        ASSERT_EQ(got[c], want[c]) << dtype_name(fmt) << " r=" << r << " c=" << c;
    }
  }
}

// The quantizers' error is what the formats promise: half a step of the block's scale, except Q4_0's one
// clamped value (the largest magnitude maps to -8, so its opposite, +8 steps, clamps to +7: one full step).
TEST(QuantPacking, QuantizationErrorWithinHalfAStep) {
  std::mt19937 rng(5);
  std::vector<float> x = random_vec(32 * 40, rng, 2.0f), y(x.size());
  std::vector<ref::BlockQ8_0> b8(40);
  std::vector<ref::BlockQ4_0> b4(40);
  ref::quantize_q8_0(x.data(), 40, b8.data());
  ref::dequantize_q8_0(b8.data(), 40, y.data());
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_LE(std::fabs(x[i] - y[i]), 0.51f * f16_to_f32(b8[i / 32].d) + 1e-3f);
  ref::quantize_q4_0(x.data(), 40, b4.data());
  ref::dequantize_q4_0(b4.data(), 40, y.data());
  for (size_t i = 0; i < x.size(); ++i)
    ASSERT_LE(std::fabs(x[i] - y[i]), 1.01f * std::fabs(f16_to_f32(b4[i / 32].d)) + 1e-3f);
}

// A GGUF file's own Q8_0 / Q4_0 blocks moved into tiles give exactly the bytes that quantizing the same
// values gives (same block format, same padding rows), on ragged row counts.
TEST(QuantPacking, GgufBlocksPackBitIdenticalToQuantizedRows) {
  std::mt19937 rng(20);
  for (DType fmt : {DType::Q8_0, DType::Q4_0}) {
    for (size_t rows : {1, 5, 16, 17, 40}) {
      for (size_t cols : {32, 96, 256}) {
        auto w = random_vec(rows * cols, rng);
        const size_t kb = cols / kQBlock, bb = dtype_size(fmt);
        std::vector<uint8_t> blocks(rows * kb * bb);
        for (size_t r = 0; r < rows; ++r) {
          if (fmt == DType::Q8_0)
            ref::quantize_q8_0(w.data() + r * cols, kb,
                               reinterpret_cast<ref::BlockQ8_0*>(blocks.data() + r * kb * bb));
          else
            ref::quantize_q4_0(w.data() + r * cols, kb,
                               reinterpret_cast<ref::BlockQ4_0*>(blocks.data() + r * kb * bb));
        }
        std::vector<uint8_t> moved(packed_bytes(fmt, rows, cols), 0xAB);  // garbage: every byte is written
        for (size_t g = 0; g * kQRowTile < rows; ++g) {
          const size_t nr = std::min(kQRowTile, rows - g * kQRowTile);
          const uint8_t* ptrs[kQRowTile];
          for (size_t i = 0; i < nr; ++i) ptrs[i] = blocks.data() + (g * kQRowTile + i) * kb * bb;
          pack_gguf_row_group(fmt, cols, g, ptrs, nr, moved.data());
        }
        EXPECT_EQ(moved, pack(fmt, w, rows, cols)) << dtype_name(fmt) << " " << rows << "x" << cols;
      }
    }
  }
}

}  // namespace
}  // namespace r1::kernels
