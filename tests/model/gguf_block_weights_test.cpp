// --dtype auto on a GGUF file whose matrices are Q8_0 or Q4_0: the blocks go into the int8 kernels' tiles as
// they are, so every weight the kernels read is exactly the file's dequantized value, and a Q4_0 model takes
// about the file's size in memory (not the ~1.9x that re-packing every block as Q8_0 took).
#include <gtest/gtest.h>

#include <cstdio>

#include "kernels/ops.h"
#include "model/gguf_tensors.h"
#include "model/model_package.h"
#include "model/weights.h"
#include "support/test_support.h"

namespace r1 {
namespace {

class GgufBlockWeights : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufBlockWeights, TilesHoldTheFilesBlocksExactly) {
  R1_REQUIRE_SHARED();
  const std::string type = GetParam();
  const auto pkg =
      ModelPackage::open(test::shared_path("models/tiny-qwen2-kq/gguf/tiny-qwen2-kq-" + type + ".gguf"));
  const GgufFile& f = *pkg.gguf();
  const Weights w = Weights::load(pkg, WeightPrecision::Auto);
  const DType want = type == "Q8_0" ? DType::Q8_0 : DType::Q4_0;
  const GgmlType stored = type == "Q8_0" ? GgmlType::Q8_0 : GgmlType::Q4_0;
  size_t block_matrices = 0, block_bytes_file = 0, block_bytes_loaded = 0;
  for (const Weights::Placed& p : w.placed()) {
    const GgufTensor* t = nullptr;
    for (const GgufTensor& g : f.tensors())
      if (hf_name_of_gguf_tensor(g.name) == p.spec.name) t = &g;
    ASSERT_NE(t, nullptr) << p.spec.name;
    if (t->type != stored) continue;
    ++block_matrices;
    block_bytes_file += t->bytes;
    block_bytes_loaded += p.bytes;
    ASSERT_EQ(p.spec.dtype, want) << p.spec.name;
    const kernels::WeightMatrix m{p.spec.dtype, p.spec.rows, p.spec.cols, p.data};
    const size_t row_bytes = t->bytes / p.spec.rows;
    std::vector<float> got(p.spec.cols), file(p.spec.cols);
    for (size_t r = 0; r < p.spec.rows; ++r) {
      kernels::weight_row(m, r, got.data());
      dequantize_gguf(t->type, f.data(*t) + r * row_bytes, file.data(), p.spec.cols);
      for (size_t c = 0; c < p.spec.cols; ++c)
        ASSERT_EQ(got[c], file[c]) << p.spec.name << " row " << r << " col " << c;
    }
  }
  // Every matrix but the Q6_K `output` of the Q4_0 file (ASSETS.md): 7 per layer and token_embd.
  EXPECT_EQ(block_matrices, type == "Q8_0" ? 16u : 15u);
  // The tiles are the blocks, reordered: not a byte more (every dimension here is a multiple of 16 and 32).
  EXPECT_EQ(block_bytes_loaded, block_bytes_file);
  const double ratio = double(w.bytes()) / double(f.file_bytes());
  std::printf("%s: weights %zu bytes in memory, file %zu bytes (%.3fx)\n", type.c_str(), w.bytes(),
              f.file_bytes(), ratio);
  // The rest: F32 norms and biases as stored and, in the Q4_0 file, the Q6_K output decoded to Q8_0 (+5 %).
  EXPECT_LE(ratio, 1.1);
}

INSTANTIATE_TEST_SUITE_P(Shared, GgufBlockWeights, ::testing::Values("Q8_0", "Q4_0"));

}  // namespace
}  // namespace r1
