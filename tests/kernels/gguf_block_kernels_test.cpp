// The tiles and matmul kernels of every ISA table this CPU runs for the block formats that come only from
// GGUF files (Q4_1, Q5_0, Q5_1 and the k-quants Q4_K, Q5_K, Q6_K), against ggml's formats as the scalar block
// decoders read them (ref/ref_gguf_blocks.h): random blocks (every bit pattern of quants, scales, mins and
// high bits occurs), ragged row counts, many column widths and token counts that leave remainders in every
// kernel's token tiling. (Q8_0 and Q4_0, which r1serve also quantizes to, are in quant_kernels_test.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/kquant_tiles.h"
#include "kernels/ops.h"
#include "kernels/quant.h"
#include "kernels/ref/ref_gguf_blocks.h"
#include "kernels/ref/ref_kquant_quantize.h"

namespace r1::kernels {
namespace {

const DType kFormats[] = {DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// Random GGUF blocks of `fmt` for a [rows, cols] matrix, row-major as a GGUF file stores them. Scales are
// small positive f16 values, as a quantizer makes them, mins (Q4_1, Q5_1) of either sign; every other byte is
// random.
std::vector<uint8_t> random_blocks(DType fmt, size_t rows, size_t cols, std::mt19937& rng) {
  const size_t bb = dtype_size(fmt), nb = rows * cols / dtype_block_elems(fmt);
  std::vector<uint8_t> out(nb * bb);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f), min(-0.2f, 0.2f);
  for (auto& b : out) b = uint8_t(byte(rng));
  for (size_t i = 0; i < nb; ++i) {
    uint8_t* b = out.data() + i * bb;
    const uint16_t d = f32_to_f16(scale(rng));
    const uint16_t m = f32_to_f16(fmt == DType::Q4_1 || fmt == DType::Q5_1 ? min(rng) : scale(rng));
    std::memcpy(b + (fmt == DType::Q6_K ? 208 : 0), &d, 2);
    if (fmt != DType::Q5_0 && fmt != DType::Q6_K) std::memcpy(b + 2, &m, 2);  // the min, or k-quants' dmin
  }
  return out;
}

std::vector<float> dequantize(DType fmt, const uint8_t* blocks, size_t n) {
  std::vector<float> out(n);
  if (fmt == DType::Q4_1) ref::dequantize_q4_1(blocks, out.data(), n);
  if (fmt == DType::Q5_0) ref::dequantize_q5_0(blocks, out.data(), n);
  if (fmt == DType::Q5_1) ref::dequantize_q5_1(blocks, out.data(), n);
  if (fmt == DType::Q4_K) ref::dequantize_q4_k(blocks, out.data(), n);
  if (fmt == DType::Q5_K) ref::dequantize_q5_k(blocks, out.data(), n);
  if (fmt == DType::Q6_K) ref::dequantize_q6_k(blocks, out.data(), n);
  return out;
}

// The matrix moved into tiles the way Weights does for a GGUF tensor.
std::vector<uint8_t> pack(DType fmt, const std::vector<uint8_t>& blocks, size_t rows, size_t cols) {
  std::vector<uint8_t> out(packed_bytes(fmt, rows, cols), 0xAB);  // garbage: every byte must be written
  const size_t row_bytes = cols / dtype_block_elems(fmt) * dtype_size(fmt);
  for (size_t g = 0; g * kQRowTile < rows; ++g) {
    const size_t nr = std::min(kQRowTile, rows - g * kQRowTile);
    const uint8_t* ptrs[kQRowTile];
    for (size_t i = 0; i < nr; ++i) ptrs[i] = blocks.data() + (g * kQRowTile + i) * row_bytes;
    pack_gguf_row_group(fmt, cols, g, ptrs, nr, out.data());
  }
  return out;
}

// y[t, r] = Σ_b d_x[t, b] · Σ_c qx[t, 32b + c] · w[r, 32b + c] in double, w decoded by the reference: what
// the kernels compute up to the order of their float sums. Also the sum of |terms|, which bounds that
// rounding.
void reference(const std::vector<float>& w, size_t rows, size_t cols, const QuantizedActs& xq,
               std::vector<double>& y, std::vector<double>& mag) {
  y.assign(xq.n * rows, 0.0);
  mag.assign(xq.n * rows, 0.0);
  for (size_t t = 0; t < xq.n; ++t)
    for (size_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < cols; ++c) {
        const double v = double(xq.d[t * xq.kb + c / kQBlock]) * xq.row(t)[c] * w[r * cols + c];
        y[t * rows + r] += v;
        mag[t * rows + r] += std::fabs(v);
      }
}

std::vector<float> random_vec(size_t n, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

class GgufBlockKernels : public ::testing::TestWithParam<std::tuple<Isa, DType>> {};

TEST_P(GgufBlockKernels, MatchReferenceOnRaggedShapes) {
  auto [isa, fmt] = GetParam();
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
  const QMatmulFn fn = qmatmul_for(*kt, fmt);
  ASSERT_NE(fn, nullptr);
  std::mt19937 rng(11);
  struct Shape {
    size_t rows, cols, n;
  };
  // Widths that are not multiples of 256 only for the 32-column formats (GGUF keeps k-quant rows at 256).
  const Shape shapes[] = {{1, 256, 1},   {16, 256, 1}, {17, 512, 3},   {35, 768, 9},   {5, 256, 17},
                          {64, 1536, 1}, {48, 512, 8}, {33, 1280, 12}, {200, 256, 23}, {16, 2304, 2},
                          {3, 256, 6},   {31, 512, 7}, {7, 32, 2},     {18, 96, 5},    {40, 160, 11},
                          {1, 64, 1},    {23, 416, 4}};
  for (const Shape& s : shapes) {
    if (s.cols % dtype_block_elems(fmt) != 0) continue;
    SCOPED_TRACE(testing::Message() << s.rows << "x" << s.cols << " n=" << s.n);
    const std::vector<uint8_t> blocks = random_blocks(fmt, s.rows, s.cols, rng);
    const std::vector<uint8_t> packed = pack(fmt, blocks, s.rows, s.cols);
    const std::vector<float> w = dequantize(fmt, blocks.data(), s.rows * s.cols);
    const std::vector<float> x = random_vec(s.n * s.cols, rng, 3.0f);
    QuantizedActs xq;
    quantize_acts(x.data(), s.n, s.cols, xq);
    std::vector<double> want, mag;
    reference(w, s.rows, s.cols, xq, want, mag);
    // Sentinels catch writes outside the matrix's rows (ldy is wider than rows).
    const size_t ldy = s.rows + 3;
    std::vector<float> got(s.n * ldy, 12345.0f);
    fn(xq.view(), packed.data(), s.rows, 0, (s.rows + 15) / 16, got.data(), ldy);
    for (size_t t = 0; t < s.n; ++t) {
      for (size_t r = 0; r < s.rows; ++r)
        // Integer dots are exact; the float scale products and sums round at ~1e-7 of the terms' magnitude.
        ASSERT_NEAR(got[t * ldy + r], want[t * s.rows + r], 2e-6 * mag[t * s.rows + r] + 1e-6)
            << "t=" << t << " r=" << r;
      for (size_t r = s.rows; r < ldy; ++r) ASSERT_EQ(got[t * ldy + r], 12345.0f);
    }
  }
}

TEST_P(GgufBlockKernels, GroupRangeWritesOnlyItsRows) {
  auto [isa, fmt] = GetParam();
  const KernelTable* kt = kernel_table_for(isa);
  if (!kt) GTEST_SKIP() << "this CPU cannot run " << isa_name(isa);
  std::mt19937 rng(7);
  const size_t rows = 50, cols = 512, n = 3;
  const std::vector<uint8_t> blocks = random_blocks(fmt, rows, cols, rng);
  const std::vector<uint8_t> packed = pack(fmt, blocks, rows, cols);
  const std::vector<float> x = random_vec(n * cols, rng, 1.0f);
  QuantizedActs xq;
  quantize_acts(x.data(), n, cols, xq);
  std::vector<double> want, mag;
  reference(dequantize(fmt, blocks.data(), rows * cols), rows, cols, xq, want, mag);
  std::vector<float> got(n * rows, -1.0f);
  qmatmul_for(*kt, fmt)(xq.view(), packed.data(), rows, 1, 3, got.data(), rows);  // rows 16..47
  for (size_t t = 0; t < n; ++t)
    for (size_t r = 0; r < rows; ++r) {
      if (r >= 16 && r < 48)
        EXPECT_NEAR(got[t * rows + r], want[t * rows + r], 2e-6 * mag[t * rows + r] + 1e-6);
      else
        EXPECT_EQ(got[t * rows + r], -1.0f);
    }
}

INSTANTIATE_TEST_SUITE_P(AllIsas, GgufBlockKernels,
                         ::testing::Combine(::testing::Values(Isa::Scalar, Isa::Avx2, Isa::Avx512),
                                            ::testing::ValuesIn(kFormats)),
                         [](const auto& info) {
                           return std::string(isa_name(std::get<0>(info.param))) + "_" +
                                  std::string(dtype_name(std::get<1>(info.param)));
                         });

// Every value a tile holds is the value ggml's decoder reads from the block it came from, bit for bit.
TEST(GgufBlockTiles, UnpackRowMatchesGgufDequantization) {
  std::mt19937 rng(3);
  for (DType fmt : kFormats) {
    const size_t rows = 21, cols = 768;
    const std::vector<uint8_t> blocks = random_blocks(fmt, rows, cols, rng);
    const std::vector<uint8_t> packed = pack(fmt, blocks, rows, cols);
    const std::vector<float> want = dequantize(fmt, blocks.data(), rows * cols);
    std::vector<float> got(cols);
    for (size_t r = 0; r < rows; ++r) {
      unpack_row(fmt, packed.data(), cols, r, got.data());
      for (size_t c = 0; c < cols; ++c)
        ASSERT_EQ(got[c], want[r * cols + c]) << dtype_name(fmt) << " r=" << r << " c=" << c;
    }
  }
}

TEST(GgufBlockTiles, SizesAndRefusals) {
  EXPECT_EQ(packed_bytes(DType::Q4_1, 16, 32), 320u);  // 20 bytes a row per 32 columns, as GGUF
  EXPECT_EQ(packed_bytes(DType::Q5_0, 16, 32), 352u);  // 22, as GGUF
  EXPECT_EQ(packed_bytes(DType::Q5_1, 16, 32), 384u);  // 24, as GGUF
  EXPECT_EQ(packed_bytes(DType::Q5_1, 17, 96), 2u * 3u * 384u);
  // The 32-column tiles' layout (quant.h) holds exactly 16 of GGUF's blocks, whatever the format.
  for (DType fmt : {DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1})
    EXPECT_EQ(quant_tile_bytes(fmt), kQRowTile * dtype_size(fmt)) << dtype_name(fmt);
  EXPECT_EQ(packed_bytes(DType::Q4_K, 16, 256), 2368u);  // 148 bytes a row per 256 columns (GGUF: 144)
  EXPECT_EQ(packed_bytes(DType::Q5_K, 16, 256), 2880u);  // 180 (GGUF: 176)
  EXPECT_EQ(packed_bytes(DType::Q6_K, 16, 256), 3360u);  // 210, as GGUF
  EXPECT_EQ(packed_bytes(DType::Q4_K, 17, 512), 2u * 2u * 2368u);
  EXPECT_THROW(packed_bytes(DType::Q4_K, 16, 300),
               std::exception);  // GGUF keeps k-quant rows at 256 multiples
  std::vector<float> rows(16 * 300, 0.5f);
  std::vector<uint8_t> dst(packed_bytes(DType::Q6_K, 16, 256));
  EXPECT_THROW(pack_row_group(DType::Q6_K, 300, 0, rows.data(), 16, dst.data()), std::exception);
  // r1serve does not quantize to Q4_1, Q5_0 or Q5_1: their tiles come only from a file's blocks.
  for (DType fmt : {DType::Q4_1, DType::Q5_0, DType::Q5_1})
    EXPECT_THROW(pack_row_group(fmt, 256, 0, rows.data(), 16, dst.data()), std::exception) << dtype_name(fmt);
}

// Floats packed through the reference quantizers give the tiles of those quantizers' GGUF blocks.
TEST(GgufBlockTiles, KQuantsPackedFromFloatsAsFromTheirBlocks) {
  std::mt19937 rng(4);
  const size_t rows = 19, cols = 512;
  const std::vector<float> w = random_vec(rows * cols, rng, 1.0f);
  for (DType fmt : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const size_t row_bytes = cols / kKBlock * dtype_size(fmt);
    std::vector<uint8_t> blocks(rows * row_bytes);
    for (size_t r = 0; r < rows; ++r) {
      if (fmt == DType::Q4_K) ref::quantize_q4_k(w.data() + r * cols, blocks.data() + r * row_bytes, cols);
      if (fmt == DType::Q5_K) ref::quantize_q5_k(w.data() + r * cols, blocks.data() + r * row_bytes, cols);
      if (fmt == DType::Q6_K) ref::quantize_q6_k(w.data() + r * cols, blocks.data() + r * row_bytes, cols);
    }
    std::vector<uint8_t> from_floats(packed_bytes(fmt, rows, cols));
    for (size_t g = 0; g * kQRowTile < rows; ++g)
      pack_row_group(fmt, cols, g, w.data() + g * kQRowTile * cols, std::min(kQRowTile, rows - g * kQRowTile),
                     from_floats.data());
    EXPECT_EQ(from_floats, pack(fmt, blocks, rows, cols)) << dtype_name(fmt);
  }
}

// The threaded entry point (ops.h) splits row groups across the pool and adds the bias.
TEST(GgufBlockTiles, ThreadedMatmulWithBias) {
  std::mt19937 rng(9);
  ThreadPool pool(2);
  const size_t rows = 70, cols = 512, n = 5;
  for (DType fmt : kFormats) {
    const std::vector<uint8_t> blocks = random_blocks(fmt, rows, cols, rng);
    const std::vector<uint8_t> packed = pack(fmt, blocks, rows, cols);
    const std::vector<float> x = random_vec(n * cols, rng, 2.0f), bias = random_vec(rows, rng, 1.0f);
    QuantizedActs xq;
    quantize_acts(x.data(), n, cols, xq);
    std::vector<double> want, mag;
    reference(dequantize(fmt, blocks.data(), rows * cols), rows, cols, xq, want, mag);
    const WeightMatrix wm{fmt, rows, cols, packed.data()};
    std::vector<float> got(n * rows);
    matmul(pool, x.data(), n, wm, bias.data(), got.data());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_NEAR(got[i], want[i] + bias[i % rows], 2e-6 * mag[i] + 1e-5) << dtype_name(fmt) << " i=" << i;
  }
}

}  // namespace
}  // namespace r1::kernels
