// The faster weight formats against ../shared/golden (llama.cpp F32 logits of every prompt position):
// relative L2 error of the logits, per model, per format, under a bound measured here and justified below;
// and the greedy stories260K continuation from BOS unchanged at q8.
//
// Measured (2026-11-25, AVX2 table; relative L2 = ‖ours − golden‖ / ‖golden‖, worst case of each model):
//   model            bf16      q8       q4
//   stories260K-hf   2.2e-3    1.1e-2   1.19e-1   (a trained model)
//   tiny-qwen2       3.7e-7    2.1e-2   2.09e-1   (random weights: no structure for the scales to exploit)
//   tiny-llama3      5.4e-3    2.3e-2   2.40e-1
//   tiny-llama-tied  4.4e-3    1.8e-2   1.68e-1
// (tiny-qwen2's weights are stored in BF16, so bf16 is exact there but for BF16 rounding of nothing.)
// Measured again 2026-12-02 with the AVX-512 table (Zen 4), whose BF16 matmul also rounds the activations to
// BF16 (vdpbf16ps, as llama.cpp does): bf16 3.1e-3 / 3.4e-3 / 6.7e-3 / 5.5e-3 for the four models in the
// order above; q8 and q4 as above to 2 digits (the int8 kernels compute the same integers on every ISA). Bounds
// are ~1.5× the worst measured value. q8's bound is well under the smallest bug signal in the manifests
// (sensitivity_max_abs_diff_if_wrong); q4's error on the tiny random models is of the size of those signals,
// so at q4 this test guards against gross breakage only — the kernel tests hold its arithmetic exactly.
#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>

#include "core/npy.h"
#include "engine/generator.h"
#include "support/test_support.h"

namespace r1 {
namespace {

using test::read_json;
using test::shared_path;

struct Tolerance {
  WeightPrecision precision;
  double max_rel_l2;
};

// A q8 block's rounding error is ~0.3% of its largest weight, q4's ~4%; through a few layers and the LM head
// they add up roughly in quadrature, so ~1e-2 for q8 and ~1e-1 for q4 is the expected scale (issue 5).
constexpr Tolerance kTolerances[] = {
    {WeightPrecision::BF16, 1e-2},
    {WeightPrecision::Q8, 3.5e-2},
    {WeightPrecision::Q4, 3.6e-1},
};

double rel_l2(const std::vector<float>& ours, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += (double(ours[i]) - ref[i]) * (double(ours[i]) - ref[i]);
    den += double(ref[i]) * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

class QuantGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantGolden, PromptLogitsWithinMeasuredTolerance) {
  R1_REQUIRE_SHARED();
  const std::string model_dir = shared_path("models/" + GetParam()),
                    golden = shared_path("golden/" + GetParam());
  nlohmann::json manifest = read_json(golden + "/manifest.json");
  ThreadPool pool(2);
  for (const Tolerance& tol : kTolerances) {
    auto model = load_model(model_dir, tol.precision);
    double worst = 0;
    for (const auto& c : manifest["cases"]) {
      auto ids = read_json(golden + "/" + c["ids_file"].get<std::string>()).get<std::vector<int32_t>>();
      NpyArray ref = read_npy_f32(golden + "/" + c["logits_file"].get<std::string>());
      Generator gen(*model, pool, ids.size());
      std::vector<float> ours = gen.prompt_logits(ids);
      ASSERT_EQ(ours.size(), ref.data.size());
      worst = std::max(worst, rel_l2(ours, ref.data));
    }
    std::cout << GetParam() << " " << weight_precision_name(tol.precision) << ": relative L2 " << worst
              << "\n";
    EXPECT_LE(worst, tol.max_rel_l2) << GetParam() << " at " << weight_precision_name(tol.precision);
  }
}

INSTANTIATE_TEST_SUITE_P(SharedModels, QuantGolden,
                         ::testing::Values("stories260K-hf", "tiny-qwen2", "tiny-llama3", "tiny-llama-tied"), ::r1::test::ParamName());

// The greedy stories260K continuation from BOS at q8. It cannot be bit-for-bit the golden one: along that
// path the F32 top-1/top-2 logit margin falls to 0.042 at step 114 and 0.0042 at step 185, while Q8_0 weights
// move logits by up to ~0.25 (measured: max |q8 − f32| 0.20–0.25 at those steps; even BF16 weights move them
// by more than 0.0042). So the test holds what is true and would catch a real bug: q8 follows the golden path
// until the first step whose golden margin is below q8's logit error, and not before step 100 (measured:
// 114).
TEST(QuantGoldenGreedy, Stories260KFromBosFollowsGoldenUntilMarginBelowQ8Error) {
  R1_REQUIRE_SHARED();
  constexpr double kQ8MaxLogitError = 0.35;  // 1.4× the largest measured |q8 − f32| logit difference
  auto want =
      read_json(shared_path("golden/stories260K-hf/greedy200_from_bos_ids.json")).get<std::vector<int32_t>>();
  ThreadPool pool(2);
  // Golden-path margins from the F32 model (which reproduces the golden ids exactly: golden_logits_test).
  std::vector<int32_t> path = {1};
  path.insert(path.end(), want.begin(), want.end() - 1);
  auto f32 = load_model(shared_path("models/stories260K-hf"), WeightPrecision::F32);
  Generator f32_gen(*f32, pool, path.size());
  std::vector<float> logits = f32_gen.prompt_logits(path);  // [200, vocab]
  const size_t vocab = logits.size() / path.size();

  auto model = load_model(shared_path("models/stories260K-hf"), WeightPrecision::Q8);
  Generator gen(*model, pool, 1 + want.size());
  GenerateOptions opt;
  opt.sampling.temperature = 0;
  opt.max_tokens = want.size();
  opt.ignore_eos = true;
  std::vector<int32_t> got = gen.generate({1}, opt, [](int32_t) { return true; });
  ASSERT_EQ(got.size(), want.size());
  size_t first = 0;
  while (first < want.size() && got[first] == want[first]) ++first;
  std::cout << "q8 greedy follows the golden path for " << first << " of " << want.size() << " steps\n";
  EXPECT_GE(first, 100u);
  if (first < want.size()) {
    std::vector<float> row(logits.begin() + long(first * vocab), logits.begin() + long((first + 1) * vocab));
    std::partial_sort(row.begin(), row.begin() + 2, row.end(), std::greater<float>());
    EXPECT_LT(row[0] - row[1], kQ8MaxLogitError)
        << "q8 left the golden path at step " << first << " where the margin was " << row[0] - row[1];
  }
}

}  // namespace
}  // namespace r1
